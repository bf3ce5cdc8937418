"""A 填报员 enters and submits a value; a 审核员 approves it; both see it in the history."""

from __future__ import annotations

import pytest

from tests.conftest import make_user

from .conftest import log_in, log_out, shot

pytestmark = pytest.mark.browser


def test_entry_submit_approve_and_history(live_plan, live_server, page) -> None:  # type: ignore[no-untyped-def]
    from indicators.models import IndicatorValue
    from planning.models import EntryStatus

    make_user("alice", "填报员", units=("市教育局",))
    make_user("carol", "审核员", units=("市教育局",))

    log_in(page, live_server.url, "alice", "pw-alice")
    assert page.locator("h1").inner_text() == "我的填报"
    shot(page, "entry-1-my-reporting")

    row = page.locator("tr", has_text="2. 学前教育毛入园率").filter(has_text="乐山市").first
    row.locator("a.btn", has_text="填报").click()
    assert "填报指标数值" in page.locator("h1").inner_text()
    assert "2020年基期" in page.locator("aside").inner_text()

    # First a mistake: the page says what is wrong in Chinese and keeps the input.
    page.fill("#id_value", "95.123")
    page.fill("#id_source", "2024年教育事业统计年报")
    page.click("button[name=submit]")
    assert "数值最多保留 2 位小数。" in page.locator(".errorlist").first.inner_text()
    assert page.input_value("#id_source") == "2024年教育事业统计年报"
    shot(page, "entry-2-form-error")

    page.fill("#id_value", "95.8")
    page.click("button[name=submit]")
    page.wait_for_load_state("networkidle")
    assert "已保存并提交审核" in page.locator(".messages").inner_text()
    assert "待审核" in page.locator(".badge:not(.plan-state)").first.inner_text()
    shot(page, "entry-3-submitted")
    entry = IndicatorValue.objects.get()
    assert entry.status == EntryStatus.SUBMITTED
    log_out(page)

    log_in(page, live_server.url, "carol", "pw-carol")
    assert page.locator("h1").inner_text() == "待审核"
    queue_row = page.locator("tr", has_text="学前教育毛入园率")
    assert "95.8" in queue_row.inner_text()
    shot(page, "entry-4-review-queue")
    queue_row.locator("button", has_text="通过").click()
    page.wait_for_load_state("networkidle")
    assert "已审核通过" in page.locator(".messages").inner_text()
    assert "没有待审核的指标数值" in page.content()

    page.goto(f"{live_server.url}/values/{entry.pk}/")
    history = page.locator("table").last.inner_text()
    assert "表单：审核通过" in history
    assert "表单：提交审核" in history
    assert "Carol" in history
    assert "Alice" in history
    assert "状态：待审核 → 已通过" in history
    shot(page, "entry-5-history")
    entry.refresh_from_db()
    assert entry.approved_value is not None
    assert str(entry.approved_value.normalize()) == "95.8"
