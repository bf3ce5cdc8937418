"""Browser tests: the system Chromium driven by Playwright against pytest-django's live server.

They are transactional (the live server runs in another thread), so each loads the plan itself;
pytest-django runs them after the ordinary tests, whose plan comes from the session set-up.
Screenshots go to test-artifacts/ for people to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):  # type: ignore[no-untyped-def]
    """A fresh page at 1366×768 in Chinese; fails the test on any request to another host."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    own_host = urlparse(live_server.url).netloc
    foreign: list[str] = []
    page.on(
        "request",
        lambda request: foreign.append(request.url) if urlparse(request.url).netloc not in (own_host, "") else None,
    )
    page.foreign_requests = foreign
    # Script errors and Content-Security-Policy violations are reported on the console; either fails the test.
    # A form answered 400 (invalid input, shown to the user) is logged too and is expected.
    console_errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            console_errors.append(f"{page.url}: {message.text} ({message.location.get('url')})")
            if message.type == "error" and "status of 400" not in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: console_errors.append(f"{page.url}: {error}"))
    yield page
    context.close()
    assert foreign == [], f"页面请求了其他主机：{foreign}"
    assert console_errors == [], f"浏览器控制台报错（脚本错误或违反内容安全策略）：{console_errors}"


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, base_url: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def log_out(page) -> None:  # type: ignore[no-untyped-def]
    page.click("text=退出")
    page.wait_for_load_state("networkidle")
