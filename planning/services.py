"""Writes to plan structure and task progress; forms, API, admin and import all go through here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from regions.models import Region

from . import workflow
from .evidence import check_evidence_file
from .models import (
    EvidenceFile,
    Responsibility,
    ResponsibilityBasis,
    Task,
    TaskProgress,
    TaskProgressEvidence,
    TaskTargetValue,
)
from .selectors import (
    task_progress_capturable_by,
    task_progress_review_scope,
    task_progress_visible_to,
    tasks_capturable_by,
    tasks_visible_to,
    user_scope,
)
from .workflow import UNSET, Channel, NotAllowed, NotInScope


class DuplicateEntry(ValidationError):
    """An entry for the same item and year exists already; `existing` is it (the form links to it)."""

    def __init__(self, message: str, existing: models.Model) -> None:
        super().__init__({"__all__": [message]})
        self.existing = existing


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


# --- evidence (shared by task progress and indicator values) --------------------------------------


def evidence_add(
    *,
    model: type[EvidenceFile],
    owner_field: str,
    owner: models.Model,
    existing_count: int,
    files: Iterable[UploadedFile],
    user: User,
    channel: str,
) -> list[EvidenceFile]:
    """Check every file first, then store them all: a bad file stores none of the batch."""
    from django.conf import settings

    files = list(files)
    if existing_count + len(files) > settings.EVIDENCE_MAX_FILES:
        raise ValidationError(
            {"evidence": [_("每条填报最多上传 %(max)d 个佐证材料。") % {"max": settings.EVIDENCE_MAX_FILES}]}
        )
    checked = []
    errors = []
    for upload in files:
        try:
            checked.append((upload, check_evidence_file(upload, name=upload.name or "", size=upload.size or 0)))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({"evidence": errors})
    stored = []
    for upload, info in checked:
        evidence = model(
            **{owner_field: owner},
            original_name=info.name,
            content_type=info.content_type,
            size=info.size,
            uploaded_by=user,
        )
        evidence.file.save(info.name, upload, save=False)
        evidence._history_user = user  # type: ignore[attr-defined]
        evidence._change_reason = f"{Channel(channel).label}：上传佐证材料"  # type: ignore[attr-defined]
        evidence.save()
        stored.append(evidence)
    return stored


# --- task progress ------------------------------------------------------------------------------


@dataclass
class TaskProgressInput:
    """What a person or client sent; a field left UNSET keeps its stored value on update (blank on create).

    `amounts` maps TaskTarget id → amount as typed; targets it does not name keep their stored amounts.
    """

    narrative: Any = UNSET
    percent: Any = UNSET
    passed: Any = UNSET
    amounts: Mapping[int, Any] = field(default_factory=dict)

    def over(self, progress: TaskProgress | None) -> TaskProgressInput:
        def plain(value: Decimal | None) -> str | None:
            return None if value is None else f"{value.normalize():f}"

        stored_amounts = {row.target_id: plain(row.amount) for row in progress.amounts.all()} if progress else {}
        return TaskProgressInput(
            narrative=(progress.narrative if progress else "") if self.narrative is UNSET else self.narrative,
            percent=(plain(progress.percent) if progress else None) if self.percent is UNSET else self.percent,
            passed=(progress.passed if progress else None) if self.passed is UNSET else self.passed,
            amounts={**stored_amounts, **self.amounts},
        )


def _authorize(allowed: QuerySet[Any], visible: QuerySet[Any], pk: int, message: str) -> None:
    if allowed.filter(pk=pk).exists():
        return
    if visible.filter(pk=pk).exists():
        raise NotAllowed(message)
    raise NotInScope()


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
    elif region is not None:
        errors.append(ValidationError({"region": [_("该任务为全市任务，不按区域填报。")]}))

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


def _apply_task_values(progress: TaskProgress, cleaned: Mapping[str, Any]) -> None:
    progress.narrative = cleaned["narrative"]
    progress.percent = cleaned["percent"]
    progress.passed = cleaned["passed"]


def _save_amounts(progress: TaskProgress, amounts: Mapping[int, Decimal], *, user: User, channel: str) -> None:
    existing = {row.target_id: row for row in progress.amounts.all()}
    for target_id, amount in amounts.items():
        row = existing.get(target_id)
        if row is not None and row.amount == amount:
            continue
        if row is None:
            row = TaskTargetValue(progress=progress, target_id=target_id, amount=amount)
        row.amount = amount
        row._history_user = user  # type: ignore[attr-defined]
        row._change_reason = f"{Channel(channel).label}：保存"  # type: ignore[attr-defined]
        row.save()


@transaction.atomic
def task_progress_create(
    *,
    task: Task,
    year: Any,
    region: Region | None,
    data: TaskProgressInput,
    user: User,
    channel: str = Channel.FORM,
    files: Iterable[UploadedFile] = (),
) -> TaskProgress:
    _authorize(tasks_capturable_by(user), tasks_visible_to(user), task.pk, _("您没有填报该任务的权限。"))
    scope = user_scope(user)
    if region is not None and scope.regions and region.pk not in scope.regions:
        raise NotInScope()
    year = workflow.check_year(task.plan, year)
    existing = TaskProgress.objects.filter(task=task, year=year, region=region).first()
    if existing is not None:
        raise DuplicateEntry(
            _("该任务%(where)s %(year)s 年度已有填报（%(status)s），请打开已有填报修改。")
            % {"where": f"（{region}）" if region else "", "year": year, "status": existing.get_status_display()},
            existing,
        )
    cleaned = task_progress_clean(task=task, region=region, data=data)
    progress = TaskProgress(task=task, year=year, region=region, created_by=user, updated_by=user, version=0)
    _apply_task_values(progress, cleaned)
    try:
        with transaction.atomic():
            workflow.record(progress, user=user, channel=channel, action="新建草稿")
    except IntegrityError:
        # Someone created the same entry between our check and our insert.
        existing = TaskProgress.objects.get(task=task, year=year, region=region)
        raise DuplicateEntry(_("该任务本年度已有填报，请打开已有填报修改。"), existing) from None
    _save_amounts(progress, cleaned["amounts"], user=user, channel=channel)
    evidence_add(
        model=TaskProgressEvidence,
        owner_field="progress",
        owner=progress,
        existing_count=0,
        files=files,
        user=user,
        channel=channel,
    )
    return progress


@transaction.atomic
def task_progress_update(
    *,
    progress: TaskProgress,
    version: int | None,
    data: TaskProgressInput,
    user: User,
    channel: str = Channel.FORM,
    files: Iterable[UploadedFile] = (),
) -> TaskProgress:
    _authorize(
        task_progress_capturable_by(user), task_progress_visible_to(user), progress.pk, _("您没有修改该填报的权限。")
    )
    locked = workflow.lock_for_write(progress, expected_version=version)
    workflow.ensure_editable(locked)
    cleaned = task_progress_clean(task=locked.task, region=locked.region, data=data.over(locked))
    files = list(files)
    stored_amounts = {row.target_id: row.amount for row in locked.amounts.all()}
    if (
        not files
        and (locked.narrative, locked.percent, locked.passed)
        == (cleaned["narrative"], cleaned["percent"], cleaned["passed"])
        and stored_amounts == cleaned["amounts"]
    ):
        # Nothing differs: no new version, so nobody else's save fails with a conflict for nothing.
        locked.changed = False
        return locked
    _apply_task_values(locked, cleaned)
    workflow.mark_edited(locked)
    workflow.record(locked, user=user, channel=channel, action="保存草稿")
    _save_amounts(locked, cleaned["amounts"], user=user, channel=channel)
    evidence_add(
        model=TaskProgressEvidence,
        owner_field="progress",
        owner=locked,
        existing_count=locked.evidence.count(),
        files=files,
        user=user,
        channel=channel,
    )
    return locked


def _transition(progress: TaskProgress, version: int | None) -> TaskProgress:
    return workflow.lock_for_write(progress, expected_version=version)


@transaction.atomic
def task_progress_submit(
    *, progress: TaskProgress, user: User, version: int | None = None, channel: str = Channel.FORM
) -> TaskProgress:
    _authorize(
        task_progress_capturable_by(user), task_progress_visible_to(user), progress.pk, _("您没有提交该填报的权限。")
    )
    locked = _transition(progress, version)
    workflow.submit(locked, user=user)
    workflow.record(locked, user=user, channel=channel, action="提交审核")
    return locked


@transaction.atomic
def task_progress_withdraw(
    *, progress: TaskProgress, user: User, version: int | None = None, channel: str = Channel.FORM
) -> TaskProgress:
    _authorize(
        task_progress_capturable_by(user), task_progress_visible_to(user), progress.pk, _("您没有撤回该填报的权限。")
    )
    locked = _transition(progress, version)
    workflow.withdraw(locked, user=user)
    workflow.record(locked, user=user, channel=channel, action="撤回")
    return locked


@transaction.atomic
def task_progress_approve(
    *, progress: TaskProgress, user: User, version: int | None = None, channel: str = Channel.FORM
) -> TaskProgress:
    _authorize(
        task_progress_review_scope(user), task_progress_visible_to(user), progress.pk, _("您没有审核该填报的权限。")
    )
    locked = _transition(progress, version)

    def copy_approved() -> None:
        locked.approved_percent = locked.percent
        locked.approved_passed = locked.passed
        for row in locked.amounts.all():
            if row.approved_amount != row.amount:
                row.approved_amount = row.amount
                row._history_user = user  # type: ignore[attr-defined]
                row._change_reason = f"{Channel(channel).label}：审核通过"  # type: ignore[attr-defined]
                row.save(update_fields=["approved_amount"])

    workflow.approve(locked, user=user, copy_approved=copy_approved)
    workflow.record(locked, user=user, channel=channel, action="审核通过")
    task_status_request_recompute(task_id=locked.task_id)
    return locked


@transaction.atomic
def task_progress_return(
    *,
    progress: TaskProgress,
    user: User,
    comment: str,
    version: int | None = None,
    channel: str = Channel.FORM,
) -> TaskProgress:
    _authorize(
        task_progress_review_scope(user), task_progress_visible_to(user), progress.pk, _("您没有审核该填报的权限。")
    )
    locked = _transition(progress, version)
    workflow.return_for_revision(locked, user=user, comment=comment)
    workflow.record(locked, user=user, channel=channel, action="退回修改")
    return locked


@transaction.atomic
def task_progress_reopen(
    *, progress: TaskProgress, user: User, version: int | None = None, channel: str = Channel.FORM
) -> TaskProgress:
    _authorize(
        task_progress_capturable_by(user), task_progress_visible_to(user), progress.pk, _("您没有更正该填报的权限。")
    )
    locked = _transition(progress, version)
    workflow.reopen(locked, user=user)
    workflow.record(locked, user=user, channel=channel, action="发起更正")
    return locked


# --- status recompute requests ------------------------------------------------------------------


def task_status_request_recompute(*, task_id: int) -> None:
    """Record that a task's status must be recomputed and queue it once the transaction commits."""
    from .models import PendingTaskRecompute
    from .tasks import dispatch_on_commit, recompute_task_status

    PendingTaskRecompute.objects.create(task_id=task_id)
    dispatch_on_commit(recompute_task_status, task_id)


def task_status_recompute(*, task_ids: list[int] | None = None) -> dict[str, int]:
    """Recompute task statuses (all when None) and clear the requests this run satisfied."""
    from django.utils import timezone

    from .models import PendingTaskRecompute
    from .status import recompute_task_statuses

    started = timezone.now()
    result = recompute_task_statuses(task_ids=task_ids)
    pending = PendingTaskRecompute.objects.filter(requested_at__lte=started)
    if task_ids is not None:
        pending = pending.filter(task_id__in=task_ids)
    pending.delete()
    return {"rows_written": result.rows_written, "rows_deleted": result.rows_deleted}
