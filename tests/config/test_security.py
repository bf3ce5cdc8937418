"""Login lockout, password rules, sessions, CSRF, the Content-Security-Policy and clean 503s."""

from __future__ import annotations

import re
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.test import Client

from tests.conftest import make_user

ROOT = Path(__file__).resolve().parents[2]


def fail_login(client: Client, username: str, times: int) -> None:
    for _ in range(times):
        response = client.post("/accounts/login/", {"username": username, "password": "wrong-password"})
        assert response.status_code == 200  # the form again, with its error


def test_five_failed_logins_lock_the_username_from_that_address(db) -> None:  # type: ignore[no-untyped-def]
    make_user("gina", "填报员", units=("市教育局",))
    client = Client(REMOTE_ADDR="10.0.0.7")
    fail_login(client, "gina", settings.AXES_FAILURE_LIMIT - 1)
    response = client.post("/accounts/login/", {"username": "gina", "password": "wrong-password"})
    assert response.status_code == 429

    # Now even the right password is refused, with a Chinese explanation and when to retry.
    response = client.post("/accounts/login/", {"username": "gina", "password": "pw-gina"})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert "_auth_user_id" not in client.session

    # The same username from another address, and another username from this one, still log in.
    assert (
        Client(REMOTE_ADDR="10.0.0.8").post("/accounts/login/", {"username": "gina", "password": "pw-gina"}).status_code
        == 302
    )
    make_user("hank", "填报员", units=("市教育局",))
    assert client.post("/accounts/login/", {"username": "hank", "password": "pw-hank"}).status_code == 302


def test_the_token_endpoint_shares_the_lockout_and_answers_json(db) -> None:  # type: ignore[no-untyped-def]
    make_user("gina", "填报员", units=("市教育局",))
    client = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/v1/auth/token/", {"username": "gina", "password": "nope"}, content_type="application/json")
    response = client.post(
        "/api/v1/auth/token/", {"username": "gina", "password": "pw-gina"}, content_type="application/json"
    )
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert "登录失败次数过多" in response.json()["detail"]


def test_a_successful_login_clears_earlier_failures(db) -> None:  # type: ignore[no-untyped-def]
    make_user("gina", "填报员", units=("市教育局",))
    client = Client(REMOTE_ADDR="10.0.0.10")
    fail_login(client, "gina", settings.AXES_FAILURE_LIMIT - 1)
    assert client.post("/accounts/login/", {"username": "gina", "password": "pw-gina"}).status_code == 302
    client.post("/accounts/logout/")
    fail_login(client, "gina", settings.AXES_FAILURE_LIMIT - 1)
    assert client.post("/accounts/login/", {"username": "gina", "password": "pw-gina"}).status_code == 302


@pytest.mark.parametrize("password", ["12345678901", "password123", "leshan", "qwertyuiop"])
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_long_unusual_password_is_accepted() -> None:
    validate_password("乐山-教育-2025-规划跟踪")


def test_sessions_expire() -> None:
    assert settings.SESSION_COOKIE_AGE <= 8 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_a_form_post_without_the_csrf_token_is_refused(db) -> None:  # type: ignore[no-untyped-def]
    user = make_user("alice", "填报员", units=("市教育局",))
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/accounts/logout/")
    assert response.status_code == 403


def test_session_authenticated_api_writes_need_the_csrf_token(db) -> None:  # type: ignore[no-untyped-def]
    user = make_user("alice", "填报员", units=("市教育局",))
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/v1/indicator-values/", {}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_every_page_carries_a_strict_content_security_policy(db) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER_OR_STYLE = re.compile(r"\s(on[a-z]+|style)=[\"']", re.IGNORECASE)


def test_no_template_has_inline_script_handlers_or_styles() -> None:
    """The policy would block them in the browser; find them here first."""
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER_OR_STYLE):
            for match in pattern.finditer(text):
                if "application/json" in match.group(0):
                    continue  # json_script data is not executed
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0).strip()}")
    assert offenders == []


def test_a_lost_database_answers_503_in_chinese_on_pages_and_the_api(db) -> None:  # type: ignore[no-untyped-def]
    user = make_user("leo", "领导")
    client = Client(raise_request_exception=False)
    client.force_login(user)
    with mock.patch("dashboards.views.dashboard_filters", side_effect=OperationalError("server closed the connection")):
        response = client.get("/dashboard/")
    assert response.status_code == 503
    assert "数据库暂时无法连接" in response.content.decode()
    assert response["Retry-After"]

    with mock.patch("indicators.api.views.IndicatorViewSet.get_queryset", side_effect=OperationalError("gone")):
        response = client.get("/api/v1/indicators/")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"


def test_other_server_errors_stay_500_and_say_so_in_chinese(db) -> None:  # type: ignore[no-untyped-def]
    client = Client(raise_request_exception=False)
    client.force_login(make_user("leo", "领导"))
    with mock.patch("indicators.api.views.IndicatorViewSet.get_queryset", side_effect=RuntimeError("bug")):
        response = client.get("/api/v1/indicators/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


def test_uploaded_files_are_not_served_as_static_files(db) -> None:  # type: ignore[no-untyped-def]
    """Evidence lives outside the static root and has no URL of its own: only the scope-checking views serve it."""
    static_root, media_root = Path(settings.STATIC_ROOT).resolve(), Path(settings.MEDIA_ROOT).resolve()
    assert not media_root.is_relative_to(static_root) and not static_root.is_relative_to(media_root)
    client = Client()
    client.force_login(make_user("leo", "领导"))
    assert client.get("/media/evidence/x.pdf").status_code == 404
