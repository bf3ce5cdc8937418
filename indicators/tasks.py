"""Celery tasks of the indicators app: thin, idempotent, taking ids and calling one service."""

from __future__ import annotations

from typing import Any

from celery import Task as CeleryTask
from celery import chord, shared_task
from celery.result import AsyncResult
from django.utils import timezone

from planning.tasks import TASK_OPTIONS

from .selectors import recompute_chunks

# The nightly job may take minutes at national scale; it is idempotent, so a redelivery is harmless.
LONG_TASK_OPTIONS = {**TASK_OPTIONS, "soft_time_limit": 25 * 60, "time_limit": 30 * 60, "max_retries": 2}


@shared_task(name="indicators.tasks.recompute_series", **TASK_OPTIONS)
def recompute_series(self: CeleryTask, indicator_id: int, region_id: int) -> dict[str, int]:
    from .services import status_recompute_series

    return status_recompute_series(indicator_id=indicator_id, region_id=region_id)


@shared_task(name="indicators.tasks.recompute_plan", **LONG_TASK_OPTIONS)
def recompute_plan(self: CeleryTask, plan_id: int) -> dict[str, int]:
    """A plan's statuses after it starts being tracked (planning queues it by name: it cannot import indicators)."""
    from .services import status_recompute_plan

    return status_recompute_plan(plan_id=plan_id)


@shared_task(name="indicators.tasks.recompute_pending", **TASK_OPTIONS)
def recompute_pending(self: CeleryTask) -> dict[str, int]:
    """Catch up on recomputes that could not be queued (e.g. the broker was down at approval time)."""
    from .services import status_recompute_pending

    return status_recompute_pending()


@shared_task(name="indicators.tasks.nightly", **LONG_TASK_OPTIONS)
def nightly(self: CeleryTask) -> str:
    """Full recompute as a chord: independent plan × region pieces on any number of workers, then flags
    (overdue), the tasks' statuses and one digest per unit. Returns the chord's id."""
    return recompute_in_chunks().id


def recompute_in_chunks(plan_ids: list[int] | None = None) -> AsyncResult:
    """Send the pieces of a full recompute and the step that follows them; every piece is idempotent."""
    header = [recompute_chunk.si(plan_id, region_ids) for plan_id, region_ids in recompute_chunks(plan_ids)]
    return chord(header)(recompute_finish.s(timezone.now().isoformat(), plan_ids))


# Results are kept for these two only: a chord counts its pieces' results to know when to go on.
@shared_task(name="indicators.tasks.recompute_chunk", ignore_result=False, **LONG_TASK_OPTIONS)
def recompute_chunk(self: CeleryTask, plan_id: int, region_ids: list[int]) -> dict[str, int]:
    from .services import status_recompute_chunk

    return status_recompute_chunk(plan_id=plan_id, region_ids=region_ids)


@shared_task(name="indicators.tasks.recompute_finish", ignore_result=False, **LONG_TASK_OPTIONS)
def recompute_finish(
    self: CeleryTask, chunks: list[dict[str, int]], started: str, plan_ids: list[int] | None = None
) -> dict[str, Any]:
    import datetime

    from .services import status_recompute_finish

    return status_recompute_finish(started=datetime.datetime.fromisoformat(started), chunks=chunks, plan_ids=plan_ids)


@shared_task(name="indicators.tasks.deadline_reminders", **TASK_OPTIONS)
def deadline_reminders(self: CeleryTask) -> dict[str, int]:
    """Daily: remind each 填报员 of their open items 14 and 3 days before a deadline and the day after."""
    from .reminders import deadline_reminders_send

    return deadline_reminders_send()
