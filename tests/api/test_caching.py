"""Cached API answers: served again until a recompute changes a status, never shared between users."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from indicators.services import (
    IndicatorValueInput,
    indicator_value_approve,
    indicator_value_create,
    indicator_value_submit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]


@pytest.fixture(autouse=True)
def api_cache(settings):  # type: ignore[no-untyped-def]
    settings.API_CACHE_SECONDS = 30
    cache.clear()
    yield
    cache.clear()


def client_for(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def queries(client: APIClient, url: str, params: dict) -> tuple[int, dict]:  # type: ignore[type-arg]
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured.captured_queries), response.json()


def approve(alice, carol, indicator, region, value: str) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_create(
        indicator=indicator, region=region, year=2023, user=alice, data=IndicatorValueInput(value=value, source="年报")
    )
    indicator_value_approve(value=indicator_value_submit(value=entry, user=alice), user=carol)


@pytest.mark.parametrize("url", ["/api/v1/indicators/", "/api/v1/status/"])
def test_a_second_call_is_served_from_the_cache_until_a_status_changes(  # type: ignore[no-untyped-def]
    url, leo, alice, carol, plan, rate, city, django_capture_on_commit_callbacks
) -> None:
    client = client_for(leo)
    params = {"plan": plan.pk}
    first_queries, first = queries(client, url, params)
    again_queries, again = queries(client, url, params)
    assert again == first
    assert again_queries < first_queries

    with django_capture_on_commit_callbacks(execute=True):
        approve(alice, carol, rate, city, "95.6")  # its recompute runs on commit and changes a status
    _, after = queries(client, url, params)
    assert after != first
    if url == "/api/v1/indicators/":
        row = next(r for r in after["results"] if r["number"] == 2)
        assert (row["status"], row["latest_value"]) == ("on_track", "95.6000")
    else:
        counts = {row["status"]: row["count"] for row in after["indicators"]}
        assert counts["on_track"] == 1


def test_a_cached_answer_is_never_given_to_another_user(leo, bob, plan) -> None:  # type: ignore[no-untyped-def]
    leo_client = client_for(leo)
    leo_client.get("/api/v1/indicators/", {"plan": plan.pk})
    with CaptureQueriesContext(connection) as captured:
        leo_client.get("/api/v1/indicators/", {"plan": plan.pk})
    assert not any("indicators_indicator" in q["sql"] for q in captured.captured_queries)  # leo's is cached
    # bob's call with leo's exact query is computed for bob, not served from leo's entry.
    with CaptureQueriesContext(connection) as captured:
        client_for(bob).get("/api/v1/indicators/", {"plan": plan.pk})
    assert any("indicators_indicator" in q["sql"] for q in captured.captured_queries)


def test_without_a_cache_every_call_is_computed(settings, leo, plan) -> None:  # type: ignore[no-untyped-def]
    settings.API_CACHE_SECONDS = 0
    client = client_for(leo)
    client.get("/api/v1/status/", {"plan": plan.pk})  # warm the per-process caches (roles, content types)
    first, _ = queries(client, "/api/v1/status/", {"plan": plan.pk})
    again, _ = queries(client, "/api/v1/status/", {"plan": plan.pk})
    assert again == first > 3
