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
from .final import build_final_docx, collect_final
from .models import Report, ReportKind, ReportState
from .tasks import generate_report


def midpoint_year(plan: Plan) -> int:
    """The plan's mid-point year, the year of its 中期评估: 2023 for 2021—2025."""
    return plan.period_start_year + (plan.period_end_year - plan.period_start_year) // 2


def check_report_year(plan: Plan, year: int, kind: str) -> None:
    """Which year a kind of report may be asked for, for the page, the task and the command alike.

    年度监测报告: any year of the period. 中期评估报告: the mid-point year only. 终期评估报告: the plan's last year only
    (it assesses the whole period against the targets for that year; later years are outside the plan).
    """
    if kind not in ReportKind.values:
        raise ValidationError({"kind": [_("报告类型无效。")]})
    if year not in plan.years:
        raise ValidationError(
            {
                "year": [
                    _("年度应在规划期 %(start)s—%(end)s 年之内。")
                    % {"start": plan.period_start_year, "end": plan.period_end_year}
                ]
            }
        )
    if kind == ReportKind.MIDTERM and year != midpoint_year(plan):
        raise ValidationError(
            {
                "year": [
                    _("中期评估报告只针对规划期中点年度（%(mid)s 年）；%(year)s 年请生成年度监测报告。")
                    % {"mid": midpoint_year(plan), "year": year}
                ]
            }
        )
    if kind == ReportKind.FINAL and year != plan.period_end_year:
        raise ValidationError(
            {
                "year": [
                    _("终期评估报告只针对规划期末年度（%(end)s 年）；%(year)s 年请生成年度监测报告。")
                    % {"end": plan.period_end_year, "year": year}
                ]
            }
        )


def report_bytes(plan: Plan, year: int, kind: str) -> bytes:
    """The report's .docx: the 终期评估报告 has its own structure (reports.final), the others share one."""
    data = collect(plan, year, kind)
    if kind == ReportKind.FINAL:
        return build_final_docx(data, collect_final(data))
    return build_docx(data)


def report_request(*, plan: Plan, year: int, kind: str, user: User) -> Report:
    if not views_everything(user):
        raise NotAllowed(_("评估报告只供领导和管理员生成。"))
    check_report_year(plan, year, kind)
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
        content = report_bytes(report.plan, report.year, report.kind)
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
