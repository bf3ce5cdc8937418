"""The pages every kind of reviewed entry shares: detail, create, edit, the actions, and evidence downloads.

As NetBox's generic ObjectEditView, the views are written once; each kind declares its pages (EntryPages: its
EntryKind, form, templates, URL names and what to show beside the form). The buttons a person sees come from
planning.entries.allowed_actions, the same table the services enforce. Views translate HTTP to service calls only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.filters import parse_id
from regions.models import Region

from . import entries
from .entries import DuplicateEntry, EntryKind
from .forms import ReturnForm
from .models import EntryStatus, ReviewedEntry
from .selectors import AnyUser, entry_history
from .workflow import ACTIONS, ConflictError, NotAllowed, NotInScope, TransitionError


@dataclass(frozen=True)
class EntryPages:
    """What the shared entry pages need to know about one kind (the templates call it `kind`)."""

    kind: EntryKind
    detail_url: str
    edit_url: str
    action_url: str
    evidence_url: str
    template: str  # the detail page
    form_template: str
    form_class: type
    # Beside the form and on the detail page: (item, year, region, entry or None) → context.
    context: Callable[[Any, int, Region | None, Any], dict[str, Any]]
    # The form's extra arguments for an item (e.g. the task, whose targets are fields).
    form_kwargs: Callable[[Any], dict[str, Any]]
    initial: Callable[[Any], dict[str, Any]]
    # What a person whose save lost a version conflict is shown of the stored entry: (label, value) pairs.
    conflict_values: Callable[[Any], list[tuple[str, str]]]

    @property
    def history_fields(self) -> list[str]:
        return self.kind.history_fields


def current_user(request: HttpRequest) -> User:
    """The signed-in user of a view behind @login_required."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def entry_status_label(entry: ReviewedEntry) -> str:
    if entry.is_correction:
        return _("第 %(n)s 次更正（%(status)s）") % {"n": entry.revision - 1, "status": entry.get_status_display()}
    return entry.get_status_display()


def get_visible(pages: EntryPages, user: AnyUser, pk: int) -> Any:
    queryset = pages.kind.visible(user).select_related(*pages.kind.select_related)
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


def _context_of(pages: EntryPages, entry: Any) -> dict[str, Any]:
    return pages.context(pages.kind.item_of(entry), entry.year, getattr(entry, "region", None), entry)


@login_required
def entry_detail(request: HttpRequest, pk: int, kind: EntryPages) -> HttpResponse:
    entry = get_visible(kind, request.user, pk)
    context = {
        "entry": entry,
        "kind": kind,
        "status_label": entry_status_label(entry),
        "can": entries.allowed_actions(kind.kind, entry, request.user),
        "history": entry_history(
            entry,
            fields=kind.history_fields,
            choices={"status": dict(EntryStatus.choices)},
            evidence=(kind.kind.evidence_model, kind.kind.evidence_owner),
        ),
        "evidence": list(entry.evidence.select_related("uploaded_by")),
        "return_form": ReturnForm(),
        **_context_of(kind, entry),
    }
    return render(request, kind.template, context)


ACTION_DONE = {
    "submit": "已提交审核。",
    "withdraw": "已撤回为草稿。",
    "approve": "已审核通过。",
    "return": "已退回修改。",
    "reopen": "已发起更正：请修改后重新提交；审核通过前原数值仍然有效。",
}


@login_required
@require_POST
def entry_action(request: HttpRequest, pk: int, action: str, kind: EntryPages) -> HttpResponse:
    entry = get_visible(kind, request.user, pk)
    if action not in ACTION_DONE:
        raise Http404
    extra = {"comment": request.POST.get("comment", "")} if action == "return" else {}

    def run() -> Any:
        version = parse_id(request.POST.get("version"))
        return entries.entry_transition(kind.kind, entry, action, user=current_user(request), version=version, **extra)

    ok, _result = service_call(request, run)
    if ok:
        messages.success(request, ACTION_DONE[action])
    return HttpResponseRedirect(safe_next(request, reverse(kind.detail_url, args=[entry.pk])))


@login_required
def evidence_download(request: HttpRequest, pk: int, evidence_pk: int, kind: EntryPages) -> FileResponse:
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


def _after_save(request: HttpRequest, pages: EntryPages, entry: Any) -> HttpResponse:
    if "submit" in request.POST:
        ok, _result = service_call(
            request, lambda: entries.entry_transition(pages.kind, entry, "submit", user=current_user(request))
        )
        messages.success(request, _("已保存并提交审核。") if ok else _("已保存为草稿，但未能提交。"))
    elif not getattr(entry, "changed", True):
        messages.info(request, _("内容没有变化，未保存新版本。"))
    else:
        messages.success(request, _("已保存草稿。"))
    return HttpResponseRedirect(reverse(pages.detail_url, args=[entry.pk]))


def entry_create(request: HttpRequest, pages: EntryPages, item: Any, region: Region | None, year: int) -> HttpResponse:
    """The new-entry form for an item × region × year the user may capture (else 404/403, before anything about
    an existing entry is said)."""
    try:
        pages.kind.authorize_create(current_user(request), item, region)
    except NotInScope:
        raise Http404 from None
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    existing = pages.kind.existing(item, region, year)
    if existing is not None and request.method == "GET":
        return HttpResponseRedirect(reverse(pages.detail_url, args=[existing.pk]))
    form = pages.form_class(request.POST or None, request.FILES or None, **pages.form_kwargs(item))
    if request.method == "POST" and form.is_valid():
        try:
            entry = entries.entry_create(
                pages.kind,
                item=item,
                region=region,
                year=year,
                data=form.service_input(),
                user=current_user(request),
                files=form.cleaned_data.get("evidence", []),
            )
        except DuplicateEntry as exc:
            messages.error(request, exc.messages[0])
            return HttpResponseRedirect(reverse(pages.detail_url, args=[exc.existing.pk]))
        except NotInScope:
            raise Http404 from None
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from None
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _after_save(request, pages, entry)
    context = {"form": form, "is_new": True, **pages.context(item, year, region, None)}
    return render(request, pages.form_template, context, status=400 if form.errors else 200)


@login_required
def entry_edit(request: HttpRequest, pk: int, kind: EntryPages) -> HttpResponse:
    pages = kind
    entry = get_visible(pages, request.user, pk)
    can = entries.allowed_actions(pages.kind, entry, request.user)
    if not can["captures"]:
        raise PermissionDenied(_("您没有修改该填报的权限。"))
    if not can["edit"]:
        messages.error(request, _("该填报当前状态为“%(s)s”，不能修改。") % {"s": entry_status_label(entry)})
        return HttpResponseRedirect(reverse(pages.detail_url, args=[pk]))
    item = pages.kind.item_of(entry)
    form_kwargs = pages.form_kwargs(item)
    initial = {"version": entry.version, **pages.initial(entry)}
    form = pages.form_class(request.POST or None, request.FILES or None, initial=initial, **form_kwargs)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = entries.entry_update(
                pages.kind,
                entry,
                version=form.cleaned_data.get("version"),
                data=form.service_input(),
                user=current_user(request),
                files=form.cleaned_data.get("evidence", []),
            )
        except ConflictError as exc:
            current = pages.kind.model._default_manager.select_related("updated_by").get(pk=pk)
            conflict = {
                "message": str(exc),
                "current_version": current.version,
                "who": current.updated_by.get_full_name() or current.updated_by.get_username(),
                "when": current.updated_at,
                "values": pages.conflict_values(current),
                "mine": form.cleaned_data.get("value"),
            }
            # Keep what the person typed, but base a deliberate re-save on the version now stored.
            data = form.data.copy()
            data["version"] = str(current.version)
            form = pages.form_class(data, None, **form_kwargs)
            form.is_valid()
        except TransitionError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse(pages.detail_url, args=[pk]))
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from None
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _after_save(request, pages, saved)
    context = {
        "form": form,
        "entry": entry,
        "conflict": conflict,
        "status_label": entry_status_label(entry),
        **_context_of(pages, entry),
    }
    status = 409 if conflict else (400 if form.errors else 200)
    return render(request, pages.form_template, context, status=status)


__all__ = ["ACTIONS", "EntryPages", "entry_action", "entry_create", "entry_detail", "entry_edit", "evidence_download"]
