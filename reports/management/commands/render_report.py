"""`manage.py render_report`: build a report .docx now (no Celery) and, with LibreOffice, a PDF to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from planning.models import Plan
from reports.models import ReportKind
from reports.pdf import docx_to_pdf, office
from reports.services import check_report_year, report_bytes


class Command(BaseCommand):
    help = "生成评估报告 .docx（并用 LibreOffice 转成 PDF 以便查看版面）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--plan", default="leshan-edu-14fyp", help="规划代码")
        parser.add_argument("--year", type=int, default=2024)
        parser.add_argument("--kind", choices=ReportKind.values, default=ReportKind.ANNUAL)
        parser.add_argument("--out", type=Path, default=Path(settings.BASE_DIR) / "var" / "reports")

    def handle(self, *args: Any, **options: Any) -> None:
        plan = Plan.objects.filter(code=options["plan"]).first()
        if plan is None:
            raise CommandError(f"没有代码为 {options['plan']} 的规划")
        try:
            check_report_year(plan, options["year"], options["kind"])
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        out: Path = options["out"]
        out.mkdir(parents=True, exist_ok=True)
        docx = out / f"{plan.code}-{options['year']}-{options['kind']}.docx"
        docx.write_bytes(report_bytes(plan, options["year"], options["kind"]))
        self.stdout.write(f"报告：{docx}")
        if office() is None:
            self.stdout.write("未安装 LibreOffice（apt-get install libreoffice-writer-nogui），未转换 PDF。")
            return
        self.stdout.write(f"PDF：{docx_to_pdf(docx, out)}")
