"""The reviewed-entry framework: one set of services for every kind of yearly entry (indicator values, task progress).

A kind declares itself once, in a small module of its app (indicators/values.py, planning/progress.py): its model
and evidence model, its scope querysets, how a new entry is authorised and found, its clean function, what approval
copies and what it queues afterwards. The services here do the rest the same way for every kind: authorise, lock the
row, check the version, apply the state machine of planning.workflow, write one history row naming who and how, and
queue follow-up work on commit. Pages (planning/entry_views.py) and the API (planning/api/entries.py) call these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from regions.models import Region

from . import workflow
from .evidence import check_evidence_file
from .models import EvidenceFile, ReviewedEntry, Unit
from .selectors import AnyUser
from .workflow import CAPTURE, REVIEW, Channel, NotAllowed, NotInScope


class DuplicateEntry(ValidationError):
    """An entry for the same item and year exists already; `existing` is it (the form links to it)."""

    def __init__(self, message: str, existing: models.Model) -> None:
        super().__init__({"__all__": [message]})
        self.existing = existing


@dataclass(frozen=True)
class EntryKind:
    """Everything the shared services, pages and API need to know about one kind of reviewed entry."""

    slug: str
    model: type[ReviewedEntry]
    evidence_model: type[EvidenceFile]
    evidence_owner: str  # the evidence model's foreign key to the entry
    # Scope: what a user sees, captures (edits, submits, withdraws, reopens) and reviews (approves, returns).
    visible: Callable[[AnyUser], QuerySet[Any]]
    capturable: Callable[[AnyUser], QuerySet[Any]]
    review_scope: Callable[[AnyUser], QuerySet[Any]]
    # Creating: may the user capture this item × region (raises NotInScope/NotAllowed), and the existing entry.
    authorize_create: Callable[[User, Any, Region | None], None]
    existing: Callable[[Any, Region | None, int], ReviewedEntry | None]
    new: Callable[[Any, Region | None, int, User], ReviewedEntry]
    duplicate_message: Callable[[Any, Region | None, int, ReviewedEntry], str]
    plan_of: Callable[[Any], Any]
    # Cleaning: (item, region, year, input, stored entry or None) → cleaned values, every problem at once.
    clean: Callable[[Any, Region | None, int, Any, ReviewedEntry | None], dict[str, Any]]
    # Writing the cleaned values onto an entry (and its child rows); whether they differ from what is stored.
    apply: Callable[[ReviewedEntry, Mapping[str, Any], User, str], None]
    differs: Callable[[ReviewedEntry, Mapping[str, Any]], bool]
    item_of: Callable[[Any], Any]
    # Approval: copy the working values into the approved ones; then queue what follows (on commit).
    copy_approved: Callable[[ReviewedEntry, User, str], None]
    after_approve: Callable[[Any], None] = lambda entry: None
    # Pages and history.
    history_fields: list[str] = field(default_factory=list)
    select_related: list[str] = field(default_factory=list)
    # Notifications (planning.notifications): the URL name of the entry's page (takes its pk), and the unit that
    # leads its item, whose group robot hears of it too.
    detail_url: str = ""
    lead_unit_of: Callable[[Any], Unit | None] = lambda entry: None


# --- authorisation ----------------------------------------------------------------------------------------


def authorize(kind: EntryKind, entry: ReviewedEntry, user: AnyUser, role: str, message: str) -> None:
    """In the user's capture (or review) scope, or NotAllowed when they only see it, or NotInScope."""
    allowed = kind.capturable(user) if role == CAPTURE else kind.review_scope(user)
    if allowed.filter(pk=entry.pk).exists():
        return
    if kind.visible(user).filter(pk=entry.pk).exists():
        raise NotAllowed(message)
    raise NotInScope()


def allowed_actions(kind: EntryKind, entry: ReviewedEntry, user: AnyUser) -> dict[str, bool]:
    """What the user may do to the entry now, from the workflow's one table of actions (pages show these buttons)."""
    captures = kind.capturable(user).filter(pk=entry.pk).exists()
    reviews = workflow.exclude_own(kind.review_scope(user).filter(pk=entry.pk), user).exists()
    # A plan that takes no entries now (草稿, 已归档, 终期评估已定稿) offers no buttons: the services refuse them.
    open_ = not workflow.entries_refused_because(kind.plan_of(kind.item_of(entry)))
    may = {CAPTURE: captures and open_, REVIEW: reviews and open_}
    allowed = {
        name: may[action.role] and entry.status in action.from_statuses for name, action in workflow.ACTIONS.items()
    }
    return {**allowed, "captures": captures}


# --- create, update ---------------------------------------------------------------------------------------


@transaction.atomic
def entry_create(
    kind: EntryKind,
    *,
    item: Any,
    region: Region | None,
    year: Any,
    data: Any,
    user: User,
    channel: str = Channel.FORM,
    files: Iterable[UploadedFile] = (),
) -> Any:
    kind.authorize_create(user, item, region)
    year = workflow.check_year(kind.plan_of(item), year)
    existing = kind.existing(item, region, year)
    if existing is not None:
        raise DuplicateEntry(kind.duplicate_message(item, region, year, existing), existing)
    cleaned = kind.clean(item, region, year, data, None)
    entry = kind.new(item, region, year, user)
    try:
        with transaction.atomic():
            kind.apply(entry, cleaned, user, channel)
            workflow.record(entry, user=user, channel=channel, action=workflow.EDIT_ACTIONS[0])
    except IntegrityError:
        # Someone created the same entry between our check and our insert.
        existing = kind.existing(item, region, year)
        if existing is None:
            raise
        raise DuplicateEntry(kind.duplicate_message(item, region, year, existing), existing) from None
    kind.apply(entry, cleaned, user, channel)  # child rows (amounts) need the saved entry
    _store_evidence(kind, entry, files, user=user, channel=channel)
    return entry


@transaction.atomic
def entry_update(
    kind: EntryKind,
    entry: ReviewedEntry,
    *,
    version: int | None,
    data: Any,
    user: User,
    channel: str = Channel.FORM,
    files: Iterable[UploadedFile] = (),
) -> Any:
    """Save a draft (or a returned entry); nothing differs and no files → no new version (entry.changed False)."""
    authorize(kind, entry, user, CAPTURE, _("您没有修改该填报的权限。"))
    locked = workflow.lock_for_write(entry, expected_version=version)
    item = kind.item_of(locked)
    workflow.ensure_plan_accepts_entries(kind.plan_of(item))
    workflow.ensure_editable(locked)
    cleaned = kind.clean(item, getattr(locked, "region", None), locked.year, data, locked)
    files = list(files)
    if not files and not kind.differs(locked, cleaned):
        # Nothing differs: no new version, so nobody else's save fails with a conflict for nothing.
        locked.changed = False
        return locked
    kind.apply(locked, cleaned, user, channel)
    workflow.mark_edited(locked)
    workflow.record(locked, user=user, channel=channel, action=workflow.EDIT_ACTIONS[1])
    _store_evidence(kind, locked, files, user=user, channel=channel)
    return locked


# --- the five transitions ------------------------------------------------------------------------------------

# Called inside the transition's transaction with (kind, entry, action, user, comment) after the history row is
# written: the people to tell (planning.notifications) and derived state that follows at once (indicators
# registers the overdue flags in its AppConfig.ready, as it does for the tasks' lag flags).
TRANSITION_LISTENERS: list[Callable[[EntryKind, ReviewedEntry, str, User, str], object]] = []

TRANSITION_MESSAGES = {
    "submit": "您没有提交该填报的权限。",
    "withdraw": "您没有撤回该填报的权限。",
    "approve": "您没有审核该填报的权限。",
    "return": "您没有审核该填报的权限。",
    "reopen": "您没有更正该填报的权限。",
}


@transaction.atomic
def entry_transition(
    kind: EntryKind,
    entry: ReviewedEntry,
    action: str,
    *,
    user: User,
    version: int | None = None,
    comment: str = "",
    channel: str = Channel.FORM,
) -> Any:
    """Submit, withdraw, approve, return (with a comment) or reopen, under a row lock, with a history row."""
    step = workflow.ACTIONS.get(action)
    if step is None or action == "edit":
        raise ValueError(f"unknown action {action!r}")
    authorize(kind, entry, user, step.role, _(TRANSITION_MESSAGES[action]))
    locked = workflow.lock_for_write(entry, expected_version=version)
    workflow.ensure_plan_accepts_entries(kind.plan_of(kind.item_of(locked)))
    if action == "approve":
        workflow.approve(locked, user=user, copy_approved=lambda: kind.copy_approved(locked, user, channel))
    elif action == "return":
        workflow.return_for_revision(locked, user=user, comment=comment)
    else:
        {"submit": workflow.submit, "withdraw": workflow.withdraw, "reopen": workflow.reopen}[action](locked, user=user)
    workflow.record(locked, user=user, channel=channel, action=step.label)
    if action == "approve":
        kind.after_approve(locked)
    for listener in TRANSITION_LISTENERS:
        listener(kind, locked, action, user, comment)
    return locked


def create_service(kind: EntryKind, item_arg: str) -> Callable[..., Any]:
    """The named create service of one kind, e.g. indicator_value_create(*, indicator, region, year, data, user)."""

    def service(*, region: Region | None = None, **kwargs: Any) -> Any:
        return entry_create(kind, item=kwargs.pop(item_arg), region=region, **kwargs)

    service.__name__ = service.__qualname__ = f"{kind.slug.replace('-', '_')}_create"
    return service


def update_service(kind: EntryKind, entry_arg: str) -> Callable[..., Any]:
    """The named update service of one kind, e.g. indicator_value_update(*, entry, version, data, user)."""

    def service(**kwargs: Any) -> Any:
        return entry_update(kind, kwargs.pop(entry_arg), **kwargs)

    service.__name__ = service.__qualname__ = f"{kind.slug.replace('-', '_')}_update"
    return service


def transition_service(kind: EntryKind, action: str, entry_arg: str) -> Callable[..., Any]:
    """The named service of one transition of one kind, e.g. indicator_value_submit(*, value, user, version)."""

    def service(*, user: User, version: int | None = None, channel: str = Channel.FORM, **kwargs: Any) -> Any:
        entry = kwargs.pop(entry_arg)
        return entry_transition(kind, entry, action, user=user, version=version, channel=channel, **kwargs)

    service.__name__ = service.__qualname__ = f"{kind.slug.replace('-', '_')}_{action}"
    return service


# --- evidence -------------------------------------------------------------------------------------------------


def _store_evidence(
    kind: EntryKind, entry: ReviewedEntry, files: Iterable[UploadedFile], *, user: User, channel: str
) -> list[EvidenceFile]:
    """Check every file first, then store them all: a bad file stores none of the batch."""
    files = list(files)
    if not files:
        return []
    existing = kind.evidence_model._default_manager.filter(**{kind.evidence_owner: entry}).count()
    if existing + len(files) > settings.EVIDENCE_MAX_FILES:
        raise ValidationError(
            {"evidence": [_("每条填报最多上传 %(max)d 个佐证材料。") % {"max": settings.EVIDENCE_MAX_FILES}]}
        )
    checked, errors = [], []
    for upload in files:
        try:
            checked.append((upload, check_evidence_file(upload, name=upload.name or "", size=upload.size or 0)))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({"evidence": errors})
    stored = []
    for upload, info in checked:
        evidence = kind.evidence_model(
            **{kind.evidence_owner: entry},
            original_name=info.name,
            content_type=info.content_type,
            size=info.size,
            uploaded_by=user,
        )
        evidence.file.save(info.name, upload, save=False)
        workflow.tag_history(evidence, user=user, channel=channel, action="上传佐证材料")
        evidence.save()
        stored.append(evidence)
    return stored


@transaction.atomic
def evidence_add(
    kind: EntryKind, entry: ReviewedEntry, *, files: Iterable[UploadedFile], user: User, channel: str = Channel.FORM
) -> list[EvidenceFile]:
    """Evidence is added by whoever may edit the entry, while it can be edited (checked under the row lock)."""
    authorize(kind, entry, user, CAPTURE, _("您没有修改该填报的权限。"))
    locked = workflow.lock_for_write(entry, expected_version=None)
    workflow.ensure_plan_accepts_entries(kind.plan_of(kind.item_of(locked)))
    workflow.ensure_editable(locked)
    files = list(files)
    if not files:
        raise ValidationError({"files": [_("请选择要上传的佐证材料。")]})
    stored = _store_evidence(kind, locked, files, user=user, channel=channel)
    _record_edit(locked, user=user, channel=channel)
    return stored


@transaction.atomic
def evidence_remove(
    kind: EntryKind, entry: ReviewedEntry, *, evidence_id: int, user: User, channel: str = Channel.FORM
) -> None:
    """Remove one evidence file of an editable entry; the history keeps that it existed and who removed it."""
    authorize(kind, entry, user, CAPTURE, _("您没有修改该填报的权限。"))
    locked = workflow.lock_for_write(entry, expected_version=None)
    workflow.ensure_plan_accepts_entries(kind.plan_of(kind.item_of(locked)))
    workflow.ensure_editable(locked)
    evidence = kind.evidence_model._default_manager.filter(**{kind.evidence_owner: locked}, pk=evidence_id).first()
    if evidence is None:
        raise NotInScope()
    workflow.tag_history(evidence, user=user, channel=channel, action="删除佐证材料")
    evidence.delete()
    _record_edit(locked, user=user, channel=channel)


def _record_edit(entry: ReviewedEntry, *, user: User, channel: str) -> None:
    """Changing an entry's evidence edits the entry: a new version, and its editor may not approve it (four eyes)."""
    workflow.mark_edited(entry)
    workflow.record(entry, user=user, channel=channel, action=workflow.EDIT_ACTIONS[1])
