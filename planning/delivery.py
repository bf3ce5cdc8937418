"""Delivering notifications: mail per person and the units' group robots. Called by thin Celery tasks."""

from __future__ import annotations

import datetime
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from .models import DeliveryState, Notification, NotificationPreference, WebhookDelivery, WebhookKind
from .notifications import emails_wanted
from .tasks import dispatch_on_commit, post_webhook

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 10
# Both robots refuse a markdown message over 4096 bytes (企业微信's documented limit; 钉钉's is larger).
WEBHOOK_MAX_BYTES = 4000
# The catch-up job: what the on-commit tasks could not deliver, after a pause, for a day, so many tries in all.
CATCH_UP_AFTER = datetime.timedelta(minutes=10)
CATCH_UP_WITHIN = datetime.timedelta(days=1)
WEBHOOK_MAX_ATTEMPTS = 12


class DeliveryFailed(Exception):
    """A mail or robot message did not go out; the task retries (only what is still unsent)."""

    def __init__(self, message: str, sent: int = 0) -> None:
        super().__init__(message)
        self.sent = sent


class WebhookFailed(DeliveryFailed):
    """The robot did not take the message."""


def notification_emails_send(*, notification_ids: Iterable[int]) -> int:
    """Mail each notification not mailed yet to its person, if they still want this kind by email.

    Each is claimed with a conditional update first, so a redelivered task sends nothing twice; a failed send
    releases its claim and the others are still sent, then the failure is raised so the task's retry sends the
    failed ones (and only those) again.
    """
    sent = 0
    failures: list[str] = []
    rows = list(
        Notification.objects.filter(pk__in=list(notification_ids), emailed_at__isnull=True)
        .select_related("user")
        .order_by("pk")  # in the order written
    )
    wanted = {kind: emails_wanted([n.user_id for n in rows if n.kind == kind], kind) for kind in {n.kind for n in rows}}
    for notification in rows:
        user = notification.user
        if not user.email or not user.is_active or user.pk not in wanted[notification.kind]:
            continue
        now = timezone.now()
        if not Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(emailed_at=now):
            continue
        body = notification.body
        if notification.link:
            body += f"\n\n查看：{settings.SITE_URL.rstrip('/')}{notification.link}"
        try:
            send_mail(notification.title, body, settings.DEFAULT_FROM_EMAIL, [user.email])
        except Exception as exc:
            Notification.objects.filter(pk=notification.pk, emailed_at=now).update(emailed_at=None)
            logger.warning("Mail of notification %s failed: %s", notification.pk, exc)
            failures.append(f"{notification.pk}: {exc}")
            continue
        sent += 1
    if failures:
        raise DeliveryFailed(f"{len(failures)} 封邮件未能发送：" + "；".join(failures)[:500], sent=sent)
    return sent


def fit_bytes(text: str, limit: int = WEBHOOK_MAX_BYTES) -> str:
    """The text cut (at a character, with a note) to what a robot accepts, counted in UTF-8 bytes."""
    if len(text.encode("utf-8")) <= limit:
        return text
    note = "\n\n……（内容过长，其余请登录系统查看）"
    room = limit - len(note.encode("utf-8"))
    return text.encode("utf-8")[:room].decode("utf-8", "ignore") + note


def webhook_payload(kind: str, title: str, text: str) -> dict[str, object]:
    """The markdown message of each robot (企业微信: content; 钉钉: title and text)."""
    text = fit_bytes(text)
    if kind == WebhookKind.DINGTALK:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    return {"msgtype": "markdown", "markdown": {"content": text}}


def webhook_post(*, delivery_id: int) -> str:
    """Post one delivery to its unit's robot; sent deliveries are skipped, failures counted and raised for retry.

    The attempt is claimed with a conditional update of the count, so of two runs that read the row in the same
    state (a redelivered task beside its retry, or beside the catch-up job) only one posts.
    """
    delivery = WebhookDelivery.objects.select_related("unit").filter(pk=delivery_id).first()
    if delivery is None or delivery.state == DeliveryState.SENT:
        return "skipped"
    unit = delivery.unit
    if not unit.webhook_url:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.FAILED, last_error="单位未设置群机器人地址"
        )
        return "no-url"
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts)
        .exclude(state=DeliveryState.SENT)
        .update(attempts=F("attempts") + 1)
    )
    if not claimed:
        return "busy"
    body = json.dumps(webhook_payload(unit.webhook_kind, delivery.title, delivery.text), ensure_ascii=False)
    request = urllib.request.Request(
        unit.webhook_url, data=body.encode("utf-8"), headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            answer = response.read(4096).decode("utf-8", "replace")
        # Both robots answer 200 with {"errcode": 0} on success and a non-zero errcode otherwise.
        data = json.loads(answer or "{}")
        errcode = data.get("errcode", 0) if isinstance(data, dict) else 0
        if errcode:
            raise WebhookFailed(f"errcode {errcode}: {answer[:200]}")
    except (OSError, ValueError, WebhookFailed) as exc:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:300]
        )
        logger.warning("Webhook delivery %s to %s failed: %s", delivery.pk, unit, exc)
        raise
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def webhook_deliveries_resend(*, delivery_ids: Iterable[int]) -> tuple[int, int]:
    """An administrator's 重新发送: the unsent ones go back to 待发送 and are posted once this commits.

    Returns (queued, already sent): a message the group has had is not posted twice.
    """
    states = dict(WebhookDelivery.objects.filter(pk__in=list(delivery_ids)).values_list("pk", "state"))
    queued = sorted(pk for pk, state in states.items() if state != DeliveryState.SENT)
    WebhookDelivery.objects.filter(pk__in=queued).update(state=DeliveryState.PENDING)
    for pk in queued:
        dispatch_on_commit(post_webhook, pk)  # outside a transaction this posts at once (eager mode)
    return len(queued), len(states) - len(queued)


def deliveries_catch_up(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Deliver what the on-commit tasks could not (the broker was down, the retries were spent): mail of the
    last day's notifications not mailed yet to those who want it, and robot messages pending or failed with tries
    left. Anything older is left alone: news a day late is noise. Each delivery claims its row, as above."""
    now = now or timezone.now()
    window = {"created_at__gte": now - CATCH_UP_WITHIN, "created_at__lte": now - CATCH_UP_AFTER}
    turned_off = NotificationPreference.objects.filter(user=OuterRef("user"), kind=OuterRef("kind"), email=False)
    unmailed = list(
        Notification.objects.filter(emailed_at__isnull=True, user__is_active=True, **window)
        .exclude(user__email="")
        .exclude(Exists(turned_off))
        .values_list("pk", flat=True)
    )
    result = {"mails_sent": 0, "mails_failed": 0, "webhooks_sent": 0, "webhooks_failed": 0}
    if unmailed:
        try:
            result["mails_sent"] = notification_emails_send(notification_ids=unmailed)
        except DeliveryFailed as exc:
            result["mails_sent"], result["mails_failed"] = exc.sent, 1
            logger.warning("Catch-up mail: %s", exc)
    stuck = WebhookDelivery.objects.filter(
        state__in=[DeliveryState.PENDING, DeliveryState.FAILED], attempts__lt=WEBHOOK_MAX_ATTEMPTS, **window
    ).values_list("pk", flat=True)
    for pk in list(stuck):
        try:
            outcome = webhook_post(delivery_id=pk)
        except (OSError, ValueError, WebhookFailed):
            result["webhooks_failed"] += 1
        else:
            result["webhooks_sent"] += outcome == "sent"
    return result
