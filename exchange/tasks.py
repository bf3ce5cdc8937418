"""Celery tasks of the exchange app: thin, idempotent, taking ids and calling one service."""

from __future__ import annotations

from typing import Any

from celery import Task as CeleryTask
from celery import shared_task

from indicators.tasks import LONG_TASK_OPTIONS


@shared_task(name="exchange.tasks.apply_import_batch", **{**LONG_TASK_OPTIONS, "max_retries": 0})
def apply_import_batch(self: CeleryTask, batch_id: int) -> dict[str, Any]:
    """Apply a confirmed Excel import (all or nothing); not retried: a failure is reported on the page."""
    from .services import import_apply  # the service queues this task: imported here, not at the top

    return import_apply(batch_id=batch_id)
