"""The demo dataset: generated progress for 2021-2024 so a first-time user sees a living dashboard.

Everything here is generated, marked `is_demo`, sourced as 演示数据, shown under a banner on every page, and
removed by an administrator (后台 → 删除演示数据) or with `manage.py remove_demo`. Tests never load it as truth. The seeds report no indicator value for
2021-2024 (000_f27e5a5d96fe759c.txt gives 2020 figures, the plan's own baseline year), so nothing real is
replaced by a generated number.

Whether any demo row is present (`demo_present`) is a read of the domain's `is_demo` fields, so it lives in
`indicators.selectors`: reports state it too, and no domain app imports this one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from indicators.flags import sync_overdue_flags
from indicators.models import Indicator, IndicatorValue
from indicators.selectors import demo_present
from indicators.services import status_recompute_all
from planning.models import EntryStatus, Plan, TargetKind, Task, TaskProgress, TaskTargetValue
from planning.workflow import Channel

DEMO_YEARS = range(2021, 2025)
DEMO_SOURCE = "演示数据（系统生成，非真实统计）"
DEMO_USERNAME = "demo_data"
STATE = {True: "已通过", False: "正在推进"}
# Paces relative to the straight path, with how often each appears: a realistic mix of statuses.
PACES = [(1.35, 12), (1.0, 40), (0.85, 20), (0.45, 16), (-0.3, 7), (1.1, 5)]


@dataclass(frozen=True)
class DemoResult:
    values: int
    progress: int


def _pace(rng: random.Random) -> float:
    return rng.choices([p for p, _ in PACES], weights=[w for _, w in PACES])[0]


def _quantize(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _indicator_values(indicator: Indicator, regions: list, rng: random.Random, user: User) -> list[IndicatorValue]:
    rows = []
    now = timezone.now()
    city_path: list[Decimal] = []
    span = indicator.target_year - indicator.baseline_year
    for position, region in enumerate(regions):
        city = position == 0
        baseline = indicator.baseline_value
        target = indicator.target_value
        if baseline is None:
            baseline = target * Decimal("0.97")
        if not city and indicator.is_additive:
            # County shares of a city total; no county target exists until the bureau decomposes it.
            share = Decimal(str(rng.uniform(0.04, 0.14)))
            path = [_quantize(v * share, indicator.decimal_places) for v in city_path]
        else:
            if not city:
                # A county starts at or a little above the city's baseline (the target it is judged against
                # until the bureau decomposes it) and has its own pace.
                baseline = baseline * Decimal(str(rng.uniform(1.0, 1.006)))
            pace = _pace(rng)
            path = []
            for year in DEMO_YEARS:
                share = Decimal(
                    str(round(pace * (year - indicator.baseline_year) / span + rng.uniform(-0.04, 0.04), 3))
                )
                value = baseline + (target - baseline) * share
                if indicator.max_value is not None:
                    value = min(value, indicator.max_value)
                path.append(_quantize(max(value, Decimal(0)), indicator.decimal_places))
            if city:
                city_path = path
        for year, value in zip(DEMO_YEARS, path, strict=True):
            rows.append(
                IndicatorValue(
                    indicator=indicator,
                    region=region,
                    year=year,
                    value=value,
                    approved_value=value,
                    status=EntryStatus.APPROVED,
                    source=DEMO_SOURCE,
                    note="演示数据",
                    created_by=user,
                    updated_by=user,
                    submitted_by=user,
                    reviewed_by=user,
                    submitted_at=now,
                    reviewed_at=now,
                    approved_at=now,
                    is_demo=True,
                )
            )
    return rows


def _task_progress(
    task: Task, rng: random.Random, user: User
) -> tuple[list[TaskProgress], list[tuple[int, int, Decimal]]]:
    """Progress rows, and (row index, target id, amount) for their amounts."""
    now = timezone.now()
    plan = task.plan
    span = plan.period_end_year - plan.baseline_year
    pace = _pace(rng)
    common = {
        "task": task,
        "status": EntryStatus.APPROVED,
        "created_by": user,
        "updated_by": user,
        "submitted_by": user,
        "reviewed_by": user,
        "submitted_at": now,
        "reviewed_at": now,
        "approved_at": now,
        "is_demo": True,
    }
    rows: list[TaskProgress] = []
    amounts: list[tuple[int, int, Decimal]] = []
    milestone = task.milestone_target
    if milestone is not None:
        regions = list(milestone.regions.all())
        passed_by = {r.pk: rng.choice([2022, 2023, 2024, None, None]) for r in regions}
        for year in DEMO_YEARS:
            for region in regions:
                passed = passed_by[region.pk] is not None and year >= passed_by[region.pk]  # type: ignore[operator]
                rows.append(
                    TaskProgress(
                        year=year,
                        region=region,
                        narrative=f"演示数据：{region.name}{STATE[passed]}验收准备。",
                        passed=passed,
                        approved_passed=passed,
                        **common,
                    )
                )
        return rows, amounts
    # Cumulative targets: the running total follows the pace; each year reports its increase, so small
    # targets (1—2个) still move in whole units.
    reached: dict[int, Decimal] = {t.pk: Decimal(0) for t in task.quantity_targets}
    for index, year in enumerate(DEMO_YEARS):
        share = max(0.0, pace * (year - plan.baseline_year) / span)
        row = TaskProgress(year=year, narrative=f"演示数据：{year}年度工作进展（系统生成）。", **common)
        if task.is_qualitative:
            percent = _quantize(Decimal(str(min(100.0, share * 100 + rng.uniform(-3, 3)))), 0)
            row.percent = row.approved_percent = max(percent, Decimal(0))
        rows.append(row)
        for target in task.quantity_targets:
            if target.kind == TargetKind.CUMULATIVE:
                total = _quantize(target.value * Decimal(str(share + rng.uniform(-0.03, 0.03))), target.decimal_places)
                amount = max(total - reached[target.pk], Decimal(0))
                reached[target.pk] += amount
            elif target.kind == TargetKind.ANNUAL:
                amount = target.value * Decimal(str(max(0.0, min(1.3, pace + rng.uniform(-0.1, 0.1)))))
            else:  # level: a rate that moves towards the target
                amount = target.value * Decimal(str(min(1.0, 0.85 + 0.15 * share)))
                if target.unit == "%":
                    amount = min(amount, Decimal(100))
            amounts.append((index, target.pk, _quantize(max(amount, Decimal(0)), target.decimal_places)))
    return rows, amounts


def demo_load(*, seed: int = 14) -> DemoResult:
    """Generate the demo dataset for every loaded plan (skipped when one is present)."""
    if demo_present():
        return DemoResult(0, 0)
    rng = random.Random(seed)
    user, _ = User.objects.get_or_create(
        username=DEMO_USERNAME, defaults={"first_name": "演示数据", "is_active": False}
    )
    values: list[IndicatorValue] = []
    progress_count = 0
    with transaction.atomic():
        for plan in Plan.objects.exclude(region__isnull=True).exclude(code__startswith="synthetic"):
            regions = list(plan.area_regions())
            for indicator in plan.indicators.order_by("number"):
                values.extend(_indicator_values(indicator, regions, rng, user))
            for task in plan.tasks.prefetch_related("targets__regions").order_by("order"):
                rows, amounts = _task_progress(task, rng, user)
                TaskProgress.objects.bulk_create(rows)
                TaskTargetValue.objects.bulk_create(
                    [
                        TaskTargetValue(
                            progress=rows[index], target_id=target_id, amount=amount, approved_amount=amount
                        )
                        for index, target_id, amount in amounts
                    ]
                )
                progress_count += len(rows)
        IndicatorValue.objects.bulk_create(values, batch_size=2000)
    return DemoResult(values=len(values), progress=progress_count)


def demo_years() -> str:
    """The years the generated data covers, as the banner says them: "2021—2024"."""
    return f"{DEMO_YEARS[0]}—{DEMO_YEARS[-1]}"


def demo_counts() -> DemoResult:
    """How many demo rows there are (what removing them would delete)."""
    return DemoResult(
        values=IndicatorValue.objects.filter(is_demo=True).count(),
        progress=TaskProgress.objects.filter(is_demo=True).count(),
    )


def demo_remove(*, user: User | None = None, channel: str = Channel.SYSTEM) -> DemoResult:
    """Delete every demo row (and nothing else); the history rows the deletions write say who and how."""
    started = timezone.now()
    with transaction.atomic():
        values = IndicatorValue.objects.filter(is_demo=True)
        progress = TaskProgress.objects.filter(is_demo=True)
        counts = DemoResult(values=values.count(), progress=progress.count())
        TaskTargetValue.objects.filter(progress__is_demo=True).delete()
        progress.delete()
        values.delete()
        # Deleting through a queryset leaves no place to name the person, so the rows it wrote are tagged after.
        reason = f"{Channel(channel).label}：删除演示数据"
        removed = TaskProgress.history.filter(history_type="-", is_demo=True, history_date__gte=started)
        for history in (
            IndicatorValue.history.filter(history_type="-", is_demo=True, history_date__gte=started),
            TaskTargetValue.history.filter(
                history_type="-", history_date__gte=started, progress_id__in=removed.values("id")
            ),
            removed,
        ):
            tags: dict[str, object] = {"history_change_reason": reason}
            if user is not None:
                tags["history_user"] = user
            history.filter(history_change_reason__isnull=True).update(**tags)
    return counts


def demo_clear(*, user: User | None = None, channel: str = Channel.SYSTEM) -> DemoResult:
    """Remove the demo data and recompute what it fed (statuses, lag and overdue flags): what 删除演示数据 in the
    admin and `manage.py remove_demo` do."""
    result = demo_remove(user=user, channel=channel)
    if result.values or result.progress:
        status_recompute_all()
        sync_overdue_flags()
    return result
