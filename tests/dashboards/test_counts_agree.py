"""Every count shown beside a list of flags is that list's own total, from one selector; long lists are paginated
with "共 N 条", never cut silently; the overview's warning list filters by kind, region and unit.

The world: statuses of every indicator × region lagging (a lag flag each) and the overdue flags of 15 March 2026
(every item of 2021–2025 unreported): over 200 flags of each kind for 市教育局, and one indicator (学前教育毛入园率)
moved to 市财政局 so a unit filter has something to leave out.
"""

from __future__ import annotations

import datetime
import re
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboards.views import FLAGS_PER_PAGE, UNIT_FLAGS_PER_PAGE
from indicators.flags import sync_indicator_lag_flags, sync_overdue_flags
from indicators.models import Flag, FlagKind, FlagState, IndicatorStatus
from indicators.services import (
    IndicatorValueInput,
    indicator_value_approve,
    indicator_value_create,
    indicator_value_submit,
)
from planning.models import Unit
from tests.api.test_api import api
from tests.indicators.test_dashboards import statuses

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

TODAY = datetime.date(2026, 3, 15)


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def bureau(db) -> Unit:  # type: ignore[no-untyped-def]
    return Unit.objects.get(name="市教育局")


@pytest.fixture
def finance(db) -> Unit:  # type: ignore[no-untyped-def]
    return Unit.objects.get(name="市财政局")


@pytest.fixture
def flagged(plan, city, rate, finance):  # type: ignore[no-untyped-def]
    rate.lead_unit = finance
    rate.save()
    statuses(plan, city, status="lagging")
    sync_indicator_lag_flags(plan_ids=[plan.pk])
    sync_overdue_flags(today=TODAY)
    return plan


def open_count(plan, **filters) -> int:  # type: ignore[no-untyped-def]
    return Flag.objects.filter(plan=plan, state=FlagState.OPEN, **filters).count()


def page(client: Client, name: str, *args: object, **params: object) -> str:
    response = client.get(reverse(name, args=args), params)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def overview_numbers(body: str) -> tuple[int, int, str]:
    """The warning list's own total, the other kind's total beside it, and where that number links to."""
    heading = re.search(r'<h2 id="flags-title">(.*?)</h2>', body, re.S)
    assert heading, "the warning list's heading"
    shown = int(re.search(r'<span class="muted small">(\d+) 项', heading.group(1)).group(1))
    link = re.search(r'<a href="([^"]+)">另有(?:逾期未报|进度预警) (\d+) 项</a>', heading.group(1))
    assert link, heading.group(1)
    return shown, int(link.group(2)), unescape(link.group(1))


def rows(body: str) -> list[str]:
    table = re.search(r'<section id="flags".*?<tbody>(.*?)</tbody>', body, re.S)
    assert table
    return re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)


def test_the_unit_card_and_the_unit_page_count_the_same_flags(leo, flagged, city, bureau) -> None:  # type: ignore[no-untyped-def]
    client = client_for(leo)
    lag, overdue = (
        open_count(flagged, lead_unit=bureau, kind="lag"),
        open_count(flagged, lead_unit=bureau, kind="overdue"),
    )
    assert lag == 15 * 13 and overdue > 900  # the old page cut both lists together at 200

    units = page(client, "dashboards:units", plan=flagged.pk, region=city.pk)
    card = re.search(r"<h3>市教育局</h3>(.*?)</a>", units, re.S)
    assert card
    assert f"预警 {lag}</span>" in card.group(1)
    assert f"逾期未报 {overdue}</span>" in card.group(1)

    detail = page(client, "dashboards:unit", bureau.pk, plan=flagged.pk, region=city.pk)
    assert f"未解除的进度预警（{lag}）" in detail
    assert f"逾期未报（{overdue}）" in detail
    pages = -(-overdue // UNIT_FLAGS_PER_PAGE)
    assert f"第 1 / {pages} 页，共 {overdue} 条" in detail
    assert f"第 1 / {-(-lag // UNIT_FLAGS_PER_PAGE)} 页，共 {lag} 条" in detail
    # Each list pages on its own parameter and lands on its own heading.
    assert 'overdue_page=2#overdue-flags"' in detail and 'lag_page=2#lag-flags"' in detail
    last = page(client, "dashboards:unit", bureau.pk, plan=flagged.pk, region=city.pk, overdue_page=pages)
    overdue_list = re.search(r'<h2 id="overdue-flags">.*?<ul class="columns-2">(.*?)</ul>', last, re.S)
    assert overdue_list
    assert overdue_list.group(1).count("<li>") == overdue - (pages - 1) * UNIT_FLAGS_PER_PAGE
    assert f"第 {pages} / {pages} 页，共 {overdue} 条" in last


def test_the_overviews_other_kind_count_is_the_list_it_links_to(leo, bob, flagged, city, muchuan) -> None:  # type: ignore[no-untyped-def]
    client = client_for(leo)
    body = page(client, "dashboards:overview", plan=flagged.pk, region=city.pk)
    lag, overdue, link = overview_numbers(body)
    assert (lag, overdue) == (open_count(flagged, kind="lag"), open_count(flagged, kind="overdue"))
    assert f"共 {lag} 条" in body
    assert len(rows(body)) == FLAGS_PER_PAGE

    assert "kind=overdue" in link and link.endswith("#flags")
    linked = client.get(link.split("#")[0])
    assert linked.status_code == 200
    linked_body = linked.content.decode()
    shown, other, back = overview_numbers(linked_body)
    assert (shown, other) == (overdue, lag)
    assert f"共 {overdue} 条" in linked_body
    assert all("逾期未报（截止" in row for row in rows(linked_body))
    assert "kind=lag" in back

    # A county person: the same numbers, of what they may see.
    mine = client_for(bob)
    county = page(mine, "dashboards:overview", plan=flagged.pk)
    lag, overdue, link = overview_numbers(county)
    assert (lag, overdue) == (
        open_count(flagged, kind="lag", region=muchuan),
        open_count(flagged, kind="overdue", region=muchuan),
    )
    assert overview_numbers(mine.get(link.split("#")[0]).content.decode())[0] == overdue


def test_an_approval_changes_the_overviews_count_at_once(leo, alice, carol, flagged, city, headcount) -> None:  # type: ignore[no-untyped-def]
    client = client_for(leo)
    overdue_list = {"plan": flagged.pk, "region": city.pk, "kind": "overdue"}
    before = overview_numbers(page(client, "dashboards:overview", **overdue_list))[0]
    entry = indicator_value_create(
        indicator=headcount, region=city, year=2024, user=alice, data=IndicatorValueInput(value="9.5", source="年报")
    )
    indicator_value_approve(value=indicator_value_submit(value=entry, user=alice), user=carol)
    after = page(client, "dashboards:overview", **overdue_list)
    assert overview_numbers(after)[0] == before - 1
    lag_view = page(client, "dashboards:overview", plan=flagged.pk, region=city.pk)
    assert overview_numbers(lag_view)[1] == before - 1


def test_the_warning_list_filters_by_kind_region_and_unit(leo, bob, flagged, city, muchuan, finance) -> None:  # type: ignore[no-untyped-def]
    client = client_for(leo)
    # Unit: only what 市财政局 leads (学前教育毛入园率 in every region), both kinds counted under the filter.
    body = page(client, "dashboards:overview", plan=flagged.pk, region=city.pk, unit=finance.pk)
    lag, overdue, link = overview_numbers(body)
    assert (lag, overdue) == (13, open_count(flagged, kind="overdue", lead_unit=finance))
    assert "· 牵头单位 市财政局" in body
    assert all("学前教育毛入园率" in row for row in rows(body))
    assert f"unit={finance.pk}" in link  # the link keeps the unit
    overdue_rows = rows(
        page(client, "dashboards:overview", plan=flagged.pk, region=city.pk, unit=finance.pk, kind="overdue")
    )
    assert overdue_rows and all("学前教育毛入园率" in r and "逾期未报" in r for r in overdue_rows)

    # Region: the county and nothing else.
    county = page(client, "dashboards:overview", plan=flagged.pk, region=muchuan.pk, kind="overdue")
    assert overview_numbers(county)[0] == open_count(flagged, kind="overdue", region=muchuan)
    assert all("（沐川县）" in row for row in rows(county))
    # Out of the person's view: 404, as every board page; an unknown kind is ignored like the board's other filters.
    assert (
        client_for(bob).get(reverse("dashboards:overview"), {"region": city.pk, "kind": "overdue"}).status_code == 404
    )
    unknown = page(client, "dashboards:overview", plan=flagged.pk, region=city.pk, kind="nonsense")
    assert overview_numbers(unknown)[0] == open_count(flagged, kind="lag")


def test_the_warning_list_pages_keep_the_filters(leo, flagged, city) -> None:  # type: ignore[no-untyped-def]
    client = client_for(leo)
    params = {"plan": flagged.pk, "region": city.pk, "kind": "overdue"}
    total = open_count(flagged, kind="overdue")
    pages = -(-total // FLAGS_PER_PAGE)
    first = page(client, "dashboards:overview", **params)
    assert f"第 1 / {pages} 页，共 {total} 条" in first
    following = re.search(r'<a href="\?([^"]*page=2#flags)">下一页</a>', first)
    assert following and "kind=overdue" in unescape(following.group(1))
    second = page(client, "dashboards:overview", **params, page=2)
    assert f"第 2 / {pages} 页，共 {total} 条" in second
    assert not set(rows(first)) & set(rows(second))
    # Every flag is on exactly one page: the order is total (ties broken by year and id).
    seen: list[str] = []
    for number in range(1, pages + 1):
        seen += rows(page(client, "dashboards:overview", **params, page=number))
    assert len(seen) == len(set(seen)) == total


def queries(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_the_pages_read_a_fixed_number_of_queries_however_many_flags(leo, plan, city, bureau) -> None:  # type: ignore[no-untyped-def]
    client = client_for(leo)
    urls = [
        f"{reverse('dashboards:overview')}?plan={plan.pk}&region={city.pk}",
        f"{reverse('dashboards:overview')}?plan={plan.pk}&region={city.pk}&kind=overdue&page=3",
        f"{reverse('dashboards:units')}?plan={plan.pk}&region={city.pk}",
        f"{reverse('dashboards:unit', args=[bureau.pk])}?plan={plan.pk}&region={city.pk}&overdue_page=2",
    ]
    statuses(plan, city, status="lagging")
    # A few of each kind first (an empty list reads nothing at all, which would not compare like with like).
    lagging = IndicatorStatus.objects.filter(indicator__plan=plan, status="lagging")
    lagging.exclude(indicator__number=7, region=city).update(status="on_track", forecast_meets_target=True)
    sync_indicator_lag_flags(plan_ids=[plan.pk])
    sync_overdue_flags(today=datetime.date(2022, 3, 1))  # only 2021 due
    assert open_count(plan, kind="lag") == 1 and open_count(plan, kind="overdue") < 300
    few = [queries(client, url) for url in urls]
    IndicatorStatus.objects.filter(indicator__plan=plan).update(status="lagging")
    sync_indicator_lag_flags(plan_ids=[plan.pk])
    sync_overdue_flags(today=TODAY)
    assert open_count(plan, kind="lag") == 16 * 13 and open_count(plan, kind="overdue") > 900
    many = [queries(client, url) for url in urls]
    assert many == few, (few, many)
    assert max(many) <= 25


def test_the_status_api_takes_the_same_filters_and_counts_the_same(leo, flagged, city, finance) -> None:  # type: ignore[no-untyped-def]
    client = api(leo)
    body = client.get("/api/v1/status/", {"plan": flagged.pk, "region": city.pk, "kind": "overdue"}).json()
    overview = page(client_for(leo), "dashboards:overview", plan=flagged.pk, region=city.pk, kind="overdue")
    assert body["flag_kind"] == "overdue"
    assert body["flagged_total"] == body["flag_totals"]["overdue"] == overview_numbers(overview)[0]
    assert body["flag_totals"]["lag"] == overview_numbers(overview)[1]
    assert len(body["flagged"]) == 50
    listed = client.get(
        "/api/v1/flags/", {"plan": flagged.pk, "state": "open", "kind": "overdue", "unit": finance.pk}
    ).json()
    by_unit = client.get(
        "/api/v1/status/", {"plan": flagged.pk, "region": city.pk, "kind": "overdue", "unit": finance.pk}
    ).json()
    assert by_unit["flagged_total"] == listed["count"] == open_count(flagged, kind="overdue", lead_unit=finance)
    assert {flag["lead_unit_name"] for flag in by_unit["flagged"]} == {"市财政局"}
    # Without a kind: the lag flags, as before.
    assert client.get("/api/v1/status/", {"plan": flagged.pk}).json()["flag_kind"] == FlagKind.LAG
    bad = client.get("/api/v1/status/", {"plan": flagged.pk, "kind": "nonsense"})
    assert bad.status_code == 400 and "kind" in bad.json()
    assert client.get("/api/v1/status/", {"plan": flagged.pk, "unit": "99999999"}).status_code == 400
