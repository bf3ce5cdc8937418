"""Writes of indicator values and region targets; forms, API, admin and import all go through here."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from planning import entries, workflow
from planning.lifecycle import plans_end_due
from planning.models import PendingTaskRecompute, Role, Task
from planning.roles import has_role
from planning.services import task_status_recompute
from planning.workflow import Channel, NotAllowed
from regions.models import Region

from .flags import (
    resolve_flags_outside_area,
    send_flag_digests,
    sync_indicator_lag_flags,
    sync_overdue_flags,
    sync_overdue_indicator_flags,
    sync_overdue_task_flags,
    warn_lead_units,
    warnings_held,
)
from .models import Indicator, IndicatorRegionTarget, PendingSeriesRecompute, TargetAdjustment
from .selectors import recompute_chunks
from .status import recompute_indicator_statuses
from .values import (
    INDICATOR_VALUE,
    IndicatorValueInput,
    OutlierCheck,
    indicator_value_clean,
    outlier_check,
    status_request_series_recompute,
)

__all__ = ["IndicatorValueInput", "OutlierCheck", "indicator_value_clean", "outlier_check", "recompute_chunks"]


# indicator_value_create(*, indicator, region, year, data, user, channel=FORM, files=()) and
# indicator_value_update(*, entry, version, data, user, channel=FORM, files=()): fields left UNSET keep their values, and
# a save that changes nothing writes no version (planning.entries).
indicator_value_create = entries.create_service(INDICATOR_VALUE, "indicator")
indicator_value_update = entries.update_service(INDICATOR_VALUE, "entry")
# indicator_value_submit(*, value, user, version=None, channel=FORM), and so on: one shared service per transition.
indicator_value_submit = entries.transition_service(INDICATOR_VALUE, "submit", "value")
indicator_value_withdraw = entries.transition_service(INDICATOR_VALUE, "withdraw", "value")
indicator_value_approve = entries.transition_service(INDICATOR_VALUE, "approve", "value")
indicator_value_return = entries.transition_service(INDICATOR_VALUE, "return", "value")
indicator_value_reopen = entries.transition_service(INDICATOR_VALUE, "reopen", "value")


# --- 指标分解 ---------------------------------------------------------------------------------------


@transaction.atomic
def indicator_region_target_set(
    *,
    indicator: Indicator,
    region: Region,
    baseline: Any,
    target: Any,
    user: User,
    channel: str = Channel.FORM,
) -> IndicatorRegionTarget | None:
    """Set (or clear, with both blank) a region's own baseline and target. Administrators only."""
    if not has_role(user, Role.ADMIN):
        raise NotAllowed(_("只有管理员可以设置指标分解。"))
    if region.pk == indicator.plan.region_id:
        raise ValidationError({"region": [_("全市的基期值和目标值以规划原文为准，请在后台修改指标。")]})
    if not indicator.plan.area_divisions().filter(pk=region.pk).exists():
        raise ValidationError({"region": [_("%(region)s不在该规划的区域范围内。") % {"region": region.name}]})
    values: dict[str, Decimal | None] = {}
    errors = []
    for name, raw in (("baseline_value", baseline), ("target_value", target)):
        if raw is None or str(raw).strip() == "":
            values[name] = None
            continue
        try:
            values[name] = workflow.parse_decimal(
                raw,
                field_name=f"{name}_{region.pk}",
                decimal_places=indicator.decimal_places,
                maximum=indicator.max_value,
                label=_("%(region)s的%(what)s")
                % {"region": region.name, "what": _("基期值") if name == "baseline_value" else _("目标值")},
            )
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise workflow.merge_errors(*errors)
    row = IndicatorRegionTarget.objects.select_for_update().filter(indicator=indicator, region=region).first()
    if values["baseline_value"] is None and values["target_value"] is None:
        if row is not None:
            row._history_user = user  # type: ignore[attr-defined]
            row._change_reason = f"{Channel(channel).label}：清除分解"  # type: ignore[attr-defined]
            row.delete()
            status_request_series_recompute(indicator_id=indicator.pk, region_id=region.pk)
        return None
    if row is None:
        row = IndicatorRegionTarget(indicator=indicator, region=region, updated_by=user)
    elif all(getattr(row, k) == v for k, v in values.items()):
        return row
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_by = user
    row._history_user = user  # type: ignore[attr-defined]
    row._change_reason = f"{Channel(channel).label}：设置分解"  # type: ignore[attr-defined]
    row.save()
    status_request_series_recompute(indicator_id=indicator.pk, region_id=region.pk)
    return row


# --- 规划调整: a published target changed from a year on ------------------------------------------------


def indicator_target_adjustment_clean(
    *, indicator: Indicator, adjusted_value: Any, effective_year: Any, reason: Any, document: Any
) -> dict[str, Any]:
    """Every problem of an adjustment at once (the admin form shows them before anything is saved)."""
    plan = indicator.plan
    errors: list[ValidationError] = []
    cleaned: dict[str, Any] = {}
    frozen = workflow.plan_frozen_because(plan)
    if frozen:
        errors.append(ValidationError({"__all__": [frozen]}))
    try:
        cleaned["adjusted_value"] = workflow.parse_decimal(
            adjusted_value,
            field_name="adjusted_value",
            decimal_places=indicator.decimal_places,
            maximum=indicator.max_value,
            label=_("调整后目标值"),
        )
    except ValidationError as exc:
        errors.append(exc)
    try:
        year = int(str(effective_year).strip())
    except (TypeError, ValueError):
        errors.append(ValidationError({"effective_year": [_("起始年度应为整数，例如 2024。")]}))
    else:
        if not plan.period_start_year <= year <= plan.period_end_year:
            errors.append(
                ValidationError(
                    {
                        "effective_year": [
                            _("起始年度应在规划期 %(start)s—%(end)s 年之内。")
                            % {"start": plan.period_start_year, "end": plan.period_end_year}
                        ]
                    }
                )
            )
        cleaned["effective_year"] = year
    for name, label, required in (
        ("reason", _("调整原因"), _("请填写调整原因。")),
        ("document", _("依据文件"), _("请填写依据文件（如中期评估调整文件的名称和文号）。")),
    ):
        try:
            cleaned[name] = workflow.check_text(
                reason if name == "reason" else document,
                model=TargetAdjustment,
                field_name=name,
                label=label,
                required=required,
            )
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise workflow.merge_errors(*errors)
    return cleaned


@transaction.atomic
def indicator_target_adjust(
    *,
    indicator: Indicator,
    adjusted_value: Any,
    effective_year: Any,
    reason: Any,
    document: Any,
    user: User,
    channel: str = Channel.ADMIN,
) -> TargetAdjustment:
    """An administrator changes a published target from a year on (e.g. after the mid-term evaluation).

    The indicator keeps its original target; the adjustment row keeps both, and a second adjustment for the same
    year replaces the first (its history keeps the earlier one). Assessments as of that year and later use it, so
    every series of the indicator is recomputed.
    """
    if not has_role(user, Role.ADMIN):
        raise NotAllowed(_("只有管理员可以调整规划目标。"))
    cleaned = indicator_target_adjustment_clean(
        indicator=indicator,
        adjusted_value=adjusted_value,
        effective_year=effective_year,
        reason=reason,
        document=document,
    )
    row = (
        TargetAdjustment.objects.select_for_update()
        .filter(indicator=indicator, effective_year=cleaned["effective_year"])
        .first()
    )
    if row is None:
        row = TargetAdjustment(indicator=indicator, effective_year=cleaned["effective_year"], created_by=user)
    row.original_value = indicator.target_value
    row.adjusted_value = cleaned["adjusted_value"]
    row.reason = cleaned["reason"]
    row.document = cleaned["document"]
    workflow.tag_history(row, user=user, channel=channel, action="调整目标")
    row.save()
    _request_indicator_recompute(indicator)
    return row


@transaction.atomic
def indicator_target_adjustment_remove(
    *, adjustment: TargetAdjustment, user: User, channel: str = Channel.ADMIN
) -> None:
    """Withdraw an adjustment entered by mistake; the history keeps that it existed and who removed it."""
    if not has_role(user, Role.ADMIN):
        raise NotAllowed(_("只有管理员可以调整规划目标。"))
    indicator = adjustment.indicator
    frozen = workflow.plan_frozen_because(indicator.plan)
    if frozen:
        raise ValidationError({"__all__": [frozen]})
    workflow.tag_history(adjustment, user=user, channel=channel, action="撤销目标调整")
    adjustment.delete()
    _request_indicator_recompute(indicator)


def _request_indicator_recompute(indicator: Indicator) -> None:
    """Every region's series: regions without their own target follow the indicator's."""
    for region_id in indicator.plan.area_regions().values_list("pk", flat=True):
        status_request_series_recompute(indicator_id=indicator.pk, region_id=region_id)


# --- statuses, flags and digests ------------------------------------------------------------------


def status_recompute_series(*, indicator_id: int, region_id: int) -> dict[str, int]:
    """Recompute one indicator × region series and its lag flags, and clear the requests it satisfied; a new
    warning reaches its lead unit at once (unless held by a caller that sends the digests itself)."""
    started = timezone.now()
    result = recompute_indicator_statuses(indicator_ids=[indicator_id], region_ids=[region_id])
    flags = sync_indicator_lag_flags(indicator_ids=[indicator_id], region_ids=[region_id])
    PendingSeriesRecompute.objects.filter(
        indicator_id=indicator_id, region_id=region_id, requested_at__lte=started
    ).delete()
    if flags.raised or flags.escalated:
        warn_lead_units()
    return {"rows_written": result.rows_written, "flags_raised": flags.raised, "flags_resolved": flags.resolved}


def status_recompute_pending() -> dict[str, int]:
    """Run the recomputes still pending, one per series/task (duplicates collapse)."""
    series = set(PendingSeriesRecompute.objects.values_list("indicator_id", "region_id"))
    task_ids = sorted(set(PendingTaskRecompute.objects.values_list("task_id", flat=True)))
    with warnings_held():  # one digest for the whole catch-up, below
        for indicator_id, region_id in series:
            status_recompute_series(indicator_id=indicator_id, region_id=region_id)
        if task_ids:
            task_status_recompute(task_ids=task_ids)
    if series or task_ids:
        send_flag_digests()
    return {"series": len(series), "tasks": len(task_ids)}


def status_recompute_all(*, warn: bool = True, force: bool = False) -> dict[str, Any]:
    """The full recompute: every indicator series (one SQL statement), every task, all lag flags; then (with
    `warn`, unless the caller sends them itself) the lead units' digests of new flags, once."""
    import time

    started, clock = timezone.now(), time.perf_counter()
    with warnings_held():
        # Regions whose inputs changed (all with force); the nightly run also checks the stored rows' counts.
        indicators = recompute_indicator_statuses(force=force, verify=True)
        tasks = task_status_recompute()  # its listener syncs the tasks' lag flags
        resolve_flags_outside_area()  # with their own resolution, before the syncs below would resolve them
        flags = sync_indicator_lag_flags()
    PendingSeriesRecompute.objects.filter(requested_at__lte=started).delete()
    if warn:
        send_flag_digests()
    return {
        "regions_total": indicators.regions_total,
        "regions_recomputed": indicators.regions_recomputed,
        "indicator_rows_written": indicators.rows_written,
        "indicator_rows_deleted": indicators.rows_deleted,
        "task_rows_written": tasks["rows_written"],
        "lag_flags_raised": flags.raised,
        "lag_flags_resolved": flags.resolved,
        "seconds": round(time.perf_counter() - clock, 3),
    }


def status_recompute_plan(*, plan_id: int) -> dict[str, int]:
    """One plan's statuses and lag flags, all regions: after it starts being tracked or its structure changed."""
    indicators = recompute_indicator_statuses(plan_ids=[plan_id], verify=True)
    task_ids = list(Task.objects.filter(plan_id=plan_id).values_list("pk", flat=True))
    tasks = task_status_recompute(task_ids=task_ids) if task_ids else {"rows_written": 0}
    flags = sync_indicator_lag_flags(plan_ids=[plan_id])
    return {
        "indicator_rows_written": indicators.rows_written,
        "task_rows_written": tasks["rows_written"],
        "lag_flags_raised": flags.raised,
    }


def status_recompute_chunk(*, plan_id: int, region_ids: list[int]) -> dict[str, int]:
    """One piece of the full recompute: a plan's indicator statuses and lag flags in some of its regions."""
    # One connection: the chord's pieces are what runs in parallel.
    result = recompute_indicator_statuses(plan_ids=[plan_id], region_ids=region_ids, verify=True, connections=1)
    flags = sync_indicator_lag_flags(plan_ids=[plan_id], region_ids=region_ids)
    overdue = sync_overdue_indicator_flags(plan_id=plan_id, region_ids=region_ids)
    return {
        "regions_total": result.regions_total,
        "regions_recomputed": result.regions_recomputed,
        "indicator_rows_written": result.rows_written,
        "indicator_rows_deleted": result.rows_deleted,
        "lag_flags_raised": flags.raised,
        "lag_flags_resolved": flags.resolved,
        "overdue_flags_raised": overdue.raised,
        "overdue_flags_resolved": overdue.resolved,
    }


def status_recompute_finish(
    *, started: datetime.datetime, chunks: list[dict[str, int]], plan_ids: list[int] | None = None
) -> dict[str, Any]:
    """After every piece: the tasks' statuses and overdue flags, flags of regions that left a plan's area, the
    units' digests, and the pending rows done. `plan_ids`: the plans the pieces covered (None: every plan)."""
    plans_ended = plans_end_due()  # plans whose period is over become 已结束 (planning.lifecycle)
    with warnings_held():  # the digests below tell the units once
        tasks = task_status_recompute()
    overdue = sync_overdue_task_flags(plan_ids=plan_ids)
    stray = resolve_flags_outside_area(plan_ids=plan_ids)
    digest = send_flag_digests()
    PendingSeriesRecompute.objects.filter(requested_at__lte=started).delete()
    # The pieces' figures added up (a piece queued by an older release may lack the newer ones).
    named = dict.fromkeys(key for chunk in chunks for key in chunk)
    summary: dict[str, Any] = {key: sum(chunk.get(key, 0) for chunk in chunks) for key in named}
    summary.update(
        chunks=len(chunks),
        plans_ended=plans_ended,
        task_rows_written=tasks["rows_written"],
        overdue_flags_raised=summary.get("overdue_flags_raised", 0) + overdue.raised,
        overdue_flags_resolved=summary.get("overdue_flags_resolved", 0) + overdue.resolved,
        flags_outside_area_resolved=stray.resolved,
        digest_units=digest.units,
        digest_mails=digest.mails,
        digest_notifications=digest.notifications,
    )
    return summary


def status_nightly(*, force: bool = False) -> dict[str, Any]:
    """The nightly run in one process: full recompute, overdue flags, and the units' digests."""
    plans_ended = plans_end_due()
    summary = status_recompute_all(warn=False, force=force)  # the digests below tell the units once
    summary["plans_ended"] = plans_ended
    overdue = sync_overdue_flags()
    digest = send_flag_digests()
    summary.update(
        overdue_flags_raised=overdue.raised,
        overdue_flags_resolved=overdue.resolved,
        digest_units=digest.units,
        digest_mails=digest.mails,
        digest_notifications=digest.notifications,
    )
    return summary
