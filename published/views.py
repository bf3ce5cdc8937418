"""Pages of published figures: 对标 (Leshan beside its peers) and adopting a Leshan figure as a draft.

Published figures are public: every signed-in person sees them. Indicators and approved values beside them are read
through the indicators' selectors, scoped to the person.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.views import request_choices
from planning.entries import DuplicateEntry
from planning.entry_views import current_user
from planning.models import Plan
from planning.selectors import chosen_plan
from planning.workflow import NotAllowed, NotInScope

from .selectors import benchmark_for, published_figures_visible_to
from .services import figure_adopt_as_draft


@login_required
def benchmark(request: HttpRequest) -> HttpResponse:
    """对标: for each plan indicator with figures, Leshan's approved values and figures beside each peer's, by year."""
    with request_choices():
        plan = chosen_plan(request.GET.get("plan"))
    items = benchmark_for(request.user, plan)
    context = {
        "plan": plan,
        "plans": list(Plan.objects.exclude(region__isnull=True).order_by("-period_end_year", "code")),
        "items": items,
        "charts": [(f"data-benchmark-{item.indicator.pk}", item.chart) for item in items],
    }
    return render(request, "published/benchmark.html", context)


@login_required
@require_POST
def figure_adopt(request: HttpRequest, pk: int) -> HttpResponse:
    """采用为填报草稿: a new indicator-value draft from a Leshan figure, for a person who captures that cell."""
    figure = get_object_or_404(published_figures_visible_to(request.user).select_related("indicator"), pk=pk)
    try:
        entry = figure_adopt_as_draft(figure=figure, user=current_user(request))
    except NotInScope:
        raise Http404 from None
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    except DuplicateEntry as exc:
        messages.error(request, exc.messages[0])
        return HttpResponseRedirect(reverse("indicators:value-detail", args=[exc.existing.pk]))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        if figure.indicator is None:
            return HttpResponseRedirect(reverse("published:benchmark"))
        query = urlencode({"plan": figure.indicator.plan_id, "region": figure.region_id or ""})
        return HttpResponseRedirect(f"{reverse('dashboards:indicator', args=[figure.indicator.pk])}?{query}")
    messages.success(request, _("已根据公开报道新建填报草稿，请核对后提交审核。"))
    return HttpResponseRedirect(reverse("indicators:value-detail", args=[entry.pk]))
