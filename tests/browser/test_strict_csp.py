"""Pages that bring their own script (Django admin, Swagger UI) work under `default-src 'self'`.

The page fixture fails the test on any console error, which is where Chromium reports a CSP violation.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from .conftest import log_in, shot

pytestmark = pytest.mark.browser


def test_admin_and_api_docs_run_under_the_content_security_policy(live_plan, live_server, page) -> None:  # type: ignore[no-untyped-def]
    User.objects.create_superuser("root_admin", password="pw-root-admin-1")
    log_in(page, live_server.url, "root_admin", "pw-root-admin-1")

    response = page.goto(f"{live_server.url}/admin/indicators/indicator/")
    assert response is not None
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert page.locator("#result_list tbody tr").count() > 0
    page.locator("#result_list tbody tr a").first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("input[name=_save]").count() == 1
    shot(page, "csp-admin-change")

    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15000)
    assert "乐山教育规划目标跟踪系统" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 10
    shot(page, "csp-api-docs")
