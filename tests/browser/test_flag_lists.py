"""A leader follows the overview's warning counts to the lists they count, page by page, and a unit's card to its
page: each number shown beside a list is that list's total."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

from tests.conftest import make_user

from .conftest import log_in

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/counts")


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_leader_follows_the_warning_counts(live_plan, live_server, page) -> None:  # type: ignore[no-untyped-def]
    from indicators.flags import sync_indicator_lag_flags, sync_overdue_flags
    from indicators.models import Flag
    from indicators.status import recompute_indicator_statuses

    recompute_indicator_statuses()
    sync_indicator_lag_flags()
    sync_overdue_flags(today=datetime.date(2026, 3, 15))
    overdue = Flag.objects.filter(state="open", kind="overdue", plan__code="leshan-edu-14fyp").count()
    make_user("leo", "领导")
    log_in(page, live_server.url, "leo", "pw-leo")
    page.goto(f"{live_server.url}/dashboard/?year=2025")
    page.wait_for_load_state("networkidle")
    heading = page.locator("#flags-title").inner_text()
    assert f"另有逾期未报 {overdue} 项" in heading
    page.locator("#flags").scroll_into_view_if_needed()
    shot(page, "1-overview")

    page.locator("#flags-title a").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("#flags") and "kind=overdue" in page.url
    assert re.search(rf"逾期未报\s*{overdue} 项", page.locator("#flags-title").inner_text())
    pagination = page.locator("#flags .pagination").inner_text()
    assert f"共 {overdue} 条" in pagination
    page.locator("#flags .pagination a", has_text="下一页").click()
    page.wait_for_load_state("networkidle")
    assert "page=2" in page.url and "kind=overdue" in page.url
    assert "第 2 /" in page.locator("#flags .pagination").inner_text()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(SHOTS / "2-overdue-page-2.png"))  # where the link lands, not the whole page

    page.goto(f"{live_server.url}/dashboard/units/?year=2025")
    card = page.locator(".unit-card", has_text="市教育局")
    card_overdue = int(re.search(r"逾期未报 (\d+)", card.inner_text()).group(1))
    shot(page, "3-units")
    card.click()
    page.wait_for_load_state("networkidle")
    assert f"逾期未报（{card_overdue}）" in page.locator("#overdue-flags").inner_text()
    assert f"共 {card_overdue} 条" in page.content()
    page.locator("#overdue-flags").scroll_into_view_if_needed()
    shot(page, "4-unit")
