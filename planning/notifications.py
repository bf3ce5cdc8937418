"""Notifications: one service writes them (in the caller's transaction) and queues their delivery on commit.

In the product every person sees their notifications on the 通知 page; by email unless they turned that kind off
(NotificationPreference); and a unit with a group robot (企业微信/钉钉) gets the same message posted there once.
Delivery is Celery work queued with transaction.on_commit: a mail server or webhook that fails is retried by the
task and never undoes, blocks or slows the save that caused the message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .entries import EntryKind
from .models import (
    Notification,
    NotificationKind,
    NotificationPreference,
    ReviewedEntry,
    Unit,
    WebhookDelivery,
    WebhookKind,
)
from .selectors import entry_authors, entry_reviewers
from .tasks import dispatch_on_commit, post_webhook, send_notification_emails


def emails_wanted(user_ids: Iterable[int], kind: str) -> set[int]:
    """Of these people, those who get this kind by email (default on; off only by their own choice)."""
    user_ids = set(user_ids)
    off = set(
        NotificationPreference.objects.filter(user_id__in=user_ids, kind=kind, email=False).values_list(
            "user_id", flat=True
        )
    )
    return user_ids - off


def notify(
    *,
    users: Iterable[User],
    kind: str,
    title: str,
    body: str,
    link: str = "",
    unit: Unit | None = None,
    occasion: str = "",
    webhook: bool = True,
) -> list[Notification]:
    """Write one notification per (active, distinct) person; with `occasion`, at most one per person ever.

    Mail for those who want it and the unit's group-robot message are queued to run after the commit.
    """
    people = {user.pk: user for user in users if user is not None and user.is_active}
    if occasion:
        already = set(
            Notification.objects.filter(user_id__in=list(people), occasion=occasion).values_list("user_id", flat=True)
        )
        people = {pk: user for pk, user in people.items() if pk not in already}
    title = title[: Notification._meta.get_field("title").max_length or 200]
    created: list[Notification] = []
    for user in people.values():
        notification = Notification(
            user=user, kind=kind, title=title, body=body, link=link, unit=unit, occasion=occasion
        )
        if occasion:
            # Two runs at once: the unique constraint lets one win; the other writes nothing for this person.
            try:
                with transaction.atomic():
                    notification.save()
            except IntegrityError:
                continue
        else:
            notification.save()
        created.append(notification)
    wanted = emails_wanted([n.user_id for n in created], kind)
    mail_ids = sorted(n.pk for n in created if n.user.email and n.user_id in wanted)
    if mail_ids:
        dispatch_on_commit(send_notification_emails, mail_ids)
    if webhook and unit is not None and created:
        robot_post(unit=unit, kind=kind, title=title, body=body, link=link)
    return created


def robot_post(*, unit: Unit, kind: str, title: str, body: str, link: str = "") -> WebhookDelivery | None:
    """Queue one message to the unit's group robot (none set: nothing), posted after the commit."""
    if not unit.webhook_url:
        return None
    delivery = WebhookDelivery.objects.create(unit=unit, kind=kind, title=title, text=markdown(title, body, link))
    dispatch_on_commit(post_webhook, delivery.pk)
    return delivery


def markdown(title: str, body: str, link: str) -> str:
    """The group-robot text: a bold title, the body, and the page as a link the group can open (SITE_URL + path,
    as in the mail; both robots render [text](url))."""
    lines = [f"**{title}**", "", body]
    if link:
        lines += ["", f"[查看详情]({settings.SITE_URL.rstrip('/')}{link})"]
    return "\n".join(lines)


def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None, kind: str = "") -> int:
    """Mark a person's notifications read (all, those ids of theirs, or those of one kind): a conditional update,
    so twice is once."""
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    if kind:
        rows = rows.filter(kind=kind)
    return rows.update(read_at=timezone.now())


@transaction.atomic
def notification_preferences_set(*, user: User, email_by_kind: Mapping[str, bool]) -> dict[str, bool]:
    """Record whether the person gets each kind by email (kinds not named keep their setting).

    A row is written for every kind named, on or off, so the choice is explicit; an unknown kind refuses the whole
    change and saves nothing.
    """
    unknown = sorted(set(email_by_kind) - set(NotificationKind.values))
    if unknown:
        raise ValidationError(_("没有这种通知类型：%(kinds)s。") % {"kinds": "、".join(unknown)})
    for kind, email in email_by_kind.items():
        NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"email": bool(email)})
    return dict(email_by_kind)


# --- the reviewed entries' transitions ---------------------------------------------------------------

# action → (kind, title, body); {entry} names the item as str(entry) does, {who} the person who acted.
TRANSITION_NOTICES = {
    "submit": (NotificationKind.SUBMITTED, "待审核：{entry}", "{who} 提交了“{entry}”，请审核。"),
    "return": (
        NotificationKind.RETURNED,
        "被退回：{entry}",
        "{who} 退回了“{entry}”。\n审核意见：{comment}\n请按审核意见修改后重新提交。",
    ),
    "approve": (NotificationKind.APPROVED, "已通过：{entry}", "{who} 审核通过了“{entry}”。"),
    "reopen": (
        NotificationKind.REOPENED,
        "发起更正：{entry}",
        "{who} 对已通过的“{entry}”发起了更正；更正审核通过前，原已通过的数据继续有效。",
    ),
}


def transition_recipients(kind: EntryKind, entry: ReviewedEntry, action: str, actor: User) -> list[User]:
    """Who hears of a transition, never the person who acted: submit → the reviewers who may review the entry;
    return and approve → its authors; reopen → the authors and the reviewer of the approved revision; withdraw
    → nobody (it only takes back what nobody has looked at yet)."""
    if action == "submit":
        people = entry_reviewers(kind.review_scope, entry)
    elif action in ("return", "approve"):
        people = entry_authors(entry)
    elif action == "reopen":
        # Reopening started the next revision; the one approved is the one before it.
        people = entry_authors(entry, revision=entry.revision - 1, also=[entry.reviewed_by_id])
    else:
        return []
    # Only people who may still see the entry (a scope may have changed since they wrote it): nobody is told of,
    # mailed about or linked to an item outside their view.
    return [
        person
        for person in people
        if person.pk != actor.pk and (action == "submit" or kind.visible(person).filter(pk=entry.pk).exists())
    ]


def entry_transition_notify(
    kind: EntryKind, entry: ReviewedEntry, action: str, user: User, comment: str
) -> list[Notification]:
    """Tell the people a transition concerns, in its transaction (a listener of planning.entries, registered by
    PlanningConfig.ready); the item's lead unit's group robot hears of it too."""
    notice = TRANSITION_NOTICES.get(action)
    if notice is None:
        return []
    recipients = transition_recipients(kind, entry, action, user)
    if not recipients:
        return []
    notice_kind, title, body = notice
    # The reason as stored (checked and trimmed by the workflow), not as typed.
    names = {"entry": str(entry), "who": user.get_full_name() or user.get_username(), "comment": entry.review_comment}
    return notify(
        users=recipients,
        kind=notice_kind,
        title=title.format(**names),
        body=body.format(**names),
        link=reverse(kind.detail_url, args=[entry.pk]) if kind.detail_url else "",
        unit=kind.lead_unit_of(entry),
    )


# --- a unit's group robot ----------------------------------------------------------------------------------


def unit_webhook_clean(*, kind: str, url: str) -> tuple[str, str]:
    """A unit's group robot: its kind and an http(s) address together, or neither; every problem at once."""
    kind, url = (kind or "").strip(), (url or "").strip()
    errors: dict[str, list[str]] = {}
    if kind and kind not in WebhookKind.values:
        errors["webhook_kind"] = [_("群机器人类型应为企业微信或钉钉。")]
    elif url and not kind:
        errors["webhook_kind"] = [_("已填写群机器人地址，请选择群机器人类型（企业微信或钉钉）。")]
    if url:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            errors["webhook_url"] = [_("群机器人地址应为以 http:// 或 https:// 开头的完整网址。")]
    elif kind:
        errors["webhook_url"] = [_("已选择群机器人类型，请填写群机器人地址（Webhook）。")]
    if errors:
        raise ValidationError(errors)
    return kind, url
