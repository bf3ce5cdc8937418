"""Recompute task statuses (TaskStatus) from approved progress, with planning.assessment.assess.

Tasks are few (dozens per plan), so the assessments run in Python and the writes are set-based: one read of
the existing rows, then one bulk insert, one bulk update and one delete for whatever changed.

How each kind of target is assessed (baseline year = the plan's):
- cumulative (建立30所): the running total of approved yearly amounts against the target, baseline 0;
- annual (每年评选50节): the latest reported year against that year's own target (τ = 1);
- level (达到85%): the reported level against the target; no baseline is stated, so only 已实现 can be told;
- region milestone (4个县通过验收): the count of named regions reported as passed, baseline 0;
- qualitative: the reported percentage against 100.
The task as a whole takes the worst status of its targets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from config.caching import status_changed

from .assessment import STORED_FIELDS, Assessment, Thresholds, assess, worst
from .models import Plan, TargetKind, Task, TaskProgress, TaskStatus, TaskTarget, TaskTargetValue

# Called with the ids of the tasks just recomputed (the indicators app syncs the task flags).
TASK_STATUS_LISTENERS: list[Callable[[list[int]], object]] = []

_FIELDS = STORED_FIELDS


@dataclass(frozen=True)
class TaskRecomputeResult:
    rows_written: int
    rows_deleted: int


def _thresholds(plan: Plan) -> Thresholds:
    return Thresholds(plan.lagging_below, plan.watch_below, plan.on_track_below)


def _row(assessment: Assessment, baseline: Decimal | None, target: Decimal) -> dict[str, Any]:
    return {
        "status": assessment.status,
        "latest_year": assessment.latest_year,
        "latest_value": assessment.latest_value,
        "baseline_value": baseline,
        "target_value": target,
        "gap": assessment.gap,
        "completion": assessment.completion,
        "expected_completion": assessment.expected_completion,
        "ratio": assessment.ratio,
        "forecast_value": assessment.forecast_value,
        "forecast_meets_target": assessment.forecast_meets_target,
    }


def _target_rows(
    plan: Plan,
    target: TaskTarget,
    amounts: dict[int, Decimal],
    passed_by_year: dict[int, set[int]],
) -> dict[int, dict[str, Any]]:
    """as_of_year → stored fields for one target."""
    rows: dict[int, dict[str, Any]] = {}
    common: dict[str, Any] = {
        "baseline_year": plan.baseline_year,
        "target_year": target.target_year,
        "thresholds": _thresholds(plan),
        "direction": 1,
    }
    zero = Decimal(0)
    for as_of in plan.years:
        if target.kind == TargetKind.CUMULATIVE:
            running, total = {}, zero
            for year in sorted(amounts):
                total += amounts[year]
                running[year] = total
            result = assess(baseline=0, target=target.value, observations=running, as_of_year=as_of, **common)
            rows[as_of] = _row(result, zero, target.value)
        elif target.kind == TargetKind.ANNUAL:
            years = [y for y in amounts if plan.baseline_year < y <= min(as_of, target.target_year)]
            if not years:
                result = assess(baseline=0, target=target.value, observations={}, **common)
            else:
                year = max(years)
                result = assess(
                    baseline_year=year - 1,
                    baseline=0,
                    target_year=year,
                    target=target.value,
                    observations={year: amounts[year]},
                    thresholds=_thresholds(plan),
                    direction=1,
                )
            rows[as_of] = _row(result, zero, target.value)
        elif target.kind == TargetKind.LEVEL:
            result = assess(baseline=None, target=target.value, observations=amounts, as_of_year=as_of, **common)
            rows[as_of] = _row(result, None, target.value)
        else:  # milestone: regions passed so far, counted in each year with a report
            counts, passed = {}, set()
            for year in sorted(passed_by_year):
                passed |= passed_by_year[year]
                counts[year] = len(passed)
            result = assess(baseline=0, target=target.value, observations=counts, as_of_year=as_of, **common)
            rows[as_of] = _row(result, zero, target.value)
    return rows


def compute_task_rows(tasks: list[Task]) -> dict[tuple[int, int | None, int], dict[str, Any]]:
    """(task id, target id or None, as_of_year) → the fields TaskStatus should hold."""
    task_ids = [t.pk for t in tasks]
    amounts: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for target_id, year, amount in TaskTargetValue.objects.filter(
        progress__task_id__in=task_ids, approved_amount__isnull=False
    ).values_list("target_id", "progress__year", "approved_amount"):
        amounts[target_id][year] = amounts[target_id].get(year, Decimal(0)) + (amount or Decimal(0))
    percents: dict[int, dict[int, Decimal]] = defaultdict(dict)
    passed: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for task_id, year, region_id, percent, was_passed in TaskProgress.objects.filter(
        task_id__in=task_ids, approved_at__isnull=False
    ).values_list("task_id", "year", "region_id", "approved_percent", "approved_passed"):
        if percent is not None:
            percents[task_id][year] = percent
        if region_id is not None:
            passed[task_id].setdefault(year, set())
            if was_passed:
                passed[task_id][year].add(region_id)

    rows: dict[tuple[int, int | None, int], dict[str, Any]] = {}
    for task in tasks:
        plan = task.plan
        targets = list(task.targets.all())
        if not targets:
            for as_of in plan.years:
                result = assess(
                    baseline_year=plan.baseline_year,
                    baseline=0,
                    target_year=plan.period_end_year,
                    target=100,
                    observations=percents[task.pk],
                    as_of_year=as_of,
                    thresholds=_thresholds(plan),
                    direction=1,
                )
                rows[(task.pk, None, as_of)] = _row(result, Decimal(0), Decimal(100))
            continue
        per_target = {target.pk: _target_rows(plan, target, amounts[target.pk], passed[task.pk]) for target in targets}
        for target_id, by_year in per_target.items():
            for as_of, fields in by_year.items():
                rows[(task.pk, target_id, as_of)] = fields
        for as_of in plan.years:
            candidates = [by_year[as_of] for by_year in per_target.values()]
            status = worst([c["status"] for c in candidates])
            rows[(task.pk, None, as_of)] = {**next(c for c in candidates if c["status"] == status), "status": status}
    return rows


def recompute_task_statuses(
    *, plan_ids: Iterable[int] | None = None, task_ids: Iterable[int] | None = None
) -> TaskRecomputeResult:
    tasks_qs = Task.objects.select_related("plan").prefetch_related("targets")
    if plan_ids is not None:
        tasks_qs = tasks_qs.filter(plan_id__in=list(plan_ids))
    if task_ids is not None:
        tasks_qs = tasks_qs.filter(pk__in=list(task_ids))
    tasks = list(tasks_qs)
    wanted = compute_task_rows(tasks)
    now = timezone.now()
    with transaction.atomic():
        existing = {
            (row.task_id, row.target_id, row.as_of_year): row
            for row in TaskStatus.objects.filter(task__in=tasks).select_for_update()
        }
        creates, updates = [], []
        for key, fields in wanted.items():
            row = existing.get(key)
            if row is None:
                task_id, target_id, as_of = key
                creates.append(
                    TaskStatus(task_id=task_id, target_id=target_id, as_of_year=as_of, changed_at=now, **fields)
                )
            elif any(getattr(row, name) != value for name, value in fields.items()):
                for name, value in fields.items():
                    setattr(row, name, value)
                row.changed_at = now
                updates.append(row)
        TaskStatus.objects.bulk_create(creates, batch_size=1000)
        TaskStatus.objects.bulk_update(updates, [*_FIELDS, "changed_at"], batch_size=1000)
        stale = [row.pk for key, row in existing.items() if key not in wanted]
        deleted = TaskStatus.objects.filter(pk__in=stale).delete()[0] if stale else 0
    ids = [t.pk for t in tasks]
    for listener in TASK_STATUS_LISTENERS:
        listener(ids)
    if creates or updates or deleted:
        status_changed()
    return TaskRecomputeResult(rows_written=len(creates) + len(updates), rows_deleted=deleted)
