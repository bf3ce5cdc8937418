"""Pages of the evaluation reports: ask for one, see them being built, download them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from config.filters import parse_id, parse_year
from config.views import reporting_plan_and_year
from planning.entry_views import current_user
from planning.models import Plan
from planning.roles import views_everything

from . import services
from .models import Report, ReportKind, ReportState


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if not views_everything(user):
        raise PermissionDenied(_("评估报告只供领导和管理员使用。"))
    plan, year, _years = reporting_plan_and_year(request)
    if request.method == "POST":
        chosen = Plan.objects.filter(pk=parse_id(request.POST.get("plan", "")) or 0).first() or plan
        raw_year = request.POST.get("year", "")
        try:
            report = services.report_request(
                plan=chosen,
                year=parse_year(raw_year) or 0,
                kind=request.POST.get("kind", ""),
                user=user,
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("已开始生成%(report)s，完成后可在下方下载。") % {"report": report})
        return HttpResponseRedirect(reverse("reports:reports"))
    context = {
        "plans": Plan.objects.exclude(region__isnull=True).order_by("-period_end_year", "code"),
        "plan": plan,
        "year": year,
        "all_years": list(plan.years),
        "kinds": ReportKind.choices,
        "midpoint_year": services.midpoint_year(plan),
        "reports": Report.objects.select_related("plan", "requested_by")[:30],
    }
    return render(request, "reports/reports.html", context)


@login_required
def report_download(request: HttpRequest, pk: int) -> FileResponse:
    if not views_everything(current_user(request)):
        raise PermissionDenied
    report = get_object_or_404(Report, pk=pk, state=ReportState.DONE)
    return FileResponse(
        report.file.open("rb"),
        as_attachment=True,
        filename=report.filename,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
