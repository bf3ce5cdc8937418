"""At phone width (390 × 844) the navigation folds behind 菜单; on a desktop it is open; without script it stays open.
And from the tasks board a click opens a task's page with 工作进展, 存在问题 and 下步打算.

Screenshots go to test-artifacts/phone/ (`PHONE_SHOTS=/some/dir` puts them elsewhere) for people to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import make_user

from .conftest import ARTIFACTS, log_in

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("PHONE_SHOTS", ARTIFACTS / "phone"))
PHONE = {"width": 390, "height": 844}


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def overflow(page) -> int:  # type: ignore[no-untyped-def]
    """How far the page is wider than the viewport (0: no sideways scrolling)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_the_navigation_folds_into_a_menu_on_a_phone(live_plan, live_server, page, browser) -> None:  # type: ignore[no-untyped-def]
    from demo.services import demo_load
    from indicators.services import status_recompute_all

    demo_load()
    status_recompute_all()
    make_user("leo", "领导")
    base = live_server.url
    page.set_viewport_size(PHONE)
    log_in(page, base, "leo", "pw-leo")
    page.goto(f"{base}/dashboard/")
    page.wait_for_load_state("networkidle")

    nav, button = page.locator("#main-nav"), page.locator("button.nav-toggle")
    assert button.is_visible()
    assert button.inner_text().strip() == "菜单"
    assert button.get_attribute("aria-controls") == "main-nav"
    assert button.get_attribute("aria-expanded") == "false"
    assert not nav.is_visible()
    assert overflow(page) <= 0, "总览在 390 像素宽时出现横向滚动"
    shot(page, "phone-1-overview")

    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    assert nav.is_visible()
    assert nav.locator("a", has_text="任务进展").is_visible()
    shot(page, "phone-2-menu-open")
    # Escape folds it again and gives the focus back to the button.
    nav.locator("a").first.focus()
    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false"
    assert not nav.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('nav-toggle')")

    # A link in the open menu works.
    button.click()
    nav.locator("a", has_text="任务进展").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/tasks/progress/")
    assert page.locator("h1").is_visible()
    assert not page.locator("#main-nav").is_visible()  # folded again on the new page

    # Desktop: the navigation is open and there is no button.
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{base}/dashboard/")
    assert page.locator("#main-nav").is_visible()
    assert not page.locator("button.nav-toggle").is_visible()
    shot(page, "desktop-overview")

    # Without script the phone page keeps its navigation open (and never shows a button that would do nothing).
    context = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    try:
        plain = context.new_page()
        log_in(plain, base, "leo", "pw-leo")
        plain.goto(f"{base}/dashboard/")
        assert plain.locator("#main-nav").is_visible()
        assert not plain.locator("button.nav-toggle").is_visible()
        shot(plain, "phone-no-script")
    finally:
        context.close()


def test_the_tasks_board_opens_a_tasks_page(live_plan, live_server, page) -> None:  # type: ignore[no-untyped-def]
    from indicators.services import status_recompute_all
    from planning.models import Task
    from planning.services import (
        TaskProgressInput,
        task_progress_approve,
        task_progress_create,
        task_progress_submit,
    )

    alice = make_user("alice", "填报员", units=("市教育局",))
    carol = make_user("carol", "审核员", units=("市教育局",))
    make_user("leo", "领导")
    research = Task.objects.prefetch_related("targets__regions").get(plan__code="leshan-edu-14fyp", code="C2.1")
    progress = task_progress_create(
        task=research,
        year=2023,
        region=None,
        user=alice,
        data=TaskProgressInput(
            narrative="形成优秀工作案例 12 篇", problems="部分学校参与度不高", next_steps="开展专题培训", percent="40"
        ),
    )
    task_progress_approve(progress=task_progress_submit(progress=progress, user=alice), user=carol)
    status_recompute_all()

    base = live_server.url
    log_in(page, base, "leo", "pw-leo")
    page.goto(f"{base}/dashboard/tasks/?year=2023")
    page.wait_for_load_state("networkidle")
    assert page.locator("#f-region").count() == 0 and page.locator("#f-attribute").count() == 0
    page.locator("a", has_text=research.label).first.click()
    page.wait_for_load_state("networkidle")
    assert research.title in page.locator("h1").inner_text()
    entry = page.locator("section.progress-entry", has_text="2023 年度")
    for text in ("工作进展", "形成优秀工作案例 12 篇", "存在问题", "部分学校参与度不高", "下步打算", "开展专题培训"):
        assert entry.get_by_text(text).first.is_visible(), text
    shot(page, "task-page-desktop")
    page.set_viewport_size(PHONE)
    page.reload()
    page.wait_for_load_state("networkidle")
    assert overflow(page) <= 0, "任务页在 390 像素宽时出现横向滚动"
    shot(page, "task-page-phone")
