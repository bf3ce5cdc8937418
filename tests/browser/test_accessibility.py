"""Every page a leader, a 填报员 and a 审核员 see passes axe-core (GB/T 37668 / WCAG 2.1 AA) with no violation.

axe-core comes from npm (package.json) and is injected from node_modules, so the pages themselves never load it
and the Content-Security-Policy needs no exception.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_user

from .conftest import ARTIFACTS, log_in, log_out

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA: what GB/T 37668-2019 asks of a web page.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
# Screenshots people look at when the colours or numbers change: `PAGES_SHOTS=/some/dir` puts them there.
SHOTS = Path(os.environ.get("PAGES_SHOTS", ARTIFACTS / "a11y"))


def axe_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    """axe-core's violations on the loaded page, one line per rule with the first few offending nodes."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "(tags) => axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag', values: tags}})",
        list(AXE_TAGS),
    )
    lines = []
    for violation in result["violations"]:
        nodes = violation["nodes"]
        sample = "; ".join(
            f"{' '.join(n['target'])} — {n.get('failureSummary', '').splitlines()[-1].strip()}" for n in nodes[:5]
        )
        lines.append(f"{page.url} {violation['id']} ({len(nodes)}): {sample}")
    return lines


def check(page, url: str, found: list[str], shot: str = "") -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.wait_for_load_state("networkidle")
    found.extend(axe_violations(page))
    if shot:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)


@pytest.fixture
def page(browser, live_server):  # type: ignore[no-untyped-def]
    """As conftest's page, but the injected axe script is let through the pages' Content-Security-Policy (the
    policy itself is checked by the other browser tests); script errors still fail the test."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    yield page
    context.close()
    assert errors == [], f"页面脚本出错：{errors}"


def test_every_page_passes_axe(live_plan, live_server, page) -> None:  # type: ignore[no-untyped-def]
    from demo.services import demo_load
    from indicators.models import Indicator, IndicatorValue
    from indicators.services import status_recompute_all
    from planning.models import TaskProgress, Unit
    from regions.models import Region

    assert AXE.exists(), "缺少 node_modules/axe-core：请运行 npm ci"
    demo_load()
    status_recompute_all()
    make_user("leo", "领导")
    alice = make_user("alice", "填报员", units=("市教育局",))
    make_user("carol", "审核员", units=("市教育局",))
    from planning.notifications import notify

    # 通知 with cards in it: one short, one long enough to fold behind 展开全文.
    notify(users=[alice], kind="approved", title="已通过：学前教育毛入园率", body="审核通过。", link="/values/")
    notify(users=[alice], kind="warning", title="新增预警", body="\n".join(f"· 指标{n}：滞后" for n in range(12)))
    base = live_server.url
    indicator = (
        Indicator.objects.filter(name__contains="九年义务教育巩固率", plan__region__isnull=False)
        .order_by("-plan__period_end_year", "plan__code")
        .first()
    )
    county = Region.objects.get(name="沐川县")
    value = IndicatorValue.objects.filter(indicator=indicator, region=county).order_by("-year").first()
    progress = TaskProgress.objects.order_by("pk").first()
    unit = Unit.objects.get(name="市教育局")
    found: list[str] = []

    # 领导: every dashboard, the lists and the entries behind the numbers.
    log_in(page, base, "leo", "pw-leo")
    check(page, f"{base}/dashboard/", found, "overview")
    check(page, f"{base}/dashboard/indicators/{indicator.pk}/", found, "indicator")
    check(page, f"{base}/dashboard/indicators/{indicator.pk}/?region={county.pk}", found)
    check(page, f"{base}/dashboard/regions/", found, "regions")
    for path in (
        "/dashboard/tasks/",
        "/dashboard/units/",
        f"/dashboard/units/{unit.pk}/",
        "/values/",
        f"/values/{value.pk}/",
        "/tasks/progress/",
        f"/tasks/progress/{progress.pk}/",
        f"/dashboard/tasks/{progress.task_id}/",
        "/decomposition/",
        "/excel/",
        "/reports/",
        "/notifications/",
    ):
        check(page, f"{base}{path}", found)
    log_out(page)

    # 填报员: the work list, the form (with an error shown), the saved entry.
    log_in(page, base, "alice", "pw-alice")
    check(page, f"{base}/my/", found)
    page.locator("tr", has_text="学前教育毛入园率").filter(has_text="乐山市").first.locator(
        "a.btn", has_text="填报"
    ).click()
    page.wait_for_load_state("networkidle")
    found.extend(axe_violations(page))
    page.fill("#id_value", "95.123")
    page.fill("#id_source", "2025年教育事业统计年报")
    page.click("button[name=submit]")
    page.wait_for_load_state("networkidle")
    found.extend(axe_violations(page))
    page.fill("#id_value", "95.8")
    page.click("button[name=submit]")
    page.wait_for_load_state("networkidle")
    assert "已保存并提交审核" in page.locator(".messages").inner_text()
    found.extend(axe_violations(page))
    for path in ("/values/", "/tasks/progress/", "/notifications/", "/notifications/settings/"):
        check(page, f"{base}{path}", found)
    log_out(page)

    # 审核员: the queue with an entry in it, and the entry with its approve and return forms.
    log_in(page, base, "carol", "pw-carol")
    check(page, f"{base}/review/", found)
    page.locator("tr", has_text="学前教育毛入园率").locator("a", has_text="学前教育毛入园率").click()
    page.wait_for_load_state("networkidle")
    found.extend(axe_violations(page))
    check(page, f"{base}/dashboard/", found)
    # At phone width, with the navigation folded behind 菜单 and then opened.
    page.set_viewport_size({"width": 390, "height": 844})
    check(page, f"{base}/dashboard/", found)
    page.click("button.nav-toggle")
    found.extend(axe_violations(page))

    assert found == [], "无障碍检查（axe-core）发现问题：\n" + "\n".join(found)
