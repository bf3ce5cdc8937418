"""Pages for indicator values, 我的填报, 待审核 and 指标分解."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.filters import parse_id, parse_year
from config.views import request_choices
from planning import services as planning_services
from planning.assessment import display_status
from planning.models import EntryStatus, Plan, Role
from planning.roles import has_role, user_roles
from planning.selectors import (
    AnyUser,
    chosen_plan,
    chosen_year,
    deadline_for,
    default_report_year,
    plan_regions_visible_to,
    regions_visible_to,
    reportable_years,
    task_progress_reviewable_by,
)
from planning.views import (
    TASK_PROGRESS,
    EntryKind,
    _plain,
    current_user,
    entry_permissions,
    entry_status_label,
    get_visible,
    service_call,
)
from planning.workflow import ConflictError, NotAllowed, NotInScope, TransitionError
from regions.models import Region

from . import services
from .filtersets import IndicatorValueFilterSet
from .forms import IndicatorValueForm
from .models import (
    Indicator,
    IndicatorRegionTarget,
    IndicatorStatus,
    IndicatorValue,
    Notification,
    PendingSeriesRecompute,
)
from .selectors import (
    can_capture_cell,
    can_view_cell,
    decomposition_rows,
    indicator_values_capturable_by,
    indicator_values_review_scope,
    indicator_values_reviewable_by,
    indicator_values_visible_to,
    indicators_visible_to,
    previous_approved,
    region_plan_for,
    reporting_items,
)


def _value_actions() -> dict[str, Any]:
    return {
        "submit": lambda e, **kw: services.indicator_value_submit(value=e, **kw),
        "withdraw": lambda e, **kw: services.indicator_value_withdraw(value=e, **kw),
        "approve": lambda e, **kw: services.indicator_value_approve(value=e, **kw),
        "return": lambda e, **kw: services.indicator_value_return(value=e, **kw),
        "reopen": lambda e, **kw: services.indicator_value_reopen(value=e, **kw),
    }


def value_context(indicator: Indicator, region: Region, year: int) -> dict[str, Any]:
    """Baseline, target, last approved value and this year's expected value, shown beside the form."""
    plan = region_plan_for(indicator, region)
    previous = previous_approved(indicator, region, year)
    return {
        "indicator": indicator,
        "region": region,
        "year": year,
        "assessment": IndicatorStatus.objects.filter(
            indicator=indicator, region=region, as_of_year=indicator.plan.period_end_year
        ).first(),
        "recompute_pending": PendingSeriesRecompute.objects.filter(indicator=indicator, region=region).exists(),
        "region_plan": plan,
        "expected": plan.expected(indicator, year),
        "previous": previous,
        "deadline": deadline_for(indicator.plan, year),
    }


INDICATOR_VALUE = EntryKind(
    slug="indicator-value",
    model=IndicatorValue,
    visible=indicator_values_visible_to,
    capturable=indicator_values_capturable_by,
    review_scope=indicator_values_review_scope,
    actions=_value_actions(),
    detail_url="indicators:value-detail",
    edit_url="indicators:value-edit",
    action_url="indicators:value-action",
    evidence_url="indicators:value-evidence",
    history_fields=[
        "status",
        "value",
        "source",
        "note",
        "outlier_note",
        "approved_value",
        "review_comment",
        "revision",
    ],
    select_related=["indicator__plan", "indicator__lead_unit", "region", "created_by", "updated_by", "reviewed_by"],
    template="indicators/value_detail.html",
    extra_context=lambda e: value_context(e.indicator, e.region, e.year),
)


def _cell(user: AnyUser, indicator_pk: int, region_pk: int) -> tuple[Indicator, Region]:
    indicator = get_object_or_404(Indicator.objects.select_related("plan", "lead_unit"), pk=indicator_pk)
    region = get_object_or_404(Region, pk=region_pk)
    if not can_view_cell(user, indicator, region):
        raise Http404
    if not can_capture_cell(user, indicator, region):
        raise PermissionDenied(_("您没有填报该指标该区域数据的权限。"))
    return indicator, region


@login_required
def value_create(request: HttpRequest, indicator_pk: int, region_pk: int, year: int) -> HttpResponse:
    indicator, region = _cell(request.user, indicator_pk, region_pk)
    if year not in reportable_years(indicator.plan, timezone.localdate()):
        raise Http404(_("该规划没有可填报的 %(year)s 年度。") % {"year": year})
    existing = IndicatorValue.objects.filter(indicator=indicator, region=region, year=year).first()
    if existing is not None and request.method == "GET":
        return redirect("indicators:value-detail", existing.pk)
    form = IndicatorValueForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.indicator_value_create(
                indicator=indicator,
                region=region,
                year=year,
                data=services.IndicatorValueInput(**form.service_input()),
                user=current_user(request),
                files=form.cleaned_data.get("evidence", []),
            )
        except planning_services.DuplicateEntry as exc:
            messages.error(request, exc.messages[0])
            return HttpResponseRedirect(reverse("indicators:value-detail", args=[exc.existing.pk]))
        except NotInScope:
            raise Http404 from None
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from None
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _after_save(request, entry)
    context = {"form": form, "is_new": True, **value_context(indicator, region, year)}
    return render(request, "indicators/value_form.html", context, status=400 if form.errors else 200)


def _after_save(request: HttpRequest, entry: IndicatorValue) -> HttpResponse:
    if "submit" in request.POST:
        ok, _result = service_call(
            request, lambda: services.indicator_value_submit(value=entry, user=current_user(request))
        )
        messages.success(request, _("已保存并提交审核。") if ok else _("已保存为草稿，但未能提交。"))
    else:
        messages.success(request, _("已保存草稿。"))
    return HttpResponseRedirect(reverse("indicators:value-detail", args=[entry.pk]))


@login_required
def value_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_visible(INDICATOR_VALUE, request.user, pk)
    can = entry_permissions(INDICATOR_VALUE, entry, request.user)
    if not can["captures"]:
        raise PermissionDenied(_("您没有修改该填报的权限。"))
    if not can["edit"]:
        messages.error(request, _("该填报当前状态为“%(s)s”，不能修改。") % {"s": entry_status_label(entry)})
        return HttpResponseRedirect(reverse("indicators:value-detail", args=[pk]))
    initial = {
        "version": entry.version,
        "value": _plain(entry.value),
        "source": entry.source,
        "note": entry.note,
        "outlier_note": entry.outlier_note,
    }
    form = IndicatorValueForm(request.POST or None, request.FILES or None, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.indicator_value_update(
                entry=entry,
                version=form.cleaned_data.get("version"),
                data=services.IndicatorValueInput(**form.service_input()),
                user=current_user(request),
                files=form.cleaned_data.get("evidence", []),
            )
        except ConflictError as exc:
            current = IndicatorValue.objects.select_related("updated_by").get(pk=pk)
            conflict = {
                "message": str(exc),
                "current_version": current.version,
                "who": current.updated_by.get_full_name() or current.updated_by.get_username(),
                "when": current.updated_at,
                "values": [(_("数值"), _plain(current.value)), (_("数据来源"), current.source)],
                "mine": form.cleaned_data.get("value"),
            }
            data = form.data.copy()  # type: ignore[attr-defined]  # a QueryDict when bound from a POST
            data["version"] = str(current.version)
            form = IndicatorValueForm(data)
            form.is_valid()
        except TransitionError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("indicators:value-detail", args=[pk]))
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from None
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _after_save(request, saved)
    context = {
        "form": form,
        "entry": entry,
        "conflict": conflict,
        "status_label": entry_status_label(entry),
        **value_context(entry.indicator, entry.region, entry.year),
    }
    return render(
        request, "indicators/value_form.html", context, status=409 if conflict else (400 if form.errors else 200)
    )


@login_required
def value_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        indicator_values_visible_to(request.user)
        .select_related("indicator__plan", "region", "updated_by")
        .order_by("-year", "indicator__plan", "indicator__number", "region__order")
    )
    filterset = IndicatorValueFilterSet(request.GET or None, queryset=queryset)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(request, "indicators/value_list.html", {"filter": filterset, "page": page})


# --- landing, 我的填报, 待审核 ---------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    roles = user_roles(request.user)
    if Role.LEADER in roles:
        return redirect("dashboards:overview")
    if Role.REVIEWER in roles:
        return redirect("indicators:review")
    if Role.ENTRY in roles:
        return redirect("indicators:my-reporting")
    if Role.ADMIN in roles:
        return redirect("dashboards:overview")
    return render(request, "no_role.html", status=403)


def _plan_and_year(request: HttpRequest) -> tuple[Plan, int, list[int]]:
    """The plan and reporting year a page asks for (`?plan=&year=`): unknown plan 404, a year that cannot be
    reported 400, none given → the default plan and the year people are reporting now."""
    today = timezone.localdate()
    with request_choices():
        plan = chosen_plan(request.GET.get("plan"))
        years = reportable_years(plan, today)
        year = chosen_year(request.GET.get("year"), years=years, default=default_report_year(plan, today), plan=plan)
    return plan, year, years


STATUS_TABS = [
    ("all", "全部"),
    ("missing", "未填报"),
    (EntryStatus.DRAFT, "草稿"),
    (EntryStatus.RETURNED, "已退回"),
    (EntryStatus.SUBMITTED, "待审核"),
    (EntryStatus.APPROVED, "已通过"),
    ("overdue", "已逾期"),
]


@login_required
def my_reporting(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, Role.ENTRY):
        raise PermissionDenied(_("“我的填报”仅供填报员使用。"))
    plan, year, years = _plan_and_year(request)
    today = timezone.localdate()
    items, deadline = reporting_items(request.user, plan, year, today)
    counts = Counter(item.status for item in items)
    counts["overdue"] = sum(item.overdue for item in items)
    counts["all"] = len(items)
    tab = request.GET.get("status", "all")
    if tab == "overdue":
        shown = [i for i in items if i.overdue]
    elif tab != "all":
        shown = [i for i in items if i.status == tab]
    else:
        shown = items
    # Returned and overdue first: what needs the person's attention.
    order = {"returned": 0, "missing": 1, "draft": 2, "submitted": 3, "approved": 4}
    shown = sorted(shown, key=lambda i: (not i.overdue, order.get(i.status, 5)))
    page = Paginator(shown, 60).get_page(request.GET.get("page"))
    context = {
        "plan": plan,
        "plans": Plan.objects.order_by("-period_end_year", "code"),
        "year": year,
        "years": years,
        "deadline": deadline,
        "days_left": (deadline - today).days,
        "days_overdue": (today - deadline).days,
        "tabs": [(key, label, counts.get(key, 0)) for key, label in STATUS_TABS],
        "tab": tab,
        "page": page,
    }
    return render(request, "indicators/my_reporting.html", context)


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, Role.REVIEWER):
        raise PermissionDenied(_("“待审核”仅供审核员使用。"))
    values = list(
        indicator_values_reviewable_by(request.user)
        .select_related("indicator", "region", "submitted_by")
        .order_by("submitted_at")
    )
    progress = list(
        task_progress_reviewable_by(request.user)
        .select_related("task", "region", "submitted_by")
        .prefetch_related("amounts__target")
        .order_by("submitted_at")
    )
    return render(request, "indicators/review_queue.html", {"values": values, "progress": progress})


@login_required
@require_POST
def review_bulk_approve(request: HttpRequest) -> HttpResponse:
    """Approve a selection; each entry through the same service, each success or refusal reported."""
    if not has_role(request.user, Role.REVIEWER):
        raise PermissionDenied
    approved = 0
    for token in request.POST.getlist("selected"):
        kind_slug, _sep, raw_pk = token.partition("-")
        if parse_id(raw_pk) is None:
            continue
        kind = {"iv": INDICATOR_VALUE, "tp": TASK_PROGRESS}.get(kind_slug)
        if kind is None:
            continue
        entry = kind.visible(request.user).filter(pk=int(raw_pk)).first()
        if entry is None:
            continue
        try:
            kind.actions["approve"](entry, user=current_user(request))
            approved += 1
        except (NotInScope, NotAllowed, TransitionError, ConflictError, ValidationError) as exc:
            messages.error(request, f"{entry}：{exc}")
    if approved:
        messages.success(request, _("已审核通过 %(n)d 条。") % {"n": approved})
    elif not request.POST.getlist("selected"):
        messages.warning(request, _("请先勾选要通过的填报。"))
    return HttpResponseRedirect(reverse("indicators:review"))


# --- 指标分解 ---------------------------------------------------------------------------------------


@login_required
def decomposition_list(request: HttpRequest) -> HttpResponse:
    plan, _year, _years = _plan_and_year(request)
    indicators = list(indicators_visible_to(request.user).filter(plan=plan).order_by("number"))
    divisions = plan.area_divisions().filter(pk__in=regions_visible_to(request.user))
    counts = Counter(
        IndicatorRegionTarget.objects.filter(
            indicator__plan=plan, target_value__isnull=False, region__in=divisions
        ).values_list("indicator_id", flat=True)
    )
    regions = divisions.count()
    rows = [{"indicator": i, "decomposed": counts.get(i.pk, 0), "regions": regions} for i in indicators]
    return render(
        request,
        "indicators/decomposition_list.html",
        {"plan": plan, "plans": Plan.objects.all(), "rows": rows, "can_edit": has_role(request.user, Role.ADMIN)},
    )


@login_required
def decomposition_edit(request: HttpRequest, indicator_pk: int) -> HttpResponse:
    indicator = get_object_or_404(indicators_visible_to(request.user).select_related("plan"), pk=indicator_pk)
    can_edit = has_role(request.user, Role.ADMIN)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("只有管理员可以设置指标分解。"))
        try:
            with transaction.atomic():
                for region in indicator.plan.area_divisions():
                    try:
                        services.indicator_region_target_set(
                            indicator=indicator,
                            region=region,
                            baseline=request.POST.get(f"baseline_{region.pk}", ""),
                            target=request.POST.get(f"target_{region.pk}", ""),
                            user=current_user(request),
                        )
                    except ValidationError as exc:
                        for key, msgs in exc.message_dict.items():
                            errors.setdefault(key, []).extend(msgs)
                if errors:
                    raise ValidationError(errors)
        except ValidationError:
            messages.error(request, _("有 %(n)d 处输入有误，均未保存，请修改后重试。") % {"n": len(errors)})
        else:
            messages.success(request, _("指标分解已保存。"))
            return HttpResponseRedirect(reverse("indicators:decomposition-edit", args=[indicator.pk]))
    rows, summary = decomposition_rows(indicator, current_user(request))
    for row in rows:
        pk = row["region"].pk
        row["errors"] = errors.get(f"baseline_value_{pk}", []) + errors.get(f"target_value_{pk}", [])
        if request.method == "POST":
            row["baseline_input"] = request.POST.get(f"baseline_{pk}", "")
            row["target_input"] = request.POST.get(f"target_{pk}", "")
        else:
            own = row["own"]
            row["baseline_input"] = _plain(own.baseline_value) if own else ""
            row["target_input"] = _plain(own.target_value) if own else ""
    history = (
        IndicatorRegionTarget.history.filter(indicator_id=indicator.pk, region__in=regions_visible_to(request.user))
        .select_related("history_user", "region")
        .order_by("-history_date")[:50]
    )
    context = {
        "indicator": indicator,
        "rows": rows,
        "summary": summary,
        "can_edit": can_edit,
        "history": history,
    }
    return render(request, "indicators/decomposition_edit.html", context, status=400 if errors else 200)


# --- notifications ---------------------------------------------------------------------------------


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if request.method == "POST":
        # Mark read: a conditional update, so marking twice changes nothing.
        Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
        messages.success(request, _("已全部标为已读。"))
        return HttpResponseRedirect(reverse("indicators:notifications"))
    page = Paginator(Notification.objects.filter(user=user).select_related("unit"), 20).get_page(
        request.GET.get("page")
    )
    return render(request, "indicators/notifications.html", {"page": page})


# --- Excel and reports ------------------------------------------------------------------------------


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _export_scope(request: HttpRequest) -> tuple[Plan, int, list[Indicator], list[Region]]:
    plan, year, _years = _plan_and_year(request)
    indicators = list(
        indicators_visible_to(request.user).filter(plan=plan).select_related("lead_unit").order_by("number")
    )
    regions = list(plan_regions_visible_to(request.user, plan))
    return plan, year, indicators, regions


@login_required
def excel_page(request: HttpRequest) -> HttpResponse:
    plan, year, years = _plan_and_year(request)
    user = current_user(request)
    from planning.models import Unit

    from .models import ImportBatch

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
    return render(request, "indicators/excel.html", context)


def user_scope_units(user: Any) -> list[int]:
    from planning.selectors import user_scope

    return sorted(user_scope(user).units)


def regions_for_entry(user: Any, plan: Plan) -> list[Region]:
    from .selectors import regions_capturable_by

    return list(regions_capturable_by(user).filter(pk__in=plan.area_regions()).order_by("order"))


@login_required
def excel_template(request: HttpRequest) -> HttpResponse:
    from .excel import build_template

    user = current_user(request)
    if not has_role(user, Role.ENTRY):
        raise PermissionDenied(_("只有填报员可以下载填报模板。"))
    plan, year, _years = _plan_and_year(request)
    unit_id = parse_id(request.GET.get("unit", ""))
    region_id = parse_id(request.GET.get("region", ""))
    content = build_template(user=user, plan=plan, year=year, unit_id=unit_id, region_id=region_id)
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = _attachment(f"填报模板-{plan.short_title}-{year}年.xlsx")
    return response


def _attachment(filename: str) -> str:
    from urllib.parse import quote

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
            return HttpResponseRedirect(reverse("indicators:excel"))
        batch = services.import_check(user=current_user(request), upload=upload)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    return HttpResponseRedirect(reverse("indicators:import-detail", args=[batch.pk]))


def _my_batch(request: HttpRequest, pk: int) -> Any:
    from .models import ImportBatch

    return get_object_or_404(ImportBatch, pk=pk, user=current_user(request))


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _my_batch(request, pk)
    summary = batch.summary
    context = {
        "batch": batch,
        "counts": summary.get("counts", {}),
        "changes": summary.get("changes", []),
        "errors": summary.get("errors", []),
    }
    return render(request, "indicators/import_detail.html", context)


@login_required
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _my_batch(request, pk)
    ok, _result = service_call(request, lambda: services.import_confirm(batch=batch, user=current_user(request)))
    if ok:
        batch.refresh_from_db()
        if batch.state == "done":
            messages.success(request, _("已导入为草稿，请在“我的填报”中检查并提交审核。"))
    return HttpResponseRedirect(reverse("indicators:import-detail", args=[batch.pk]))


@login_required
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    from django.core.cache import cache
    from django.http import JsonResponse

    batch = _my_batch(request, pk)
    progress = cache.get(services.import_progress_key(batch.pk)) or {
        "done": 0,
        "total": len(batch.summary.get("changes", [])),
    }
    return JsonResponse({"state": batch.state, "state_label": batch.get_state_display(), **progress})


@login_required
def excel_export(request: HttpRequest, fmt: str) -> HttpResponse:
    from .excel import export_status_csv, export_status_xlsx

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
    from planning.models import Responsibility, ResponsibilityRole, TaskStatus
    from planning.selectors import tasks_visible_to

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


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    from planning.roles import views_everything

    from .models import Report, ReportKind

    user = current_user(request)
    if not views_everything(user):
        raise PermissionDenied(_("评估报告只供领导和管理员使用。"))
    plan, year, _years = _plan_and_year(request)
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
            messages.success(request, _("已开始生成“%(report)s”，完成后可在下方下载。") % {"report": report})
        return HttpResponseRedirect(reverse("indicators:reports"))
    context = {
        "plans": Plan.objects.exclude(region__isnull=True).order_by("-period_end_year", "code"),
        "plan": plan,
        "year": year,
        "all_years": list(plan.years),
        "kinds": ReportKind.choices,
        "reports": Report.objects.select_related("plan", "requested_by")[:30],
    }
    return render(request, "indicators/reports.html", context)


@login_required
def report_download(request: HttpRequest, pk: int) -> FileResponse:
    from planning.roles import views_everything

    from .models import Report, ReportState

    if not views_everything(current_user(request)):
        raise PermissionDenied
    report = get_object_or_404(Report, pk=pk, state=ReportState.DONE)
    return FileResponse(
        report.file.open("rb"),
        as_attachment=True,
        filename=report.filename,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
