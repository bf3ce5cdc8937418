"""Evaluation reports: asked for on the page, built once by a Celery task."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from planning.models import Plan
from planning.roles import views_everything
from planning.tasks import dispatch_on_commit
from planning.workflow import NotAllowed

from .collect import collect
from .document import build_docx
from .models import Report, ReportKind, ReportState
from .tasks import generate_report


def report_request(*, plan: Plan, year: int, kind: str, user: User) -> Report:
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
