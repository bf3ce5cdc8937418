"""Seams shared by every app's pages: the site's home, and how a page answers a choice it cannot honour."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from config.security import ChoiceRefused
from planning.models import Plan, Role
from planning.roles import user_roles
from planning.selectors import chosen_plan, chosen_year, default_report_year, reportable_years
from planning.workflow import NotInScope


@contextmanager
def request_choices() -> Iterator[None]:
    """Plan, region and year read from a page's URL: out of scope → 404 (as if it did not exist), a bad value → 400
    with the selectors' Chinese message (the API answers the same exceptions the same way, config.api)."""
    try:
        yield
    except NotInScope:
        raise Http404 from None
    except ValidationError as exc:
        raise ChoiceRefused("；".join(exc.messages)) from None


def reporting_plan_and_year(request: HttpRequest) -> tuple[Plan, int, list[int]]:
    """The plan and reporting year a page asks for (`?plan=&year=`): unknown plan 404, a year that cannot be
    reported 400, none given → the default plan and the year people are reporting now."""
    today = timezone.localdate()
    with request_choices():
        plan = chosen_plan(request.GET.get("plan"))
        years = reportable_years(plan, today)
        year = chosen_year(request.GET.get("year"), years=years, default=default_report_year(plan, today), plan=plan)
    return plan, year, years


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each person lands where their work is: leaders and administrators on the overview, reviewers on 待审核,
    entry staff on 我的填报."""
    roles = user_roles(request.user)
    if Role.LEADER in roles:
        return redirect("dashboards:overview")
    if Role.REVIEWER in roles:
        return redirect("workbench:review")
    if Role.ENTRY in roles:
        return redirect("workbench:my-reporting")
    if Role.ADMIN in roles:
        return redirect("dashboards:overview")
    return render(request, "no_role.html", status=403)
