"""No input reaches a 500, and every /api/ answer, errors included, is JSON with a Chinese explanation.

Bodies nested ~1,000 levels deep (2 KB) used to exhaust json.loads' recursion on every JSON endpoint, the
token endpoint included; config.api.DecimalJSONParser now refuses deep or oversized bodies before parsing.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client, RequestFactory, override_settings
from rest_framework.test import APIClient

from config.api import json_depth
from config.security import bad_request, csrf_failure, page_not_found, permission_denied
from indicators.services import IndicatorValueInput, indicator_value_create
from planning.models import Task
from planning.services import TaskProgressInput, task_progress_create
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

CJK = re.compile(r"[\u4e00-\u9fff]")
DEEP_LEVELS = 1000
DEEP = "[" * DEEP_LEVELS + "]" * DEEP_LEVELS  # 2,000 bytes
WRITE_METHODS = ("post", "put", "patch")


def chinese_json_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The API's error shape: {"detail": "<中文>", "code": "<code>"}, served as application/json."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert isinstance(body.get("detail"), str) and CJK.search(body["detail"]), body
    assert body.get("code"), body
    if code is not None:
        assert body["code"] == code, body
    return body


def chinese_field_errors(response: Any) -> dict[str, Any]:
    """A 400 about the fields: every message in Chinese."""
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    messages = [m for value in body.values() for m in (value if isinstance(value, list) else [value])]
    assert messages and all(isinstance(m, str) and CJK.search(m) for m in messages), body
    return body


# --- the depth scan ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("", 0),
        ('{"a": 1}', 1),
        ('[{"a": [1, {"b": []}]}]', 5),
        ('{"a": "[[[[{{{{"}', 1),  # brackets inside strings do not count
        (r'{"a": "\"[[[[", "b": [1]}', 2),  # nor after an escaped quote
        (r'{"a": "\\", "b": [[1]]}', 3),  # an escaped backslash ends the string
        ('"unterminated [[[[', 0),
        (DEEP, DEEP_LEVELS),
    ],
)
def test_json_depth_counts_brackets_outside_strings(text: str, depth: int) -> None:
    assert json_depth(text) == depth


@pytest.mark.parametrize(
    "text",
    ["[" * (1 << 20), '\\"' * (1 << 19), '"' + "\\" * (1 << 20), '"\\' * (1 << 19), '"' * (1 << 20)],
    ids=["brackets", "escaped-quotes", "backslashes", "quote-backslash", "quotes"],
)
def test_json_depth_takes_linear_time_on_hostile_megabytes(text: str) -> None:
    started = time.perf_counter()
    json_depth(text)
    assert time.perf_counter() - started < 1


# --- deep and oversized bodies on every JSON endpoint ----------------------------------------------------


def write_operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in WRITE_METHODS
    ]


@pytest.fixture
def writer(plan, rate, city) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """A 填报员 and 审核员 of 市教育局 with a draft value and a draft task progress: every write reaches its body."""
    user = make_user("wendy", "填报员", "审核员", units=("市教育局",))
    value = indicator_value_create(
        indicator=rate, region=city, year=2024, user=user, data=IndicatorValueInput(value="95.6", source="年报")
    )
    task = Task.objects.get(plan=plan, code="C14.2")
    progress = task_progress_create(
        task=task,
        year=2023,
        region=None,
        user=user,
        data=TaskProgressInput(narrative="新建3所", amounts={task.targets.get().pk: "3"}),
    )
    return SimpleNamespace(
        user=user, ids={"/api/v1/indicator-values/": value.pk, "/api/v1/task-progress/": progress.pk}
    )


def concrete(path: str, ids: dict[str, int]) -> str:
    if "{" not in path:
        return path
    prefix = next((p for p in ids if path.startswith(p)), None)
    assert prefix is not None, f"{path}: no object to address; add one to the writer fixture"
    return re.sub(r"\{[^}]+\}", str(ids[prefix]), path)


def client_for(operation: dict[str, Any], user: Any) -> APIClient:
    """The token endpoint (no security in the schema) anonymously; everything else with a real session."""
    client = APIClient()
    if operation.get("security"):
        client.force_login(user)
    return client


def test_deep_bodies_are_a_400_on_every_json_endpoint(writer, figure) -> None:  # type: ignore[no-untyped-def]
    operations = write_operations()
    json_operations = tried = 0
    for method, path, operation in operations:
        content = operation.get("requestBody", {}).get("content", {})
        if not content:
            continue  # takes no body, so parses none
        url = concrete(path, writer.ids)
        response = getattr(client_for(operation, writer.user), method)(url, DEEP, content_type="application/json")
        tried += 1
        assert response.status_code < 500, (method, path, response.status_code)
        if "application/json" in content:
            json_operations += 1
            body = chinese_json_error(response, 400, "too_deep")
            assert str(settings.API_MAX_JSON_DEPTH) in body["detail"]
        else:  # file uploads take multipart only
            chinese_json_error(response, 415, "unsupported_media_type")
    assert json_operations >= 17  # token, and create/put/patch/5 transitions for values and task progress
    figure("深或超大的请求体", operations=json_operations, bodies_tried=tried, server_errors=0)


def test_oversized_bodies_are_a_400(writer, figure) -> None:  # type: ignore[no-untyped-def]
    huge = '{"source": "' + "x" * settings.API_MAX_JSON_BYTES + '"}'
    client = APIClient()
    client.force_login(writer.user)
    for answer in (
        APIClient().post("/api/v1/auth/token/", huge, content_type="application/json"),
        client.post("/api/v1/indicator-values/", huge, content_type="application/json"),
        client.patch(
            f"/api/v1/indicator-values/{writer.ids['/api/v1/indicator-values/']}/",
            huge,
            content_type="application/json",
        ),
    ):
        chinese_json_error(answer, 400, "too_large")
    figure("深或超大的请求体", bodies_tried=3, server_errors=0)


@override_settings(API_MAX_JSON_BYTES=200, API_MAX_JSON_DEPTH=3)
def test_the_limits_come_from_the_settings(writer) -> None:  # type: ignore[no-untyped-def]
    def token(body: str) -> Any:
        return APIClient().post("/api/v1/auth/token/", body, content_type="application/json")

    at_the_limits = '{"username": [[1]], "password": "' + "x" * 160 + '"}'
    assert len(at_the_limits) <= 200
    chinese_field_errors(token(at_the_limits))  # parsed: the username is not a string
    chinese_json_error(token('{"username": [[[1]]], "password": "x"}'), 400, "too_deep")
    chinese_json_error(token('{"username": "x", "password": "' + "x" * 200 + '"}'), 400, "too_large")
    # Brackets in strings are text, however many: the body is parsed, and its fields checked.
    session = APIClient()
    session.force_login(writer.user)
    fields = session.post(
        "/api/v1/indicator-values/", '{"source": "[[[[[[", "note": "{{{{{{"}', content_type="application/json"
    )
    assert {"indicator", "year", "value"} <= set(chinese_field_errors(fields))


@pytest.mark.parametrize(
    "body", ['{"username": "alice", "password": NaN}', '{"a": Infinity}', '{"a": ' + "9" * 5000 + "}", "{not json", " "]
)
def test_malformed_json_is_a_400_in_chinese(body: str) -> None:
    response = APIClient().post("/api/v1/auth/token/", body, content_type="application/json")
    chinese_json_error(response, 400, "parse_error")


# --- every kind of error under /api/ is JSON in Chinese --------------------------------------------------


def test_every_api_error_is_json_in_chinese(writer, figure) -> None:  # type: ignore[no-untyped-def]
    session = APIClient()
    session.force_login(writer.user)
    draft = writer.ids["/api/v1/indicator-values/"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(writer.user)

    cases: list[tuple[str, Callable[[], Any], int, str | None]] = [
        ("id the route refuses", lambda: session.get("/api/v1/indicator-values/abc/"), 404, "not_found"),
        ("unknown id", lambda: session.get("/api/v1/indicator-values/999999999/"), 404, "not_found"),
        ("unknown endpoint", lambda: session.get("/api/v1/no-such-thing/"), 404, "not_found"),
        ("unknown /api/ path", lambda: Client().get("/api/nowhere"), 404, "not_found"),
        ("anonymous", lambda: APIClient().get("/api/v1/plans/"), 401, "not_authenticated"),
        (
            "bad token",
            lambda: APIClient().get("/api/v1/plans/", HTTP_AUTHORIZATION="Token not-a-token"),
            401,
            "authentication_failed",
        ),
        (
            "session write without the CSRF token",
            lambda: strict.post("/api/v1/indicator-values/", "{}", content_type="application/json"),
            403,
            "csrf_failed",
        ),
        (
            "malformed JSON",
            lambda: session.post("/api/v1/indicator-values/", "{not json", content_type="application/json"),
            400,
            "parse_error",
        ),
        (
            "plain text",
            lambda: session.post("/api/v1/indicator-values/", "value=1", content_type="text/plain"),
            415,
            "unsupported_media_type",
        ),
        (
            "a form post (the API takes JSON)",
            lambda: session.post("/api/v1/indicator-values/", {"value": "1"}, format="multipart"),
            415,
            "unsupported_media_type",
        ),
        (
            "JSON to the file upload",
            lambda: session.post(f"/api/v1/indicator-values/{draft}/evidence/", "{}", content_type="application/json"),
            415,
            "unsupported_media_type",
        ),
        ("method", lambda: APIClient().put("/api/v1/auth/token/", {}), 405, "method_not_allowed"),
        ("method on a list", lambda: session.delete("/api/v1/indicators/"), 405, "method_not_allowed"),
        ("accept", lambda: session.get("/api/v1/plans/", HTTP_ACCEPT="text/csv"), 406, "not_acceptable"),
        (
            "disallowed host",
            lambda: Client().get("/api/v1/plans/", HTTP_HOST="evil.example"),
            400,
            "bad_request",
        ),
    ]
    for name, call, status, code in cases:
        try:
            chinese_json_error(call(), status, code)
        except AssertionError as failure:
            raise AssertionError(f"{name}: {failure}") from failure

    # An empty body is answered field by field (the 400 shape the schema documents), in Chinese.
    fields = chinese_field_errors(session.post("/api/v1/indicator-values/", "", content_type="application/json"))
    assert {"indicator", "year", "value"} <= set(fields)
    chinese_field_errors(APIClient().post("/api/v1/auth/token/"))

    # Django refuses a multipart body larger than DATA_UPLOAD_MAX_MEMORY_SIZE before the view sees its fields.
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100):
        too_big = session.post(f"/api/v1/indicator-values/{draft}/evidence/", {"note": "x" * 1000}, format="multipart")
    chinese_json_error(too_big, 400, "too_large")
    figure(
        "接口错误均为中文 JSON",
        inputs=len(cases) + 3,
        refused_with_chinese_message=len(cases) + 3,
        server_errors=0,
    )


def test_the_error_handlers_answer_json_under_api_and_pages_elsewhere(db) -> None:  # type: ignore[no-untyped-def]
    factory = RequestFactory()
    api, page = factory.post("/api/v1/indicator-values/"), factory.post("/values/1/")
    chinese_json_error(csrf_failure(api, reason="CSRF cookie not set."), 403, "csrf_failed")
    chinese_json_error(permission_denied(api, PermissionDenied()), 403, "permission_denied")
    chinese_json_error(bad_request(api, SuspiciousOperation("x")), 400, "bad_request")
    chinese_json_error(page_not_found(api, Exception()), 404, "not_found")
    rendered = bad_request(page, SuspiciousOperation("x"))
    assert rendered.status_code == 400 and rendered["Content-Type"].startswith("text/html")
    assert "请求无效" in rendered.content.decode()


def test_pages_keep_their_html_error_pages(db) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(make_user("leo", "领导"))
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and missing["Content-Type"].startswith("text/html")
    assert "页面不存在" in missing.content.decode()
    bad_host = Client().get("/accounts/login/", HTTP_HOST="evil.example")
    assert bad_host.status_code == 400 and "请求无效" in bad_host.content.decode()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("alice", "填报员", units=("市教育局",)))
    refused = strict.post("/accounts/logout/")
    assert refused.status_code == 403 and refused["Content-Type"].startswith("text/html")
    assert "CSRF" in refused.content.decode() and "刷新后重新提交" in refused.content.decode()
