"""Pages for task progress: its declaration for the shared entry pages (planning.entry_views) and its list.

Views only translate HTTP to service calls: scope and workflow rules live in the services and selectors.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from config.filters import parse_id
from regions.models import Region

from .entry_views import EntryPages, entry_create
from .filtersets import TaskProgressFilterSet
from .forms import TaskProgressForm
from .models import Task, TaskProgress, TaskTargetValue
from .progress import TASK_PROGRESS
from .selectors import (
    AnyUser,
    deadline_for,
    reportable_years,
    task_progress_visible_to,
    tasks_capturable_by,
    tasks_visible_to,
)
from .templatetags.plan_tags import plain

TASK_PROGRESS_PAGES = EntryPages(
    kind=TASK_PROGRESS,
    detail_url="planning:progress-detail",
    edit_url="planning:progress-edit",
    action_url="planning:progress-action",
    evidence_url="planning:progress-evidence",
    template="planning/progress_detail.html",
    form_template="planning/progress_form.html",
    form_class=TaskProgressForm,
    context=lambda task, year, region, progress: task_progress_context(task, year, region, progress),
    form_kwargs=lambda task: {"task": task},
    initial=lambda progress: {
        "narrative": progress.narrative,
        "problems": progress.problems,
        "next_steps": progress.next_steps,
        "percent": plain(progress.percent),
        "passed": {True: "yes", False: "no"}.get(progress.passed, ""),
        **{f"amount_{row.target_id}": plain(row.amount) for row in progress.amounts.all()},
    },
    conflict_values=lambda current: [
        (_("工作进展"), current.narrative),
        *[
            (label, text)
            for label, text in ((_("存在问题"), current.problems), (_("下步打算"), current.next_steps))
            if text
        ],
        *([(_("完成百分比"), plain(current.percent))] if current.percent is not None else []),
        *[(row.target.label, plain(row.amount)) for row in current.amounts.select_related("target")],
    ],
)


def task_progress_context(
    task: Task, year: int, region: Region | None, progress: TaskProgress | None
) -> dict[str, Any]:
    """What the person entering or reviewing needs beside the form: targets, totals so far, the deadline."""
    earlier = (
        TaskTargetValue.objects.filter(progress__task=task, progress__year__lt=year, approved_amount__isnull=False)
        .values("target_id")
        .annotate(total=Sum("approved_amount"))
    )
    before = {row["target_id"]: row["total"] for row in earlier}
    current = {row.target_id: row.amount for row in progress.amounts.all()} if progress else {}
    rows = []
    for target in task.quantity_targets:
        so_far = before.get(target.pk)
        this_year = current.get(target.pk)
        cumulative = (so_far or 0) + (this_year or 0) if target.kind == "cumulative" else None
        rows.append({"target": target, "before": so_far, "this_year": this_year, "cumulative": cumulative})
    return {
        "task": task,
        "year": year,
        "region": region,
        "target_rows": rows,
        "milestone": task.milestone_target,
        "deadline": deadline_for(task.plan, year),
        "responsibilities": list(task.responsibilities.select_related("unit").order_by("order")),
    }


def _task_for_form(user: AnyUser, task_pk: int) -> Task:
    queryset = (
        tasks_visible_to(user).select_related("plan", "column", "initiative").prefetch_related("targets__regions")
    )
    return get_object_or_404(queryset, pk=task_pk)


@login_required
def progress_create(request: HttpRequest, task_pk: int, year: int) -> HttpResponse:
    task = _task_for_form(request.user, task_pk)
    if year not in reportable_years(task.plan, timezone.localdate()):
        raise Http404(_("该规划没有可填报的 %(year)s 年度。") % {"year": year})
    if not tasks_capturable_by(request.user).filter(pk=task.pk).exists():
        raise PermissionDenied(_("您没有填报该任务的权限。"))
    raw_region = request.GET.get("region") or request.POST.get("region")
    region = get_object_or_404(Region, pk=parse_id(raw_region) or 0) if raw_region else None
    return entry_create(request, TASK_PROGRESS_PAGES, task, region, year)


@login_required
def progress_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        task_progress_visible_to(request.user)
        .select_related("task__plan", "task__column", "region", "updated_by")
        .order_by("-year", "task__plan", "task__order", "region__order")
    )
    filterset = TaskProgressFilterSet(request.GET or None, queryset=queryset)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(request, "planning/progress_list.html", {"filter": filterset, "page": page})
