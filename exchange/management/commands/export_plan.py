"""`manage.py export_plan --plan CODE FILE.xlsx`: a plan as a workbook (exchange.plan_workbook)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchange.plan_workbook import build_plan_workbook
from planning.models import Plan


class Command(BaseCommand):
    help = "把一个规划导出为 Excel 工作簿（可修改后用 import_plan 导入）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--plan", required=True, help="规划代码，如 leshan-edu-14fyp")
        parser.add_argument("file", type=Path, help="输出文件（.xlsx）")

    def handle(self, *args: Any, **options: Any) -> None:
        plan = Plan.objects.filter(code=options["plan"]).first()
        if plan is None:
            known = "、".join(Plan.objects.order_by("code").values_list("code", flat=True))
            raise CommandError(f"规划“{options['plan']}”不存在。已有规划：{known or '（无）'}")
        path: Path = options["file"]
        if path.suffix.lower() != ".xlsx":
            raise CommandError("输出文件应以 .xlsx 结尾。")
        path.write_bytes(build_plan_workbook(plan))
        self.stdout.write(self.style.SUCCESS(f"已导出规划“{plan.title}”到 {path}。"))
