"""Writes of indicator values and region targets; forms, API, admin and import all go through here."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from planning import workflow
from planning.models import Plan, Role
from planning.roles import has_role
from planning.services import DuplicateEntry, evidence_add
from planning.workflow import UNSET, Channel, NotAllowed, NotInScope, TransitionError
from planning.workflow import ConflictError as ConflictError_
from regions.models import Region

from .models import Indicator, IndicatorRegionTarget, IndicatorValue, IndicatorValueEvidence
from .selectors import (
    can_capture_cell,
    can_view_cell,
    indicator_values_capturable_by,
    indicator_values_review_scope,
    indicator_values_visible_to,
    previous_approved,
    region_plan_for,
)


@dataclass
class IndicatorValueInput:
    """What a person or client sent; a field left UNSET keeps its stored value on update (blank on create)."""

    value: Any = UNSET
    source: Any = UNSET
    note: Any = UNSET
    outlier_note: Any = UNSET

    def over(self, entry: IndicatorValue | None) -> IndicatorValueInput:
        """Fields not sent take the entry's stored values (a partial update keeps what it does not name)."""
        stored = {
            "value": f"{entry.value.normalize():f}" if entry is not None else None,
            "source": entry.source if entry is not None else "",
            "note": entry.note if entry is not None else "",
            "outlier_note": entry.outlier_note if entry is not None else "",
        }
        return IndicatorValueInput(**{k: stored[k] if getattr(self, k) is UNSET else getattr(self, k) for k in stored})


@dataclass(frozen=True)
class OutlierCheck:
    previous_year: int
    previous: Decimal
    jump: Decimal
    span: Decimal


def outlier_check(indicator: Indicator, region: Region, year: int, value: Decimal) -> OutlierCheck | None:
    """A one-year change larger than the whole baseline→target distance (DHIS2's min-max idea)."""
    plan = region_plan_for(indicator, region)
    if plan.baseline is None or plan.target is None:
        return None
    span = abs(plan.target - plan.baseline)
    if span == 0:
        return None
    previous = previous_approved(indicator, region, year)
    previous_year, previous_value = previous if previous else (indicator.baseline_year, plan.baseline)
    jump = abs(value - previous_value)
    if jump <= span:
        return None
    return OutlierCheck(previous_year, previous_value, jump, span)


def indicator_value_clean(
    *, indicator: Indicator, region: Region, year: int, data: IndicatorValueInput
) -> dict[str, Any]:
    data = data.over(None)
    errors: list[ValidationError] = []
    cleaned: dict[str, Any] = {}
    try:
        cleaned["value"] = workflow.parse_decimal(
            data.value,
            field_name="value",
            decimal_places=indicator.decimal_places,
            maximum=indicator.max_value,
            label=_("数值"),
        )
    except ValidationError as exc:
        errors.append(exc)
    texts = {
        "source": (_("数据来源"), _("请填写数据来源，例如“教育事业统计年报”。")),
        "note": (_("说明"), ""),
        "outlier_note": (_("异常值确认说明"), ""),
    }
    for name, (label, required) in texts.items():
        try:
            cleaned[name] = workflow.check_text(
                getattr(data, name), model=IndicatorValue, field_name=name, label=label, required=required
            )
        except ValidationError as exc:
            errors.append(exc)
    if "value" in cleaned and "outlier_note" in cleaned:
        check = outlier_check(indicator, region, year, cleaned["value"])
        if check is not None and not cleaned["outlier_note"]:
            errors.append(
                ValidationError(
                    {
                        "outlier_note": [
                            _(
                                "与 %(year)s 年的 %(previous)s 相比变动 %(jump)s，超过规划期基期到目标的全部差距 "
                                "%(span)s；如数值无误，请填写确认说明。"
                            )
                            % {
                                "year": check.previous_year,
                                "previous": f"{check.previous.normalize():f}",
                                "jump": f"{check.jump.normalize():f}",
                                "span": f"{check.span.normalize():f}",
                            }
                        ]
                    }
                )
            )
    if errors:
        raise workflow.merge_errors(*errors)
    return cleaned


def _authorize(allowed: Any, visible: Any, pk: int, message: str) -> None:
    if allowed.filter(pk=pk).exists():
        return
    if visible.filter(pk=pk).exists():
        raise NotAllowed(message)
    raise NotInScope()


@transaction.atomic
def indicator_value_create(
    *,
    indicator: Indicator,
    region: Region,
    year: Any,
    data: IndicatorValueInput,
    user: User,
    channel: str = Channel.FORM,
    files: Iterable[UploadedFile] = (),
) -> IndicatorValue:
    if not can_capture_cell(user, indicator, region):
        if can_view_cell(user, indicator, region):
            raise NotAllowed(_("您没有填报该指标该区域数据的权限。"))
        raise NotInScope()
    year = workflow.check_year(indicator.plan, year)
    existing = IndicatorValue.objects.filter(indicator=indicator, region=region, year=year).first()
    if existing is not None:
        raise DuplicateEntry(
            _("%(indicator)s · %(region)s · %(year)s 年已有填报（%(status)s），请打开已有填报修改。")
            % {
                "indicator": indicator.name,
                "region": region.name,
                "year": year,
                "status": existing.get_status_display(),
            },
            existing,
        )
    cleaned = indicator_value_clean(indicator=indicator, region=region, year=year, data=data)
    entry = IndicatorValue(
        indicator=indicator, region=region, year=year, created_by=user, updated_by=user, version=0, **cleaned
    )
    try:
        with transaction.atomic():
            workflow.record(entry, user=user, channel=channel, action="新建草稿")
    except IntegrityError:
        existing = IndicatorValue.objects.get(indicator=indicator, region=region, year=year)
        raise DuplicateEntry(_("该指标、区域、年度已有填报，请打开已有填报修改。"), existing) from None
    evidence_add(
        model=IndicatorValueEvidence,
        owner_field="entry",
        owner=entry,
        existing_count=0,
        files=files,
        user=user,
        channel=channel,
    )
    return entry


@transaction.atomic
def indicator_value_update(
    *,
    entry: IndicatorValue,
    version: int | None,
    data: IndicatorValueInput,
    user: User,
    channel: str = Channel.FORM,
    files: Iterable[UploadedFile] = (),
) -> IndicatorValue:
    _authorize(
        indicator_values_capturable_by(user), indicator_values_visible_to(user), entry.pk, _("您没有修改该填报的权限。")
    )
    locked = workflow.lock_for_write(entry, expected_version=version)
    workflow.ensure_editable(locked)
    cleaned = indicator_value_clean(
        indicator=locked.indicator, region=locked.region, year=locked.year, data=data.over(locked)
    )
    files = list(files)
    if not files and all(getattr(locked, name) == value for name, value in cleaned.items()):
        # Nothing differs: no new version, so nobody else's save fails with a conflict for nothing.
        locked.changed = False
        return locked
    for name, value in cleaned.items():
        setattr(locked, name, value)
    workflow.mark_edited(locked)
    workflow.record(locked, user=user, channel=channel, action="保存草稿")
    evidence_add(
        model=IndicatorValueEvidence,
        owner_field="entry",
        owner=locked,
        existing_count=locked.evidence.count(),
        files=files,
        user=user,
        channel=channel,
    )
    return locked


def _locked_for_capture(value: IndicatorValue, user: User, version: int | None, message: str) -> IndicatorValue:
    _authorize(indicator_values_capturable_by(user), indicator_values_visible_to(user), value.pk, message)
    return workflow.lock_for_write(value, expected_version=version)


def _locked_for_review(value: IndicatorValue, user: User, version: int | None) -> IndicatorValue:
    _authorize(
        indicator_values_review_scope(user), indicator_values_visible_to(user), value.pk, _("您没有审核该填报的权限。")
    )
    return workflow.lock_for_write(value, expected_version=version)


@transaction.atomic
def indicator_value_submit(
    *, value: IndicatorValue, user: User, version: int | None = None, channel: str = Channel.FORM
) -> IndicatorValue:
    locked = _locked_for_capture(value, user, version, _("您没有提交该填报的权限。"))
    workflow.submit(locked, user=user)
    workflow.record(locked, user=user, channel=channel, action="提交审核")
    return locked


@transaction.atomic
def indicator_value_withdraw(
    *, value: IndicatorValue, user: User, version: int | None = None, channel: str = Channel.FORM
) -> IndicatorValue:
    locked = _locked_for_capture(value, user, version, _("您没有撤回该填报的权限。"))
    workflow.withdraw(locked, user=user)
    workflow.record(locked, user=user, channel=channel, action="撤回")
    return locked


@transaction.atomic
def indicator_value_approve(
    *, value: IndicatorValue, user: User, version: int | None = None, channel: str = Channel.FORM
) -> IndicatorValue:
    locked = _locked_for_review(value, user, version)

    def copy_approved() -> None:
        locked.approved_value = locked.value

    workflow.approve(locked, user=user, copy_approved=copy_approved)
    workflow.record(locked, user=user, channel=channel, action="审核通过")
    status_request_series_recompute(indicator_id=locked.indicator_id, region_id=locked.region_id)
    return locked


@transaction.atomic
def indicator_value_return(
    *, value: IndicatorValue, user: User, comment: str, version: int | None = None, channel: str = Channel.FORM
) -> IndicatorValue:
    locked = _locked_for_review(value, user, version)
    workflow.return_for_revision(locked, user=user, comment=comment)
    workflow.record(locked, user=user, channel=channel, action="退回修改")
    return locked


@transaction.atomic
def indicator_value_reopen(
    *, value: IndicatorValue, user: User, version: int | None = None, channel: str = Channel.FORM
) -> IndicatorValue:
    locked = _locked_for_capture(value, user, version, _("您没有更正该填报的权限。"))
    workflow.reopen(locked, user=user)
    workflow.record(locked, user=user, channel=channel, action="发起更正")
    return locked


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


# --- statuses, flags and digests ------------------------------------------------------------------


def status_request_series_recompute(*, indicator_id: int, region_id: int) -> None:
    """Record that a series must be recomputed and queue it once the transaction commits."""
    from planning.tasks import dispatch_on_commit

    from .models import PendingSeriesRecompute
    from .tasks import recompute_series

    PendingSeriesRecompute.objects.create(indicator_id=indicator_id, region_id=region_id)
    dispatch_on_commit(recompute_series, indicator_id, region_id)


def status_recompute_series(*, indicator_id: int, region_id: int) -> dict[str, int]:
    from django.utils import timezone

    from .flags import sync_indicator_lag_flags
    from .models import PendingSeriesRecompute
    from .status import recompute_indicator_statuses

    started = timezone.now()
    result = recompute_indicator_statuses(indicator_ids=[indicator_id], region_ids=[region_id])
    flags = sync_indicator_lag_flags(indicator_ids=[indicator_id], region_ids=[region_id])
    PendingSeriesRecompute.objects.filter(
        indicator_id=indicator_id, region_id=region_id, requested_at__lte=started
    ).delete()
    return {"rows_written": result.rows_written, "flags_raised": flags.raised, "flags_resolved": flags.resolved}


def status_recompute_pending() -> dict[str, int]:
    """Run the recomputes still pending, one per series/task (duplicates collapse)."""
    from planning.models import PendingTaskRecompute
    from planning.services import task_status_recompute

    from .models import PendingSeriesRecompute

    series = set(PendingSeriesRecompute.objects.values_list("indicator_id", "region_id"))
    for indicator_id, region_id in series:
        status_recompute_series(indicator_id=indicator_id, region_id=region_id)
    task_ids = sorted(set(PendingTaskRecompute.objects.values_list("task_id", flat=True)))
    if task_ids:
        task_status_recompute(task_ids=task_ids)
    return {"series": len(series), "tasks": len(task_ids)}


def status_recompute_all() -> dict[str, Any]:
    """The full recompute: every indicator series (one SQL statement), every task, all lag flags."""
    import time

    from django.utils import timezone

    from planning.services import task_status_recompute

    from .flags import sync_indicator_lag_flags
    from .models import PendingSeriesRecompute
    from .status import recompute_indicator_statuses

    started, clock = timezone.now(), time.perf_counter()
    indicators = recompute_indicator_statuses()
    tasks = task_status_recompute()  # its listener syncs the tasks' lag flags
    flags = sync_indicator_lag_flags()
    PendingSeriesRecompute.objects.filter(requested_at__lte=started).delete()
    return {
        "indicator_rows_written": indicators.rows_written,
        "indicator_rows_deleted": indicators.rows_deleted,
        "task_rows_written": tasks["rows_written"],
        "lag_flags_raised": flags.raised,
        "lag_flags_resolved": flags.resolved,
        "seconds": round(time.perf_counter() - clock, 3),
    }


def recompute_chunks(plan_ids: Iterable[int] | None = None) -> list[tuple[int, list[int]]]:
    """The full recompute cut into independent pieces: each plan's regions in runs of RECOMPUTE_CHUNK_REGIONS.

    Every piece touches its own status and flag rows only, so the pieces run on as many workers as there are.
    """
    from django.conf import settings

    size = max(1, settings.RECOMPUTE_CHUNK_REGIONS)
    plans = Plan.objects.exclude(region__isnull=True).order_by("pk")
    if plan_ids is not None:
        plans = plans.filter(pk__in=list(plan_ids))
    chunks = []
    for plan in plans:
        regions = list(plan.area_regions().values_list("pk", flat=True))
        chunks += [(plan.pk, regions[i : i + size]) for i in range(0, len(regions), size)]
    return chunks


def status_recompute_chunk(*, plan_id: int, region_ids: list[int]) -> dict[str, int]:
    """One piece of the full recompute: a plan's indicator statuses and lag flags in some of its regions."""
    from .flags import sync_indicator_lag_flags
    from .status import recompute_indicator_statuses

    result = recompute_indicator_statuses(plan_ids=[plan_id], region_ids=region_ids)
    flags = sync_indicator_lag_flags(plan_ids=[plan_id], region_ids=region_ids)
    return {
        "indicator_rows_written": result.rows_written,
        "indicator_rows_deleted": result.rows_deleted,
        "lag_flags_raised": flags.raised,
        "lag_flags_resolved": flags.resolved,
    }


def status_recompute_finish(*, started: datetime.datetime, chunks: list[dict[str, int]]) -> dict[str, Any]:
    """After every piece: the tasks' statuses, overdue flags, the units' digests, and the pending rows done."""
    from planning.services import task_status_recompute

    from .flags import send_flag_digests, sync_overdue_flags
    from .models import PendingSeriesRecompute

    tasks = task_status_recompute()
    overdue = sync_overdue_flags()
    digest = send_flag_digests()
    PendingSeriesRecompute.objects.filter(requested_at__lte=started).delete()
    summary: dict[str, Any] = {key: sum(chunk[key] for chunk in chunks) for key in (chunks[0] if chunks else {})}
    summary.update(
        chunks=len(chunks),
        task_rows_written=tasks["rows_written"],
        overdue_flags_raised=overdue.raised,
        overdue_flags_resolved=overdue.resolved,
        digest_units=digest.units,
        digest_mails=digest.mails,
        digest_notifications=digest.notifications,
    )
    return summary


def status_nightly() -> dict[str, Any]:
    from .flags import send_flag_digests, sync_overdue_flags

    summary = status_recompute_all()
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


# --- Excel import and reports --------------------------------------------------------------------


def import_authorize(user: User) -> None:
    """Only data-entry users import; asked before anything about the upload itself."""
    if not has_role(user, Role.ENTRY):
        raise NotAllowed(_("只有填报员可以导入填报。"))


def import_check(*, user: User, upload: UploadedFile) -> Any:
    """Store the upload and check it whole: rejected with every problem listed, or previewed with its changes."""
    from django.conf import settings
    from django.core.files.base import ContentFile

    from .excel import ImportPlan, ImportProblem, read_upload
    from .models import ImportBatch, ImportState

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
        state=ImportState.REJECTED if plan.errors else ImportState.PREVIEWED,
        summary=plan.summary(),
    )
    batch.file.save("upload.xlsx", ContentFile(data), save=False)
    batch.save()
    return batch


def import_confirm(*, batch: Any, user: User) -> Any:
    """Apply a previewed import: now when small, else by a Celery task (the page shows its progress)."""
    from django.conf import settings

    from planning.tasks import dispatch_on_commit

    from .models import ImportBatch, ImportState
    from .tasks import apply_import_batch

    if batch.user_id != user.pk:
        raise NotInScope()
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
    from django.core.cache import cache
    from django.utils import timezone

    from .excel import apply_import, read_upload
    from .models import ImportBatch, ImportState

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
    except (ValidationError, NotAllowed, NotInScope, TransitionError, ConflictError_) as exc:
        messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        result = {"error": "；".join(messages)[:2000]}
        state = ImportState.FAILED
    ImportBatch.objects.filter(pk=batch_id).update(state=state, result=result, finished_at=timezone.now())
    return result


def report_request(*, plan: Any, year: int, kind: str, user: User) -> Any:
    from planning.roles import views_everything
    from planning.tasks import dispatch_on_commit

    from .models import Report, ReportKind
    from .tasks import generate_report

    if not views_everything(user):
        raise NotAllowed(_("评估报告只供领导和管理员生成。"))
    if kind not in ReportKind.values:
        raise ValidationError({"kind": [_("报告类型无效。")]})
    if year not in plan.years:
        raise ValidationError({"year": [_("年度应在规划期之内。")]})
    report = Report.objects.create(plan=plan, year=year, kind=kind, requested_by=user)
    dispatch_on_commit(generate_report, report.pk)
    return report


def report_generate(*, report_id: int) -> str:
    """Build the .docx once: the row is claimed with a conditional update, so a redelivered task is harmless."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from .models import Report, ReportState
    from .reports import build_docx, collect

    claimed = Report.objects.filter(pk=report_id, state__in=[ReportState.QUEUED, ReportState.FAILED]).update(
        state=ReportState.RUNNING
    )
    if not claimed:
        return "already handled"
    report = Report.objects.select_related("plan").get(pk=report_id)
    try:
        content = build_docx(collect(report.plan, report.year, report.kind))
    except Exception as exc:  # any failure is shown on the page; the task itself does not retry a bad report
        Report.objects.filter(pk=report_id).update(
            state=ReportState.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    report.file.save(report.filename, ContentFile(content), save=False)
    report.state = ReportState.DONE
    report.finished_at = timezone.now()
    report.error = ""
    report.save(update_fields=["file", "state", "finished_at", "error"])
    return "done"
