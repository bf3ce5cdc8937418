"""区域进度矩阵: the heat map's compact payload (a status code per cell; indicator and region ids, the status keys and
labels and one link pattern once), table cells that are badges without a link each, and the ranking over every
region in view."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboards.views import RANKING_SHOWN
from indicators.models import IndicatorStatus
from planning.assessment import DISPLAY_LABELS, DISPLAY_RANK, NO_DATA, display_status
from regions.models import Region

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

# Statuses given to the cells in turn; 已实现 with a latest year before the target year is shown as 提前实现.
STATUSES = ["on_track", "lagging", "achieved", "regressing", "watch", "no_plan", "ahead"]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def varied_statuses(plan: Any) -> None:
    """Stored 2025 statuses that differ from cell to cell; the plan's first indicator has none in its own region
    (never computed: 未填报)."""
    now = timezone.now()
    indicators = list(plan.indicators.order_by("number"))
    regions = list(plan.area_regions().order_by("order"))
    IndicatorStatus.objects.bulk_create(
        [
            IndicatorStatus(
                indicator=indicator,
                region=region,
                as_of_year=2025,
                status=STATUSES[(x + 2 * y) % len(STATUSES)],
                latest_year=2024 if (x + y) % 2 else 2025,
                latest_value="95.5",
                baseline_value="95",
                target_value="96",
                completion="0.5",
                expected_completion="0.8",
                ratio=f"0.{(x * 7 + y * 3) % 90 + 10}",
                forecast_value="95.9",
                forecast_meets_target=False,
                changed_at=now,
            )
            for x, indicator in enumerate(indicators)
            for y, region in enumerate(regions)
            if (x, region.pk) != (0, plan.region_id)
        ]
    )


def matrix_of(content: str) -> dict[str, Any]:
    found = re.search(r'id="data-matrix" type="application/json">(.*?)</script>', content)
    assert found is not None
    return dict(json.loads(found.group(1)))


def table_of(content: str) -> tuple[str, str]:
    """The matrix table's heading row and body."""
    found = re.search(r'<table class="matrix-table"[^>]*>\s*<thead>(.*?)</thead>\s*<tbody>(.*?)</tbody>', content, re.S)
    assert found is not None
    return found.group(1), found.group(2)


def cell_statuses(body: str) -> list[list[str | None]]:
    """Each body row's cells: the status of its badge, None for an empty cell."""
    return [
        [match or None for match in re.findall(r'<td>(?:<span class="badge status-(\w+)">[^<]*</span>)?</td>', row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def stored_display(plan: Any) -> dict[tuple[int, int], str]:
    return {
        (row.indicator_id, row.region_id): display_status(row.status, row.latest_year, row.indicator.target_year)
        for row in IndicatorStatus.objects.filter(indicator__plan=plan, as_of_year=2025).select_related("indicator")
    }


def test_each_cell_carries_its_stored_status_as_a_code(leo, plan) -> None:  # type: ignore[no-untyped-def]
    varied_statuses(plan)
    content = client_for(leo).get(reverse("dashboards:regions"), {"plan": plan.pk, "year": 2025}).content.decode()
    data = matrix_of(content)
    indicators = list(plan.indicators.order_by("number"))
    assert data["indicators"] == [i.pk for i in indicators]
    assert data["x"] == [f"{i.number}. {i.name}" for i in indicators]
    regions = list(plan.area_regions().order_by("order"))
    assert data["regions"] == [r.pk for r in regions]
    assert data["y"] == [r.name for r in regions]
    # The codes are the statuses' ranks; their keys and labels come once, from planning.assessment.
    assert data["statuses"] == sorted(DISPLAY_RANK, key=DISPLAY_RANK.__getitem__)
    assert data["labels"] == [DISPLAY_LABELS[key] for key in data["statuses"]]

    stored = stored_display(plan)
    expected = [[stored.get((i, r), NO_DATA) for i in data["indicators"]] for r in data["regions"]]
    assert [[data["statuses"][code] for code in row] for row in data["codes"]] == expected
    shown = {key for row in expected for key in row}
    assert {"achieved_early", "achieved", NO_DATA, "no_plan", "lagging", "regressing"} <= shown  # the test varies
    # The table says the same, cell by cell: a badge each, without a link.
    heading, body = table_of(content)
    assert cell_statuses(body) == expected
    assert len(re.findall(r"<a ", body)) == len(regions)  # the rows' regions only
    assert len(re.findall(r"<a ", heading)) == len(indicators)  # the columns' indicators only


def test_the_one_link_pattern_fills_in_to_each_cells_detail(leo, plan, muchuan) -> None:  # type: ignore[no-untyped-def]
    varied_statuses(plan)
    client = client_for(leo)
    query = {"plan": plan.pk, "year": 2024, "attribute": "binding"}
    content = client.get(reverse("dashboards:regions"), query).content.decode()
    data = matrix_of(content)
    indicator = data["indicators"][0]
    link = data["link"].replace("{indicator}", str(indicator)).replace("{region}", str(muchuan.pk))
    detail = reverse("dashboards:indicator", args=[indicator])
    assert link == f"{detail}?plan={plan.pk}&year=2024&region={muchuan.pk}&attribute=binding"
    page = client.get(link)
    assert page.status_code == 200
    assert "沐川县" in page.content.decode()
    # No cell's link is in the page: only the pattern, the columns' headings and the ranking link to a detail.
    matrix = content[: content.index('id="f-indicator"')]
    assert len(re.findall(r"/dashboard/indicators/\d+/", matrix)) == len(data["indicators"])
    # Without JavaScript a region's row heading leads to its overview, where each indicator links to its detail.
    heading, body = table_of(content)
    overview = (
        f"{reverse('dashboards:overview')}?plan={plan.pk}&amp;year=2024&amp;region={muchuan.pk}&amp;attribute=binding"
    )
    assert f'<a href="{overview}">沐川县</a>' in body
    assert (
        f'<a href="{detail}?plan={plan.pk}&amp;year=2024&amp;region={plan.region_id}&amp;attribute=binding">' in heading
    )


def test_the_status_filter_leaves_other_cells_empty(leo, plan) -> None:  # type: ignore[no-untyped-def]
    varied_statuses(plan)
    query = {"plan": plan.pk, "year": 2025, "status": "lagging"}
    content = client_for(leo).get(reverse("dashboards:regions"), query).content.decode()
    data = matrix_of(content)
    stored = stored_display(plan)
    lagging = DISPLAY_RANK["lagging"]
    expected = [
        [lagging if stored.get((i, r), NO_DATA) == "lagging" else None for i in data["indicators"]]
        for r in data["regions"]
    ]
    assert data["codes"] == expected
    assert any(code is not None for row in expected for code in row)
    assert any(code is None for row in expected for code in row)
    _, body = table_of(content)
    assert cell_statuses(body) == [["lagging" if code is not None else None for code in row] for row in expected]


def test_a_county_user_gets_only_their_region(bob, plan, city, muchuan) -> None:  # type: ignore[no-untyped-def]
    varied_statuses(plan)
    content = client_for(bob).get(reverse("dashboards:regions"), {"plan": plan.pk, "year": 2025}).content.decode()
    data = matrix_of(content)
    assert data["regions"] == [muchuan.pk]
    assert data["y"] == ["沐川县"]
    stored = stored_display(plan)
    assert [[data["statuses"][code] for code in row] for row in data["codes"]] == [
        [stored.get((i, muchuan.pk), NO_DATA) for i in data["indicators"]]
    ]
    # No other region appears anywhere in the body: not in the payload, the table or the ranking (the city is not
    # in view, so there is no reference line either). The plan's title names the city, so only its id is checked.
    for region in Region.objects.filter(pk__in=plan.area_regions()).exclude(pk__in=[muchuan.pk, city.pk]):
        assert region.name not in content, region.name
    assert f"region={city.pk}&" not in content
    assert f'region={city.pk}"' not in content
    assert 'class="ranking-reference"' not in content
    _, body = table_of(content)
    assert len(cell_statuses(body)) == 1


def test_the_ranking_follows_the_ratio_and_lists_few_unranked(leo) -> None:  # type: ignore[no-untyped-def]
    from benchmarks.scale import generate
    from indicators.status import recompute_indicator_statuses

    plan, _, _ = generate(regions=2 * RANKING_SHOWN + 20, indicators=2, years=5)
    recompute_indicator_statuses(plan_ids=[plan.pk])
    first, second = plan.indicators.order_by("number")
    client = client_for(leo)
    url = reverse("dashboards:regions")

    content = client.get(url, {"plan": plan.pk, "year": 2025, "indicator": first.pk}).content.decode()
    rows = IndicatorStatus.objects.filter(indicator=first, as_of_year=2025).exclude(region_id=plan.region_id)
    by_ratio = sorted(
        (row for row in rows.select_related("region") if row.ratio is not None),
        key=lambda row: (-row.ratio, row.region.order),
    )
    ranking = content[content.index("区域排名") :]
    listed = re.findall(r"<tr><td>(\d*)</td><td><a href=\"[^\"]+\">([^<]+)</a>", ranking)
    expected = [r.region.name for r in by_ratio[:RANKING_SHOWN] + by_ratio[-RANKING_SHOWN:]]
    assert [name for _, name in listed] == expected
    assert [place for place, _ in listed][-1] == str(len(by_ratio))

    # Before any value of the second indicator is in, no region can be ranked: a page lists as many as one end of a
    # ranking and says how many more there are.
    IndicatorStatus.objects.filter(indicator=second).update(ratio=None, status="no_data")
    content = client.get(url, {"plan": plan.pk, "year": 2025, "indicator": second.pk}).content.decode()
    ranking = content[content.index("区域排名") :]
    listed = re.findall(r"<tr><td>(\d*)</td><td><a href=", ranking)
    assert listed == [""] * RANKING_SHOWN
    assert (
        f"尚无数据或缺基期、目标的区域共 {2 * RANKING_SHOWN + 20} 个，不排名次，下表只列出前 {RANKING_SHOWN} 个"
        in content
    )
