"""The REST API: auth, reads with filters and scope, writes through the services, errors, query counts."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from indicators.models import IndicatorValue
from indicators.services import (
    IndicatorValueInput,
    indicator_value_create,
    indicator_value_submit,
    status_recompute_all,
)
from planning.models import Task, TaskProgress

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

READ_ENDPOINTS = [
    "plans",
    "initiatives",
    "columns",
    "tasks",
    "units",
    "regions",
    "indicators",
    "flags",
    "indicator-values",
    "task-progress",
]


def api(user=None) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_a_token_for_a_username_and_password(alice) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": "pw-alice"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/plans/").status_code == 200
    wrong = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json")
    assert wrong.status_code == 400
    assert wrong.json() == {"non_field_errors": ["用户名或密码不正确。"]}


def test_token_requests_are_throttled(alice) -> None:  # type: ignore[no-untyped-def]
    from unittest import mock

    from rest_framework.throttling import ScopedRateThrottle

    cache.clear()
    # Rates are read when the throttle class is defined; patch them there.
    with mock.patch.object(ScopedRateThrottle, "THROTTLE_RATES", {"token": "3/minute"}):
        codes = [
            APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "x"}, format="json").status_code
            for _ in range(5)
        ]
    cache.clear()
    assert codes[:3] == [400, 400, 400]
    assert codes[3:] == [429, 429]


@pytest.mark.parametrize("endpoint", [*READ_ENDPOINTS, "status"])
def test_anonymous_requests_get_401(endpoint) -> None:  # type: ignore[no-untyped-def]
    response = APIClient().get(f"/api/v1/{endpoint}/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_the_schema_and_docs_are_public() -> None:
    schema = APIClient().get("/api/schema/")
    assert schema.status_code == 200
    assert "乐山教育规划目标跟踪系统 API" in schema.content.decode()
    docs = APIClient().get("/api/docs/")
    assert docs.status_code == 200
    assert "cdn" not in docs.content.decode().lower()  # Swagger UI is served from the sidecar package


@pytest.mark.parametrize("endpoint", READ_ENDPOINTS)
def test_every_list_pages_and_runs_a_bounded_number_of_queries(
    leo,
    endpoint,  # type: ignore[no-untyped-def]
    django_assert_max_num_queries,
) -> None:
    status_recompute_all()
    client = api(leo)
    with django_assert_max_num_queries(10):
        response = client.get(f"/api/v1/{endpoint}/", {"page_size": 1000})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert len(body["results"]) <= 100
    if body["results"]:
        detail = client.get(f"/api/v1/{endpoint}/{body['results'][0]['id']}/")
        assert detail.status_code == 200


def test_indicators_carry_their_assessment(
    leo,
    alice,
    carol,
    plan,
    rate,
    city,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,
) -> None:
    from indicators.services import indicator_value_approve

    with django_capture_on_commit_callbacks(execute=True):
        entry = indicator_value_create(
            indicator=rate, region=city, year=2023, user=alice, data=IndicatorValueInput(value="95.6", source="年报")
        )
        indicator_value_approve(value=indicator_value_submit(value=entry, user=alice), user=carol)
    status_recompute_all()
    client = api(leo)
    listed = client.get("/api/v1/indicators/", {"plan": plan.pk, "page_size": 100}).json()
    assert listed["count"] == 16
    row = next(r for r in listed["results"] if r["number"] == 2)
    assert (row["status"], row["status_label"], row["latest_year"], row["latest_value"]) == (
        "on_track",
        "基本符合预期",
        2023,
        "95.6000",
    )
    assert (row["completion"], row["expected_completion"], row["ratio"], row["gap"]) == (
        "0.6000",
        "0.6000",
        "1.0000",
        "0.4000",
    )
    assert row["forecast_value"] == "96.0000"
    assert row["forecast_meets_target"] is True
    assert next(r for r in listed["results"] if r["number"] == 7)["status"] == "no_data"

    on_track = client.get("/api/v1/indicators/", {"plan": plan.pk, "status": "on_track"}).json()
    assert [r["number"] for r in on_track["results"]] == [2]
    binding = client.get("/api/v1/indicators/", {"plan": plan.pk, "attribute": "binding"}).json()
    assert [r["name"] for r in binding["results"]] == ["九年义务教育巩固率"]
    as_of_2022 = client.get("/api/v1/indicators/", {"plan": plan.pk, "year": 2022, "status": "no_data"}).json()
    assert 2 in [r["number"] for r in as_of_2022["results"]]

    detail = client.get(f"/api/v1/indicators/{rate.pk}/").json()
    assert len(detail["regions"]) == 13
    assert detail["regions"][0]["region_name"] == "乐山市"
    assert [p["year"] for p in detail["series"]] == [2020, 2021, 2022, 2023, 2024, 2025]
    assert detail["series"][0] == {"year": 2020, "approved": "95.0000", "expected": "95.0000"}
    assert detail["series"][3] == {"year": 2023, "approved": "95.6000", "expected": "95.6000"}


def test_status_summary_and_flags(
    leo,
    alice,
    carol,
    plan,
    city,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,
) -> None:
    from indicators.services import indicator_value_approve

    binding = plan.indicators.get(number=7)
    with django_capture_on_commit_callbacks(execute=True):
        entry = indicator_value_create(
            indicator=binding, region=city, year=2023, user=alice, data=IndicatorValueInput(value="95.3", source="年报")
        )
        indicator_value_approve(value=indicator_value_submit(value=entry, user=alice), user=carol)
    client = api(leo)
    summary = client.get("/api/v1/status/", {"plan": plan.pk}).json()
    counts = {row["status"]: row["count"] for row in summary["indicators"]}
    assert counts["lagging"] == 1
    assert counts["no_data"] == 15
    assert summary["flagged"][0]["subject"] == "九年义务教育巩固率（乐山市）"
    assert summary["flagged"][0]["lead_unit_name"] == "市教育局"
    assert client.get("/api/v1/status/", {"year": 2031}).status_code == 400
    assert client.get("/api/v1/status/", {"plan": "x"}).status_code == 400
    flags = client.get("/api/v1/flags/", {"state": "open", "kind": "lag", "unit": binding.lead_unit_id}).json()
    assert flags["count"] == 1
    assert flags["results"][0]["is_binding"] is True


# --- writes -----------------------------------------------------------------------------------------


def test_the_value_workflow_over_the_api(alice, carol, rate, city) -> None:  # type: ignore[no-untyped-def]
    client = api(alice)
    created = client.post(
        "/api/v1/indicator-values/",
        {"indicator": rate.pk, "region": city.pk, "year": 2024, "value": 95.8, "source": "统计年报"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["version"], body["value"]) == ("draft", 1, "95.8000")
    pk = body["id"]

    updated = client.patch(f"/api/v1/indicator-values/{pk}/", {"version": 1, "value": "95.9"}, format="json")
    assert updated.status_code == 200
    assert updated.json()["value"] == "95.9000"
    assert updated.json()["source"] == "统计年报"  # kept
    submitted = client.post(f"/api/v1/indicator-values/{pk}/submit/", {"version": 2}, format="json")
    assert submitted.json()["status"] == "submitted"

    assert api(alice).post(f"/api/v1/indicator-values/{pk}/approve/", {}, format="json").status_code == 403
    approved = api(carol).post(f"/api/v1/indicator-values/{pk}/approve/", {}, format="json")
    assert approved.status_code == 200
    assert approved.json()["approved_value"] == "95.9000"
    reasons = list(IndicatorValue.history.filter(id=pk).values_list("history_change_reason", flat=True))
    assert set(reasons) == {"接口：新建草稿", "接口：保存草稿", "接口：提交审核", "接口：审核通过"}


def test_bad_input_gets_field_messages_in_chinese(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    client = api(alice)
    response = client.post(
        "/api/v1/indicator-values/",
        {"indicator": rate.pk, "region": city.pk, "year": 2024, "value": "九十五", "source": ""},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "value": ["“九十五”不是有效的数字。"],
        "source": ["请填写数据来源，例如“教育事业统计年报”。"],
    }
    too_precise = client.post(
        "/api/v1/indicator-values/",
        {"indicator": rate.pk, "region": city.pk, "year": 2024, "value": 95.123, "source": "x"},
        format="json",
    )
    assert too_precise.json() == {"value": ["数值最多保留 2 位小数。"]}
    future = client.post(
        "/api/v1/indicator-values/",
        {"indicator": rate.pk, "region": city.pk, "year": 2030, "value": "95", "source": "x"},
        format="json",
    )
    assert future.json() == {"year": ["年度应在规划期 2021—2025 年之内。"]}
    broken = client.post("/api/v1/indicator-values/", "{not json", content_type="application/json")
    assert broken.status_code == 400
    assert "请求内容不是有效的 JSON" in broken.json()["detail"]
    missing = client.post("/api/v1/indicator-values/", {"region": city.pk}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()) == {"indicator", "year", "value"}
    assert not IndicatorValue.objects.exists()


def test_conflicts_are_409(alice, erin, rate, city) -> None:  # type: ignore[no-untyped-def]
    client = api(alice)
    pk = client.post(
        "/api/v1/indicator-values/",
        {"indicator": rate.pk, "region": city.pk, "year": 2024, "value": "95.8", "source": "年报"},
        format="json",
    ).json()["id"]
    duplicate = client.post(
        "/api/v1/indicator-values/",
        {"indicator": rate.pk, "region": city.pk, "year": 2024, "value": "95.1", "source": "年报"},
        format="json",
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate"
    assert duplicate.json()["existing_id"] == pk

    assert (
        api(erin).patch(f"/api/v1/indicator-values/{pk}/", {"version": 1, "value": "95.7"}, format="json").status_code
        == 200
    )
    stale = client.patch(f"/api/v1/indicator-values/{pk}/", {"version": 1, "value": "95.9"}, format="json")
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    assert stale.json()["current"]["version"] == 2
    assert "已被他人修改" in stale.json()["detail"]
    no_version = client.patch(f"/api/v1/indicator-values/{pk}/", {"value": "95.9"}, format="json")
    assert no_version.status_code == 400
    assert str(IndicatorValue.objects.get().value.normalize()) == "95.7"

    illegal = client.post(f"/api/v1/indicator-values/{pk}/approve/", {}, format="json")
    assert illegal.status_code in (403, 409)
    reopen = client.post(f"/api/v1/indicator-values/{pk}/reopen/", {}, format="json")
    assert reopen.status_code == 409
    assert reopen.json()["code"] == "illegal_transition"


def test_scope_on_the_api(alice, bob, frank, leo, rate, city, muchuan) -> None:  # type: ignore[no-untyped-def]
    city_value = indicator_value_create(
        indicator=rate, region=city, year=2024, user=alice, data=IndicatorValueInput(value="95.8", source="年报")
    )
    county_value = indicator_value_create(
        indicator=rate, region=muchuan, year=2024, user=bob, data=IndicatorValueInput(value="95.2", source="年报")
    )
    listed = api(bob).get("/api/v1/indicator-values/").json()
    assert [r["id"] for r in listed["results"]] == [county_value.pk]
    assert api(bob).get(f"/api/v1/indicator-values/{city_value.pk}/").status_code == 404
    assert (
        api(bob)
        .patch(f"/api/v1/indicator-values/{city_value.pk}/", {"version": 1, "value": "1"}, format="json")
        .status_code
        == 404
    )
    assert api(frank).get("/api/v1/indicators/").json()["count"] == 0
    assert api(frank).get(f"/api/v1/indicators/{rate.pk}/").status_code == 404
    created = api(leo).post(
        "/api/v1/indicator-values/",
        {"indicator": rate.pk, "region": city.pk, "year": 2023, "value": "95.5", "source": "年报"},
        format="json",
    )
    assert created.status_code == 403
    out = api(bob).post(
        "/api/v1/indicator-values/",
        {"indicator": rate.pk, "region": city.pk, "year": 2023, "value": "95.5", "source": "年报"},
        format="json",
    )
    assert out.status_code == 404


def test_task_progress_over_the_api(alice, carol) -> None:  # type: ignore[no-untyped-def]
    task = Task.objects.get(plan__code="leshan-edu-14fyp", code="C14.2")
    target = task.targets.get()
    client = api(alice)
    bad = client.post(
        "/api/v1/task-progress/",
        {"task": task.pk, "year": 2023, "narrative": "", "amounts": [{"target": target.pk, "amount": "1.5"}]},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "narrative": ["请填写本年度工作进展（做了什么、完成情况）。"],
        f"amount_{target.pk}": ["新建城镇公办幼儿园应为整数。"],
    }
    created = client.post(
        "/api/v1/task-progress/",
        {"task": task.pk, "year": 2023, "narrative": "新建3所", "amounts": [{"target": target.pk, "amount": 3}]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["amounts"] == [{"target": target.pk, "amount": "3.0000", "approved_amount": None}]
    client.post(f"/api/v1/task-progress/{pk}/submit/", {}, format="json")
    returned = api(carol).post(f"/api/v1/task-progress/{pk}/return/", {"comment": "请附佐证"}, format="json")
    assert returned.json()["status"] == "returned"
    assert api(carol).post(f"/api/v1/task-progress/{pk}/return/", {"comment": "x"}, format="json").status_code == 409
    listed = (
        api(carol).get("/api/v1/tasks/", {"unit": task.responsibilities.get(role="lead").unit_id, "column": 14}).json()
    )
    assert {r["code"] for r in listed["results"]} == {"C14.1", "C14.2", "C14.3", "C14.4"}
    assert TaskProgress.objects.get().review_comment == "请附佐证"


@pytest.mark.parametrize("digits", ["²", "١٢", "２０２３", "9" * 5000])
def test_digits_that_are_not_ascii_numbers_are_a_400_not_a_500(leo, plan, digits) -> None:  # type: ignore[no-untyped-def]
    # str.isdigit() accepts "²" and Arabic-Indic or full-width digits, which int() then refuses or mis-reads.
    client = api(leo)
    for endpoint in ("indicators", "tasks", "flags", "regions"):
        for name in ("unit", "plan", "region", "column"):
            response = client.get(f"/api/v1/{endpoint}/", {name: digits})
            assert response.status_code in (200, 400), (endpoint, name, response.status_code)
    assert client.get("/api/v1/status/", {"year": digits}).status_code in (200, 400)


@pytest.mark.parametrize("digits", ["²", "２０２３", "9" * 5000])
def test_pages_refuse_a_year_that_is_not_ascii_digits(client, leo, alice, plan, digits) -> None:  # type: ignore[no-untyped-def]
    for user, url in ((leo, "/dashboard/"), (leo, "/dashboard/regions/"), (alice, "/my/"), (alice, "/excel/")):
        client.force_login(user)
        response = client.get(url, {"year": digits, "page": digits})
        assert response.status_code == 400, url
        assert "年度" in response.content.decode(), url
