"""Excel import: check an upload whole, preview it, then apply it all or nothing (now, or by a Celery task)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from planning.models import Role
from planning.roles import has_role
from planning.tasks import dispatch_on_commit
from planning.workflow import ConflictError, NotAllowed, NotInScope, TransitionError

from .models import ImportBatch, ImportState
from .reader import ImportPlan, ImportProblem, apply_import, read_upload
from .tasks import apply_import_batch


def import_authorize(user: User) -> None:
    """Only data-entry users import; asked before anything about the upload itself."""
    if not has_role(user, Role.ENTRY):
        raise NotAllowed(_("只有填报员可以导入填报。"))


def import_check(*, user: User, upload: UploadedFile) -> ImportBatch:
    """Store the upload and check it whole: rejected with every problem listed, or previewed with its changes."""
    import_authorize(user)
    if (upload.size or 0) > settings.IMPORT_MAX_BYTES:
        data = b""
        plan = ImportPlan(
            errors=[
                ImportProblem(
                    "—",
                    0,
                    "—",
                    _("文件为 %(size).1f MB，超过 %(limit)d MB 的上限。")
                    % {"size": (upload.size or 0) / 1024 / 1024, "limit": settings.IMPORT_MAX_BYTES // 1024 // 1024},
                )
            ]
        )
    else:
        data = upload.read()
        plan = read_upload(data, user=user)
    batch = ImportBatch(
        user=user,
        original_name=(upload.name or "upload.xlsx")[:200],
        plan=plan.plan,
        year=plan.year,
        state=_checked_state(plan),
        summary=plan.summary(),
    )
    batch.file.save("upload.xlsx", ContentFile(data), save=False)
    batch.save()
    return batch


def _checked_state(plan: ImportPlan) -> str:
    if plan.errors:
        return ImportState.REJECTED
    # An identical re-upload: every row as already saved, so there is nothing to confirm.
    return ImportState.PREVIEWED if plan.has_work else ImportState.UNCHANGED


def has_work(batch: ImportBatch) -> bool:
    """Whether confirming the batch would write anything (its checked rows are not all unchanged)."""
    counts = batch.summary.get("counts", {})
    return bool(counts.get("create") or counts.get("update"))


def import_confirm(*, batch: ImportBatch, user: User) -> ImportBatch:
    """Apply a previewed import: now when small, else by a Celery task (the page shows its progress)."""
    if batch.user_id != user.pk:
        raise NotInScope()
    if batch.state == ImportState.UNCHANGED or (batch.state == ImportState.PREVIEWED and not has_work(batch)):
        raise TransitionError(_("文件中的内容与系统中已保存的填报完全相同（无变化），没有需要导入的内容。"))
    # Claim it: a double click or a second tab cannot apply the same file twice.
    claimed = ImportBatch.objects.filter(pk=batch.pk, state=ImportState.PREVIEWED).update(
        state=ImportState.APPLYING, finished_at=None
    )
    if not claimed:
        raise TransitionError(_("该文件已处理过（%(state)s）。") % {"state": batch.get_state_display()})
    total = len(batch.summary.get("changes", []))
    if total > settings.IMPORT_SYNC_LIMIT:
        dispatch_on_commit(apply_import_batch, batch.pk)
    else:
        import_apply(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch


def import_progress_key(batch_id: int) -> str:
    return f"import-progress-{batch_id}"


def import_apply(*, batch_id: int) -> dict[str, Any]:
    """Check the stored file again and write it in one transaction; any problem writes nothing."""
    batch = ImportBatch.objects.select_related("user").get(pk=batch_id)
    if batch.state != ImportState.APPLYING:
        return {"skipped": batch.state}
    with batch.file.open("rb") as handle:
        plan = read_upload(handle.read(), user=batch.user)

    def progress(done: int, total: int) -> None:
        if done % 20 == 0 or done == total:
            cache.set(import_progress_key(batch_id), {"done": done, "total": total}, 3600)

    result: dict[str, Any]
    try:
        if plan.errors:
            raise ValidationError([f"{e.sheet} 第{e.row}行 {e.column}：{e.message}" for e in plan.errors])
        result = dict(apply_import(plan, user=batch.user, progress=progress))
        state = ImportState.DONE
    except (ValidationError, NotAllowed, NotInScope, TransitionError, ConflictError) as exc:
        messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        result = {"error": "；".join(messages)[:2000]}
        state = ImportState.FAILED
    ImportBatch.objects.filter(pk=batch_id).update(state=state, result=result, finished_at=timezone.now())
    return result
