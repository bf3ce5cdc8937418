"""A unit's group robot (企业微信/钉钉), posted to a local HTTP receiver started by each test: the message, failures
that never undo or block the save, and sending again later."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from indicators.models import IndicatorValue
from indicators.services import IndicatorValueInput, indicator_value_create, indicator_value_submit
from planning import delivery
from planning.admin import UnitAdminForm
from planning.delivery import (
    WebhookFailed,
    deliveries_catch_up,
    fit_bytes,
    webhook_deliveries_resend,
    webhook_post,
)
from planning.models import DeliveryState, Notification, Unit, WebhookDelivery, WebhookKind
from planning.notifications import notify, unit_webhook_clean

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]


@dataclass
class Receiver:
    """What the robot answers, and what it was sent."""

    url: str = ""
    status: int = 200
    answer: dict[str, Any] = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    delay: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(json.loads(body.decode("utf-8")))
            state.paths.append(self.path)
            if state.delay:
                time.sleep(state.delay)
            answer = json.dumps(state.answer).encode()
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:
                pass  # the client gave up waiting (the hanging robot)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    state.url = f"http://127.0.0.1:{server.server_port}/cgi-bin/webhook/send?key=test-key"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def bureau(receiver: Receiver) -> Unit:
    """市教育局 with a 企业微信 group robot at the local receiver."""
    unit = Unit.objects.get(name="市教育局")
    unit.webhook_kind, unit.webhook_url = WebhookKind.WECOM, receiver.url
    unit.save()
    return unit


def submit_value(alice, rate, city):  # type: ignore[no-untyped-def]
    entry = indicator_value_create(
        indicator=rate, region=city, year=2024, user=alice, data=IndicatorValueInput(value="95.8", source="统计年报")
    )
    return indicator_value_submit(value=entry, user=alice)


# --- the message --------------------------------------------------------------------------------------------


def test_a_transition_posts_one_wecom_markdown_message(  # type: ignore[no-untyped-def]
    alice, carol, erin, rate, city, bureau, receiver, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        entry = submit_value(alice, rate, city)
    # Two reviewers are told; the group hears it once.
    assert Notification.objects.count() == 2
    assert receiver.paths == ["/cgi-bin/webhook/send?key=test-key"]
    link = reverse("indicators:value-detail", args=[entry.pk])
    assert receiver.received == [
        {
            "msgtype": "markdown",
            "markdown": {
                "content": "**待审核：学前教育毛入园率 · 乐山市 · 2024年**\n\n"
                "Alice 提交了“学前教育毛入园率 · 乐山市 · 2024年”，请审核。\n\n"
                f"[查看详情](http://127.0.0.1:8000{link})"
            },
        }
    ]
    sent = WebhookDelivery.objects.get()
    assert (sent.unit, sent.kind, sent.state, sent.attempts, sent.last_error) == (
        bureau,
        "submitted",
        DeliveryState.SENT,
        1,
        "",
    )
    assert sent.sent_at is not None


def test_dingtalk_gets_a_title_and_text(alice, carol, bureau, receiver, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    bureau.webhook_kind = WebhookKind.DINGTALK
    bureau.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            users=[alice],
            kind="warning",
            title="新增预警 1 项",
            body="学前教育毛入园率滞后",
            link="/?unit=1",
            unit=bureau,
        )
    assert receiver.received == [
        {
            "msgtype": "markdown",
            "markdown": {
                "title": "新增预警 1 项",
                "text": "**新增预警 1 项**\n\n学前教育毛入园率滞后\n\n[查看详情](http://127.0.0.1:8000/?unit=1)",
            },
        }
    ]


def test_no_robot_no_post_and_nobody_told_no_post(alice, bureau, receiver, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    other = Unit.objects.exclude(pk=bureau.pk).first()
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[alice], kind="warning", title="t", body="b", unit=other)  # no robot
        notify(users=[], kind="warning", title="t", body="b", unit=bureau)  # nobody told
        notify(users=[alice], kind="warning", title="t", body="b", unit=bureau, webhook=False)
    assert receiver.received == []
    assert not WebhookDelivery.objects.exists()


def test_a_long_message_is_cut_to_what_the_robot_accepts() -> None:
    text = "预警" * 3000
    cut = fit_bytes(text)
    assert len(cut.encode("utf-8")) <= delivery.WEBHOOK_MAX_BYTES
    assert cut.endswith("……（内容过长，其余请登录系统查看）")
    assert fit_bytes("短消息") == "短消息"


# --- failures never undo or block the save; later they are sent -------------------------------------------


@pytest.mark.parametrize(
    ("status", "answer", "error"),
    [
        (500, {"errcode": -1}, "HTTPError: HTTP Error 500"),
        (200, {"errcode": 93000, "errmsg": "invalid webhook url"}, "WebhookFailed: errcode 93000"),
    ],
)
def test_a_failing_robot_leaves_the_save_intact_and_a_retry_sends_it(  # type: ignore[no-untyped-def]
    alice, carol, rate, city, bureau, receiver, django_capture_on_commit_callbacks, status, answer, error
) -> None:
    receiver.status, receiver.answer = status, answer
    with django_capture_on_commit_callbacks(execute=True):
        entry = submit_value(alice, rate, city)
    assert IndicatorValue.objects.get(pk=entry.pk).status == "submitted"
    assert Notification.objects.filter(user=carol, kind="submitted").exists()
    failed = WebhookDelivery.objects.get()
    assert (failed.state, failed.attempts) == (DeliveryState.FAILED, 1)
    assert failed.last_error.startswith(error)
    assert "test-key" not in failed.last_error  # the robot's key stays out of the log

    # The robot recovers; the administrator's 重新发送 posts it once, and a second resend posts nothing.
    receiver.status, receiver.answer = 200, {"errcode": 0, "errmsg": "ok"}
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_resend(delivery_ids=[failed.pk]) == (1, 0)
    failed.refresh_from_db()
    assert (failed.state, failed.attempts, failed.last_error) == (DeliveryState.SENT, 2, "")
    assert len(receiver.received) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_resend(delivery_ids=[failed.pk]) == (0, 1)
    assert len(receiver.received) == 2


def test_a_hanging_robot_never_blocks_the_save(  # type: ignore[no-untyped-def]
    alice, carol, rate, city, bureau, receiver, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    monkeypatch.setattr(delivery, "WEBHOOK_TIMEOUT_SECONDS", 0.3)
    receiver.delay = 3
    started = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=True):
        entry = submit_value(alice, rate, city)  # eager Celery: the post runs here, once, and its error is swallowed
    assert time.perf_counter() - started < 2.5
    assert IndicatorValue.objects.get(pk=entry.pk).status == "submitted"
    hung = WebhookDelivery.objects.get()
    assert (hung.state, hung.attempts) == (DeliveryState.FAILED, 1)
    assert "timed out" in hung.last_error


def test_the_catch_up_job_sends_what_the_queue_could_not(  # type: ignore[no-untyped-def]
    alice, carol, rate, city, bureau, receiver, django_capture_on_commit_callbacks
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from planning.tasks import post_webhook

    # The broker is down at the save: nothing is posted, the delivery stays 待发送.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(post_webhook, "apply_async", lambda *a, **k: (_ for _ in ()).throw(OSError("no broker")))
        with django_capture_on_commit_callbacks(execute=True):
            submit_value(alice, rate, city)
    pending = WebhookDelivery.objects.get()
    assert (pending.state, pending.attempts, receiver.received) == (DeliveryState.PENDING, 0, [])

    now = timezone.now()
    assert deliveries_catch_up(now=now)["webhooks_sent"] == 0  # too fresh: its own task may still be on the way
    later = deliveries_catch_up(now=now + timedelta(minutes=11))
    assert later["webhooks_sent"] == 1
    assert len(receiver.received) == 1
    assert deliveries_catch_up(now=now + timedelta(minutes=21))["webhooks_sent"] == 0  # sent once
    assert len(receiver.received) == 1


def test_a_redelivered_task_posts_a_sent_message_no_more(bureau, receiver) -> None:  # type: ignore[no-untyped-def]
    row = WebhookDelivery.objects.create(unit=bureau, kind="warning", title="t", text="x")
    assert webhook_post(delivery_id=row.pk) == "sent"
    assert webhook_post(delivery_id=row.pk) == "skipped"
    assert len(receiver.received) == 1


# --- the administrator's side ------------------------------------------------------------------------------


def test_a_webhook_needs_its_kind_and_an_http_address() -> None:
    assert unit_webhook_clean(kind="", url="") == ("", "")
    assert unit_webhook_clean(kind="wecom", url=" https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k ") == (
        "wecom",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
    )
    cases = {
        ("wecom", ""): {"webhook_url": ["已选择群机器人类型，请填写群机器人地址（Webhook）。"]},
        ("", "https://oapi.dingtalk.com/robot/send?access_token=t"): {
            "webhook_kind": ["已填写群机器人地址，请选择群机器人类型（企业微信或钉钉）。"]
        },
        ("dingtalk", "ftp://oapi.dingtalk.com/robot"): {
            "webhook_url": ["群机器人地址应为以 http:// 或 https:// 开头的完整网址。"]
        },
        ("slack", "https://x.example"): {"webhook_kind": ["群机器人类型应为企业微信或钉钉。"]},
    }
    for (kind, url), expected in cases.items():
        with pytest.raises(ValidationError) as caught:
            unit_webhook_clean(kind=kind, url=url)
        assert caught.value.message_dict == expected


def test_the_unit_form_refuses_a_half_set_robot_and_saves_nothing(db) -> None:  # type: ignore[no-untyped-def]
    unit = Unit.objects.get(name="市教育局")
    data = {"name": unit.name, "order": unit.order, "note": unit.note, "webhook_kind": "wecom", "webhook_url": ""}
    form = UnitAdminForm(data=data, instance=unit)
    assert not form.is_valid()
    assert form.errors == {"webhook_url": ["已选择群机器人类型，请填写群机器人地址（Webhook）。"]}
    unit.refresh_from_db()
    assert (unit.webhook_kind, unit.webhook_url) == ("", "")
    form = UnitAdminForm(
        data={**data, "webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}, instance=unit
    )
    assert form.is_valid(), form.errors
    form.save()
    unit.refresh_from_db()
    assert unit.webhook_kind == "wecom"


def test_the_delivery_log_is_read_only_with_a_resend_action(  # type: ignore[no-untyped-def]
    admin_client: Client, bureau, receiver, django_capture_on_commit_callbacks
) -> None:
    receiver.status = 500
    row = WebhookDelivery.objects.create(
        unit=bureau,
        kind="warning",
        title="新增预警",
        text="x",
        state=DeliveryState.FAILED,
        attempts=3,
        last_error="HTTPError: HTTP Error 500",
    )
    listing = admin_client.get(reverse("admin:planning_webhookdelivery_changelist"))
    content = listing.content.decode()
    assert "发送失败" in content and "HTTPError: HTTP Error 500" in content
    assert "重新发送所选的未送达消息" in content
    assert reverse("admin:planning_webhookdelivery_add") not in content
    assert admin_client.get(reverse("admin:planning_webhookdelivery_add")).status_code == 403
    detail = admin_client.get(reverse("admin:planning_webhookdelivery_change", args=[row.pk]))
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()

    receiver.status = 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:planning_webhookdelivery_changelist"),
            {"action": "resend", "_selected_action": [row.pk]},
            follow=True,
        )
    assert "已重新排队发送 1 条消息。" in response.content.decode()
    row.refresh_from_db()
    assert (row.state, row.attempts) == (DeliveryState.SENT, 4)
    assert site.is_registered(WebhookDelivery)


def test_a_webhook_failure_is_raised_for_the_task_to_retry(bureau, receiver) -> None:  # type: ignore[no-untyped-def]
    receiver.answer = {"errcode": 45009, "errmsg": "api freq out of limit"}
    row = WebhookDelivery.objects.create(unit=bureau, kind="warning", title="t", text="x")
    with pytest.raises(WebhookFailed):
        webhook_post(delivery_id=row.pk)
    with pytest.raises(WebhookFailed):
        webhook_post(delivery_id=row.pk)
    row.refresh_from_db()
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 2)
    assert "45009" in row.last_error
