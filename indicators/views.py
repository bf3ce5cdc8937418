"""Pages for indicator values, 我的填报, 待审核 and 指标分解."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from config.views import reporting_plan_and_year
from planning.entry_views import EntryPages, current_user, entry_create
from planning.models import Plan, Role
from planning.roles import has_role
from planning.selectors import (
    AnyUser,
    deadline_for,
    regions_visible_to,
    reportable_years,
)
from planning.templatetags.plan_tags import plain
from regions.models import Region

from . import services
from .filtersets import IndicatorValueFilterSet
from .forms import IndicatorValueForm
from .models import (
    Indicator,
    IndicatorRegionTarget,
    IndicatorStatus,
    PendingSeriesRecompute,
)
from .selectors import (
    can_capture_cell,
    can_view_cell,
    decomposition_rows,
    indicator_values_visible_to,
    indicators_visible_to,
    previous_approved,
    region_plan_for,
)
from .values import INDICATOR_VALUE


def value_context(indicator: Indicator, region: Region | None, year: int) -> dict[str, Any]:
    """Baseline, target, last approved value and this year's expected value, shown beside the form."""
    assert region is not None  # an indicator value always has its region
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


INDICATOR_VALUE_PAGES = EntryPages(
    kind=INDICATOR_VALUE,
    detail_url="indicators:value-detail",
    edit_url="indicators:value-edit",
    action_url="indicators:value-action",
    evidence_url="indicators:value-evidence",
    template="indicators/value_detail.html",
    form_template="indicators/value_form.html",
    form_class=IndicatorValueForm,
    context=lambda indicator, year, region, entry: value_context(indicator, region, year),
    form_kwargs=lambda indicator: {},
    initial=lambda entry: {
        "value": plain(entry.value),
        "source": entry.source,
        "note": entry.note,
        "outlier_note": entry.outlier_note,
    },
    conflict_values=lambda current: [(_("数值"), plain(current.value)), (_("数据来源"), current.source)],
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
    return entry_create(request, INDICATOR_VALUE_PAGES, indicator, region, year)


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


# --- the plan and year a page asks for ----------------------------------------------------------------


# --- 指标分解 ---------------------------------------------------------------------------------------


@login_required
def decomposition_list(request: HttpRequest) -> HttpResponse:
    plan, _year, _years = reporting_plan_and_year(request)
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
            row["baseline_input"] = plain(own.baseline_value) if own else ""
            row["target_input"] = plain(own.target_value) if own else ""
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
