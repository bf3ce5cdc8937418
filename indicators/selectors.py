"""Reads of indicators and their values, scoped as in planning.selectors."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from planning.assessment import DISPLAY_LABELS, display_status, expected_value
from planning.models import EntryStatus, PendingTaskRecompute, Plan, Role, TaskProgress
from planning.roles import user_roles
from planning.selectors import (
    AnyUser,
    Scope,
    deadline_for,
    regions_visible_to,
    task_progress_capturable_by,
    tasks_capturable_by,
    tasks_visible_to,
    user_scope,
    with_assessment,
)
from planning.templatetags.plan_tags import plain
from planning.workflow import exclude_own
from regions.models import Region

from .flags import flags_visible_to, is_reported
from .models import (
    Flag,
    FlagKind,
    FlagState,
    Indicator,
    IndicatorRegionTarget,
    IndicatorStatus,
    IndicatorValue,
    IndicatorValueEvidence,
    PendingSeriesRecompute,
    TargetAdjustment,
)


def _value_condition(units: frozenset[int], regions: frozenset[int]) -> Q:
    condition = Q()
    if units:
        condition &= Q(indicator__lead_unit__in=units)
    if regions:
        condition &= Q(region__in=regions)
    return condition


def indicator_values_visible_to(user: AnyUser) -> QuerySet[IndicatorValue]:
    scope = user_scope(user)
    if scope.everything:
        return IndicatorValue.objects.all()
    if not (scope.view_units or scope.view_regions):
        return IndicatorValue.objects.none()
    return IndicatorValue.objects.filter(_value_condition(scope.view_units, scope.view_regions))


def _capture_scope(user: AnyUser, role: Role) -> Scope | None:
    scope = user_scope(user)
    if role not in user_roles(user) or not scope.captures_anything:
        return None
    return scope


def indicator_values_capturable_by(user: AnyUser) -> QuerySet[IndicatorValue]:
    scope = _capture_scope(user, Role.ENTRY)
    if scope is None:
        return IndicatorValue.objects.none()
    return IndicatorValue.objects.filter(_value_condition(scope.units, scope.regions))


def indicator_values_review_scope(user: AnyUser) -> QuerySet[IndicatorValue]:
    scope = _capture_scope(user, Role.REVIEWER)
    if scope is None:
        return IndicatorValue.objects.none()
    return IndicatorValue.objects.filter(_value_condition(scope.units, scope.regions))


def indicator_values_reviewable_by(user: AnyUser) -> QuerySet[IndicatorValue]:
    """The review queue: submitted values in scope that someone else created and submitted."""
    return exclude_own(indicator_values_review_scope(user).filter(status=EntryStatus.SUBMITTED), user)


def indicator_values_for_review(queryset: QuerySet[IndicatorValue]) -> QuerySet[IndicatorValue]:
    """What the review queue shows beside each value, read with the rows rather than per row: last year's approved
    value for the same indicator and region, and the number of evidence files."""
    last_year = IndicatorValue.objects.filter(
        indicator=OuterRef("indicator"), region=OuterRef("region"), year=OuterRef("year") - 1
    ).values("approved_value")[:1]
    # A subquery, not Count(): no GROUP BY over the joined rows and the annotated subquery.
    evidence = (
        IndicatorValueEvidence.objects.filter(entry=OuterRef("pk")).order_by().values("entry").annotate(n=Count("pk"))
    )
    return queryset.select_related("indicator__plan", "region", "submitted_by").annotate(
        last_year_value=Subquery(last_year), evidence_count=Coalesce(Subquery(evidence.values("n")), 0)
    )


def indicators_capturable_by(user: AnyUser) -> QuerySet[Indicator]:
    scope = _capture_scope(user, Role.ENTRY)
    if scope is None:
        return Indicator.objects.none()
    return Indicator.objects.filter(lead_unit__in=scope.units) if scope.units else Indicator.objects.all()


def indicators_visible_to(user: AnyUser) -> QuerySet[Indicator]:
    scope = user_scope(user)
    if scope.everything or (scope.view_regions and not scope.view_units):
        return Indicator.objects.all()
    if not scope.view_units:
        return Indicator.objects.none()
    return Indicator.objects.filter(lead_unit__in=scope.view_units)


def regions_capturable_by(user: AnyUser) -> QuerySet[Region]:
    scope = _capture_scope(user, Role.ENTRY)
    if scope is None:
        return Region.objects.none()
    return Region.objects.filter(pk__in=scope.regions) if scope.regions else Region.objects.all()


def can_capture_cell(user: AnyUser, indicator: Indicator, region: Region) -> bool:
    scope = _capture_scope(user, Role.ENTRY)
    if scope is None:
        return False
    unit_ok = not scope.units or indicator.lead_unit_id in scope.units
    region_ok = not scope.regions or region.pk in scope.regions
    return unit_ok and region_ok


def can_view_cell(user: AnyUser, indicator: Indicator, region: Region) -> bool:
    scope = user_scope(user)
    if scope.everything:
        return True
    if not (scope.view_units or scope.view_regions):
        return False
    unit_ok = not scope.view_units or indicator.lead_unit_id in scope.view_units
    region_ok = not scope.view_regions or region.pk in scope.view_regions
    return unit_ok and region_ok


# --- baselines and targets per region (指标分解) -------------------------------------------------


@dataclass(frozen=True)
class RegionPlan:
    """An indicator's baseline and target for one region, and where they come from."""

    baseline: Decimal | None
    target: Decimal | None
    origin: str  # "city" (the plan's own), "region" (decomposed), "default" (city's, for rates), "none"

    def expected(self, indicator: Indicator, year: int) -> Decimal | None:
        """The straight path from baseline to target (planning.assessment.expected_value)."""
        return expected_value(
            self.baseline,
            self.target,
            baseline_year=indicator.baseline_year,
            target_year=indicator.target_year,
            year=year,
        )


def region_plan(indicator: Indicator, region: Region, decomposed: IndicatorRegionTarget | None) -> RegionPlan:
    if region.pk == indicator.plan.region_id:
        return RegionPlan(indicator.baseline_value, indicator.target_value, "city")
    if decomposed is not None and (decomposed.baseline_value is not None or decomposed.target_value is not None):
        if indicator.is_additive:
            return RegionPlan(decomposed.baseline_value, decomposed.target_value, "region")
        return RegionPlan(
            decomposed.baseline_value if decomposed.baseline_value is not None else indicator.baseline_value,
            decomposed.target_value if decomposed.target_value is not None else indicator.target_value,
            "region",
        )
    if indicator.is_additive:
        return RegionPlan(None, None, "none")
    return RegionPlan(indicator.baseline_value, indicator.target_value, "default")


def target_adjustments_of(indicator_ids: Iterable[int]) -> dict[int, list[TargetAdjustment]]:
    """The 规划调整 of some indicators, by indicator, in order of the year they take effect (one query)."""
    found: dict[int, list[TargetAdjustment]] = {}
    for row in TargetAdjustment.objects.filter(indicator_id__in=list(indicator_ids)).order_by(
        "indicator_id", "effective_year"
    ):
        found.setdefault(row.indicator_id, []).append(row)
    return found


def target_text(indicator: Indicator, adjustments: Iterable[TargetAdjustment]) -> str:
    """The target as pages and reports state it: 目标值 X（自2024年调整为 Y，依据…）; the original alone when unadjusted."""
    text = f"目标值 {plain(indicator.target_value)}{indicator.target_qualifier}"
    changes = [
        f"自{row.effective_year}年调整为 {plain(row.adjusted_value)}{indicator.target_qualifier}，依据{row.document}"
        for row in adjustments
    ]
    return text + (f"（{'；'.join(changes)}）" if changes else "")


def region_plan_for(indicator: Indicator, region: Region) -> RegionPlan:
    decomposed = IndicatorRegionTarget.objects.filter(indicator=indicator, region=region).first()
    return region_plan(indicator, region, decomposed)


def previous_approved(indicator: Indicator, region: Region, year: int) -> tuple[int, Decimal] | None:
    """The latest approved value before `year` (what the person entering compares against)."""
    row = (
        IndicatorValue.objects.filter(indicator=indicator, region=region, year__lt=year, approved_value__isnull=False)
        .order_by("-year")
        .values_list("year", "approved_value")
        .first()
    )
    return (row[0], row[1]) if row and row[1] is not None else None


# --- 指标分解 ---------------------------------------------------------------------------------------


def decomposition_rows(indicator: Indicator, user: AnyUser) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The regions' own baselines and targets (指标分解) that the user may see, and for additive indicators how the
    regions' figures add up against the city's (only for someone who sees every region: it sums all of them)."""
    plan = indicator.plan
    visible = regions_visible_to(user)
    regions = list(plan.area_divisions().filter(pk__in=visible))
    decomposed = {
        row.region_id: row for row in IndicatorRegionTarget.objects.filter(indicator=indicator, region__in=regions)
    }
    rows: list[dict[str, Any]] = []
    for region in regions:
        row = decomposed.get(region.pk)
        rows.append({"region": region, "own": row, "plan": region_plan(indicator, region, row)})
    summary: dict[str, Any] = {}
    sees_all = plan.region_id is not None and visible.filter(pk=plan.region_id).exists()
    if indicator.is_additive and sees_all:
        own = [decomposed[r.pk] for r in regions if r.pk in decomposed]
        set_targets = [row.target_value for row in own if row.target_value is not None]
        set_baselines = [row.baseline_value for row in own if row.baseline_value is not None]
        total_target = sum(set_targets, Decimal(0))
        total_baseline = sum(set_baselines, Decimal(0))
        summary = {
            "missing": len(rows) - len(set_targets),
            "total_target": total_target,
            "target_difference": total_target - indicator.target_value,
            "total_baseline": total_baseline,
            "baseline_difference": (
                total_baseline - indicator.baseline_value if indicator.baseline_value is not None else None
            ),
            "adds_up": len(set_targets) == len(rows) and total_target == indicator.target_value,
        }
    return rows, summary


# --- 我的填报: what is due for a user's scope ------------------------------------------------------


@dataclass
class ReportingItem:
    kind: str  # "indicator" or "task"
    title: str
    detail: str
    region: Region | None
    status: str  # "missing" or an EntryStatus value
    status_label: str
    overdue: bool
    review_comment: str
    entry_id: int | None
    item_id: int  # indicator or task id
    is_binding: bool = False


def reporting_items(
    user: AnyUser, plan: Plan, year: int, today: datetime.date
) -> tuple[list[ReportingItem], datetime.date]:
    """Every indicator × region and task (× region) the user captures for the year, with its state.

    A fixed number of queries whatever the size of the plan: the cells are joined in Python.
    """
    deadline = deadline_for(plan, year)
    late = today > deadline
    items: list[ReportingItem] = []
    indicators = list(indicators_capturable_by(user).filter(plan=plan).order_by("number"))
    regions = list(regions_capturable_by(user).filter(pk__in=plan.area_regions()).order_by("order"))
    values = {
        (v.indicator_id, v.region_id): v
        for v in indicator_values_capturable_by(user)
        .filter(indicator__plan=plan, year=year)
        .only("id", "indicator_id", "region_id", "status", "review_comment", "approved_at", "revision")
    }
    for indicator in indicators:
        for region in regions:
            value = values.get((indicator.pk, region.pk))
            items.append(
                _item(
                    "indicator",
                    indicator.pk,
                    f"{indicator.number}. {indicator.name}",
                    indicator.unit,
                    region,
                    value,
                    late,
                    indicator.is_binding,
                )
            )
    tasks = list(
        tasks_capturable_by(user)
        .filter(plan=plan)
        .select_related("column")
        .prefetch_related("targets__regions")
        .order_by("order")
    )
    progress = {
        (p.task_id, p.region_id): p
        for p in task_progress_capturable_by(user)
        .filter(task__plan=plan, year=year)
        .only("id", "task_id", "region_id", "status", "review_comment", "approved_at", "revision")
    }
    scope_regions = user_scope(user).regions
    entry: TaskProgress | None
    for task in tasks:
        milestone = task.milestone_target
        task_regions: list[Region | None] = (
            [r for r in milestone.regions.all() if not scope_regions or r.pk in scope_regions]
            if milestone is not None
            else [None]
        )
        for task_region in task_regions:
            entry = progress.get((task.pk, task_region.pk if task_region else None))
            items.append(
                _item("task", task.pk, f"{task.label} {task.title}", _task_kind_label(task), task_region, entry, late)
            )
    return items, deadline


def _task_kind_label(task: object) -> str:
    return {"milestone": "区域达标", "qualitative": "定性任务", "quantitative": "量化任务"}[task.progress_kind]  # type: ignore[attr-defined]


def _item(
    kind: str,
    item_id: int,
    title: str,
    detail: str,
    region: Region | None,
    entry: object,
    late: bool,
    is_binding: bool = False,
) -> ReportingItem:
    if entry is None:
        status, label, comment, entry_id = "missing", "未填报", "", None
    else:
        status = entry.status  # type: ignore[attr-defined]
        label = entry.get_status_display()  # type: ignore[attr-defined]
        if entry.is_correction:  # type: ignore[attr-defined]
            label = f"更正中（{label}）"
        comment, entry_id = entry.review_comment, entry.pk  # type: ignore[attr-defined]
    # The overdue flags' own definition (indicators.flags.REPORTED): a correction under way is not overdue.
    overdue = late and not is_reported(entry)  # type: ignore[arg-type]
    return ReportingItem(kind, title, detail, region, status, label, overdue, comment, entry_id, item_id, is_binding)


# --- dashboards: stored statuses only, a fixed number of queries whatever the size of the plan ----------


@dataclass
class StatusCard:
    """One indicator on the overview: latest value against the 2025 target, completion against time."""

    indicator: Indicator
    row: object  # IndicatorStatus, or None when never computed
    display: str
    label: str
    completion_pct: float | None
    expected_pct: float | None
    bar_pct: float
    marker_pct: float | None


def _pct(value: Decimal | None) -> float | None:
    return None if value is None else float(value) * 100


def status_card(indicator: Indicator, row: object) -> StatusCard:
    status = getattr(row, "status", None) or "no_data"
    display = display_status(status, getattr(row, "latest_year", None), indicator.target_year)
    completion = _pct(getattr(row, "completion", None))
    expected = _pct(getattr(row, "expected_completion", None))
    bar = min(max(completion if completion is not None else (100.0 if status == "achieved" else 0.0), 0.0), 100.0)
    return StatusCard(
        indicator,
        row,
        display,
        DISPLAY_LABELS[display],
        completion,
        expected,
        bar,
        None if expected is None else min(max(expected, 0.0), 100.0),
    )


def statuses_visible_to(user: AnyUser) -> QuerySet[IndicatorStatus]:
    scope = user_scope(user)
    if scope.everything:
        return IndicatorStatus.objects.all()
    if not (scope.view_units or scope.view_regions):
        return IndicatorStatus.objects.none()
    condition = Q()
    if scope.view_units:
        condition &= Q(indicator__lead_unit__in=scope.view_units)
    if scope.view_regions:
        condition &= Q(region__in=scope.view_regions)
    return IndicatorStatus.objects.filter(condition)


def in_region(region: Region, plan: Plan, field: str = "region") -> Q:
    """Rows of `region` and the regions under it; for the plan's own region also rows of no region (tasks)."""
    condition = (
        Q(**{field: region.pk}) | Q(**{f"{field}__parent": region.pk}) | Q(**{f"{field}__parent__parent": region.pk})
    )
    if region.pk == plan.region_id:
        condition |= Q(**{f"{field}__isnull": True})
    return condition


def open_flags(user: AnyUser, plan: Plan, region: Region) -> QuerySet[Flag]:
    """The plan's open flags (both kinds) in `region` and under it that the user may see: every list of flags on the
    dashboards and every count shown beside one is read from this, so the two cannot disagree."""
    return flags_visible_to(user).filter(in_region(region, plan), plan=plan, state=FlagState.OPEN)


def flags_in_order(flags: QuerySet[Flag]) -> QuerySet[Flag]:
    """约束性 first, then by indicator (or task) and region.

    Ordered by ids, which the flag_open_in_order index serves (with a kind chosen), so the first page is read from
    the index at any scale; `in_display_order` puts a page in the order of the plan (indicator number, region order).
    """
    return flags.select_related("indicator", "task", "region", "lead_unit").order_by(
        "-is_binding", "indicator_id", "task_id", "region_id", "year", "pk"
    )


def open_flags_in_order(user: AnyUser, plan: Plan, region: Region, kind: str = FlagKind.LAG) -> QuerySet[Flag]:
    """The open flags of one kind (open_flags) in index order (flags_in_order)."""
    return flags_in_order(open_flags(user, plan, region).filter(kind=kind))


def in_display_order(flags: Iterable[Flag]) -> list[Flag]:
    def key(flag: Flag) -> tuple[Any, ...]:
        return (
            not flag.is_binding,
            flag.indicator.number if flag.indicator is not None else 10**6,
            flag.task.order if flag.task is not None else 0,
            flag.region.order if flag.region is not None else 0,
            flag.year,
            flag.pk,  # ties (regions of the same order) in a fixed order, whatever order the rows came in
        )

    return sorted(flags, key=key)


def indicators_with_assessment(
    queryset: QuerySet[Indicator], *, year: int | None = None, region_id: int | None = None
) -> QuerySet[Indicator]:
    """Each indicator with its assessment for one region (default: the plan's own, i.e. the city)."""
    as_of = year if year is not None else F("plan__period_end_year")
    where = region_id if region_id is not None else F("plan__region")
    return with_assessment(queryset, "statuses", Q(statuses__region=where, statuses__as_of_year=as_of))


def recompute_pending_count(user: AnyUser, plan: Plan, region: Region) -> int:
    """Series (in `region` and under it) and tasks of the plan that the user may see whose status waits for a
    recompute (e.g. queued while Redis was down)."""
    series = PendingSeriesRecompute.objects.filter(
        in_region(region, plan),
        indicator__plan=plan,
        indicator__in=indicators_visible_to(user),
        region__in=regions_visible_to(user),
    ).values("indicator_id", "region_id")
    tasks = PendingTaskRecompute.objects.filter(task__plan=plan, task__in=tasks_visible_to(user)).values("task_id")
    return series.distinct().count() + tasks.distinct().count()


def recompute_pending_regions(user: AnyUser, indicator: Indicator) -> set[int]:
    pending = PendingSeriesRecompute.objects.filter(indicator=indicator, region__in=regions_visible_to(user))
    return set(pending.values_list("region_id", flat=True))


def demo_present() -> bool:
    """One query (the banner asks on every page): is any generated 演示数据 row left, value or task progress?

    A read of the domain's `is_demo` fields (reports state it too); generating and removing them is the demo app's.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM indicators_indicatorvalue WHERE is_demo = %s)"
            " OR EXISTS (SELECT 1 FROM planning_taskprogress WHERE is_demo = %s) THEN 1 ELSE 0 END",
            [True, True],
        )
        return bool(cursor.fetchone()[0])


def recompute_chunks(plan_ids: Iterable[int] | None = None) -> list[tuple[int, list[int]]]:
    """The full recompute cut into independent pieces: each plan's regions in runs of RECOMPUTE_CHUNK_REGIONS.

    Every piece touches its own status and flag rows only, so the pieces run on as many workers as there are.
    """
    size = max(1, settings.RECOMPUTE_CHUNK_REGIONS)
    plans = Plan.objects.exclude(region__isnull=True).order_by("pk")
    if plan_ids is not None:
        plans = plans.filter(pk__in=list(plan_ids))
    chunks = []
    for plan in plans:
        regions = list(plan.area_regions().values_list("pk", flat=True))
        chunks += [(plan.pk, regions[i : i + size]) for i in range(0, len(regions), size)]
    return chunks
