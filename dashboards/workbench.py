"""The person's own workbench: 我的填报 (what is due), 待审核 (what waits for review) and 通知."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.filters import SEARCH_MAX_CHARS, parse_search
from config.views import reporting_plan_and_year, request_choices
from indicators.models import Indicator
from indicators.selectors import indicators_visible_to, reporting_items
from indicators.values import INDICATOR_VALUE
from planning.entries import entry_transition
from planning.entry_views import current_user, safe_next
from planning.filtersets import NotificationFilterSet
from planning.forms import NotificationPreferencesForm
from planning.models import Plan, Role, Task
from planning.notifications import notification_preferences_set, notifications_mark_read
from planning.progress import TASK_PROGRESS
from planning.roles import has_role
from planning.selectors import (
    chosen_in,
    chosen_region,
    notification_email_choices,
    notifications_of,
    regions_visible_to,
    tasks_visible_to,
)
from planning.workflow import ConflictError, NotAllowed, NotInScope, TransitionError
from regions.models import Region

from .workbench_selectors import (
    QUEUE_KINDS,
    REPORTING_TABS,
    Choice,
    QueueFilters,
    ReportingFilters,
    bulk_selection,
    filter_reporting_items,
    reporting_choices,
    reporting_tab,
    reporting_tab_counts,
    review_queue_choices,
    review_queue_keys,
    review_queue_querysets,
    review_rows,
)

REPORTING_PER_PAGE = 60
REVIEW_PER_PAGE = 50


def _query(params: dict[str, object]) -> str:
    """A page's filters as a query string, empty ones left out."""
    return urlencode({k: v for k, v in params.items() if v not in ("", None)})


def _offered(choices: list[Choice], chosen: Indicator | Region | Task | None, label: str) -> list[Choice]:
    """A chosen filter the lists have nothing for (in view, nothing to do) stays on offer, so the form shows it."""
    if chosen is None or any(pk == chosen.pk for pk, _label in choices):
        return choices
    return [*choices, (chosen.pk, label)]


def _filter_choices(choices: Any, filters: Any) -> dict[str, Any]:
    """The filter form's choices, shared by 我的填报 and 待审核: what the lists offer, plus a chosen one they lack."""
    return {
        "indicator_choices": _offered(
            choices.indicators, filters.indicator, str(filters.indicator.name if filters.indicator else "")
        ),
        "region_choices": _offered(choices.regions, filters.region, filters.region.name if filters.region else ""),
        "task_choices": _offered(choices.tasks, filters.task, str(filters.task or "")),
        "search_max": SEARCH_MAX_CHARS,
    }


@login_required
def my_reporting(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, Role.ENTRY):
        raise PermissionDenied(_("“我的填报”仅供填报员使用。"))
    user = request.user
    plan, year, years = reporting_plan_and_year(request)
    with request_choices():
        raw_region = request.GET.get("region")
        filters = ReportingFilters(
            indicator=chosen_in(
                indicators_visible_to(user), request.GET.get("indicator"), field="indicator", label=_("指标")
            ),
            region=chosen_region(user, plan, raw_region) if raw_region else None,
            task=chosen_in(tasks_visible_to(user), request.GET.get("task"), field="task", label=_("任务")),
            overdue=request.GET.get("overdue") == "1",
            q=parse_search(request.GET.get("q")),
        )
    today = timezone.localdate()
    items, deadline = reporting_items(user, plan, year, today)
    filtered = filter_reporting_items(items, filters, plan)
    counts = reporting_tab_counts(filtered)
    tab = request.GET.get("status", "all")
    tab = tab if tab in counts else "all"
    page = Paginator(reporting_tab(filtered, tab), REPORTING_PER_PAGE).get_page(request.GET.get("page"))
    choices = reporting_choices(items, plan)
    chosen = {
        "plan": plan.pk,
        "year": year,
        "indicator": filters.indicator.pk if filters.indicator else "",
        "region": filters.region.pk if filters.region else "",
        "task": filters.task.pk if filters.task else "",
        "overdue": "1" if filters.overdue else "",
        "q": filters.q,
    }
    context = {
        "plan": plan,
        "plans": Plan.objects.order_by("-period_end_year", "code"),
        "year": year,
        "years": years,
        "deadline": deadline,
        "days_left": (deadline - today).days,
        "days_overdue": (today - deadline).days,
        "tabs": [(key, label, counts[key], "?" + _query({**chosen, "status": key})) for key, label in REPORTING_TABS],
        "tab": tab,
        "page": page,
        "filters": filters,
        "filtered": bool(filters.indicator or filters.region or filters.task or filters.overdue or filters.q),
        **_filter_choices(choices, filters),
    }
    return render(request, "dashboards/my_reporting.html", context)


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, Role.REVIEWER):
        raise PermissionDenied(_("“待审核”仅供审核员使用。"))
    user = request.user
    kind = request.GET.get("kind", "")
    with request_choices():
        filters = QueueFilters(
            kind=kind if kind in dict(QUEUE_KINDS) else "",  # an unknown kind is ignored, as on the dashboards
            indicator=chosen_in(
                indicators_visible_to(user), request.GET.get("indicator"), field="indicator", label=_("指标")
            ),
            region=chosen_in(regions_visible_to(user), request.GET.get("region"), field="region", label=_("区域")),
            task=chosen_in(tasks_visible_to(user), request.GET.get("task"), field="task", label=_("任务")),
            q=parse_search(request.GET.get("q")),
        )
    # Both kinds under the other filters, so each kind's tab counts exactly the list it shows.
    keys = review_queue_keys(*review_queue_querysets(user, replace(filters, kind="")))
    counts = {"": len(keys), "indicator": sum(k == "iv" for k, _pk in keys)}
    counts["task"] = counts[""] - counts["indicator"]
    if filters.kind:
        keys = [key for key in keys if key[0] == ("iv" if filters.kind == "indicator" else "tp")]
    page = Paginator(keys, REVIEW_PER_PAGE).get_page(request.GET.get("page"))
    rows = review_rows(user, list(page.object_list), timezone.now())
    choices = review_queue_choices(user)
    chosen = {
        "indicator": filters.indicator.pk if filters.indicator else "",
        "region": filters.region.pk if filters.region else "",
        "task": filters.task.pk if filters.task else "",
        "q": filters.q,
    }
    context = {
        "rows": rows,
        "outliers": [row for row in rows if row.outlier_note],
        "page": page,
        "counts": counts,
        "kind_tabs": [
            (key, label, counts[key], "?" + _query({**chosen, "kind": key}))
            for key, label in [("", _("全部")), *QUEUE_KINDS]
        ],
        "filters": filters,
        "filtered": bool(filters.indicator or filters.region or filters.task or filters.q),
        **_filter_choices(choices, filters),
    }
    return render(request, "dashboards/review_queue.html", context)


@login_required
@require_POST
def review_bulk_approve(request: HttpRequest) -> HttpResponse:
    """Approve a selection; each entry through the same service, each success or refusal reported. A value with an
    outlier note (异常值确认说明) is approved only when the reviewer ticked 已核对异常值说明 for it in the form."""
    if not has_role(request.user, Role.REVIEWER):
        raise PermissionDenied
    selected = request.POST.getlist("selected")
    chosen, unconfirmed = bulk_selection(request.user, selected, request.POST.getlist("confirm_outlier"))
    kinds = {"iv": INDICATOR_VALUE, "tp": TASK_PROGRESS}
    approved = 0
    for slug, entry in chosen:
        try:
            entry_transition(kinds[slug], entry, "approve", user=current_user(request))
            approved += 1
        except (NotInScope, NotAllowed, TransitionError, ConflictError, ValidationError) as exc:
            messages.error(request, f"{entry}：{exc}")
    if unconfirmed:
        messages.warning(
            request,
            _("以下填报含异常值说明，未确认，未通过：%(entries)s。请核对说明后勾选“已核对异常值说明”。")
            % {"entries": "；".join(str(entry) for entry in unconfirmed)},
        )
    if approved:
        messages.success(request, _("已审核通过 %(n)d 条。") % {"n": approved})
    elif not selected:
        messages.warning(request, _("请先勾选要通过的填报。"))
    home = reverse("workbench:review")
    back = safe_next(request, home)
    return HttpResponseRedirect(back if back.startswith(home) else home)


# --- notifications ---------------------------------------------------------------------------------

NOTIFICATIONS_PER_PAGE = 20
# A longer body (a daily digest lists every flag) shows its start, the rest behind 展开全文.
PREVIEW_LINES, PREVIEW_CHARS = 4, 240


def body_preview(body: str) -> str | None:
    """The start of a long body, or None when it is short enough to show whole."""
    lines = body.strip().splitlines()
    if len(lines) <= PREVIEW_LINES and len(body) <= PREVIEW_CHARS:
        return None
    return "\n".join(lines[:PREVIEW_LINES])[:PREVIEW_CHARS].rstrip()


def same_site_path(link: str) -> str | None:
    """A notification's link as a path on this site, or None. Links are written as paths; anything that would
    leave the site (a scheme, another host, "//host", "/\\host") is refused rather than followed."""
    if link.startswith("/") and url_has_allowed_host_and_scheme(link, allowed_hosts=None):
        return link
    return None


def notifications_back(request: HttpRequest) -> str:
    """Where a button on the 通知 page returns to: the list as the person left it (filters, page), nowhere else."""
    home = reverse("workbench:notifications")
    target = same_site_path(request.POST.get("next", ""))
    return target if target is not None and target.startswith(home) else home


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if request.method == "POST":
        marked = notifications_mark_read(user=user)
        messages.success(request, _("已将 %(n)d 条通知标为已读。") % {"n": marked} if marked else _("没有未读通知。"))
        return HttpResponseRedirect(notifications_back(request))
    mine = notifications_of(user)
    filterset = NotificationFilterSet(request.GET or None, queryset=mine.select_related("unit"))
    page = Paginator(filterset.qs, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    chosen = filterset.form.cleaned_data if filterset.is_bound else {}
    kind, unread = chosen.get("kind") or "", chosen.get("unread") or ""
    counts = (mine.filter(kind=kind) if kind else mine).aggregate(
        total=Count("pk"), unread=Count("pk", filter=Q(read_at__isnull=True))
    )
    tabs = [
        (value, label, n, "?" + urlencode({k: v for k, v in (("unread", value), ("kind", kind)) if v}))
        for value, label, n in (("", _("全部"), counts["total"]), ("true", _("未读"), counts["unread"]))
    ]
    context = {
        "filter": filterset,
        "page": page,
        "rows": [(n, body_preview(n.body)) for n in page],
        "tabs": tabs,
        "unread": unread,
        "kind": kind,
        "here": request.get_full_path(),
    }
    return render(request, "dashboards/notifications.html", context)


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    notification = get_object_or_404(notifications_of(user), pk=pk)
    notifications_mark_read(user=user, ids=[notification.pk])
    messages.success(request, _("已标为已读。"))
    return HttpResponseRedirect(notifications_back(request))


@login_required
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """查看: mark it read, then go to its page (a path on this site only; any other link is refused)."""
    user = current_user(request)
    notification = get_object_or_404(notifications_of(user), pk=pk)
    notifications_mark_read(user=user, ids=[notification.pk])
    target = same_site_path(notification.link)
    if target is None:
        messages.warning(request, _("该通知没有可打开的本站页面，已标为已读。"))
        return HttpResponseRedirect(notifications_back(request))
    return HttpResponseRedirect(target)


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if request.method == "POST":
        form = NotificationPreferencesForm(request.POST)
        if form.is_valid():
            try:
                notification_preferences_set(user=user, email_by_kind=form.email_by_kind())
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("邮件通知设置已保存。"))
                return HttpResponseRedirect(reverse("workbench:notification-settings"))
    else:
        form = NotificationPreferencesForm(
            initial=NotificationPreferencesForm.initial_from(notification_email_choices(user))
        )
    return render(request, "dashboards/notification_settings.html", {"form": form, "email": user.email})
