"""An administrator sets a unit's group robot in the admin, sees a failed message in the delivery log and sends it
again; the robot is a local HTTP receiver started by the test."""

from __future__ import annotations

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_user

from .conftest import log_in

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/notifications")


def test_an_administrator_sets_a_robot_and_sends_a_failed_message_again(  # type: ignore[no-untyped-def]
    live_plan, live_server, page, monkeypatch
) -> None:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from indicators.services import IndicatorValueInput, indicator_value_create, indicator_value_submit
    from planning.models import DeliveryState, Plan, Unit, WebhookDelivery

    answers = [500]
    received: list[dict[str, Any]] = []

    class Robot(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's name
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(answers[-1])
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    robot_url = f"http://127.0.0.1:{server.server_port}/cgi-bin/webhook/send?key=demo"
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        User.objects.create_superuser("root", password="pw-root")
        log_in(page, live_server.url, "root", "pw-root")
        unit = Unit.objects.get(name="市教育局")
        page.goto(f"{live_server.url}/admin/planning/unit/{unit.pk}/change/")
        page.select_option("#id_webhook_kind", "wecom")
        page.click("input[name=_save]")
        page.wait_for_load_state("networkidle")
        error = page.locator(".field-webhook_url .errorlist").inner_text()
        assert error == "已选择群机器人类型，请填写群机器人地址（Webhook）。"
        page.screenshot(path=str(SHOTS / "unit-robot-half-set.png"), full_page=True)
        unit.refresh_from_db()
        assert unit.webhook_kind == ""  # nothing saved

        page.fill("#id_webhook_url", robot_url)
        page.click("input[name=_save]")
        page.wait_for_load_state("networkidle")
        unit.refresh_from_db()
        assert (unit.webhook_kind, unit.webhook_url) == ("wecom", robot_url)

        # A submission by alice: carol is told, and the robot (answering 500) fails; the submission stands.
        plan = Plan.objects.get(code="leshan-edu-14fyp")
        alice = make_user("alice", "填报员", units=("市教育局",))
        make_user("carol", "审核员", units=("市教育局",))
        monkeypatch.setattr(timezone, "localdate", lambda *a, **k: datetime.date(2026, 3, 15))
        entry = indicator_value_create(
            indicator=plan.indicators.get(number=2),
            region=plan.region,
            year=2024,
            user=alice,
            data=IndicatorValueInput(value="95.8", source="统计年报"),
        )
        indicator_value_submit(value=entry, user=alice)
        delivery = WebhookDelivery.objects.get()
        assert delivery.state == DeliveryState.FAILED and len(received) == 1

        page.goto(f"{live_server.url}/admin/planning/webhookdelivery/")
        row = page.locator("#result_list tbody tr").first
        assert "发送失败" in row.inner_text() and "HTTP Error 500" in row.inner_text()
        page.screenshot(path=str(SHOTS / "delivery-log-failed.png"), full_page=True)

        answers.append(200)
        page.check("#result_list tbody tr input.action-select")
        page.select_option("select[name=action]", "resend")
        page.click("button[name=index]")
        page.wait_for_load_state("networkidle")
        assert page.locator(".messagelist").inner_text() == "已重新排队发送 1 条消息。"
        assert "已发送" in page.locator("#result_list tbody tr").first.inner_text()
        page.screenshot(path=str(SHOTS / "delivery-log-resent.png"), full_page=True)
        assert len(received) == 2
        assert received[1]["markdown"]["content"].startswith("**待审核：学前教育毛入园率 · 乐山市 · 2024年**")
    finally:
        server.shutdown()
        server.server_close()
