"""The review workflow shared by every yearly entry (indicator values, task progress).

draft → submitted → approved, or submitted → returned (with a comment) → draft again on the next save.
A submitted entry may be withdrawn to draft by its capturer. An approved entry is locked; reopening it
starts a correction (next revision) while its approved values stay in force until approved again.

Services call these helpers inside their own transaction; views and the API translate the exceptions:
NotInScope → 404, NotAllowed → 403, TransitionError/ConflictError → 409, ValidationError → 400.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import EntryStatus, Plan, PlanState, ReviewedEntry

E = TypeVar("E", bound=ReviewedEntry)
AnyUser = User


class Channel(models.TextChoices):
    """How a change reached the system; recorded in every history row."""

    FORM = "form", "表单"
    API = "api", "接口"
    EXCEL = "excel", "Excel导入"
    ADMIN = "admin", "后台"
    SYSTEM = "system", "系统"


class NotInScope(Exception):
    """The object is outside what the user may see: answer as if it did not exist (404)."""


class NotAllowed(Exception):
    """The user sees the object but may not do this to it (403)."""


class TransitionError(Exception):
    """The action does not apply to the entry's current status (409)."""


@dataclass
class ConflictError(Exception):
    """Someone else saved the entry since this user loaded it (409)."""

    message: str
    current: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


# --- the state machine: one table, read by the services and by the pages' buttons --------------------------

CAPTURE = "capture"  # the entry's own unit/region staff (填报员)
REVIEW = "review"  # the reviewers in scope (审核员), never on their own entries


@dataclass(frozen=True)
class Action:
    role: str
    from_statuses: frozenset[str]
    label: str  # how the history row names it


EDITABLE = frozenset({EntryStatus.DRAFT, EntryStatus.RETURNED})
ACTIONS = {
    "edit": Action(CAPTURE, EDITABLE, "保存草稿"),
    "submit": Action(CAPTURE, EDITABLE, "提交审核"),
    "withdraw": Action(CAPTURE, frozenset({EntryStatus.SUBMITTED}), "撤回"),
    "reopen": Action(CAPTURE, frozenset({EntryStatus.APPROVED}), "发起更正"),
    "approve": Action(REVIEW, frozenset({EntryStatus.SUBMITTED}), "审核通过"),
    "return": Action(REVIEW, frozenset({EntryStatus.SUBMITTED}), "退回修改"),
}


# --- helpers used by the services ------------------------------------------------------------------


def lock_for_write(entry: E, *, expected_version: int | None) -> E:
    """Re-read the entry under a row lock and check the version the user's change was based on."""
    locked = type(entry)._default_manager.select_for_update().get(pk=entry.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            _("该填报已被他人修改（您打开的是第 %(mine)s 版，当前为第 %(theirs)s 版），未保存您的修改。")
            % {"mine": expected_version, "theirs": locked.version},
            current={
                "version": locked.version,
                "status": locked.status,
                "updated_at": locked.updated_at.isoformat(),
                **locked.current_values(),
            },
        )
    return locked


def tag_history(row: models.Model, *, user: AnyUser, channel: str, action: str) -> None:
    """Who and how, for the history row the next save or delete of `row` writes (django-simple-history)."""
    row._history_user = user  # type: ignore[attr-defined]
    row._change_reason = f"{Channel(channel).label}：{action}"  # type: ignore[attr-defined]


def record(entry: ReviewedEntry, *, user: AnyUser, channel: str, action: str) -> None:
    """Save with who and how in the history row (django-simple-history)."""
    entry.version += 1
    entry.updated_by = user
    tag_history(entry, user=user, channel=channel, action=action)
    entry.save()


def ensure_editable(entry: ReviewedEntry) -> None:
    if entry.status in ACTIONS["edit"].from_statuses:
        return
    if entry.status == EntryStatus.SUBMITTED:
        raise TransitionError(_("该填报已提交待审核，不能修改；如需修改请先撤回。"))
    if entry.status == EntryStatus.APPROVED:
        raise TransitionError(_("该填报已审核通过并锁定；如需更正请点击“发起更正”。"))


def mark_edited(entry: ReviewedEntry) -> None:
    """A returned entry becomes a draft again once its capturer edits it."""
    entry.status = EntryStatus.DRAFT


def submit(entry: ReviewedEntry, *, user: AnyUser) -> None:
    if entry.status not in ACTIONS["submit"].from_statuses:
        raise TransitionError(
            _("只有草稿或已退回的填报可以提交（当前状态：%(status)s）。") % {"status": entry.get_status_display()}
        )
    entry.status = EntryStatus.SUBMITTED
    entry.submitted_by = user
    entry.submitted_at = timezone.now()


def withdraw(entry: ReviewedEntry, *, user: AnyUser) -> None:
    if entry.status not in ACTIONS["withdraw"].from_statuses:
        raise TransitionError(_("只有待审核的填报可以撤回。"))
    entry.status = EntryStatus.DRAFT


EDIT_ACTIONS = ("新建草稿", "保存草稿")


def exclude_own(queryset: models.QuerySet[E], user: User | AnonymousUser) -> models.QuerySet[E]:
    """Leave out entries the user created, submitted, or edited in their current revision (four eyes)."""
    history = queryset.model.history.model  # type: ignore[attr-defined]
    edited = history.objects.filter(id=OuterRef("pk"), revision=OuterRef("revision"), history_user=user.pk).filter(
        Q(history_change_reason__endswith=EDIT_ACTIONS[0]) | Q(history_change_reason__endswith=EDIT_ACTIONS[1])
    )
    return queryset.exclude(created_by=user.pk).exclude(submitted_by=user.pk).exclude(Exists(edited))


def ensure_not_own(entry: ReviewedEntry, *, user: AnyUser) -> None:
    if not exclude_own(type(entry)._default_manager.filter(pk=entry.pk), user).exists():
        raise NotAllowed(_("不能审核本人创建、修改或提交的填报。"))


def approve(entry: ReviewedEntry, *, user: AnyUser, copy_approved: Callable[[], None]) -> None:
    if entry.status not in ACTIONS["approve"].from_statuses:
        raise TransitionError(
            _("只有待审核的填报可以审核通过（当前状态：%(status)s）。") % {"status": entry.get_status_display()}
        )
    ensure_not_own(entry, user=user)
    copy_approved()
    now = timezone.now()
    entry.status = EntryStatus.APPROVED
    entry.reviewed_by = user
    entry.reviewed_at = now
    entry.approved_at = now
    entry.review_comment = ""


def return_for_revision(entry: ReviewedEntry, *, user: AnyUser, comment: str) -> None:
    if entry.status not in ACTIONS["return"].from_statuses:
        raise TransitionError(
            _("只有待审核的填报可以退回（当前状态：%(status)s）。") % {"status": entry.get_status_display()}
        )
    ensure_not_own(entry, user=user)
    try:
        comment = check_text(
            comment,
            model=type(entry),
            field_name="review_comment",
            label=_("审核意见"),
            required=_("退回时请填写审核意见，说明需要修改的地方。"),
        )
    except ValidationError as exc:
        raise ValidationError({"comment": exc.message_dict["review_comment"]}) from None
    entry.status = EntryStatus.RETURNED
    entry.reviewed_by = user
    entry.reviewed_at = timezone.now()
    entry.review_comment = comment


def reopen(entry: ReviewedEntry, *, user: AnyUser) -> None:
    if entry.status not in ACTIONS["reopen"].from_statuses:
        raise TransitionError(_("只有已通过的填报可以发起更正。"))
    entry.status = EntryStatus.DRAFT
    entry.revision += 1
    entry.review_comment = ""


# --- input checks shared by forms, API and import ---------------------------------------------------


def entries_refused_because(plan: Plan) -> str:
    """Why the plan takes no entries now (empty when it does): the one rule of a plan's life for every door.

    草稿: imported, not tracked yet. 已结束: still open for its years' entries until the final evaluation is
    finalised. 已归档: read-only; an administrator reopens it (planning.lifecycle) to correct anything.
    """
    if plan.state == PlanState.DRAFT:
        return _("该规划尚处于草稿状态，尚未开始跟踪，暂不接受填报。")
    if plan.state == PlanState.ARCHIVED:
        return _("本规划已归档，只读；如需更正，请联系管理员重新开放。")
    if plan.state == PlanState.ENDED and plan.evaluation_finalised_at is not None:
        return _("该规划的终期评估已定稿，不再接受填报或修改；如需更正，请联系管理员。")
    return ""


def plan_frozen_because(plan: Plan) -> str:
    """Why the plan itself (its targets, structure, adjustments) may not change now (empty when it may): once the
    final evaluation is finalised, and while archived, the figures its reports state must stay as they were."""
    if plan.state == PlanState.ARCHIVED:
        return _("本规划已归档，只读；如需修改，请先由管理员重新开放。")
    if plan.evaluation_finalised_at is not None:
        return _("该规划的终期评估已定稿，规划内容和目标不能再修改；如需更正，请先由管理员重新开放。")
    return ""


def ensure_plan_accepts_entries(plan: Plan, *, field_name: str = "__all__") -> None:
    """Refuse any write to an entry of a plan that takes none now (ValidationError: a form, API or Excel error)."""
    reason = entries_refused_because(plan)
    if reason:
        raise ValidationError({field_name: [reason]})


def check_year(plan: Plan, year: Any, today: datetime.date | None = None) -> int:
    today = today or timezone.localdate()
    ensure_plan_accepts_entries(plan, field_name="year")
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": [_("年度应为整数，例如 2023。")]}) from None
    if not plan.period_start_year <= year <= plan.period_end_year:
        raise ValidationError(
            {
                "year": [
                    _("年度应在规划期 %(start)s—%(end)s 年之内。")
                    % {"start": plan.period_start_year, "end": plan.period_end_year}
                ]
            }
        )
    if year > today.year:
        raise ValidationError({"year": [_("%(year)s 年尚未开始，不能填报。") % {"year": year}]})
    return year


class _Unset:
    """A field the client did not send: an update keeps the stored value (a partial update)."""

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


def field_limit(model: type[models.Model], name: str) -> int:
    """A text field's length limit: its one home is the model field; forms, API, Excel and services read it here."""
    limit = model._meta.get_field(name).max_length  # type: ignore[union-attr]
    if limit is None:
        raise ValueError(f"{model.__name__}.{name} has no max_length")
    return int(limit)


def check_text(raw: Any, *, model: type[models.Model], field_name: str, label: str, required: str = "") -> str:
    """Text as typed, stripped; longer than the model field allows is refused (never cut)."""
    text = str(raw if raw is not None else "").strip()
    if required and not text:
        raise ValidationError({field_name: [required]})
    limit = field_limit(model, field_name)
    if len(text) > limit:
        raise ValidationError(
            {
                field_name: [
                    _("%(label)s最多 %(limit)d 字，现为 %(length)d 字，请删减后再保存。")
                    % {"label": label, "limit": limit, "length": len(text)}
                ]
            }
        )
    return text


_FULL_WIDTH = str.maketrans("０１２３４５６７８９．－，", "0123456789.-,")
# A comma is a thousands separator only between groups of exactly three digits: 1,200 or 12,345.67.
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


def parse_decimal(
    raw: Any,
    *,
    field_name: str,
    decimal_places: int,
    minimum: Decimal | None = Decimal(0),
    maximum: Decimal | None = None,
    label: str = "",
) -> Decimal:
    """A number as a person types it ('95.5', ' 1,200 ', '９５'), checked the same way everywhere.

    Never guessed: '95,8' is refused (is it 95.8 or 958?), and '84.9900' has two decimal places, not four.
    """
    # Full-width digits, point and comma, as typed with a Chinese input method.
    text = str(raw if raw is not None else "").strip().translate(_FULL_WIDTH)
    if text.endswith("%"):
        text = text[:-1].strip()
    label = label or _("数值")
    if not text:
        raise ValidationError({field_name: [_("请填写%(label)s。") % {"label": label}]})
    if "," in text:
        if not _GROUPED.fullmatch(text):
            raise ValidationError(
                {
                    field_name: [
                        _("“%(raw)s”中的逗号只能用作千位分隔符（如 1,200）；小数请用小数点，例如 95.8。")
                        % {"raw": str(raw)[:30]}
                    ]
                }
            )
        text = text.replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationError({field_name: [_("“%(raw)s”不是有效的数字。") % {"raw": str(raw)[:30]}]}) from None
    if not number.is_finite():
        raise ValidationError({field_name: [_("“%(raw)s”不是有效的数字。") % {"raw": str(raw)[:30]}]})
    # Trailing zeros are not decimal places: 84.9900 is 84.99 (the API returns values with four places).
    exponent = number.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > decimal_places:
        message = (
            _("%(label)s应为整数。") % {"label": label}
            if decimal_places == 0
            else _("%(label)s最多保留 %(places)s 位小数。") % {"label": label, "places": decimal_places}
        )
        raise ValidationError({field_name: [message]})
    if minimum is not None and number < minimum:
        raise ValidationError(
            {
                field_name: [
                    _("%(label)s不能为负数。") % {"label": label}
                    if minimum == 0
                    else _("%(label)s不能小于 %(min)s。") % {"label": label, "min": minimum}
                ]
            }
        )
    if maximum is not None and number > maximum:
        raise ValidationError(
            {field_name: [_("%(label)s不能超过 %(max)s。") % {"label": label, "max": f"{maximum.normalize():f}"}]}
        )
    if abs(number) >= Decimal("1e10"):
        raise ValidationError({field_name: [_("%(label)s过大。") % {"label": label}]})
    return number


def merge_errors(*errors: ValidationError) -> ValidationError:
    merged: dict[str, list[str]] = {}
    for error in errors:
        for name, messages in error.message_dict.items():
            merged.setdefault(name, []).extend(messages)
    return ValidationError(merged)
