"""Celery tasks of the reports app: thin, idempotent, taking ids and calling one service."""

from __future__ import annotations

from celery import Task as CeleryTask
from celery import shared_task

from indicators.tasks import LONG_TASK_OPTIONS


@shared_task(name="reports.tasks.generate_report", **{**LONG_TASK_OPTIONS, "max_retries": 0})
def generate_report(self: CeleryTask, report_id: int) -> str:
    from .services import report_generate  # the service queues this task: imported here, not at the top

    return report_generate(report_id=report_id)
