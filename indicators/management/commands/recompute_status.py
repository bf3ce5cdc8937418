"""`manage.py recompute_status`: the nightly full recompute, run by hand, with its figures."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "全量重算指标与任务的进度判定和预警（与每日定时任务相同）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--with-overdue", action="store_true", help="同时更新逾期未报预警并发送汇总通知")
        parser.add_argument(
            "--force", action="store_true", help="不看输入指纹，重算每个区域（例如直接改动了判定表之后）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from indicators.services import status_nightly, status_recompute_all

        force = options["force"]
        summary = status_nightly(force=force) if options["with_overdue"] else status_recompute_all(force=force)
        labels = {
            "regions_total": "规划×区域块数",
            "regions_recomputed": "输入有变化而重算的块数",
            "indicator_rows_written": "指标判定写入行数",
            "indicator_rows_deleted": "指标判定删除行数",
            "task_rows_written": "任务判定写入行数",
            "lag_flags_raised": "新增进度预警",
            "lag_flags_resolved": "解除进度预警",
            "overdue_flags_raised": "新增逾期未报",
            "overdue_flags_resolved": "解除逾期未报",
            "digest_units": "发送汇总的单位数",
            "digest_mails": "发送邮件数",
            "digest_notifications": "站内通知数",
            "seconds": "耗时（秒）",
        }
        for key, value in summary.items():
            self.stdout.write(f"{labels.get(key, key)}：{value}")
