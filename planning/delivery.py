"""Delivering notifications: mail per person and the units' group robots. Called by thin Celery tasks."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone

from .models import DeliveryState, Notification, WebhookDelivery, WebhookKind
from .notifications import emails_wanted

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 10


class WebhookFailed(Exception):
    """The robot did not take the message; the task retries."""


def notification_emails_send(*, notification_ids: list[int]) -> int:
    """Mail each notification not mailed yet to its person, if they still want this kind by email.

    Each is claimed with a conditional update first, so a redelivered task sends nothing twice; a failed send
    releases its claim and raises, so the task's retry sends it (and only it) again.
    """
    sent = 0
    rows = Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True).select_related("user")
    for notification in rows:
        user = notification.user
        if not user.email or user.pk not in emails_wanted([user.pk], notification.kind):
            continue
        now = timezone.now()
        if not Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(emailed_at=now):
            continue
        body = notification.body
        if notification.link:
            body += f"\n\n查看：{settings.SITE_URL.rstrip('/')}{notification.link}"
        try:
            send_mail(notification.title, body, settings.DEFAULT_FROM_EMAIL, [user.email])
        except Exception:
            Notification.objects.filter(pk=notification.pk, emailed_at=now).update(emailed_at=None)
            raise
        sent += 1
    return sent


def webhook_payload(kind: str, title: str, text: str) -> dict[str, object]:
    """The markdown message of each robot (企业微信: content; 钉钉: title and text)."""
    if kind == WebhookKind.DINGTALK:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    return {"msgtype": "markdown", "markdown": {"content": text}}


def webhook_post(*, delivery_id: int) -> str:
    """Post one delivery to its unit's robot; sent deliveries are skipped, failures counted and raised for retry."""
    delivery = WebhookDelivery.objects.select_related("unit").filter(pk=delivery_id).first()
    if delivery is None or delivery.state == DeliveryState.SENT:
        return "skipped"
    unit = delivery.unit
    if not unit.webhook_url:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.FAILED, last_error="单位未设置群机器人地址"
        )
        return "no-url"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    body = json.dumps(webhook_payload(unit.webhook_kind, delivery.title, delivery.text), ensure_ascii=False)
    request = urllib.request.Request(
        unit.webhook_url, data=body.encode("utf-8"), headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            answer = response.read(4096).decode("utf-8", "replace")
        # Both robots answer 200 with {"errcode": 0} on success and a non-zero errcode otherwise.
        errcode = json.loads(answer or "{}").get("errcode", 0)
        if errcode:
            raise WebhookFailed(f"errcode {errcode}: {answer[:200]}")
    except (OSError, ValueError, WebhookFailed) as exc:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED, last_error=str(exc)[:300])
        logger.warning("Webhook delivery %s to %s failed: %s", delivery.pk, unit, exc)
        raise
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"
