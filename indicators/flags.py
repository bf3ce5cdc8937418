"""Lag and overdue flags (预警), raised and resolved from the stored statuses, and the digests to units.

A lag flag is raised when a 约束性 indicator is 需加快 or worse, when any item is 滞后 or 倒退, or when the
forecast misses the target; it is resolved when none of that holds any more. An overdue flag is raised for an
item with no submitted or approved entry after its year's deadline. Flags keep their history; at most one
flag per subject is open (a database constraint). Syncing is set-based: read the flagged subjects, then create
the new flags and resolve the old ones in bulk.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from config.caching import status_changed
from planning.assessment import LABELS
from planning.models import (
    AssessmentStatus,
    EntryStatus,
    Notification,
    Plan,
    Responsibility,
    ResponsibilityRole,
    TaskProgress,
    TaskStatus,
    Unit,
)
from planning.selectors import deadline_for
from planning.templatetags.plan_tags import forecast, percent

from .models import Attribute, Flag, FlagKind, FlagState, Indicator, IndicatorStatus, IndicatorValue

WORSE_THAN_WATCH = {AssessmentStatus.WATCH, AssessmentStatus.LAGGING, AssessmentStatus.REGRESSING}
BEHIND = {AssessmentStatus.LAGGING, AssessmentStatus.REGRESSING}


@dataclass(frozen=True)
class FlagSyncResult:
    raised: int
    resolved: int


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
    kind: str, wanted: dict[str, dict[str, Any]], open_flags: Iterable[Flag], now: datetime.datetime
) -> FlagSyncResult:
    """Open flags for new keys, update reasons of kept ones, resolve the ones no longer wanted."""
    current = {flag.key: flag for flag in open_flags}
    creates = [
        Flag(kind=kind, key=key, raised_at=now, state=FlagState.OPEN, **fields)
        for key, fields in wanted.items()
        if key not in current
    ]
    changed = []
    for key, flag in current.items():
        fields = wanted.get(key)
        if fields is None:
            flag.state = FlagState.RESOLVED
            flag.resolved_at = now
            flag.resolution = _resolution(kind, flag)
            changed.append(flag)
        elif flag.reason != fields["reason"] or flag.status != fields["status"]:
            flag.reason, flag.status = fields["reason"], fields["status"]
            changed.append(flag)
    with transaction.atomic():
        Flag.objects.bulk_create(creates, batch_size=1000)
        for flag in changed:
            flag._change_reason = "系统：自动解除" if flag.state == FlagState.RESOLVED else "系统：原因更新"  # type: ignore[attr-defined]
        Flag.objects.bulk_update(changed, ["state", "resolved_at", "resolution", "reason", "status"], batch_size=1000)
        # bulk_* bypass django-simple-history; record the rows ourselves so every flag keeps its story.
        _history(creates, "+", "系统：发出预警")
        _history(changed, "~", None)
    resolved = sum(1 for flag in changed if flag.state == FlagState.RESOLVED)
    if creates or changed:
        status_changed()
    return FlagSyncResult(raised=len(creates), resolved=resolved)


def _history(flags: list[Flag], history_type: str, reason: str | None) -> None:
    if not flags:
        return
    if history_type == "+":
        # bulk_create on PostgreSQL and SQLite sets primary keys.
        flags = [f for f in flags if f.pk is not None]
    Flag.history.bulk_history_create(
        flags, update=history_type == "~", default_change_reason=reason or "系统：状态变化"
    )


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
    scope = Q()
    if plan_ids is not None:
        scope &= Q(indicator__plan_id__in=list(plan_ids))
    if indicator_ids is not None:
        scope &= Q(indicator_id__in=list(indicator_ids))
    if region_ids is not None:
        scope &= Q(region_id__in=list(region_ids))
    latest = IndicatorStatus.objects.filter(scope, as_of_year=F("indicator__plan__period_end_year"))
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
    if plan_ids is not None:
        open_scope &= Q(plan_id__in=list(plan_ids))
    if indicator_ids is not None:
        open_scope &= Q(indicator_id__in=list(indicator_ids))
    if region_ids is not None:
        open_scope &= Q(region_id__in=list(region_ids))
    return _sync(FlagKind.LAG, wanted, Flag.objects.filter(open_scope), now)


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


def sync_overdue_flags(*, today: datetime.date | None = None, now: datetime.datetime | None = None) -> FlagSyncResult:
    """Items with no submitted or approved entry after their year's deadline."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    reported = [EntryStatus.SUBMITTED, EntryStatus.APPROVED]
    wanted: dict[str, dict[str, Any]] = {}
    for plan in Plan.objects.exclude(region__isnull=True):
        due_years = [y for y in plan.years if deadline_for(plan, y) < today]
        if not due_years:
            continue
        regions = list(plan.area_regions().values_list("pk", flat=True))
        indicators = list(Indicator.objects.filter(plan=plan).values_list("pk", "lead_unit_id", "attribute"))
        done = set(
            IndicatorValue.objects.filter(indicator__plan=plan, year__in=due_years)
            .filter(Q(status__in=reported) | Q(approved_value__isnull=False))
            .values_list("indicator_id", "region_id", "year")
        )
        for year in due_years:
            for indicator_id, unit_id, attribute in indicators:
                for region_id in regions:
                    if (indicator_id, region_id, year) in done:
                        continue
                    wanted[f"overdue:indicator:{indicator_id}:region:{region_id}:year:{year}"] = {
                        "plan_id": plan.pk,
                        "indicator_id": indicator_id,
                        "region_id": region_id,
                        "year": year,
                        "lead_unit_id": unit_id,
                        "is_binding": attribute == Attribute.BINDING,
                        "status": "",
                        "reason": f"{year}年度数据逾期未报（截止 {deadline_for(plan, year):%Y-%m-%d}）",
                    }
        _overdue_tasks(plan, due_years, reported, wanted)
    open_flags = Flag.objects.filter(state=FlagState.OPEN, kind=FlagKind.OVERDUE)
    return _sync(FlagKind.OVERDUE, wanted, open_flags, now)


def _overdue_tasks(plan: Plan, due_years: list[int], reported: list[Any], wanted: dict[str, dict[str, Any]]) -> None:
    tasks = list(plan.tasks.prefetch_related("targets__regions"))
    leads = dict(
        Responsibility.objects.filter(task__plan=plan, role=ResponsibilityRole.LEAD).values_list("task_id", "unit_id")
    )
    done = set(
        TaskProgress.objects.filter(task__plan=plan, year__in=due_years)
        .filter(Q(status__in=reported) | Q(approved_at__isnull=False))
        .values_list("task_id", "region_id", "year")
    )
    for task in tasks:
        milestone = task.milestone_target
        regions: list[int | None] = [r.pk for r in milestone.regions.all()] if milestone else [None]
        for year in due_years:
            for region_id in regions:
                if (task.pk, region_id, year) in done:
                    continue
                wanted[f"overdue:task:{task.pk}:region:{region_id or 0}:year:{year}"] = {
                    "plan_id": plan.pk,
                    "task_id": task.pk,
                    "region_id": region_id,
                    "year": year,
                    "lead_unit_id": leads.get(task.pk),
                    "status": "",
                    "reason": f"{year}年度任务进展逾期未报（截止 {deadline_for(plan, year):%Y-%m-%d}）",
                }


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


def send_flag_digests(now: datetime.datetime | None = None) -> DigestResult:
    """One digest per unit of the flags raised since the last one: in-app to each member, one mail per unit.

    Flags are claimed with a conditional update first, so a second run at the same time finds nothing to send.
    """
    now = now or timezone.now()
    pending_units = set(
        Flag.objects.filter(state=FlagState.OPEN, notified_at__isnull=True, lead_unit__isnull=False).values_list(
            "lead_unit_id", flat=True
        )
    )
    members = unit_members(pending_units)
    units = list(Unit.objects.filter(pk__in=[u for u in pending_units if members.get(u)]))
    claimed = Flag.objects.filter(state=FlagState.OPEN, notified_at__isnull=True, lead_unit__in=units).update(
        notified_at=now
    )
    if not claimed:
        return DigestResult(0, 0, 0, 0)
    flags_by_unit: dict[int, list[Flag]] = defaultdict(list)
    for flag in Flag.objects.filter(notified_at=now).select_related("indicator", "task", "region"):
        flags_by_unit[flag.lead_unit_id].append(flag)  # type: ignore[index]
    notifications: list[Notification] = []
    mails = 0
    for unit in units:
        flags = flags_by_unit.get(unit.pk, [])
        if not flags:
            continue
        title, body = digest_text(unit, flags)
        notifications.extend(Notification(user=user, title=title, body=body, unit=unit) for user in members[unit.pk])
        recipients = sorted({user.email for user in members[unit.pk] if user.email})
        if recipients:
            send_mail(title, body, settings.DEFAULT_FROM_EMAIL, recipients)
            mails += 1
    Notification.objects.bulk_create(notifications)
    return DigestResult(units=len(flags_by_unit), notifications=len(notifications), mails=mails, flags=claimed)


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
    lines.append("请登录乐山教育规划目标跟踪系统处理。此邮件由系统自动发送。")
    return title, "\n".join(lines)
