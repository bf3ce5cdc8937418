"""`manage.py load_demo`: generate the 演示数据 (2021-2024) and compute statuses and flags from it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from demo.services import demo_load
from indicators.flags import sync_overdue_flags
from indicators.services import status_recompute_all


class Command(BaseCommand):
    help = "载入演示数据（系统生成的2021—2024年进展，页面顶部有“演示数据”提示；用 remove_demo 删除）。"

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_load()
        if not result.values and not result.progress:
            self.stdout.write("演示数据已存在，未重复生成（删除：python manage.py remove_demo）。")
            return
        status_recompute_all()
        sync_overdue_flags()
        self.stdout.write(
            self.style.WARNING(
                f"已载入演示数据：指标数值 {result.values} 条、任务进展 {result.progress} 条"
                "（非真实统计，页面均有提示）。删除：python manage.py remove_demo"
            )
        )
