"""A leader opens every dashboard in Chromium: charts drawn, links followed, print and phone layouts."""

from __future__ import annotations

import pytest

from tests.conftest import make_user

from .conftest import log_in, shot

pytestmark = pytest.mark.browser


def chart_series(page, selector: str) -> int:  # type: ignore[no-untyped-def]
    """Series count of the ECharts instance drawn in `selector` (0 when nothing was drawn)."""
    return page.evaluate(
        """(sel) => { const el = document.querySelector(sel); const chart = el && echarts.getInstanceByDom(el);
                      return chart ? chart.getOption().series.length : 0; }""",
        selector,
    )


def test_a_leader_reads_the_dashboards(live_plan, live_server, page) -> None:  # type: ignore[no-untyped-def]
    from demo.services import demo_load
    from indicators.services import status_recompute_all

    demo_load()
    status_recompute_all()
    make_user("leo", "领导")
    log_in(page, live_server.url, "leo", "pw-leo")

    # 总览: two status charts drawn as SVG, 16 indicator cards, flags.
    assert page.locator("h1").inner_text().startswith("总览")
    assert "演示数据" in page.locator(".demo-banner").inner_text()
    for chart in ("#chart-indicators", "#chart-tasks"):
        assert chart_series(page, chart) == 1
        assert page.locator(f"{chart} svg").count() == 1
    assert page.locator(".indicator-card").count() == 16
    shot(page, "dashboard-1-overview")

    # → 指标详情: the trajectory chart has its four series (expected path, actuals, forecast, target), and one more
    # per subject of published figures (公开报道) where the indicator has them.
    page.locator(".indicator-card", has_text="九年义务教育巩固率").click()
    page.wait_for_load_state("networkidle")
    assert "九年义务教育巩固率" in page.locator("h1").inner_text()
    assert chart_series(page, "#chart-trajectory") >= 4
    shot(page, "dashboard-2-indicator")

    # → another region from the regions table, then → the entry behind a number.
    page.locator("table", has=page.locator("a", has_text="沐川县")).first.locator("a", has_text="沐川县").click()
    page.wait_for_load_state("networkidle")
    assert "沐川县" in page.locator(".subtitle").first.inner_text()
    page.locator("section", has_text="填报与佐证").locator("a", has_text="2024").click()
    page.wait_for_load_state("networkidle")
    assert "九年义务教育巩固率" in page.locator("h1").inner_text()
    assert "沐川县 · 2024 年度" in page.locator(".subtitle").inner_text()
    shot(page, "dashboard-3-entry")

    # 区域: the heat map and its table; a cell link (built in the browser from the page's one pattern) leads to the
    # detail (tests/browser/test_region_matrix.py looks closer).
    page.goto(f"{live_server.url}/dashboard/regions/")
    assert chart_series(page, "#chart-matrix") == 1
    assert page.locator("#chart-matrix svg").count() == 1
    shot(page, "dashboard-4-regions")
    page.locator(".matrix-table tbody td a").first.click()
    page.wait_for_load_state("networkidle")
    assert chart_series(page, "#chart-trajectory") == 4

    for path, name in (("/dashboard/tasks/", "dashboard-5-tasks"), ("/dashboard/units/", "dashboard-6-units")):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        shot(page, name)
    assert page.locator(".unit-card", has_text="市教育局").count() == 1

    # Print: navigation and filters disappear, the content stays.
    page.goto(f"{live_server.url}/dashboard/")
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible()
    assert not page.locator("form.board-filters").is_visible()
    # The subtitle names the plan, year and region once; the caption adds only filters the form would have shown.
    assert page.locator(".subtitle").is_visible()
    assert page.locator(".print-caption").count() == 0
    page.pdf(path=str(shot.__globals__["ARTIFACTS"] / "dashboard-print.pdf"), format="A4")
    page.emulate_media(media="screen")

    # A phone: no sideways scrolling of the page itself.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_load_state("networkidle")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    shot(page, "dashboard-7-phone")
