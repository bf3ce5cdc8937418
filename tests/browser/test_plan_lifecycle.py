"""A plan's state in the browser: the badge by the plan selector, the archived notice, an adjusted target."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from tests.conftest import make_user

from .conftest import log_in

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/lifecycle")


def test_an_archived_plan_says_so_on_its_pages(live_plan, live_server, page) -> None:  # type: ignore[no-untyped-def]
    from indicators.services import indicator_target_adjust, status_recompute_all
    from planning.models import Plan, PlanState

    plan = Plan.objects.get(code="leshan-edu-14fyp")
    ada = make_user("ada", "管理员")
    indicator = plan.indicators.get(number=9)
    indicator_target_adjust(
        indicator=indicator,
        adjusted_value="92",
        effective_year=2024,
        reason="中期评估后调整",
        document="乐教发〔2024〕12号",
        user=ada,
    )
    status_recompute_all()
    Plan.objects.filter(pk=plan.pk).update(
        state=PlanState.ARCHIVED, evaluation_finalised_at=datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
    )
    make_user("leo", "领导")
    log_in(page, live_server.url, "leo", "pw-leo")
    SHOTS.mkdir(parents=True, exist_ok=True)

    assert page.locator(".board-filters .plan-state").inner_text() == "已归档"
    assert "本规划已归档，只读" in page.locator(".plan-notice").inner_text()
    assert "（已归档）" in page.locator("#f-plan").inner_text()
    page.screenshot(path=str(SHOTS / "overview-archived.png"), full_page=False)

    page.goto(f"{live_server.url}/dashboard/indicators/{indicator.pk}/?plan={plan.pk}&year=2025")
    page.wait_for_load_state("networkidle")
    adjusted = page.locator(".target-adjusted").inner_text()
    assert "目标值 96%（自2024年调整为 92%，依据乐教发〔2024〕12号）" in adjusted or "自2024年调整为 92" in adjusted
    page.screenshot(path=str(SHOTS / "indicator-adjusted.png"), full_page=False)
