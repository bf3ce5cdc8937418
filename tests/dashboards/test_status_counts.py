"""The indicator counts of the overview's summary and /api/v1/status/ come from the stored counts (StatusCount), and
say what counting the indicators' statuses says, for people of every kind of view."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboards.selectors import _count_assessed, indicator_status_counts
from indicators.models import IndicatorStatus, StatusCount
from indicators.selectors import indicators_visible_to, indicators_with_assessment
from indicators.status import status_counts_refresh
from planning.selectors import user_scope
from tests.api.test_api import api
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

STATUSES = ["achieved", "ahead", "on_track", "watch", "lagging", "regressing", "no_plan"]


@pytest.fixture
def assessed(plan, city, muchuan):  # type: ignore[no-untyped-def]
    """Every status in the city and 沐川县 for 2024 and 2025, 已实现 early and on time, and some indicators with no
    status at all (未填报); the stored counts refreshed as the recompute leaves them."""
    now = timezone.now()
    rows = []
    for (n, indicator), region, year in itertools.product(
        enumerate(plan.indicators.order_by("number")), (city, muchuan), (2024, 2025)
    ):
        if n % 5 == 4 and region == muchuan:
            continue  # never computed there
        status = STATUSES[(n + year) % len(STATUSES)]
        latest = indicator.target_year - (1 if n % 2 else 0)  # 已实现 a year early for every other indicator
        rows.append(
            IndicatorStatus(
                indicator=indicator, region=region, as_of_year=year, status=status, latest_year=latest, changed_at=now
            )
        )
    IndicatorStatus.objects.bulk_create(rows)
    status_counts_refresh(plan_id=plan.pk)
    return plan


def scanned(user, plan, year, region):  # type: ignore[no-untyped-def]
    visible = indicators_visible_to(user).filter(plan=plan)
    return _count_assessed(list(indicators_with_assessment(visible, year=year, region_id=region.pk)))


def test_the_stored_counts_say_what_the_statuses_say(assessed, city, muchuan, leo, alice, bob, nobody) -> None:  # type: ignore[no-untyped-def]
    both = make_user("both", "填报员", units=("市教育局",), regions=("沐川县",))
    for person, region, year in itertools.product((leo, alice, bob, both, nobody), (city, muchuan), (2024, 2025)):
        expected = scanned(person, assessed, year, region)
        assert indicator_status_counts(person, assessed, year, region) == expected, (person.username, region, year)
    shown = {key: n for key, _label, n in indicator_status_counts(leo, assessed, 2025, muchuan)}
    assert shown["achieved_early"] and shown["no_data"]  # the world has both, or the test proves little


def test_the_counts_are_read_not_counted(assessed, city, leo, alice) -> None:  # type: ignore[no-untyped-def]
    user_scope(leo), user_scope(alice)
    # A stored row changed behind the statuses' back shows: the answer is the stored counts.
    row = StatusCount.objects.filter(plan=assessed, region=city, as_of_year=2025).exclude(status="no_plan").first()
    assert row is not None
    before = {key: n for key, _label, n in indicator_status_counts(leo, assessed, 2025, city)}
    StatusCount.objects.filter(pk=row.pk).update(status="no_plan")
    after = {key: n for key, _label, n in indicator_status_counts(leo, assessed, 2025, city)}
    assert after[row.status] == before[row.status] - row.count
    assert after["no_plan"] == before["no_plan"] + row.count
    with CaptureQueriesContext(connection) as captured:
        indicator_status_counts(alice, assessed, 2025, city)
    # One statement: the stored counts of her units' indicators, and how many indicators she sees.
    assert len(captured.captured_queries) == 1
    sql = captured.captured_queries[0]["sql"]
    assert "indicators_statuscount" in sql and "lead_unit_id" in sql and "indicators_indicator" in sql


def test_without_stored_counts_the_statuses_are_counted(assessed, city, leo) -> None:  # type: ignore[no-untyped-def]
    expected = scanned(leo, assessed, 2025, city)
    StatusCount.objects.filter(plan=assessed).delete()  # never refreshed (e.g. statuses written before the table)
    assert indicator_status_counts(leo, assessed, 2025, city) == expected
    # More counted than there are indicators (one deleted since): counted from the statuses, never negative.
    status_counts_refresh(plan_id=assessed.pk)
    StatusCount.objects.filter(plan=assessed, region=city, as_of_year=2025).update(count=99)
    assert indicator_status_counts(leo, assessed, 2025, city) == expected


def test_the_status_api_shows_the_stored_counts(assessed, city, muchuan, leo, bob) -> None:  # type: ignore[no-untyped-def]
    for person, region in ((leo, city), (leo, muchuan), (bob, muchuan)):
        body = api(person).get("/api/v1/status/", {"plan": assessed.pk, "year": 2024, "region": region.pk}).json()
        expected = scanned(person, assessed, 2024, region)
        assert [(row["status"], row["label"], row["count"]) for row in body["indicators"]] == expected
