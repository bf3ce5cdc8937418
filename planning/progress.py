"""Task progress as a kind of reviewed entry: what is reported, how it is checked, and what approval does.

The shared services, pages and API of planning.entries read this declaration; nothing here repeats the workflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from regions.models import Region

from . import workflow
from .entries import EntryKind
from .models import PendingTaskRecompute, Task, TaskProgress, TaskProgressEvidence, TaskTargetValue
from .selectors import (
    task_lead_unit,
    task_progress_capturable_by,
    task_progress_review_scope,
    task_progress_visible_to,
    tasks_capturable_by,
    tasks_visible_to,
    user_scope,
)
from .tasks import dispatch_on_commit, recompute_task_status
from .templatetags.plan_tags import plain
from .workflow import UNSET, NotAllowed, NotInScope


@dataclass
class TaskProgressInput:
    """What a person or client sent; a field left UNSET keeps its stored value on update (blank on create).

    `amounts` maps TaskTarget id → amount as typed; targets it does not name keep their stored amounts.
    """

    narrative: Any = UNSET
    problems: Any = UNSET
    next_steps: Any = UNSET
    percent: Any = UNSET
    passed: Any = UNSET
    amounts: Mapping[int, Any] = field(default_factory=dict)

    def over(self, progress: TaskProgress | None) -> TaskProgressInput:
        stored_amounts = {row.target_id: plain(row.amount) for row in progress.amounts.all()} if progress else {}
        return TaskProgressInput(
            narrative=(progress.narrative if progress else "") if self.narrative is UNSET else self.narrative,
            problems=(progress.problems if progress else "") if self.problems is UNSET else self.problems,
            next_steps=(progress.next_steps if progress else "") if self.next_steps is UNSET else self.next_steps,
            percent=(plain(progress.percent) if progress else None) if self.percent is UNSET else self.percent,
            passed=(progress.passed if progress else None) if self.passed is UNSET else self.passed,
            amounts={**stored_amounts, **self.amounts},
        )


def _given(value: Any) -> bool:
    return value is not UNSET and value is not None and value != ""


def _parse_passed(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = str(raw or "").strip().lower()
    if text in {"1", "true", "yes", "是", "已通过", "on"}:
        return True
    if text in {"0", "false", "no", "否", "未通过"}:
        return False
    return None


def task_progress_clean(*, task: Task, region: Region | None, data: TaskProgressInput) -> dict[str, Any]:
    """Check one year's progress against the task's kind; every problem at once, keyed by field."""
    data = data.over(None)
    errors: list[ValidationError] = []
    cleaned: dict[str, Any] = {"percent": None, "passed": None, "amounts": {}}
    unknown = set(data.amounts) - {target.pk for target in task.quantity_targets}
    if unknown:
        errors.append(
            ValidationError(
                {"amounts": [_("量化目标 %(ids)s 不属于该任务。") % {"ids": "、".join(map(str, sorted(unknown)))}]}
            )
        )
    try:
        cleaned["narrative"] = workflow.check_text(
            data.narrative,
            model=TaskProgress,
            field_name="narrative",
            label=_("工作进展"),
            required=_("请填写本年度工作进展（做了什么、完成情况）。"),
        )
    except ValidationError as exc:
        errors.append(exc)
    # 存在问题 and 下步打算: optional, as in the bureau's own progress reports.
    for name, label in (("problems", _("存在问题")), ("next_steps", _("下步打算"))):
        try:
            cleaned[name] = workflow.check_text(getattr(data, name), model=TaskProgress, field_name=name, label=label)
        except ValidationError as exc:
            errors.append(exc)

    milestone = task.milestone_target
    if milestone is not None:
        if region is None or not any(r.pk == region.pk for r in milestone.regions.all()):
            names = "、".join(r.name for r in milestone.regions.all())
            errors.append(
                ValidationError({"region": [_("该任务按区域填报，区域应为：%(names)s。") % {"names": names}]})
            )
        passed = _parse_passed(data.passed)
        if passed is None:
            errors.append(ValidationError({"passed": [_("请选择是否已通过验收/评估。")]}))
        cleaned["passed"] = passed
    else:
        if region is not None:
            errors.append(ValidationError({"region": [_("该任务为全市任务，不按区域填报。")]}))
        if _given(data.passed):
            errors.append(ValidationError({"passed": [_("该任务不是区域达标任务，不填是否通过验收/评估。")]}))

    for target in task.quantity_targets:
        name = f"amount_{target.pk}"
        raw = data.amounts.get(target.pk)
        try:
            cleaned["amounts"][target.pk] = workflow.parse_decimal(
                raw,
                field_name=name,
                decimal_places=target.decimal_places,
                maximum=Decimal(100) if target.unit == "%" else None,
                label=target.label if target.kind != "level" else _("%(label)s（当前水平）") % {"label": target.label},
            )
        except ValidationError as exc:
            errors.append(exc)

    if not task.is_qualitative and _given(data.percent):
        # Refused rather than dropped: a figure sent for the wrong kind of task would otherwise vanish unseen.
        errors.append(ValidationError({"percent": [_("该任务按量化目标或区域达标填报，不填完成百分比。")]}))
    if task.is_qualitative:
        try:
            cleaned["percent"] = workflow.parse_decimal(
                data.percent, field_name="percent", decimal_places=2, maximum=Decimal(100), label=_("完成百分比")
            )
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise workflow.merge_errors(*errors)
    return cleaned


def task_status_request_recompute(*, task_id: int) -> None:
    """Record that a task's status must be recomputed and queue it once the transaction commits."""
    PendingTaskRecompute.objects.create(task_id=task_id)
    dispatch_on_commit(recompute_task_status, task_id)


def _authorize_create(user: User, task: Task, region: Region | None) -> None:
    if not tasks_capturable_by(user).filter(pk=task.pk).exists():
        if tasks_visible_to(user).filter(pk=task.pk).exists():
            raise NotAllowed(_("您没有填报该任务的权限。"))
        raise NotInScope()
    scope = user_scope(user)
    if region is not None and scope.regions and region.pk not in scope.regions:
        raise NotInScope()


def _duplicate_message(task: Task, region: Region | None, year: int, existing: Any) -> str:
    return _("该任务%(where)s %(year)s 年度已有填报（%(status)s），请打开已有填报修改。") % {
        "where": f"（{region}）" if region else "",
        "year": year,
        "status": existing.get_status_display(),
    }


def _new(task: Task, region: Region | None, year: int, user: User) -> TaskProgress:
    return TaskProgress(task=task, year=year, region=region, created_by=user, updated_by=user, version=0)


def _clean(task: Task, region: Region | None, year: int, data: TaskProgressInput, stored: Any) -> dict[str, Any]:
    return task_progress_clean(task=task, region=region, data=data.over(stored))


def _apply(progress: Any, cleaned: Mapping[str, Any], user: User, channel: str) -> None:
    """The values onto the entry; once it is saved, the amounts onto their rows (only those that change)."""
    progress.narrative = cleaned["narrative"]
    progress.problems = cleaned["problems"]
    progress.next_steps = cleaned["next_steps"]
    progress.percent = cleaned["percent"]
    progress.passed = cleaned["passed"]
    if progress.pk is None:
        return
    existing = {row.target_id: row for row in progress.amounts.all()}
    for target_id, amount in cleaned["amounts"].items():
        row = existing.get(target_id) or TaskTargetValue(progress=progress, target_id=target_id, amount=amount)
        if row.pk is not None and row.amount == amount:
            continue
        row.amount = amount
        workflow.tag_history(row, user=user, channel=channel, action="保存")
        row.save()


def _differs(progress: Any, cleaned: Mapping[str, Any]) -> bool:
    fields = ("narrative", "problems", "next_steps", "percent", "passed")
    stored = tuple(getattr(progress, name) for name in fields)
    amounts = {row.target_id: row.amount for row in progress.amounts.all()}
    return stored != tuple(cleaned[name] for name in fields) or amounts != cleaned["amounts"]


def _copy_approved(progress: Any, user: User, channel: str) -> None:
    progress.approved_percent = progress.percent
    progress.approved_passed = progress.passed
    for row in progress.amounts.all():
        if row.approved_amount != row.amount:
            row.approved_amount = row.amount
            workflow.tag_history(row, user=user, channel=channel, action="审核通过")
            row.save(update_fields=["approved_amount"])


TASK_PROGRESS = EntryKind(
    slug="task-progress",
    model=TaskProgress,
    evidence_model=TaskProgressEvidence,
    evidence_owner="progress",
    visible=task_progress_visible_to,
    capturable=task_progress_capturable_by,
    review_scope=task_progress_review_scope,
    authorize_create=_authorize_create,
    existing=lambda task, region, year: TaskProgress.objects.filter(task=task, year=year, region=region).first(),
    new=_new,
    duplicate_message=_duplicate_message,
    plan_of=lambda task: task.plan,
    clean=_clean,
    apply=_apply,
    differs=_differs,
    item_of=lambda progress: progress.task,
    copy_approved=_copy_approved,
    after_approve=lambda progress: task_status_request_recompute(task_id=progress.task_id),
    history_fields=["status", "narrative", "problems", "next_steps", "percent", "passed", "review_comment", "revision"],
    select_related=["task__plan", "task__column", "region", "created_by", "updated_by", "reviewed_by"],
    detail_url="planning:progress-detail",
    lead_unit_of=lambda progress: task_lead_unit(progress.task_id),
)
