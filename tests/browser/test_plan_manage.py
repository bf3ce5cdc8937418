"""An administrator imports a new plan from a workbook: upload, preview, confirm, and the plan is on the dashboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_user
from tests.exchange.plan_examples import edited, example_workbook

from .conftest import log_in

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/plans")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def snap(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def choose(page, data: bytes) -> None:  # type: ignore[no-untyped-def]
    page.set_input_files("#p-file", files=[{"name": "示例规划.xlsx", "mimeType": XLSX, "buffer": data}])


def test_an_administrator_imports_a_plan_workbook(live_plan, live_server, page) -> None:  # type: ignore[no-untyped-def]
    from indicators.models import IndicatorValue
    from planning.models import Plan
    from regions.models import Region

    admin = make_user("ada", "管理员")
    admin.is_staff = True
    admin.save()
    # The 14th plan's approved 2025 city values, from which the 示例 plan's baselines are proposed.
    predecessor_plan = Plan.objects.get(indicators__number=16)
    for number, value in ((2, "96.2"), (7, "96.2")):
        IndicatorValue.objects.create(
            indicator=predecessor_plan.indicators.get(number=number),
            region=Region.objects.get(code="511100"),
            year=2025,
            value=value,
            approved_value=value,
            status="approved",
            source="示例",
            created_by=admin,
            updated_by=admin,
        )
    log_in(page, live_server.url, "ada", "pw-ada")

    page.click("nav >> text=规划管理")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "规划管理"
    assert page.locator("#plans tbody tr").count() == Plan.objects.count() == 2
    snap(page, "1-manage")

    # A workbook with problems: each is listed by sheet, row and column; there is nothing to confirm.
    choose(page, edited(example_workbook(), "任务", "G2", 99))
    page.click("#plan-upload button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "发现 1 处问题" in page.locator("#plan-problems").inner_text()
    assert page.locator("td", has_text="专栏99在“专栏”表中不存在。").count() == 1
    assert page.locator("text=确认导入").count() == 0
    snap(page, "2-problems")

    # The 示例 workbook: a preview with counts and the baselines' sources, then confirm.
    page.goto(f"{live_server.url}/plans/manage/")
    choose(page, example_workbook())
    page.click("#plan-upload button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "将新建规划（草稿状态）" in page.locator(".notice").first.inner_text()
    assert page.locator("#plan-counts tbody tr", has_text="任务").first.locator("td").nth(1).inner_text() == "1"
    baselines = page.locator("#plan-baselines tbody tr")
    assert baselines.count() == 2
    assert "2025年已审核值" in baselines.nth(0).inner_text() and "96.2" in baselines.nth(0).inner_text()
    assert baselines.nth(1).locator("td").last.inner_text() == "0.3"  # the workbook's 96.5 against 96.2
    assert not Plan.objects.filter(title__startswith="示例").exists()
    snap(page, "3-preview")
    page.click("text=确认导入")
    page.wait_for_load_state("networkidle")
    assert "已导入" in page.locator("#plan-done").inner_text()
    new = Plan.objects.get(title__startswith="示例")
    assert new.get_state_display() == "草稿"
    snap(page, "4-done")

    # The new plan is on the dashboard's plan selector.
    page.click("#plan-done a")
    page.wait_for_load_state("networkidle")
    options = page.locator("#f-plan option").all_inner_texts()
    assert [o for o in options if o.startswith("示例十五五规划")], options  # (the selector may add the state)
    assert page.locator("#f-plan").input_value() == str(new.pk)
    snap(page, "5-dashboard")

    page.goto(f"{live_server.url}/plans/manage/")
    assert page.locator("#plans tbody tr", has_text="示例").locator(".badge").inner_text() == "草稿"
    snap(page, "6-manage-after")
