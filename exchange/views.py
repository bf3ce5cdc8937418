"""Pages of Excel in and out: the 填报模板, uploads with their preview and progress, and the status export."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.filters import parse_id
from config.views import reporting_plan_and_year
from indicators.models import Indicator
from indicators.selectors import indicators_visible_to, regions_capturable_by
from planning.assessment import display_status
from planning.entry_views import current_user, service_call
from planning.models import Plan, Responsibility, ResponsibilityRole, Role, TaskStatus, Unit
from planning.roles import has_role
from planning.selectors import plan_regions_visible_to, tasks_visible_to, user_scope
from planning.workflow import NotAllowed
from regions.models import Region

from . import services
from .export import export_status_csv, export_status_xlsx
from .models import ImportBatch
from .template import INDICATOR_SHEET, TASK_SHEET, build_template

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _export_scope(request: HttpRequest) -> tuple[Plan, int, list[Indicator], list[Region]]:
    plan, year, _years = reporting_plan_and_year(request)
    indicators = list(
        indicators_visible_to(request.user).filter(plan=plan).select_related("lead_unit").order_by("number")
    )
    regions = list(plan_regions_visible_to(request.user, plan))
    return plan, year, indicators, regions


@login_required
def excel_page(request: HttpRequest) -> HttpResponse:
    plan, year, years = reporting_plan_and_year(request)
    user = current_user(request)
    context = {
        "plan": plan,
        "plans": Plan.objects.exclude(region__isnull=True).order_by("-period_end_year", "code"),
        "year": year,
        "years": years,
        "all_years": list(plan.years),
        "units": Unit.objects.filter(pk__in=user_scope_units(user)) if has_role(user, Role.ENTRY) else [],
        "regions": regions_for_entry(user, plan),
        "can_import": has_role(user, Role.ENTRY),
        "imports": ImportBatch.objects.filter(user=user)[:10],
    }
    return render(request, "exchange/excel.html", context)


def user_scope_units(user: Any) -> list[int]:
    return sorted(user_scope(user).units)


def regions_for_entry(user: Any, plan: Plan) -> list[Region]:
    return list(regions_capturable_by(user).filter(pk__in=plan.area_regions()).order_by("order"))


@login_required
def excel_template(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if not has_role(user, Role.ENTRY):
        raise PermissionDenied(_("只有填报员可以下载填报模板。"))
    plan, year, _years = reporting_plan_and_year(request)
    unit_id = parse_id(request.GET.get("unit", ""))
    region_id = parse_id(request.GET.get("region", ""))
    content = build_template(user=user, plan=plan, year=year, unit_id=unit_id, region_id=region_id)
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = _attachment(f"填报模板-{plan.short_title}-{year}年.xlsx")
    return response


def _attachment(filename: str) -> str:
    clean = filename.replace("“", "").replace("”", "")
    return f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(clean)}"


@login_required
@require_POST
def excel_upload(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    try:
        services.import_authorize(current_user(request))
        if upload is None:
            messages.error(request, _("请选择要上传的 Excel 文件。"))
            return HttpResponseRedirect(reverse("exchange:excel"))
        batch = services.import_check(user=current_user(request), upload=upload)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    return HttpResponseRedirect(reverse("exchange:import-detail", args=[batch.pk]))


def _my_batch(request: HttpRequest, pk: int) -> ImportBatch:
    return get_object_or_404(ImportBatch, pk=pk, user=current_user(request))


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _my_batch(request, pk)
    summary = batch.summary
    sheets = {"indicator": INDICATOR_SHEET, "task": TASK_SHEET}
    changes = [
        # Batches checked before rows were named by sheet: the kind tells which sheet the row was on.
        {**c, "where": c.get("where") or f"{sheets.get(c.get('kind', ''), '')} 第{c.get('row')}行".strip()}
        for c in summary.get("changes", [])
    ]
    context = {
        "batch": batch,
        "counts": summary.get("counts", {}),
        "changes": changes,
        "errors": summary.get("errors", []),
        "has_work": services.has_work(batch),
    }
    return render(request, "exchange/import_detail.html", context)


@login_required
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _my_batch(request, pk)
    ok, _result = service_call(request, lambda: services.import_confirm(batch=batch, user=current_user(request)))
    if ok:
        batch.refresh_from_db()
        if batch.state == "done":
            messages.success(request, _("已导入为草稿，请在“我的填报”中检查并提交审核。"))
    return HttpResponseRedirect(reverse("exchange:import-detail", args=[batch.pk]))


@login_required
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _my_batch(request, pk)
    progress = cache.get(services.import_progress_key(batch.pk)) or {
        "done": 0,
        "total": len(batch.summary.get("changes", [])),
    }
    return JsonResponse({"state": batch.state, "state_label": batch.get_state_display(), **progress})


@login_required
def excel_export(request: HttpRequest, fmt: str) -> HttpResponse:
    plan, year, indicators, regions = _export_scope(request)
    if fmt == "csv":
        response = HttpResponse(
            export_status_csv(plan=plan, year=year, indicators=indicators, regions=regions),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = _attachment(f"进度状态-{plan.short_title}-{year}年.csv").replace(
            "export.xlsx", "export.csv"
        )
        return response
    statuses = {s.task_id: s for s in TaskStatus.objects.filter(task__plan=plan, as_of_year=year, target__isnull=True)}
    leads = {
        r.task_id: r.unit.name
        for r in Responsibility.objects.filter(task__plan=plan, role=ResponsibilityRole.LEAD).select_related("unit")
    }
    tasks = []
    for task in tasks_visible_to(request.user).filter(plan=plan).select_related("initiative").order_by("order"):
        overall = statuses.get(task.pk)
        display = display_status(overall.status, overall.latest_year, plan.period_end_year) if overall else "no_data"
        tasks.append((task, overall, display, leads.get(task.pk, "")))
    content = export_status_xlsx(plan=plan, year=year, indicators=indicators, regions=regions, tasks=tasks)
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = _attachment(f"进度状态-{plan.short_title}-{year}年.xlsx")
    return response
