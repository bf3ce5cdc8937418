"""Pages for task progress, and the generic entry pages (detail, actions, evidence) both entry kinds use.

Views only translate HTTP to service calls: scope and workflow rules live in the services and selectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.filters import parse_id
from regions.models import Region

from . import services
from .filtersets import TaskProgressFilterSet
from .forms import ReturnForm, TaskProgressForm
from .models import EntryStatus, ReviewedEntry, Task, TaskProgress, TaskTargetValue
from .selectors import (
    AnyUser,
    deadline_for,
    entry_history,
    reportable_years,
    task_progress_capturable_by,
    task_progress_review_scope,
    task_progress_visible_to,
    tasks_capturable_by,
    tasks_visible_to,
)
from .workflow import ConflictError, NotAllowed, NotInScope, TransitionError, exclude_own


@dataclass(frozen=True)
class EntryKind:
    """Everything the generic entry pages need to know about one kind of entry."""

    slug: str
    model: type[ReviewedEntry]
    visible: Callable[[AnyUser], QuerySet[Any]]
    capturable: Callable[[AnyUser], QuerySet[Any]]
    review_scope: Callable[[AnyUser], QuerySet[Any]]
    actions: dict[str, Callable[..., Any]]
    detail_url: str
    edit_url: str
    action_url: str
    evidence_url: str
    history_fields: list[str]
    template: str
    extra_context: Callable[[Any], dict[str, Any]]
    select_related: list[str] = field(default_factory=list)


def current_user(request: HttpRequest) -> User:
    """The signed-in user of a view behind @login_required."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def entry_status_label(entry: ReviewedEntry) -> str:
    if entry.is_correction:
        return _("更正中（第%(n)s版，%(status)s）") % {"n": entry.revision, "status": entry.get_status_display()}
    return entry.get_status_display()


def entry_permissions(kind: EntryKind, entry: ReviewedEntry, user: AnyUser) -> dict[str, bool]:
    captures = kind.capturable(user).filter(pk=entry.pk).exists()
    reviews = exclude_own(kind.review_scope(user).filter(pk=entry.pk), user).exists()
    status = entry.status
    return {
        "edit": captures and status in (EntryStatus.DRAFT, EntryStatus.RETURNED),
        "submit": captures and status in (EntryStatus.DRAFT, EntryStatus.RETURNED),
        "withdraw": captures and status == EntryStatus.SUBMITTED,
        "reopen": captures and status == EntryStatus.APPROVED,
        "approve": reviews and status == EntryStatus.SUBMITTED,
        "return": reviews and status == EntryStatus.SUBMITTED,
        "captures": captures,
    }


def get_visible(kind: EntryKind, user: AnyUser, pk: int) -> Any:
    queryset = kind.visible(user).select_related(*kind.select_related)
    return get_object_or_404(queryset, pk=pk)


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def service_call(request: HttpRequest, call: Callable[[], Any]) -> tuple[bool, Any]:
    """Run a service; page-level problems become messages. Returns (ok, result)."""
    try:
        return True, call()
    except NotInScope:
        raise Http404 from None
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    except (TransitionError, ConflictError) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return False, None


@login_required
def entry_detail(request: HttpRequest, pk: int, kind: EntryKind) -> HttpResponse:
    entry = get_visible(kind, request.user, pk)
    choices = {"status": dict(EntryStatus.choices)}
    context = {
        "entry": entry,
        "kind": kind,
        "status_label": entry_status_label(entry),
        "can": entry_permissions(kind, entry, request.user),
        "history": entry_history(entry, fields=kind.history_fields, choices=choices),
        "evidence": list(entry.evidence.select_related("uploaded_by")),
        "return_form": ReturnForm(),
    }
    context.update(kind.extra_context(entry))
    return render(request, kind.template, context)


@login_required
@require_POST
def entry_action(request: HttpRequest, pk: int, action: str, kind: EntryKind) -> HttpResponse:
    entry = get_visible(kind, request.user, pk)
    service = kind.actions.get(action)
    if service is None:
        raise Http404
    version = request.POST.get("version")
    kwargs: dict[str, Any] = {
        "user": current_user(request),
        "version": parse_id(version),
    }
    if action == "return":
        kwargs["comment"] = request.POST.get("comment", "")
    ok, _result = service_call(request, lambda: service(entry, **kwargs))
    if ok:
        messages.success(request, ACTION_DONE[action])
    return HttpResponseRedirect(safe_next(request, reverse(kind.detail_url, args=[entry.pk])))


ACTION_DONE = {
    "submit": "已提交审核。",
    "withdraw": "已撤回为草稿。",
    "approve": "已审核通过。",
    "return": "已退回修改。",
    "reopen": "已发起更正：请修改后重新提交；审核通过前原数值仍然有效。",
}


@login_required
def evidence_download(request: HttpRequest, pk: int, evidence_pk: int, kind: EntryKind) -> FileResponse:
    entry = get_visible(kind, request.user, pk)
    evidence = get_object_or_404(entry.evidence.all(), pk=evidence_pk)
    response = FileResponse(
        evidence.file.open("rb"),
        content_type=evidence.content_type,
        as_attachment=True,
        filename=evidence.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- task progress ---------------------------------------------------------------------------------


def _task_actions() -> dict[str, Callable[..., Any]]:
    return {
        "submit": lambda e, **kw: services.task_progress_submit(progress=e, **kw),
        "withdraw": lambda e, **kw: services.task_progress_withdraw(progress=e, **kw),
        "approve": lambda e, **kw: services.task_progress_approve(progress=e, **kw),
        "return": lambda e, **kw: services.task_progress_return(progress=e, **kw),
        "reopen": lambda e, **kw: services.task_progress_reopen(progress=e, **kw),
    }


TASK_PROGRESS = EntryKind(
    slug="task-progress",
    model=TaskProgress,
    visible=task_progress_visible_to,
    capturable=task_progress_capturable_by,
    review_scope=task_progress_review_scope,
    actions=_task_actions(),
    detail_url="planning:progress-detail",
    edit_url="planning:progress-edit",
    action_url="planning:progress-action",
    evidence_url="planning:progress-evidence",
    history_fields=["status", "narrative", "percent", "passed", "review_comment", "revision"],
    select_related=["task__plan", "task__column", "region", "created_by", "updated_by", "reviewed_by"],
    template="planning/progress_detail.html",
    extra_context=lambda e: task_progress_context(e.task, e.year, e.region, e),
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
    region = None
    if request.GET.get("region") or request.POST.get("region"):
        region = get_object_or_404(Region, pk=request.GET.get("region") or request.POST.get("region"))
    form = TaskProgressForm(request.POST or None, request.FILES or None, task=task)
    if request.method == "POST" and form.is_valid():
        data = services.TaskProgressInput(**form.service_input())
        try:
            progress = services.task_progress_create(
                task=task,
                year=year,
                region=region,
                data=data,
                user=current_user(request),
                files=form.cleaned_data.get("evidence", []),
            )
        except services.DuplicateEntry as exc:
            messages.error(request, exc.messages[0])
            return HttpResponseRedirect(reverse("planning:progress-detail", args=[exc.existing.pk]))
        except NotInScope:
            raise Http404 from None
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from None
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _after_save(request, TASK_PROGRESS, progress, _task_actions()["submit"])
    context = {"form": form, "is_new": True, **task_progress_context(task, year, region, None)}
    return render(request, "planning/progress_form.html", context, status=400 if form.errors else 200)


def _after_save(request: HttpRequest, kind: EntryKind, entry: Any, submit: Callable[..., Any]) -> HttpResponse:
    if "submit" in request.POST:
        ok, _result = service_call(request, lambda: submit(entry, user=current_user(request)))
        messages.success(request, _("已保存并提交审核。") if ok else _("已保存为草稿，但未能提交。"))
    else:
        messages.success(request, _("已保存草稿。"))
    return HttpResponseRedirect(reverse(kind.detail_url, args=[entry.pk]))


@login_required
def progress_edit(request: HttpRequest, pk: int) -> HttpResponse:
    progress = get_visible(TASK_PROGRESS, request.user, pk)
    can = entry_permissions(TASK_PROGRESS, progress, request.user)
    if not can["captures"]:
        raise PermissionDenied(_("您没有修改该填报的权限。"))
    if not can["edit"]:
        messages.error(request, _("该填报当前状态为“%(s)s”，不能修改。") % {"s": entry_status_label(progress)})
        return HttpResponseRedirect(reverse("planning:progress-detail", args=[pk]))
    task = _task_for_form(request.user, progress.task_id)
    initial = {
        "version": progress.version,
        "narrative": progress.narrative,
        "percent": _plain(progress.percent),
        "passed": {True: "yes", False: "no"}.get(progress.passed, ""),
        **{f"amount_{row.target_id}": _plain(row.amount) for row in progress.amounts.all()},
    }
    form = TaskProgressForm(request.POST or None, request.FILES or None, task=task, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = services.TaskProgressInput(**form.service_input())
        try:
            saved = services.task_progress_update(
                progress=progress,
                version=form.cleaned_data.get("version"),
                data=data,
                user=current_user(request),
                files=form.cleaned_data.get("evidence", []),
            )
        except ConflictError as exc:
            conflict = _task_conflict(exc, pk)
            form = _with_version(form, conflict["current_version"])
        except TransitionError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("planning:progress-detail", args=[pk]))
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from None
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _after_save(request, TASK_PROGRESS, saved, _task_actions()["submit"])
    context = {
        "form": form,
        "entry": progress,
        "conflict": conflict,
        "status_label": entry_status_label(progress),
        **task_progress_context(task, progress.year, progress.region, progress),
    }
    return render(
        request, "planning/progress_form.html", context, status=409 if conflict else (400 if form.errors else 200)
    )


def _task_conflict(exc: ConflictError, pk: int) -> dict[str, Any]:
    current = TaskProgress.objects.select_related("updated_by").get(pk=pk)
    return {
        "message": str(exc),
        "current_version": current.version,
        "who": current.updated_by.get_full_name() or current.updated_by.get_username(),
        "when": current.updated_at,
        "values": [
            (_("工作进展"), current.narrative),
            *([(_("完成百分比"), _plain(current.percent))] if current.percent is not None else []),
            *[(row.target.label, _plain(row.amount)) for row in current.amounts.select_related("target")],
        ],
    }


def _with_version(form: Any, version: int) -> Any:
    """Keep what the person typed, but base a deliberate re-save on the version now stored."""
    data = form.data.copy()
    data["version"] = str(version)
    rebound = type(form)(data, None, **({"task": form.task} if hasattr(form, "task") else {}))
    rebound.is_valid()
    return rebound


def _plain(value: Any) -> str:
    return "" if value is None else f"{value.normalize():f}"


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
