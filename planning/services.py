"""Writes to plan structure and task progress; forms, API, admin and import all go through here."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from . import entries
from .entries import DuplicateEntry
from .models import PendingTaskRecompute, Responsibility, ResponsibilityBasis
from .progress import TASK_PROGRESS, TaskProgressInput, task_progress_clean, task_status_request_recompute
from .status import recompute_task_statuses

__all__ = ["DuplicateEntry", "TaskProgressInput", "task_progress_clean", "task_status_request_recompute"]


@transaction.atomic
def responsibility_save_manual(*, responsibility: Responsibility, user: User) -> None:
    """Save a responsibility an administrator set or corrected by hand.

    Marked `manual` so that reloading the fixtures never overwrites the administrator's decision.
    """
    responsibility.basis = ResponsibilityBasis.MANUAL
    name = getattr(user, "get_username", lambda: "")()
    responsibility.source = f"管理员 {name} 指定" if name else "管理员指定"
    responsibility._change_reason = "admin"  # type: ignore[attr-defined]
    responsibility.full_clean()
    responsibility.save()


# --- task progress: the shared reviewed-entry services, declared by planning.progress --------------------------


# task_progress_create(*, task, region, year, data, user, channel=FORM, files=()) and
# task_progress_update(*, progress, version, data, user, channel=FORM, files=()): fields left UNSET keep their values, and
# a save that changes nothing writes no version (planning.entries).
task_progress_create = entries.create_service(TASK_PROGRESS, "task")
task_progress_update = entries.update_service(TASK_PROGRESS, "progress")
# task_progress_submit(*, progress, user, version=None, channel=FORM), and so on: one shared service per transition.
task_progress_submit = entries.transition_service(TASK_PROGRESS, "submit", "progress")
task_progress_withdraw = entries.transition_service(TASK_PROGRESS, "withdraw", "progress")
task_progress_approve = entries.transition_service(TASK_PROGRESS, "approve", "progress")
task_progress_return = entries.transition_service(TASK_PROGRESS, "return", "progress")
task_progress_reopen = entries.transition_service(TASK_PROGRESS, "reopen", "progress")


# --- status recompute ------------------------------------------------------------------------------


def task_status_recompute(*, task_ids: list[int] | None = None) -> dict[str, int]:
    """Recompute task statuses (all when None) and clear the requests this run satisfied."""
    started = timezone.now()
    result = recompute_task_statuses(task_ids=task_ids)
    pending = PendingTaskRecompute.objects.filter(requested_at__lte=started)
    if task_ids is not None:
        pending = pending.filter(task_id__in=task_ids)
    pending.delete()
    return {"rows_written": result.rows_written, "rows_deleted": result.rows_deleted}
