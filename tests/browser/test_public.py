"""An anonymous visitor opens the public page (政务公开) in Chromium: a chart per indicator, drawn under the strict
Content-Security-Policy, with nothing fetched from another host.

The page fixture fails the test on any console error (where Chromium reports a CSP violation) or foreign request.
"""

from __future__ import annotations

import pytest

from planning.models import Plan

from .conftest import shot

pytestmark = pytest.mark.browser


def test_an_anonymous_visitor_sees_the_plan_with_its_charts(live_plan, live_server, page) -> None:  # type: ignore[no-untyped-def]
    plan = Plan.objects.get(code="leshan-edu-14fyp")
    indicators = plan.indicators.count()

    response = page.goto(f"{live_server.url}/public/")
    assert response is not None and response.status == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert page.locator("text=退出").count() == 0
    assert page.locator("a[href='/accounts/login/']").count() == 1
    page.click(f"a[href='/public/{plan.code}/']")
    page.wait_for_load_state("networkidle")

    assert page.locator("h1").inner_text() == plan.title
    assert page.locator("table.public-indicators tbody tr").count() == indicators
    charts = page.locator(".public-charts [data-chart=trajectory]")
    assert charts.count() == indicators
    # Every chart drawn by static/js/charts.js as SVG, with its three series (expected path, approved, target).
    assert page.locator(".public-charts [data-chart=trajectory] svg").count() == indicators
    series = page.evaluate(
        """() => Array.from(document.querySelectorAll('.public-charts [data-chart]')).map(
               (el) => { const chart = echarts.getInstanceByDom(el); return chart ? chart.getOption().series.length : 0; })"""
    )
    assert series == [3] * indicators
    shot(page, "public-plan")
