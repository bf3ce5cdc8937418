"""`manage.py generate_scale`: a synthetic plan at a chosen scale, for benchmarks only (see benchmarks.scale)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from benchmarks.scale import delete_synthetic, generate, synthetic_code


class Command(BaseCommand):
    help = "生成合成规模测试数据（区域×指标×年度的已审核数值），仅用于性能测试。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--regions", type=int, default=100)
        parser.add_argument("--indicators", type=int, default=20)
        parser.add_argument("--years", type=int, default=5)
        parser.add_argument("--seed", type=int, default=2025)
        parser.add_argument("--delete", action="store_true", help="删除这一规模的合成数据后退出")

    def handle(self, *args: Any, **options: Any) -> None:
        code = synthetic_code(options["regions"], options["indicators"], options["years"])
        if options["delete"]:
            delete_synthetic(code)
            self.stdout.write(f"已删除合成数据 {code}")
            return
        plan, written, seconds = generate(
            regions=options["regions"], indicators=options["indicators"], years=options["years"], seed=options["seed"]
        )
        self.stdout.write(
            f"合成规划 {plan.code}：写入 {written} 条已审核数值，用时 {seconds:.1f} 秒"
            f"（{written / max(seconds, 1e-9):,.0f} 行/秒）"
        )
