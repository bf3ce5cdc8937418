"""Celery tasks of the planning app: thin, idempotent, taking ids and calling one service."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task as CeleryTask
from celery import shared_task
from django.db import transaction

logger = logging.getLogger(__name__)

# Shared options: late acknowledgement (a killed worker's task is redelivered), bounded retries with
# backoff, and time limits well under the broker's visibility timeout.
TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 3,
    "soft_time_limit": 300,
    "time_limit": 360,
}


def dispatch_on_commit(task: CeleryTask, *args: Any) -> None:
    """Queue `task` once the current transaction commits.

    A broker that cannot be reached must not turn a saved approval into an error page: the pending-recompute
    row written with the approval stays, and the periodic catch-up (or the nightly recompute) runs it later. The
    same holds without a broker (CELERY_TASK_ALWAYS_EAGER): the task runs here, once (Celery's eager mode raises
    the first retry instead of waiting), and whatever it raises is logged, never passed to the request.
    """

    def send() -> None:
        try:
            task.apply_async(args=args, retry=False)
        except Exception:
            logger.warning(
                "Could not queue (or, eagerly, run) %s%s; it stays pending for the catch-up job",
                task.name,
                args,
                exc_info=True,
            )

    transaction.on_commit(send)


def plan_recompute_on_commit(plan_id: int) -> None:
    """Queue the recompute of a whole plan (an indicators task: named, since planning cannot import indicators)."""
    from celery import current_app

    dispatch_on_commit(current_app.signature("indicators.tasks.recompute_plan"), plan_id)


@shared_task(name="planning.tasks.recompute_task_status", **TASK_OPTIONS)
def recompute_task_status(self: CeleryTask, task_id: int) -> dict[str, int]:
    from .services import task_status_recompute

    return task_status_recompute(task_ids=[task_id])


@shared_task(name="planning.tasks.send_notification_emails", **TASK_OPTIONS)
def send_notification_emails(self: CeleryTask, notification_ids: list[int]) -> int:
    from .delivery import notification_emails_send

    return notification_emails_send(notification_ids=notification_ids)


@shared_task(
    name="planning.tasks.post_webhook", **{**TASK_OPTIONS, "max_retries": 5, "soft_time_limit": 60, "time_limit": 90}
)
def post_webhook(self: CeleryTask, delivery_id: int) -> str:
    from .delivery import webhook_post

    return webhook_post(delivery_id=delivery_id)


@shared_task(name="planning.tasks.catch_up_deliveries", **{**TASK_OPTIONS, "max_retries": 0})
def catch_up_deliveries(self: CeleryTask) -> dict[str, int]:
    """Mail and robot messages the on-commit tasks could not deliver (periodic; the next run is the retry)."""
    from .delivery import deliveries_catch_up

    return deliveries_catch_up()
