"""`manage.py bench_recompute`: time the full, no-op and incremental recompute on synthetic data.

Prints rows per second; the scale goals and the full benchmark table belong to `make bench`.
"""

from __future__ import annotations

import resource
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from indicators.management.commands.generate_scale import delete_synthetic, generate, synthetic_code
from indicators.models import IndicatorStatus
from indicators.status import recompute_indicator_statuses


def analyze() -> None:
    """Refresh planner statistics after bulk loads, as autovacuum would in production."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE indicators_indicatorvalue; ANALYZE indicators_indicatorstatus")


class Command(BaseCommand):
    help = "在合成数据上计时全量重算、无变化重算和单序列增量重算，打印每秒行数。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--regions", type=int, default=200)
        parser.add_argument("--indicators", type=int, default=20)
        parser.add_argument("--years", type=int, default=5)
        parser.add_argument("--keep", action="store_true", help="保留合成数据")

    def handle(self, *args: Any, **options: Any) -> None:
        plan, values, seconds = generate(
            regions=options["regions"], indicators=options["indicators"], years=options["years"]
        )
        self.stdout.write(f"生成 {values:,} 条已审核数值：{seconds:.2f} 秒")
        analyze()
        try:
            clock = time.perf_counter()
            full = recompute_indicator_statuses(plan_ids=[plan.pk])
            full_seconds = time.perf_counter() - clock
            clock = time.perf_counter()
            noop = recompute_indicator_statuses(plan_ids=[plan.pk])
            noop_seconds = time.perf_counter() - clock
            one = plan.indicators.order_by("pk").first()
            region = plan.area_regions().last()
            assert one is not None and region is not None
            clock = time.perf_counter()
            recompute_indicator_statuses(indicator_ids=[one.pk], region_ids=[region.pk])
            single_ms = (time.perf_counter() - clock) * 1000
            analyze()
            clock = time.perf_counter()
            recompute_indicator_statuses(indicator_ids=[one.pk], region_ids=[region.pk])
            single_ms_analyzed = (time.perf_counter() - clock) * 1000
            rows = IndicatorStatus.objects.filter(indicator__plan=plan).count()
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            self.stdout.write(
                f"全量重算：{values:,} 条数值 → 写入 {full.rows_written:,} 行判定，{full_seconds:.2f} 秒，"
                f"{values / full_seconds:,.0f} 数值/秒\n"
                f"无变化重算：{noop_seconds:.2f} 秒，写入 {noop.rows_written} 行\n"
                f"单序列增量重算：{single_ms:.1f} 毫秒（统计信息更新后 {single_ms_analyzed:.1f} 毫秒）\n"
                f"判定行数：{rows:,}；进程峰值内存：{peak_mb:.0f} MB"
            )
        finally:
            if not options["keep"]:
                delete_synthetic(synthetic_code(options["regions"], options["indicators"], options["years"]))
