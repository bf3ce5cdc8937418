"""The person's own workbench: 我的填报 (what is due), 待审核 (what waits for review) and 通知."""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.filters import parse_id
from config.views import reporting_plan_and_year
from indicators.selectors import indicator_values_reviewable_by, reporting_items
from indicators.values import INDICATOR_VALUE
from planning.entries import entry_transition
from planning.entry_views import current_user
from planning.models import EntryStatus, Notification, Plan, Role
from planning.notifications import notifications_mark_read
from planning.progress import TASK_PROGRESS
from planning.roles import has_role
from planning.selectors import task_progress_reviewable_by
from planning.workflow import ConflictError, NotAllowed, NotInScope, TransitionError

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
    plan, year, years = reporting_plan_and_year(request)
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
    return render(request, "dashboards/my_reporting.html", context)


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
    return render(request, "dashboards/review_queue.html", {"values": values, "progress": progress})


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
            entry_transition(kind, entry, "approve", user=current_user(request))
            approved += 1
        except (NotInScope, NotAllowed, TransitionError, ConflictError, ValidationError) as exc:
            messages.error(request, f"{entry}：{exc}")
    if approved:
        messages.success(request, _("已审核通过 %(n)d 条。") % {"n": approved})
    elif not request.POST.getlist("selected"):
        messages.warning(request, _("请先勾选要通过的填报。"))
    return HttpResponseRedirect(reverse("workbench:review"))


# --- notifications ---------------------------------------------------------------------------------


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if request.method == "POST":
        notifications_mark_read(user=user)
        messages.success(request, _("已全部标为已读。"))
        return HttpResponseRedirect(reverse("workbench:notifications"))
    page = Paginator(Notification.objects.filter(user=user).select_related("unit"), 20).get_page(
        request.GET.get("page")
    )
    return render(request, "dashboards/notifications.html", {"page": page})
