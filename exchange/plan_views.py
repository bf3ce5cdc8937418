"""规划管理 (administrators only): the plans with their state, a plan as a workbook, and a workbook imported
through upload → preview → confirm."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from planning.entry_views import current_user, service_call
from planning.models import Plan
from planning.workflow import NotAllowed, NotInScope

from . import plan_services
from .plan_workbook import build_plan_workbook
from .views import XLSX, _attachment

TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _admin(request: HttpRequest) -> None:
    try:
        plan_services.plans_authorize(current_user(request))
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None


@login_required
def plans_manage(request: HttpRequest) -> HttpResponse:
    _admin(request)
    plans = (
        Plan.objects.select_related("region")
        .annotate(indicator_count=Count("indicators", distinct=True), task_count=Count("tasks", distinct=True))
        .order_by("-period_end_year", "code")
    )
    uploads = [
        {"token": token, **record}
        for token, record in reversed(list(request.session.get(plan_services.SESSION_KEY, {}).items()))
    ]
    return render(request, "exchange/plans_manage.html", {"plans": plans, "uploads": uploads})


@login_required
def plans_export(request: HttpRequest, pk: int) -> HttpResponse:
    _admin(request)
    plan = get_object_or_404(Plan, pk=pk)
    response = HttpResponse(build_plan_workbook(plan), content_type=XLSX)
    response["Content-Disposition"] = _attachment(f"规划工作簿-{plan.short_title}.xlsx")
    return response


@login_required
@require_POST
def plans_upload(request: HttpRequest) -> HttpResponse:
    _admin(request)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要上传的规划工作簿（.xlsx）。"))
        return HttpResponseRedirect(reverse("exchange:plans-manage"))
    token = plan_services.plan_upload_check(
        user=current_user(request),
        upload=upload,
        code=request.POST.get("code", "").strip(),
        create_units=request.POST.get("create_units") == "1",
        session=request.session,
    )
    return HttpResponseRedirect(reverse("exchange:plans-preview", args=[token]))


def _record(request: HttpRequest, token: str) -> dict[str, object]:
    if not TOKEN.match(token):
        raise Http404
    try:
        return plan_services.plan_upload_record(request.session, token)
    except NotInScope:
        raise Http404 from None


@login_required
def plans_preview(request: HttpRequest, token: str) -> HttpResponse:
    _admin(request)
    record = _record(request, token)
    shown = record["result"] or record["summary"]
    return render(request, "exchange/plans_preview.html", {"token": token, "record": record, "shown": shown})


@login_required
@require_POST
def plans_confirm(request: HttpRequest, token: str) -> HttpResponse:
    _admin(request)
    _record(request, token)
    ok, record = service_call(
        request,
        lambda: plan_services.plan_upload_confirm(user=current_user(request), session=request.session, token=token),
    )
    if ok and record["state"] == "done":
        messages.success(request, _("规划工作簿已导入。"))
    return HttpResponseRedirect(reverse("exchange:plans-preview", args=[token]))
