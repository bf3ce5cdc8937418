"""The public pages (政务公开): anonymous, read-only and cached.

Every plan that has started (实施中 or ended) and whose `Plan.public_page` is ticked shows its indicators with
baseline, target, the latest approved value and the city's stored status, the tasks of its 专栏 with their stored
status, a chart per indicator and the published figures (公开数据) with their sources. Nothing else: no drafts,
submitted or returned entries (only `approved_value` and stored statuses are read), no staff names or accounts, no
evidence. The pages are rendered without the request's context (so no user, session or CSRF token can reach them)
and cached per plan under config.caching.status_version(), so a recompute that changes statuses drops them.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from config.caching import cached_public_page, status_changed
from indicators.charts import trajectory_chart
from indicators.models import IndicatorValue
from indicators.selectors import demo_present, indicators_with_assessment
from planning.assessment import DISPLAY_LABELS, display_status
from planning.models import Plan, PlanState, Task
from planning.selectors import AnnotatedAssessment, tasks_with_assessment

from .models import PublishedFigure

# Browsers and proxies may keep a public page this long; the server's own cache is config.caching's.
PUBLIC_MAX_AGE = 60


def public_plans(today: datetime.date | None = None) -> QuerySet[Plan]:
    """Plans on the public page: ticked by the administrators, tracked (not a 草稿) and already started."""
    year = (today or timezone.localdate()).year
    return (
        Plan.objects.filter(public_page=True, period_start_year__lte=year)
        .exclude(state=PlanState.DRAFT)
        .select_related("region")
    )


def _public_response(body: str) -> HttpResponse:
    response = HttpResponse(body)
    response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return response


def _status(status: str | None, latest_year: int | None, target_year: int) -> tuple[str, str]:
    display = display_status(status, latest_year, target_year)
    return display, DISPLAY_LABELS[display]


def _or(stored: Decimal | None, declared: Decimal | None) -> Decimal | None:
    return stored if stored is not None else declared


def _indicator_rows(plan: Plan) -> list[dict[str, Any]]:
    indicators = list(
        indicators_with_assessment(plan.indicators.order_by("number"), region_id=plan.region_id).select_related(
            "column"
        )
    )
    # Approved values only: `approved_value` is what a reviewer passed (a later draft or resubmission never shows).
    approved: dict[int, dict[int, Decimal]] = {}
    values = IndicatorValue.objects.filter(
        indicator__plan=plan,
        region_id=plan.region_id or 0,
        approved_value__isnull=False,
        year__lte=plan.period_end_year,
    ).values_list("indicator_id", "year", "approved_value")
    for indicator_id, year, value in values:
        if value is not None:
            approved.setdefault(indicator_id, {})[year] = value
    rows = []
    for indicator in indicators:
        assessment = AnnotatedAssessment.of(indicator)
        own = approved.get(indicator.pk, {})
        latest_year = max(own) if own else None
        display, label = _status(assessment.status, assessment.latest_year, indicator.target_year)
        rows.append(
            {
                "indicator": indicator,
                "baseline": assessment.baseline_value
                if assessment.baseline_value is not None
                else indicator.baseline_value,
                "target": assessment.target_value if assessment.target_value is not None else indicator.target_value,
                "latest_value": own[latest_year] if latest_year is not None else None,
                "latest_year": latest_year,
                "completion": assessment.completion,
                "display": display,
                "label": label,
                "chart_id": f"public-chart-{indicator.pk}",
                "chart": trajectory_chart(
                    indicator,
                    baseline=_or(assessment.baseline_value, indicator.baseline_value),
                    target=_or(assessment.target_value, indicator.target_value),
                    approved=own,
                    with_forecast=False,
                ),
            }
        )
    return rows


def _column_rows(plan: Plan) -> list[dict[str, Any]]:
    tasks = tasks_with_assessment(
        Task.objects.filter(plan=plan, column__isnull=False)
        .select_related("column")
        .order_by("column__number", "order")
    )
    columns: dict[int, dict[str, Any]] = {}
    for task in tasks:
        assert task.column is not None
        column = columns.setdefault(task.column.pk, {"column": task.column, "tasks": []})
        assessment = AnnotatedAssessment.of(task)
        display, label = _status(assessment.status, assessment.latest_year, plan.period_end_year)
        column["tasks"].append({"task": task, "display": display, "label": label, "completion": assessment.completion})
    return list(columns.values())


def _figures(plan: Plan) -> list[PublishedFigure]:
    return list(
        PublishedFigure.objects.filter(Q(indicator__plan=plan) | Q(task_target__task__plan=plan))
        .distinct()
        .order_by("-region_id", "subject", "year", "measure")
    )


def _render_list() -> str:
    plans = list(public_plans())
    context = {
        # The plan's own state (planning.lifecycle), as on every other page of the plan.
        "plans": [(plan, plan.get_state_display()) for plan in plans],
        "demo_data": demo_present(),
    }
    return render_to_string("public/plan_list.html", context)


def _render_plan(plan: Plan) -> str:
    context = {
        "plan": plan,
        "phase": plan.get_state_display(),
        "rows": _indicator_rows(plan),
        "columns": _column_rows(plan),
        "figures": _figures(plan),
        "demo_data": demo_present(),
    }
    return render_to_string("public/plan_detail.html", context)


def plan_list(request: HttpRequest) -> HttpResponse:
    return _public_response(cached_public_page("list", _render_list))


def plan_detail(request: HttpRequest, code: str) -> HttpResponse:
    # The hot path is one cache read; only a miss asks the database (so an unknown code is never cached).
    # A plan saved in the admin (e.g. `public_page` unticked) moves the status version on: see `plan_saved`.
    def render() -> str:
        plan = public_plans().filter(code=code).first()
        if plan is None:
            raise Http404("no such public plan")
        return _render_plan(plan)

    return _public_response(cached_public_page(f"plan:{code}", render))


def plan_saved(sender: type[Plan], instance: Plan, **kwargs: Any) -> None:
    """A plan changed (ticked or unticked for the public page, renamed, re-dated): its cached pages are stale."""
    status_changed()
