"""`manage.py remove_demo`: delete the 演示数据 and recompute what it fed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from demo.services import demo_clear


class Command(BaseCommand):
    help = "删除全部演示数据并重新计算进度判定与预警。"

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_clear()
        self.stdout.write(f"已删除演示数据：指标数值 {result.values} 条、任务进展 {result.progress} 条。")
