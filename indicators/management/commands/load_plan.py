"""`manage.py load_plan`: load regions, units and every plan fixture in fixtures/, idempotently.

It lives in the indicators app because it composes all three apps (regions <- planning <- indicators).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.module_loading import import_string

from indicators.loading import indicators_load
from planning.loading import (
    FixtureError,
    LoadReport,
    fixtures_checksum,
    plan_load,
    read_yaml,
    regions_load,
    units_load,
)


def plan_fixture_paths(directory: Path) -> list[Path]:
    """Plan fixtures in load order: a plan whose responsibilities map to another plan loads after it."""
    paths = sorted(directory.glob("plan_*.yaml"))
    return sorted(paths, key=lambda p: "responsibility_mapping" in p.read_text(encoding="utf-8"))


def load_all(directory: Path, *, force: bool = False) -> LoadReport:
    report = LoadReport()
    plan_paths = plan_fixture_paths(directory)
    shared = [directory / "regions.yaml", directory / "units.yaml"]
    missing = [p.name for p in shared if not p.exists()]
    if missing or not plan_paths:
        raise FixtureError(f"{directory}: 缺少数据文件 {missing or 'plan_*.yaml'}")
    checksum = fixtures_checksum([*shared, *plan_paths, *sorted((directory / "sources").glob("*.txt"))])
    with transaction.atomic():
        regions_load(read_yaml(shared[0]), report=report, reason="load_plan regions.yaml")
        units_load(read_yaml(shared[1]), report=report, reason="load_plan units.yaml")
        for path in plan_paths:
            data = read_yaml(path)
            plan = plan_load(data, file_name=path.name, checksum=checksum, report=report, force=force)
            if plan is not None:
                indicators_load(plan, data, file_name=path.name, report=report)
        # Data that refers to the plans (e.g. published.loading's 公开数据), wired in settings so that no app
        # imports an app above it.
        for loader in settings.FIXTURE_LOADERS_AFTER_PLANS:
            import_string(loader)(directory, report=report)
    return report


class Command(BaseCommand):
    help = "载入规划数据（区域、责任单位、规划结构、指标）；重复运行不会产生重复数据。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--fixtures",
            type=Path,
            default=settings.PLAN_FIXTURES_DIR,
            help="数据文件目录（默认 fixtures/）",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="即使数据文件未变化也重新比对并写入（会覆盖管理员在后台对规划数据的修改）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = load_all(options["fixtures"], force=options["force"])
        except FixtureError as exc:
            raise CommandError(f"载入失败，未写入任何数据：{exc}") from exc
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"规划数据已载入（写入 {report.written} 行）。"))
