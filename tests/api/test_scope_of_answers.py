"""The API chooses the region of an answer with the pages' scoped selectors: what a county's 填报员 asks for, or is
given by default, is always a region they may see; any other is a 404, never that region's figures."""

from __future__ import annotations

import pytest
from django.urls import reverse

from indicators.models import Flag
from indicators.services import (
    IndicatorValueInput,
    indicator_value_approve,
    indicator_value_create,
    indicator_value_submit,
    status_recompute_all,
)
from tests.api.test_api import api

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]


@pytest.fixture
def two_regions(alice, bob, carol, ada, rate, city, muchuan):  # type: ignore[no-untyped-def]
    """Approved 学前教育毛入园率 for the city (95.91, on track) and 沐川县 (94.12, behind), statuses and flags computed."""
    from tests.conftest import make_user

    rita = make_user("rita", "审核员", regions=("沐川县",))
    for region, value, author, reviewer in ((city, "95.91", alice, carol), (muchuan, "94.12", bob, rita)):
        entry = indicator_value_create(
            indicator=rate,
            region=region,
            year=2024,
            user=author,
            data=IndicatorValueInput(value=value, source="年报", outlier_note="核实无误"),
        )
        indicator_value_approve(value=indicator_value_submit(value=entry, user=author), user=reviewer)
    status_recompute_all()
    assert Flag.objects.filter(region=muchuan, state="open").exists()
    return rate


def test_a_county_user_gets_their_county_by_default_and_404_for_others(two_regions, bob, leo, city, muchuan) -> None:  # type: ignore[no-untyped-def]
    rate = two_regions
    mine = {r["id"]: r for r in api(bob).get("/api/v1/indicators/", {"plan": rate.plan_id}).json()["results"]}
    assert mine[rate.pk]["latest_value"] == "94.1200"
    assert "95.91" not in str(mine)
    assert api(bob).get("/api/v1/indicators/", {"region": city.pk}).status_code == 404
    leaders = {r["id"]: r for r in api(leo).get("/api/v1/indicators/", {"plan": rate.plan_id}).json()["results"]}
    assert leaders[rate.pk]["latest_value"] == "95.9100"

    detail = api(bob).get(f"/api/v1/indicators/{rate.pk}/")
    assert detail.status_code == 200
    body = detail.json()
    assert body["latest_value"] == "94.1200"
    assert {row["region"] for row in body["regions"]} == {muchuan.pk}
    assert "95.91" not in str(body)
    for region in (city.pk, 999999):
        refused = api(bob).get(f"/api/v1/indicators/{rate.pk}/", {"region": region})
        assert refused.status_code == 404
        assert "95.91" not in refused.content.decode()


def test_the_status_summary_is_of_the_region_asked_for(two_regions, bob, leo, city, muchuan) -> None:  # type: ignore[no-untyped-def]
    rate = two_regions
    assert api(bob).get("/api/v1/status/", {"region": city.pk}).status_code == 404
    mine = api(bob).get("/api/v1/status/").json()
    assert mine["region"] == muchuan.pk
    assert {flag["region"] for flag in mine["flagged"]} == {muchuan.pk}
    assert mine["flagged_total"] == Flag.objects.filter(region=muchuan, state="open", kind="lag").count()
    # A leader asking for the county sees the county's flags only; the city includes every region under it.
    county = api(leo).get("/api/v1/status/", {"region": muchuan.pk}).json()
    assert {flag["region"] for flag in county["flagged"]} == {muchuan.pk}
    whole = api(leo).get("/api/v1/status/", {"region": city.pk}).json()
    assert whole["flagged_total"] == Flag.objects.filter(plan=rate.plan, state="open", kind="lag").count()


def test_pages_answer_the_same_as_the_api(client, two_regions, bob, city, muchuan) -> None:  # type: ignore[no-untyped-def]
    client.force_login(bob)
    for name in ("dashboards:overview", "dashboards:tasks", "dashboards:units"):
        assert client.get(reverse(name), {"region": city.pk}).status_code == 404, name
    page = client.get(reverse("dashboards:indicator", args=[two_regions.pk])).content.decode()
    assert "94.12" in page and "95.91" not in page
