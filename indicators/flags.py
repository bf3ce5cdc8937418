"""Lag and overdue flags (预警), raised and resolved from the stored statuses, and the digests to units.

A lag flag is raised when a 约束性 indicator is 需加快 or worse, when any item is 滞后 or 倒退, or when the
forecast misses the target; it is resolved when none of that holds any more. An overdue flag is raised for an
item with no submitted or approved entry after its year's deadline; every transition of an entry re-syncs its own
item's flag in the same transaction (overdue_on_transition), and the nightly run only catches up. Flags keep their history; at most one
flag per subject is open (a database constraint). Syncing is set-based: read the flagged subjects, then create
the new flags and resolve the old ones in bulk.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from config.caching import status_changed
from planning.assessment import LABELS
from planning.models import (
    AssessmentStatus,
    EntryStatus,
    NotificationKind,
    Plan,
    Responsibility,
    ResponsibilityRole,
    ReviewedEntry,
    Task,
    TaskProgress,
    TaskStatus,
    Unit,
)
from planning.notifications import emails_wanted, notify, robot_post
from planning.selectors import AnyUser, deadline_for, user_scope
from planning.templatetags.plan_tags import forecast, percent

from .models import Attribute, Flag, FlagKind, FlagState, Indicator, IndicatorStatus, IndicatorValue
from .summaries import flag_counts_rebuild, flag_counts_refresh

WORSE_THAN_WATCH = {AssessmentStatus.WATCH, AssessmentStatus.LAGGING, AssessmentStatus.REGRESSING}
BEHIND = {AssessmentStatus.LAGGING, AssessmentStatus.REGRESSING}


@dataclass(frozen=True)
class FlagSyncResult:
    raised: int
    resolved: int
    escalated: int = 0  # open lag flags that became 滞后/倒退/约束性 since their unit heard of them


def _plain(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.normalize():f}"


def lag_reasons(
    *, status: str, binding: bool, forecast_meets_target: bool | None, row: Any, indicator: Any = None
) -> list[str]:
    """Why an assessed item is flagged, in Chinese, in the pages' number style; empty when it is not."""
    reasons = []
    label = LABELS.get(status, status)
    if binding and status in WORSE_THAN_WATCH:
        reasons.append(f"约束性指标{label}")
    elif status in BEHIND:
        reasons.append(label)
    if status in BEHIND | WORSE_THAN_WATCH and row.completion is not None and row.expected_completion is not None:
        reasons.append(f"完成度 {percent(row.completion)}，按时间应达 {percent(row.expected_completion)}")
    if forecast_meets_target is False and status != AssessmentStatus.ACHIEVED:
        trend = forecast(row.forecast_value, indicator)
        predicted = trend if trend == "趋势下降" else f"按趋势预测为 {trend}"
        reasons.append(f"{predicted}，达不到目标 {_plain(row.target_value)}")
    return reasons


def _sync(
    kind: str,
    wanted: dict[str, dict[str, Any]],
    open_flags: Iterable[Flag],
    now: datetime.datetime,
    *,
    recount: Iterable[int] = (),
    resolution: str | None = None,
) -> FlagSyncResult:
    """Open flags for new keys, update reasons of kept ones, resolve the ones no longer wanted; the stored counts
    (FlagCount) of the regions whose flags changed follow in the same transaction, and the plans in `recount` (a
    full sync's) are counted again whole."""
    current = {flag.key: flag for flag in open_flags}
    creates = [
        Flag(kind=kind, key=key, raised_at=now, state=FlagState.OPEN, **fields)
        for key, fields in wanted.items()
        if key not in current
    ]
    changed = []
    counted = list(creates)  # the flags whose place in FlagCount changes: raised, resolved, moved to another unit
    escalated = 0
    for key, flag in current.items():
        fields = wanted.get(key)
        moved = fields is not None and fields.get("plan_id", flag.plan_id) != flag.plan_id
        if fields is None or moved:
            flag.state = FlagState.RESOLVED
            flag.resolved_at = now
            flag.resolution = MOVED_PLAN if moved else resolution or _resolution(kind, flag)
            changed.append(flag)
            counted.append(flag)
            if moved:
                # Its indicator or task was moved to another plan (an administrator may): the old plan's flag is
                # resolved and the new plan raises its own, so each plan's flags and counts stay its own.
                raised = Flag(kind=kind, key=key, raised_at=now, state=FlagState.OPEN, **(fields or {}))
                creates.append(raised)
                counted.append(raised)
        elif any(getattr(flag, name) != fields.get(name, getattr(flag, name)) for name in KEPT_FIELDS):
            if flag.lead_unit_id != fields.get("lead_unit_id", flag.lead_unit_id):
                counted.append(flag)
            was = {"status": flag.status, "is_binding": flag.is_binding}
            if kind == FlagKind.LAG and _alarming(fields) and not _alarming(was):
                # Worse than when the unit heard of it (e.g. from "forecast misses" to 滞后): tell them again.
                flag.notified_at = None
                escalated += 1
            for name in KEPT_FIELDS:
                if name in fields:
                    setattr(flag, name, fields[name])
            changed.append(flag)
    with transaction.atomic():
        for flag in changed:
            flag._change_reason = "系统：自动解除" if flag.state == FlagState.RESOLVED else "系统：原因更新"  # type: ignore[attr-defined]
        # Resolved before the new ones go in: a moved subject's new flag takes the key its old one held open.
        Flag.objects.bulk_update(
            changed, ["state", "resolved_at", "resolution", *KEPT_FIELDS, "notified_at"], batch_size=1000
        )
        Flag.objects.bulk_create(creates, batch_size=1000)
        # bulk_* bypass django-simple-history; record the rows ourselves so every flag keeps its story.
        _history(creates, "+", "系统：发出预警")
        _history(changed, "~", None)
        _recount(counted, set(recount))
    resolved = sum(1 for flag in changed if flag.state == FlagState.RESOLVED)
    if creates or changed:
        status_changed()
    return FlagSyncResult(raised=len(creates), resolved=resolved, escalated=escalated)


def _recount(counted: list[Flag], whole: set[int]) -> None:
    """FlagCount after a sync: a flag raised, resolved or moved to another unit changes its region's counts (a
    sync never moves a flag to another region or plan: both are part of its key; a new reason changes nothing)."""
    touched: dict[int, set[int | None]] = defaultdict(set)
    for flag in counted:
        touched[flag.plan_id].add(flag.region_id)
    for plan_id in sorted(whole):
        flag_counts_rebuild(plan_id)
    for plan_id, regions in sorted(touched.items()):
        if plan_id not in whole:
            flag_counts_refresh(plan_id=plan_id, region_ids=regions)


# What an open flag keeps up to date from its subject: the reason and status, and the unit and attribute an
# administrator may have changed since it was raised (the unit's counts and warnings follow them).
KEPT_FIELDS = ("reason", "status", "lead_unit_id", "is_binding")


def _alarming(fields: dict[str, Any]) -> bool:
    """滞后/倒退, or a 约束性 indicator 需加快 or worse: what a lead unit is told of at once."""
    status = fields.get("status")
    return status in BEHIND or (bool(fields.get("is_binding")) and status in WORSE_THAN_WATCH)


def _history(flags: list[Flag], history_type: str, reason: str | None) -> None:
    if not flags:
        return
    if history_type == "+":
        # bulk_create on PostgreSQL and SQLite sets primary keys.
        flags = [f for f in flags if f.pk is not None]
    Flag.history.bulk_history_create(
        flags, update=history_type == "~", default_change_reason=reason or "系统：状态变化"
    )


MOVED_PLAN = "所属指标或任务已调整到其他规划"


def _resolution(kind: str, flag: Flag) -> str:
    if kind == FlagKind.OVERDUE:
        return "已提交填报"
    return "进度已恢复，不再满足预警条件"


# --- lag flags -------------------------------------------------------------------------------------


def sync_indicator_lag_flags(
    *,
    plan_ids: Iterable[int] | None = None,
    indicator_ids: Iterable[int] | None = None,
    region_ids: Iterable[int] | None = None,
    now: datetime.datetime | None = None,
) -> FlagSyncResult:
    """Lag flags of indicator × region series, from their latest assessment (as of the plan's end year)."""
    now = now or timezone.now()
    plan_ids = None if plan_ids is None else list(plan_ids)
    scope = Q()
    if plan_ids is not None:
        scope &= Q(indicator__plan_id__in=list(plan_ids))
    if indicator_ids is not None:
        scope &= Q(indicator_id__in=list(indicator_ids))
    if region_ids is not None:
        scope &= Q(region_id__in=list(region_ids))
    # A plan without a region is not tracked (the recompute skips it): rows it kept from before raise nothing.
    latest = IndicatorStatus.objects.filter(
        scope, as_of_year=F("indicator__plan__period_end_year"), indicator__plan__region__isnull=False
    )
    flagged = latest.filter(
        Q(status__in=BEHIND)
        | Q(status__in=WORSE_THAN_WATCH, indicator__attribute=Attribute.BINDING)
        | (Q(forecast_meets_target=False) & ~Q(status=AssessmentStatus.ACHIEVED))
    ).select_related("indicator")
    wanted: dict[str, dict[str, Any]] = {}
    for row in flagged:
        indicator = row.indicator
        reasons = lag_reasons(
            status=row.status,
            binding=indicator.is_binding,
            forecast_meets_target=row.forecast_meets_target,
            row=row,
            indicator=indicator,
        )
        wanted[f"lag:indicator:{indicator.pk}:region:{row.region_id}"] = {
            "plan_id": indicator.plan_id,
            "indicator": indicator,
            "region_id": row.region_id,
            "year": row.as_of_year,
            "lead_unit_id": indicator.lead_unit_id,
            "is_binding": indicator.is_binding,
            "status": row.status,
            "reason": "；".join(reasons)[:300],
        }
    open_scope = Q(state=FlagState.OPEN, kind=FlagKind.LAG, indicator__isnull=False)
    if indicator_ids is not None:
        open_scope &= Q(indicator_id__in=list(indicator_ids))
    if region_ids is not None:
        open_scope &= Q(region_id__in=list(region_ids))
    in_scope = Flag.objects.filter(open_scope)
    open_flags = in_scope if plan_ids is None else _of_plans_indicators(in_scope, plan_ids)
    # A sync of whole plans counts their flags again whole (repairing whatever an edit outside the services left).
    whole: Iterable[int] = ()
    if indicator_ids is None and region_ids is None:
        whole = Plan.objects.values_list("pk", flat=True) if plan_ids is None else plan_ids
    return _sync(FlagKind.LAG, wanted, open_flags, now, recount=whole)


def sync_task_lag_flags(task_ids: list[int], now: datetime.datetime | None = None) -> FlagSyncResult:
    now = now or timezone.now()
    task_ids = list(task_ids)
    rows = TaskStatus.objects.filter(
        task_id__in=task_ids, target__isnull=True, as_of_year=F("task__plan__period_end_year")
    ).select_related("task")
    leads = dict(
        Responsibility.objects.filter(task_id__in=task_ids, role=ResponsibilityRole.LEAD).values_list(
            "task_id", "unit_id"
        )
    )
    wanted: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.status not in BEHIND and not (
            row.forecast_meets_target is False and row.status != AssessmentStatus.ACHIEVED
        ):
            continue
        reasons = lag_reasons(
            status=row.status, binding=False, forecast_meets_target=row.forecast_meets_target, row=row
        )
        wanted[f"lag:task:{row.task_id}"] = {
            "plan_id": row.task.plan_id,
            "task_id": row.task_id,
            "year": row.as_of_year,
            "lead_unit_id": leads.get(row.task_id),
            "status": row.status,
            "reason": "；".join(reasons)[:300],
        }
    open_flags = Flag.objects.filter(state=FlagState.OPEN, kind=FlagKind.LAG, task_id__in=task_ids)
    return _sync(FlagKind.LAG, wanted, open_flags, now)


# --- overdue flags ---------------------------------------------------------------------------------

# The one definition of "reported", for every kind of entry, in the database and in Python: submitted or approved,
# or holding an approved value (a correction under way keeps the earlier approval in force).
REPORTED_STATUSES = (EntryStatus.SUBMITTED, EntryStatus.APPROVED)
REPORTED = Q(status__in=REPORTED_STATUSES) | Q(approved_at__isnull=False)


def is_reported(entry: ReviewedEntry | None) -> bool:
    """The Python twin of REPORTED (我的填报 marks the same items overdue as the flags do)."""
    return entry is not None and (entry.status in REPORTED_STATUSES or entry.has_approved_value)


def overdue_years(plan: Plan, today: datetime.date, years: Iterable[int] | None = None) -> list[int]:
    """The plan's years (or those of `years` in the plan) whose deadline has passed."""
    wanted = plan.years if years is None else [y for y in years if y in plan.years]
    return [y for y in wanted if deadline_for(plan, y) < today]


def indicator_overdue_key(indicator_id: int, region_id: int, year: int) -> str:
    return f"overdue:indicator:{indicator_id}:region:{region_id}:year:{year}"


def task_overdue_key(task_id: int, region_id: int | None, year: int) -> str:
    return f"overdue:task:{task_id}:region:{region_id or 0}:year:{year}"


def sync_overdue_flags(*, today: datetime.date | None = None, now: datetime.datetime | None = None) -> FlagSyncResult:
    """Every item with no reported entry after its year's deadline (the nightly catch-up; transitions keep the
    flags of their own item in step at once, sync_overdue_subject). The nightly chord does the same in parts: its
    pieces sync_overdue_indicator_flags of their regions, its last step sync_overdue_task_flags."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    wanted: dict[str, dict[str, Any]] = {}
    for plan in Plan.objects.exclude(region__isnull=True):
        due_years = overdue_years(plan, today)
        if due_years:
            _overdue_indicators(plan, due_years, wanted)
            _overdue_tasks(plan, due_years, wanted)
    open_flags = Flag.objects.filter(state=FlagState.OPEN, kind=FlagKind.OVERDUE)
    return _sync(FlagKind.OVERDUE, wanted, open_flags, now, recount=Plan.objects.values_list("pk", flat=True))


def sync_overdue_indicator_flags(
    *,
    plan_id: int,
    region_ids: list[int],
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> FlagSyncResult:
    """The overdue flags of a plan's indicators in some of its regions: a piece of the nightly chord."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    plan = Plan.objects.filter(pk=plan_id).first()
    if plan is None:
        return FlagSyncResult(raised=0, resolved=0)  # deleted since the chord was cut: its flags went with it
    wanted: dict[str, dict[str, Any]] = {}
    due_years = overdue_years(plan, today)
    if due_years and plan.region_id is not None:
        _overdue_indicators(plan, due_years, wanted, region_ids=region_ids)
    open_flags = Flag.objects.filter(state=FlagState.OPEN, kind=FlagKind.OVERDUE, region__in=region_ids)
    return _sync(FlagKind.OVERDUE, wanted, _of_plans_indicators(open_flags, [plan_id]), now)


def _of_plans_indicators(open_flags: QuerySet[Flag], plan_ids: list[int]) -> list[Flag]:
    """The indicator flags of these plans, and those of their indicators still held under another plan (an
    indicator moved since they were raised: their keys are wanted again here, and the key is unique while open)."""
    own = open_flags.filter(plan_id__in=plan_ids, indicator__isnull=False)
    moved = open_flags.filter(indicator__plan_id__in=plan_ids).exclude(plan_id__in=plan_ids)
    return [*own, *moved]


def sync_overdue_task_flags(
    *,
    plan_ids: Iterable[int] | None = None,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> FlagSyncResult:
    """The overdue flags of the plans' tasks (every plan's when None), and the plans' stored flag counts again
    whole: the last step of the nightly chord, after its pieces synced the indicators' flags."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    plans = _plans_of(plan_ids)
    wanted: dict[str, dict[str, Any]] = {}
    for plan in plans.exclude(region__isnull=True):
        due_years = overdue_years(plan, today)
        if due_years:
            _overdue_tasks(plan, due_years, wanted)
    open_flags = Flag.objects.filter(state=FlagState.OPEN, kind=FlagKind.OVERDUE, task__isnull=False)
    if plan_ids is not None:
        # With the flags of these plans' tasks raised under another plan (a task moved since: see _sync).
        open_flags = open_flags.filter(Q(plan__in=plans) | Q(task__plan__in=plans))
    return _sync(FlagKind.OVERDUE, wanted, open_flags, now, recount=plans.values_list("pk", flat=True))


OUTSIDE_AREA = "所在区域已不在规划范围内"


def resolve_flags_outside_area(
    *, plan_ids: Iterable[int] | None = None, now: datetime.datetime | None = None
) -> FlagSyncResult:
    """Resolve the open indicator flags of regions no longer in their plan's area (a region moved under another
    parent, or the plan's own region changed): the nightly chord's pieces look only at the regions in the area."""
    now = now or timezone.now()
    resolved = 0
    for plan in _plans_of(plan_ids):
        stray = list(
            Flag.objects.filter(state=FlagState.OPEN, plan=plan, indicator__isnull=False).exclude(
                region__in=plan.area_regions().values("pk")
            )
        )
        for kind in (FlagKind.LAG, FlagKind.OVERDUE):
            of_kind = [flag for flag in stray if flag.kind == kind]
            resolved += _sync(kind, {}, of_kind, now, resolution=OUTSIDE_AREA).resolved
    return FlagSyncResult(raised=0, resolved=resolved)


def _plans_of(plan_ids: Iterable[int] | None) -> QuerySet[Plan]:
    """These plans, or every plan when None (the nightly run's last step names the plans its pieces covered)."""
    return Plan.objects.all() if plan_ids is None else Plan.objects.filter(pk__in=list(plan_ids))


def sync_overdue_subject(
    *,
    indicator: Indicator | None = None,
    task: Task | None = None,
    region_id: int | None,
    year: int,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> FlagSyncResult:
    """The overdue flag of one indicator × region × year (or task × region × year), by the nightly's definition."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    wanted: dict[str, dict[str, Any]] = {}
    if indicator is not None:
        plan = indicator.plan
        key = indicator_overdue_key(indicator.pk, region_id or 0, year)
        due_years = overdue_years(plan, today, [year])
        if due_years and plan.region_id is not None:
            regions = None if region_id is None else [region_id]
            _overdue_indicators(plan, due_years, wanted, indicator_id=indicator.pk, region_ids=regions)
    elif task is not None:
        plan = task.plan
        key = task_overdue_key(task.pk, region_id, year)
        due_years = overdue_years(plan, today, [year])
        if due_years and plan.region_id is not None:
            _overdue_tasks(plan, due_years, wanted, task_id=task.pk, region_id=region_id)
    else:
        raise ValueError("an indicator or a task")
    wanted = {k: v for k, v in wanted.items() if k == key}

    def sync() -> FlagSyncResult:
        open_flags = Flag.objects.filter(state=FlagState.OPEN, kind=FlagKind.OVERDUE, key=key)
        return _sync(FlagKind.OVERDUE, wanted, open_flags, now)

    try:
        return sync()
    except IntegrityError:
        # The nightly run raised the same flag between our read and our insert (one open flag per key): read again.
        return sync()


def _overdue_indicators(
    plan: Plan,
    due_years: list[int],
    wanted: dict[str, dict[str, Any]],
    *,
    indicator_id: int | None = None,
    region_ids: list[int] | None = None,
) -> None:
    regions = plan.area_regions()
    indicators = Indicator.objects.filter(plan=plan)
    if indicator_id is not None:
        indicators = indicators.filter(pk=indicator_id)
    if region_ids is not None:
        regions = regions.filter(pk__in=region_ids)
    region_ids = list(regions.values_list("pk", flat=True))
    rows = list(indicators.values_list("pk", "lead_unit_id", "attribute"))
    if not region_ids or not rows:
        return
    # By the plan (a join), not by a list of its indicators: PostgreSQL then reads a piece's regions by their
    # index instead of every value of the plan's indicators (35 ms, not 220 ms, for 250 of 3,000 regions).
    reported = IndicatorValue.objects.filter(REPORTED, indicator__plan=plan, region__in=region_ids, year__in=due_years)
    if indicator_id is not None:
        reported = reported.filter(indicator_id=indicator_id)
    # Counted in the database first (one value per indicator × region × year): the regions of a complete
    # indicator × year are not read at all, so a night when everything was reported reads a few hundred rows.
    counts = {
        (pk, year): n
        for pk, year, n in reported.values("indicator_id", "year")
        .annotate(n=Count("pk"))
        .values_list("indicator_id", "year", "n")
        .order_by()
    }
    incomplete = {(pk, year) for pk, _, _ in rows for year in due_years if counts.get((pk, year), 0) < len(region_ids)}
    if not incomplete:
        return
    done = set(
        reported.filter(
            indicator__in={pk for pk, _ in incomplete}, year__in={year for _, year in incomplete}
        ).values_list("indicator_id", "region_id", "year")
    )
    deadlines = {year: deadline_for(plan, year) for year in due_years}
    for year in due_years:
        for pk, unit_id, attribute in rows:
            if (pk, year) not in incomplete:
                continue
            for region in region_ids:
                if (pk, region, year) in done:
                    continue
                wanted[indicator_overdue_key(pk, region, year)] = {
                    "plan_id": plan.pk,
                    "indicator_id": pk,
                    "region_id": region,
                    "year": year,
                    "lead_unit_id": unit_id,
                    "is_binding": attribute == Attribute.BINDING,
                    "status": "",
                    "reason": f"{year}年度数据逾期未报（截止 {deadlines[year]:%Y-%m-%d}）",
                }


def _overdue_tasks(
    plan: Plan,
    due_years: list[int],
    wanted: dict[str, dict[str, Any]],
    *,
    task_id: int | None = None,
    region_id: int | None = None,
) -> None:
    tasks = plan.tasks.prefetch_related("targets__regions")
    leads = Responsibility.objects.filter(task__plan=plan, role=ResponsibilityRole.LEAD)
    progress = TaskProgress.objects.filter(task__plan=plan, year__in=due_years)
    if task_id is not None:
        tasks = tasks.filter(pk=task_id)
        leads = leads.filter(task_id=task_id)
        progress = progress.filter(task_id=task_id).filter(
            Q(region_id=region_id) if region_id is not None else Q(region__isnull=True)
        )
    lead_of = dict(leads.values_list("task_id", "unit_id"))
    done = set(progress.filter(REPORTED).values_list("task_id", "region_id", "year"))
    deadlines = {year: deadline_for(plan, year) for year in due_years}
    for task in tasks:
        milestone = task.milestone_target
        regions: list[int | None] = [r.pk for r in milestone.regions.all()] if milestone else [None]
        if task_id is not None:
            regions = [r for r in regions if r == region_id]
        for year in due_years:
            for region in regions:
                if (task.pk, region, year) in done:
                    continue
                wanted[task_overdue_key(task.pk, region, year)] = {
                    "plan_id": plan.pk,
                    "task_id": task.pk,
                    "region_id": region,
                    "year": year,
                    "lead_unit_id": lead_of.get(task.pk),
                    "status": "",
                    "reason": f"{year}年度任务进展逾期未报（截止 {deadlines[year]:%Y-%m-%d}）",
                }


def overdue_on_transition(kind: Any, entry: Any, action: str, user: Any, comment: str) -> None:
    """A listener of planning.entries.TRANSITION_LISTENERS: submitting or approving resolves the entry's overdue
    flag, withdrawing or returning after the deadline raises it again, in the transition's own transaction."""
    if kind.model is IndicatorValue:
        sync_overdue_subject(indicator=entry.indicator, region_id=entry.region_id, year=entry.year)
    elif kind.model is TaskProgress:
        sync_overdue_subject(task=entry.task, region_id=entry.region_id, year=entry.year)


# --- digests -------------------------------------------------------------------------------------------


def unit_members(unit_ids: Iterable[int]) -> dict[int, list[User]]:
    members: dict[int, list[User]] = defaultdict(list)
    for user in (
        User.objects.filter(is_active=True, scope__units__in=list(unit_ids)).prefetch_related("scope__units").distinct()
    ):
        for unit in user.scope.units.all():
            members[unit.pk].append(user)
    return members


@dataclass(frozen=True)
class DigestResult:
    units: int
    notifications: int
    mails: int
    flags: int


def flags_visible_to(user: AnyUser) -> QuerySet[Flag]:
    """The flags a person may see: those of the units and regions they view (everything for 管理员/领导 of all).

    dashboards.selectors.open_flag_totals counts them from FlagCount by the same rules (a test keeps the two equal)."""
    scope = user_scope(user)
    if scope.everything:
        return Flag.objects.all()
    if not (scope.view_units or scope.view_regions):
        return Flag.objects.none()
    condition = Q()
    if scope.view_units:
        condition &= Q(lead_unit__in=scope.view_units)
    if scope.view_regions:
        condition &= Q(region__in=scope.view_regions)
    return Flag.objects.filter(condition)


def send_flag_digests(now: datetime.datetime | None = None) -> DigestResult:
    """Tell each lead unit's people of the flags raised since they last heard, as one 进度预警 notification per
    person and unit: mailed as each person chose, posted once to the unit's group robot, linking to the overview's
    warnings of that unit.

    Flags are claimed with a conditional update first, in the transaction that writes the notifications: a second
    run at the same time finds nothing to send, and a run that fails claims nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        pending_units = set(
            Flag.objects.filter(state=FlagState.OPEN, notified_at__isnull=True, lead_unit__isnull=False).values_list(
                "lead_unit_id", flat=True
            )
        )
        members = unit_members(pending_units)
        # Units with people to tell, or a group robot to post to; the others' flags wait until someone joins.
        units = list(
            Unit.objects.filter(
                Q(pk__in=[u for u in pending_units if members.get(u)]) | Q(pk__in=pending_units, webhook_url__gt="")
            )
        )
        claimed = Flag.objects.filter(state=FlagState.OPEN, notified_at__isnull=True, lead_unit__in=units).update(
            notified_at=now
        )
        if not claimed:
            return DigestResult(0, 0, 0, 0)
        flags_by_unit: dict[int, list[Flag]] = defaultdict(list)
        for flag in Flag.objects.filter(notified_at=now).select_related("indicator", "task", "region"):
            flags_by_unit[flag.lead_unit_id].append(flag)  # type: ignore[index]
        overview = reverse("dashboards:overview")
        notifications = mails = 0
        for unit in units:
            flags = flags_by_unit.get(unit.pk, [])
            if not flags:
                continue
            # Each person hears only of the flags they may see (a county's people not of another county's items);
            # people who see the same flags get the same text, and the unit's robot the text of the whole unit.
            # The unit's flags claimed now, named by what claimed them rather than by a list of their ids (which
            # runs to a hundred thousand after a national plan's first night).
            claimed_here = Q(notified_at=now, lead_unit=unit)
            audiences: dict[frozenset[int], list[User]] = defaultdict(list)
            for user in members[unit.pk]:
                seen = frozenset(flags_visible_to(user).filter(claimed_here).values_list("pk", flat=True))
                if seen:
                    audiences[seen].append(user)
            whole = frozenset(flag.pk for flag in flags)
            if whole not in audiences:
                # Nobody of the unit sees all of it (or it has no accounts): its group robot still hears of it all.
                title, body = digest_text(unit, flags)
                robot_post(
                    unit=unit, kind=NotificationKind.WARNING, title=title, body=body, link=f"{overview}?unit={unit.pk}"
                )
            for seen, people in sorted(audiences.items(), key=lambda item: item[0] != whole):
                title, body = digest_text(unit, [flag for flag in flags if flag.pk in seen])
                created = notify(
                    users=people,
                    kind=NotificationKind.WARNING,
                    title=title,
                    body=body,
                    link=f"{overview}?unit={unit.pk}",
                    unit=unit,
                    webhook=seen == whole,
                )
                notifications += len(created)
                mails += len(emails_wanted([n.user_id for n in created if n.user.email], NotificationKind.WARNING))
    return DigestResult(units=len(flags_by_unit), notifications=notifications, mails=mails, flags=claimed)


# While a full recompute runs, its pieces raise flags that the run tells the units of once, at its end.
_warnings_held: ContextVar[bool] = ContextVar("warnings_held", default=False)


@contextmanager
def warnings_held() -> Iterator[None]:
    """Hold the at-once warnings (warn_lead_units) for the duration; the caller sends the digests afterwards."""
    token = _warnings_held.set(True)
    try:
        yield
    finally:
        _warnings_held.reset(token)


def warn_lead_units(*_: object) -> DigestResult | None:
    """Right after a series' or a task's lag flags are synced on commit, a new 滞后/倒退/约束性 warning reaches its
    lead unit at once, not the next night. A listener of planning.status.TASK_STATUS_LISTENERS (after the flags'
    sync); status_recompute_series calls it. Cheap when nothing is new: one query."""
    if _warnings_held.get():
        return None
    return send_flag_digests()


def digest_text(unit: Unit, flags: list[Flag]) -> tuple[str, str]:
    lag = [f for f in flags if f.kind == FlagKind.LAG]
    overdue = [f for f in flags if f.kind == FlagKind.OVERDUE]
    title = f"【乐山教育规划目标跟踪】{unit.name}：新增预警 {len(lag)} 项，逾期未报 {len(overdue)} 项"
    lines = [f"{unit.name}：", ""]
    if lag:
        lines.append(f"一、进度预警（{len(lag)} 项，约束性指标在前）")
        for flag in sorted(lag, key=lambda f: (not f.is_binding, f.subject))[:50]:
            mark = "【约束性】" if flag.is_binding else ""
            lines.append(f"  · {mark}{flag.subject}：{flag.reason}")
        if len(lag) > 50:
            lines.append(f"  · ……另有 {len(lag) - 50} 项，请登录系统查看")
        lines.append("")
    if overdue:
        lines.append(f"二、逾期未报（{len(overdue)} 项）")
        by_year: dict[int, int] = defaultdict(int)
        for flag in overdue:
            by_year[flag.year] += 1
        lines.extend(f"  · {year}年度：{count} 项未提交" for year, count in sorted(by_year.items()))
        lines.append("")
    lines.append("请登录乐山教育规划目标跟踪系统查看并处理。")
    return title, "\n".join(lines)
