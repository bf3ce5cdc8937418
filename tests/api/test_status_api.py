"""/api/v1/status/ and the indicator detail at any scale: the flags it sends are what FlagSerializer says, its
counts are the stored ones (no count over the flags), its queries do not grow with the flags, and the detail's
regions come a page at a time."""

from __future__ import annotations

import datetime
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from indicators.api.serializers import FlagSerializer, flag_data, flag_page
from indicators.flags import _sync, sync_overdue_flags
from indicators.models import Flag, FlagKind, FlagState, IndicatorStatus
from indicators.selectors import flags_in_order, in_display_order, open_flags
from planning.models import Unit
from tests.api.test_api import api
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]


def raise_flags(plan, n: int, seed: int = 0) -> None:  # type: ignore[no-untyped-def]
    """n lag flags of the plan's indicators, regions and tasks, some binding, some of no unit or no region."""
    rng = random.Random(seed)
    regions = list(plan.area_regions())
    indicators = list(plan.indicators.all())
    tasks = list(plan.tasks.all()[:5])
    units = [*Unit.objects.filter(name__in=["市教育局", "市财政局"]), None]
    wanted = {}
    for k in range(n):
        unit = rng.choice(units)
        common = {"plan_id": plan.pk, "year": 2025, "lead_unit_id": unit.pk if unit else None, "reason": f"原因{k}"}
        if rng.random() < 0.8:
            wanted[f"t:{seed}:{k}"] = {
                **common,
                "indicator_id": rng.choice(indicators).pk,
                "region_id": rng.choice(regions).pk,
                "is_binding": rng.random() < 0.3,
                "status": "lagging",
            }
        else:
            region = rng.choice([None, *regions])
            wanted[f"t:{seed}:{k}"] = {
                **common,
                "task_id": rng.choice(tasks).pk,
                "region_id": region.pk if region else None,
            }
    _sync(FlagKind.LAG, wanted, Flag.objects.none(), timezone.now())


def test_the_flags_sent_are_what_the_flag_serializer_says(plan) -> None:  # type: ignore[no-untyped-def]
    raise_flags(plan, 60)
    sync_overdue_flags(today=datetime.date(2026, 3, 15))
    resolved = Flag.objects.filter(plan=plan, kind=FlagKind.LAG).first()
    assert resolved is not None
    _sync(FlagKind.LAG, {}, Flag.objects.filter(pk=resolved.pk), timezone.now())  # a resolved one, with its time
    flags = list(flags_in_order(Flag.objects.filter(plan=plan)))
    assert {f.task_id is None for f in flags} == {True, False} and {f.region_id is None for f in flags} == {
        True,
        False,
    }
    assert {f.lead_unit_id is None for f in flags} == {True, False} and {f.state for f in flags} == set(
        FlagState.values
    )
    render = JSONRenderer().render
    assert render(flag_data(flags)) == render(FlagSerializer(flags, many=True).data)
    # The status summary's page of them, read as values: the same, in display order.
    for limit in (7, 50, len(flags)):
        page = in_display_order(flags[:limit])
        assert render(flag_page(lambda: flags_in_order(Flag.objects.filter(plan=plan)), limit)) == render(
            FlagSerializer(page, many=True).data
        )


def status_queries(client, plan) -> list[str]:  # type: ignore[no-untyped-def]
    client.get("/api/v1/status/", {"plan": plan.pk})  # warm (content types, the scope of the person)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/status/", {"plan": plan.pk})
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_the_summary_reads_the_same_few_rows_however_many_flags(plan, leo, city) -> None:  # type: ignore[no-untyped-def]
    client = api(leo)
    raise_flags(plan, 5, seed=1)
    few = status_queries(client, plan)
    raise_flags(plan, 400, seed=2)
    many = status_queries(client, plan)
    # The same queries, but for reading the tasks and units of the fifty flags shown (none when none has one).
    pages_own = ('FROM "planning_task" WHERE', 'FROM "planning_unit" WHERE')
    assert [q for q in many if not any(p in q for p in pages_own)] == [
        q for q in few if not any(p in q for p in pages_own)
    ]
    assert len(many) <= 10, many
    counting_flags = [sql for sql in many if "COUNT(" in sql and '"indicators_flag"' in sql]
    assert not counting_flags, counting_flags
    # Nor does choosing the default region look through the plan's regions.
    assert not [sql for sql in many if "ORDER BY CASE" in sql]
    body = client.get("/api/v1/status/", {"plan": plan.pk}).json()
    listed = open_flags(leo, plan, city)
    assert body["flagged_total"] == listed.filter(kind=FlagKind.LAG).count() == body["flag_totals"]["lag"]
    assert body["flag_totals"]["overdue"] == listed.filter(kind=FlagKind.OVERDUE).count()
    assert len(body["flagged"]) == 50
    by_unit = client.get("/api/v1/status/", {"plan": plan.pk, "unit": Unit.objects.get(name="市财政局").pk}).json()
    assert by_unit["flagged_total"] == listed.filter(kind=FlagKind.LAG, lead_unit__name="市财政局").count()
    assert {row["lead_unit_name"] for row in by_unit["flagged"]} == {"市财政局"}


def test_the_list_of_indicators_reads_its_region_by_id(plan, leo, bob) -> None:  # type: ignore[no-untyped-def]
    for person in (leo, bob):
        client = api(person)
        client.get("/api/v1/indicators/", {"plan": plan.pk})
        with CaptureQueriesContext(connection) as captured:
            body = client.get("/api/v1/indicators/", {"plan": plan.pk, "status": "lagging"}).json()
        assert "results" in body
        regions_looked_through = [q["sql"] for q in captured.captured_queries if "ORDER BY CASE" in q["sql"]]
        # The plan's own region in view: read by its id; a county's person: their first region, as before.
        assert len(regions_looked_through) == (0 if person == leo else 1)


def test_the_polled_first_page_of_indicators_is_the_ordinary_page(plan, rate, headcount, leo, bob) -> None:  # type: ignore[no-untyped-def]
    IndicatorStatus.objects.create(
        indicator=rate, region=plan.region, as_of_year=plan.period_end_year, status="lagging", changed_at=timezone.now()
    )
    for person in (leo, bob):
        client = api(person)
        for query in ({"plan": plan.pk}, {"plan": plan.pk, "status": "lagging"}, {"ordering": "-number"}):
            kept = [client.get("/api/v1/indicators/", query).json() for _ in range(2)]  # compiled, then kept
            # "01" is page 1 to the paginator, but not the polled first page: the ordinary way.
            ordinary = client.get("/api/v1/indicators/", {**query, "page": "01"}).json()
            assert kept[0] == kept[1] == ordinary
            assert ordinary["results"] or person == bob  # bob's county has no status stored here
        # Each parameter is still checked on every call, in Chinese, and in the order the ordinary way checks them.
        for _ in range(2):
            refused = client.get("/api/v1/indicators/", {"plan": plan.pk, "status": "perhaps"})
            assert refused.status_code == 400 and "status" in refused.json()
        for bad in ({"year": "abc"}, {"year": "1800"}, {"region": "abc"}, {"region": "999999", "status": "perhaps"}):
            polled = client.get("/api/v1/indicators/", {"plan": plan.pk, **bad})
            ordinary = client.get("/api/v1/indicators/", {"plan": plan.pk, **bad, "page": "01"})
            assert polled.status_code == ordinary.status_code >= 400 and polled.json() == ordinary.json()
    # A full first page goes the ordinary way too, which counts the rest and links the next page.
    body = api(leo).get("/api/v1/indicators/", {"plan": plan.pk, "page_size": 1}).json()
    assert body["count"] == plan.indicators.count() > 1 and body["next"] and len(body["results"]) == 1


# --- the indicator detail's regions, a page at a time ---------------------------------------------------------


@pytest.fixture
def assessed_everywhere(plan, rate):  # type: ignore[no-untyped-def]
    now = timezone.now()
    IndicatorStatus.objects.bulk_create(
        [
            IndicatorStatus(indicator=rate, region=region, as_of_year=2025, status="on_track", changed_at=now)
            for region in plan.area_regions()
        ]
    )
    return rate


def test_the_detail_pages_its_regions(assessed_everywhere, plan, leo) -> None:  # type: ignore[no-untyped-def]
    rate, client = assessed_everywhere, api(leo)
    url = f"/api/v1/indicators/{rate.pk}/"
    everything = client.get(url).json()
    in_order = [r.pk for r in plan.area_regions().order_by("order", "pk")]
    assert everything["regions_count"] == len(in_order) == 13
    assert [row["region"] for row in everything["regions"]] == in_order  # under the default page size (50)
    assert everything["regions_next"] is None and everything["regions_previous"] is None
    pages, address = [], f"http://testserver{url}?page_size=5"
    while address:
        body = client.get(address).json()
        assert body["regions_count"] == 13 and body["series"] == everything["series"]
        pages.append([row["region"] for row in body["regions"]])
        address = body["regions_next"]
    assert [len(p) for p in pages] == [5, 5, 3]
    assert [region for page in pages for region in page] == in_order
    last = client.get(url, {"page_size": 5, "page": 3}).json()
    assert last["regions_previous"] == f"http://testserver{url}?page=2&page_size=5"
    second = client.get(url, {"page_size": 5, "page": 2}).json()
    assert second["regions_previous"] == f"http://testserver{url}?page_size=5"
    assert len(client.get(url, {"page_size": 1000}).json()["regions"]) == 13  # at most 100, as every list


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("0", "页码应为正整数，例如 1。"),
        ("x", "页码应为正整数，例如 1。"),
        ("-1", "页码应为正整数，例如 1。"),
        ("99999999999999999999", "页码应为正整数，例如 1。"),
        ("4", "页码超出范围：各区域判定共 3 页（每页 5 条）。"),
    ],
)
def test_a_page_that_is_not_there_is_a_400_in_chinese(assessed_everywhere, leo, page, message) -> None:  # type: ignore[no-untyped-def]
    response = api(leo).get(f"/api/v1/indicators/{assessed_everywhere.pk}/", {"page": page, "page_size": 5})
    assert response.status_code == 400
    assert response.json() == {"page": [message]}


def test_a_county_person_pages_their_regions_only(assessed_everywhere, muchuan) -> None:  # type: ignore[no-untyped-def]
    rita = make_user("rita", "审核员", regions=("沐川县", "夹江县"))
    body = api(rita).get(f"/api/v1/indicators/{assessed_everywhere.pk}/", {"page_size": 1}).json()
    assert body["regions_count"] == 2 and len(body["regions"]) == 1 and body["regions_next"]


def test_the_schema_describes_the_pages(leo) -> None:  # type: ignore[no-untyped-def]
    schema = api(leo).get("/api/schema/", {"format": "json"}).json()
    detail = schema["paths"]["/api/v1/indicators/{id}/"]["get"]
    assert {"page", "page_size"} <= {p["name"] for p in detail["parameters"]}
    fields = schema["components"]["schemas"]["IndicatorDetail"]["properties"]
    assert {"regions", "regions_count", "regions_next", "regions_previous"} <= set(fields)
    assert fields["regions"]["items"]["$ref"].endswith("/RegionAssessment")


# --- the list of indicators, read as values ------------------------------------------------------------------


@pytest.fixture
def varied(plan, city, muchuan):  # type: ignore[no-untyped-def]
    """Every status (已实现 early and on time), values with and without decimals, some indicators never computed."""
    statuses = ["achieved", "ahead", "on_track", "watch", "lagging", "regressing", "no_plan"]
    now = timezone.now()
    rows = []
    for n, indicator in enumerate(plan.indicators.order_by("number")):
        if n % 6 == 5:
            continue
        for region in (city, muchuan):
            rows.append(
                IndicatorStatus(
                    indicator=indicator,
                    region=region,
                    as_of_year=2025,
                    status=statuses[n % len(statuses)],
                    latest_year=indicator.target_year - n % 2,
                    latest_value="95.1234" if n % 3 else "7",
                    gap="0.5" if n % 2 else None,
                    completion="0.9125",
                    expected_completion="1",
                    ratio="0.91",
                    forecast_value=None if n % 4 else "101.25",
                    forecast_meets_target=[None, True, False][n % 3],
                    changed_at=now,
                )
            )
    IndicatorStatus.objects.bulk_create(rows)
    return plan


def test_the_list_shows_what_the_indicator_serializer_says(varied, leo, alice, muchuan) -> None:  # type: ignore[no-untyped-def]
    from indicators.api.serializers import IndicatorSerializer
    from indicators.selectors import indicators_visible_to, indicators_with_assessment

    render = JSONRenderer().render
    for person, region in ((leo, None), (leo, muchuan), (alice, None)):
        params = {"plan": varied.pk, "page_size": 100, **({"region": region.pk} if region else {})}
        body = api(person).get("/api/v1/indicators/", params).json()
        expected = indicators_with_assessment(
            indicators_visible_to(person).filter(plan=varied).select_related("plan", "lead_unit"),
            year=2025,
            region_id=region.pk if region else None,
        ).order_by("number")
        assert render(body["results"]) == render(IndicatorSerializer(expected, many=True).data)
        assert body["count"] == len(body["results"]) == expected.count() > 0
    statuses = {row["status"] for row in body["results"]}
    assert {"achieved_early", "achieved", None} <= statuses  # the world had them, or the test proves little


def test_a_short_first_page_is_counted_by_its_rows(varied, leo) -> None:  # type: ignore[no-untyped-def]
    client = api(leo)
    with CaptureQueriesContext(connection) as captured:
        short = client.get("/api/v1/indicators/", {"plan": varied.pk, "status": "lagging"}).json()
    assert short["count"] == len(short["results"]) > 0 and short["next"] is None
    assert not [q for q in captured.captured_queries if "COUNT(" in q["sql"]]
    # A full page still counts: the count, the pages and the links are those of the list's pagination.
    full = client.get("/api/v1/indicators/", {"plan": varied.pk, "page_size": 5}).json()
    assert full["count"] == 16 and len(full["results"]) == 5 and "page=2" in full["next"]
    last = client.get("/api/v1/indicators/", {"plan": varied.pk, "page_size": 5, "page": 4}).json()
    assert [row["number"] for row in last["results"]] == [16]
    assert client.get("/api/v1/indicators/", {"plan": varied.pk, "page": 9}).status_code == 404
