"""Dashboards: stored statuses only, fixed query counts at any size, filters in the URL, scope."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from indicators.models import Attribute, Indicator, IndicatorStatus
from indicators.services import status_recompute_all

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

PAGES = ["dashboards:overview", "dashboards:regions", "dashboards:tasks", "dashboards:units"]


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def statuses(plan, city, *, status="on_track", year=2025) -> None:  # type: ignore[no-untyped-def]
    """Stored statuses for every indicator × region of the plan (as the nightly job would leave them)."""
    now = timezone.now()
    regions = list(plan.area_regions())
    IndicatorStatus.objects.bulk_create(
        [
            IndicatorStatus(
                indicator=indicator,
                region=region,
                as_of_year=year,
                status=status,
                latest_year=2024,
                latest_value="95.5",
                baseline_value="95",
                target_value="96",
                completion="0.5",
                expected_completion="0.8",
                ratio="0.625",
                forecast_value="95.9",
                forecast_meets_target=False,
                changed_at=now,
            )
            for indicator in plan.indicators.all()
            for region in regions
        ],
        ignore_conflicts=True,
    )


def query_count(client: Client, url: str) -> int:
    client.get(url)  # warm caches (content types, sessions) so only the page's own queries are counted
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)


def test_pages_run_the_same_queries_with_16_or_1000_indicators(leo, plan, city) -> None:  # type: ignore[no-untyped-def]
    statuses(plan, city)
    client = client_for(leo)
    indicator = plan.indicators.get(number=7)
    urls = [reverse(name) for name in PAGES] + [reverse("dashboards:indicator", args=[indicator.pk])]
    small = {url: query_count(client, url) for url in urls}

    Indicator.objects.bulk_create(
        [
            Indicator(
                plan=plan,
                number=100 + n,
                name=f"测试指标{n}",
                unit="%",
                baseline_year=2020,
                baseline_value=50,
                target_year=2025,
                target_value=60,
                attribute=Attribute.EXPECTED,
                source_document="测试",
            )
            for n in range(984)
        ]
    )
    statuses(plan, city)
    assert plan.indicators.count() == 1000
    large = {url: query_count(client, url) for url in urls}
    assert large == small
    assert max(small.values()) <= 20


def test_the_overview_reads_stored_statuses_and_never_recomputes(leo, plan, city) -> None:  # type: ignore[no-untyped-def]
    statuses(plan, city, status="lagging")
    IndicatorStatus.objects.filter(indicator__number=7, region=city).update(status="ahead")
    content = client_for(leo).get(reverse("dashboards:overview")).content.decode()
    data = json.loads(re.search(r'id="data-indicators" type="application/json">(.*?)</script>', content).group(1))
    assert dict(zip(data["labels"], data["values"], strict=True))["滞后"] == 15
    assert dict(zip(data["labels"], data["values"], strict=True))["快于预期"] == 1
    assert content.count('class="indicator-card') == 16
    assert "约束性" in content


def test_filters_live_in_the_url(leo, plan, city) -> None:  # type: ignore[no-untyped-def]
    statuses(plan, city)
    client = client_for(leo)
    binding = client.get(reverse("dashboards:overview"), {"attribute": "binding"}).content.decode()
    assert binding.count('class="indicator-card') == 1
    assert "九年义务教育巩固率" in binding
    # The tabs carry the filters on, so a leader can send the link.
    assert re.search(
        r'href="/dashboard/regions/\?plan=\d+&amp;year=2025&amp;region=\d+&amp;attribute=binding"', binding
    )
    none = client.get(reverse("dashboards:overview"), {"status": "regressing"}).content.decode()
    assert none.count('class="indicator-card') == 0
    # A year the plan does not cover is refused with the reason, an unknown plan does not exist; a display filter
    # that matches nothing shows everything.
    refused = client.get(reverse("dashboards:overview"), {"year": "2031"})
    assert refused.status_code == 400
    assert "年度应在规划期 2021—2025 年之内" in refused.content.decode()
    assert client.get(reverse("dashboards:overview"), {"year": "abc"}).status_code == 400
    assert client.get(reverse("dashboards:overview"), {"plan": "999"}).status_code == 404
    assert client.get(reverse("dashboards:overview"), {"status": "x"}).status_code == 200


def test_the_region_matrix_links_each_cell(leo, plan, city) -> None:  # type: ignore[no-untyped-def]
    statuses(plan, city)
    content = client_for(leo).get(reverse("dashboards:regions")).content.decode()
    data = json.loads(re.search(r'id="data-matrix" type="application/json">(.*?)</script>', content).group(1))
    assert len(data["y"]) == 13
    assert len(data["x"]) == 16
    assert [len(row) for row in data["codes"]] == [16] * 13
    # One link for every cell, filled in by the browser (tests/dashboards/test_region_matrix.py checks what it fills).
    assert data["link"].startswith("/dashboard/indicators/{indicator}/?")
    assert "region={region}" in data["link"]


def test_scope_limits_what_a_county_user_sees(bob, plan, city, muchuan) -> None:  # type: ignore[no-untyped-def]
    statuses(plan, city)
    content = client_for(bob).get(reverse("dashboards:overview")).content.decode()
    region_options = re.findall(r'<select id="f-region" name="region">(.*?)</select>', content, re.S)[0]
    assert "沐川县" in region_options
    assert "乐山市" not in region_options
    # A region outside the person's view is a 404, as on the API, never the default region in disguise.
    assert client_for(bob).get(reverse("dashboards:overview"), {"region": city.pk}).status_code == 404
    indicator = plan.indicators.first()
    detail = client_for(bob).get(reverse("dashboards:indicator", args=[indicator.pk])).content.decode()
    assert "五通桥区" not in detail  # only 沐川县's row


def test_leaders_land_on_the_overview(leo) -> None:  # type: ignore[no-untyped-def]
    assert client_for(leo).get(reverse("home"))["Location"] == reverse("dashboards:overview")


def test_unit_scorecards(leo, plan, city) -> None:  # type: ignore[no-untyped-def]
    status_recompute_all()
    content = client_for(leo).get(reverse("dashboards:units")).content.decode()
    assert "市教育局" in content
    unit_page = client_for(leo).get(reverse("dashboards:unit", args=[plan.indicators.first().lead_unit_id]))
    assert unit_page.status_code == 200
    assert "牵头指标" in unit_page.content.decode()


def test_region_pages_show_a_page_of_regions_at_any_scale(leo) -> None:  # type: ignore[no-untyped-def]
    from benchmarks.scale import generate
    from dashboards.views import MATRIX_REGIONS_PER_PAGE, RANKING_SHOWN
    from indicators.status import recompute_indicator_statuses

    client = client_for(leo)
    counts = []
    for regions in (20, 130):
        plan, _, _ = generate(regions=regions, indicators=3, years=5)
        recompute_indicator_statuses(plan_ids=[plan.pk])
        indicator = plan.indicators.order_by("number").first()
        matrix = f"{reverse('dashboards:regions')}?plan={plan.pk}&year=2025"
        detail = f"{reverse('dashboards:indicator', args=[indicator.pk])}?plan={plan.pk}&year=2025"
        counts.append((query_count(client, matrix), query_count(client, detail)))
        content = client.get(matrix + "&page=2").content.decode()
        data = json.loads(re.search(r'id="data-matrix" type="application/json">(.*?)</script>', content).group(1))
        shown = min(MATRIX_REGIONS_PER_PAGE, max(regions + 1 - MATRIX_REGIONS_PER_PAGE, 0)) or regions + 1
        assert len(data["y"]) == shown, regions
        assert [len(row) for row in data["codes"]] == [3] * shown
        places = re.findall(r"<tr><td>(\d+)</td>", content)
        # The plan's own region is the reference row above the ranking, unnumbered; its regions are ranked.
        assert content.count('class="ranking-reference"') == 1
        if regions > 2 * RANKING_SHOWN:
            assert len(places) == 2 * RANKING_SHOWN
            assert places[RANKING_SHOWN - 1 : RANKING_SHOWN + 1] == [
                str(RANKING_SHOWN),
                str(regions - RANKING_SHOWN + 1),
            ]
            assert "显示前 30 名与后 30 名" in content
        else:
            assert len(places) == regions
    assert counts[0] == counts[1]
