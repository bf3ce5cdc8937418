"""Notifications: one service writes them (in the caller's transaction) and queues their delivery on commit.

In the product every person sees their notifications on the 通知 page; by email unless they turned that kind off
(NotificationPreference); and a unit with a group robot (企业微信/钉钉) gets the same message posted there once.
Delivery is Celery work queued with transaction.on_commit: a mail server or webhook that fails is retried by the
task and never undoes, blocks or slows the save that caused the message.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Notification, NotificationPreference, Unit, WebhookDelivery


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
    from .tasks import dispatch_on_commit, post_webhook, send_notification_emails

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
    if webhook and unit is not None and unit.webhook_url and created:
        delivery = WebhookDelivery.objects.create(unit=unit, kind=kind, title=title, text=markdown(title, body, link))
        dispatch_on_commit(post_webhook, delivery.pk)
    return created


def markdown(title: str, body: str, link: str) -> str:
    """The group-robot text: a bold title, the body, the link as a path (the robot's readers know the host)."""
    lines = [f"**{title}**", "", body]
    if link:
        lines += ["", f"查看：{link}"]
    return "\n".join(lines)


def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark a person's notifications read (all, or those ids of theirs): a conditional update, so twice is once."""
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
