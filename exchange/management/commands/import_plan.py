"""`manage.py import_plan FILE.xlsx [--dry-run] [--code CODE] [--create-units]`: load a plan workbook, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchange.plan_workbook import plan_import


class Command(BaseCommand):
    help = "从 Excel 工作簿导入一个规划（新建或更新）；有任何问题则不写入任何数据。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="规划工作簿（.xlsx，可由 export_plan 导出后修改）")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告将新增、修改的行数，不写入")
        parser.add_argument("--code", default=None, help="以这个代码导入（不用工作簿“规划”表中的代码）")
        parser.add_argument(
            "--create-units", action="store_true", help="工作簿中尚未登记的责任单位一并新增（默认拒绝并列出）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise CommandError(f"无法读取 {path}：{exc}") from exc
        if size > settings.IMPORT_MAX_BYTES:
            limit = settings.IMPORT_MAX_BYTES // 1024 // 1024
            raise CommandError(f"文件为 {size / 1024 / 1024:.1f} MB，超过 {limit} MB 的上限，未写入任何数据。")
        result = plan_import(
            path.read_bytes(),
            file_name=path.name,
            code=options["code"],
            create_units=options["create_units"],
            dry_run=options["dry_run"],
            reason=f"系统：import_plan {path.name}",
        )
        for line in result.lines():
            self.stdout.write(line)
        if not result.ok:
            raise CommandError(f"发现 {len(result.problems)} 处问题，未写入任何数据。")
        if options["dry_run"]:
            self.stdout.write(self.style.SUCCESS(f"检查通过（试运行，未写入）：将写入 {result.written} 行。"))
        else:
            what = "新建" if result.created_plan else "更新"
            self.stdout.write(self.style.SUCCESS(f"已{what}规划 {result.code}（写入 {result.written} 行）。"))
