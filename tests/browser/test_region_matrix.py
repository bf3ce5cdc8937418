"""区域进度矩阵 in Chromium: the heat map drawn from the compact payload, its cells and the table's badges linked in
the browser from the page's one link pattern, and the same page without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_user

from .conftest import log_in, shot

pytestmark = pytest.mark.browser


def cell_link(data: dict[str, Any], x: int, y: int) -> str:
    return (
        str(data["link"])
        .replace("{indicator}", str(data["indicators"][x]))
        .replace("{region}", str(data["regions"][y]))
    )


def demo_world() -> None:
    from demo.services import demo_load
    from indicators.services import status_recompute_all

    demo_load()
    status_recompute_all()
    make_user("leo", "领导")


def test_the_heat_map_and_the_table_link_each_cell(live_plan, live_server, page) -> None:  # type: ignore[no-untyped-def]
    demo_world()
    log_in(page, live_server.url, "leo", "pw-leo")
    page.goto(f"{live_server.url}/dashboard/regions/")
    page.wait_for_load_state("networkidle")
    data = page.evaluate("JSON.parse(document.getElementById('data-matrix').textContent)")
    chart = "echarts.getInstanceByDom(document.querySelector('#chart-matrix'))"
    # Every cell the payload codes is drawn, in its status's colour (the badges' own, from app.css).
    drawn = page.evaluate(f"{chart}.getOption().series[0].data")
    assert len(drawn) == sum(code is not None for row in data["codes"] for code in row) > 100
    colours = page.evaluate(
        "(keys) => keys.map((k) => getComputedStyle(document.documentElement).getPropertyValue('--status-' + k).trim())",
        data["statuses"],
    )
    assert all(cell["itemStyle"]["color"] == colours[cell["value"][2]] for cell in drawn)

    # The table's badges became links, one per cell: to that cell's detail, titled with its region and indicator.
    regions, indicators = len(data["regions"]), len(data["indicators"])
    assert page.locator(".matrix-table tbody td a.badge").count() == regions * indicators
    badge = page.locator(".matrix-table tbody tr").nth(2).locator("td").nth(3).locator("a")
    assert badge.get_attribute("href") == cell_link(data, 3, 2)
    assert badge.get_attribute("title") == f"{data['y'][2]} · {data['names'][3]}"
    assert badge.inner_text() == data["labels"][data["codes"][2][3]]

    # Hovering a cell of the heat map names its region, indicator and status; clicking it opens that detail.
    x, y = 3, 2
    px, py = page.evaluate(f"{chart}.convertToPixel({{seriesIndex: 0}}, [{x}, {y}])")
    box = page.locator("#chart-matrix").bounding_box()
    page.mouse.move(box["x"] + px, box["y"] + py)
    tooltip = page.locator("#chart-matrix > div").last
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert data["y"][y] in text and data["names"][x] in text and data["labels"][data["codes"][y][x]] in text
    shot(page, "matrix-1-heatmap-and-table")
    with page.expect_navigation():
        page.mouse.click(box["x"] + px, box["y"] + py)
    assert page.url == f"{live_server.url}{cell_link(data, x, y)}"
    assert data["y"][y] in page.locator(".subtitle").first.inner_text()


def test_without_javascript_each_detail_is_two_links_away(live_plan, live_server, browser) -> None:  # type: ignore[no-untyped-def]
    demo_world()
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server.url, "leo", "pw-leo")
        page.goto(f"{live_server.url}/dashboard/regions/")
        # The cells are badges (a class and the status's label), not links.
        assert page.locator(".matrix-table tbody td a").count() == 0
        assert page.locator(".matrix-table tbody td .badge").count() == 13 * 16
        shot(page, "matrix-2-without-javascript")
        # The row's region leads to its overview, where each indicator leads to its detail for the region.
        page.locator(".matrix-table tbody th a", has_text="沐川县").click()
        assert "沐川县" in page.locator(".subtitle").first.inner_text()
        page.locator(".indicator-card", has_text="九年义务教育巩固率").click()
        assert "九年义务教育巩固率" in page.locator("h1").inner_text()
        assert "沐川县" in page.locator(".subtitle").first.inner_text()
        # The column's indicator leads to its detail, which lists every region.
        page.go_back()
        page.go_back()
        heading = page.locator(".matrix-table thead th[title]").first
        name = heading.get_attribute("title")
        heading.locator("a").click()
        assert name in page.locator("h1").inner_text()
        assert page.locator("table", has_text="沐川县").count() >= 1
    finally:
        context.close()
