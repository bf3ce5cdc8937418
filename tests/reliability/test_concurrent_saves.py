"""Fifty clients save at once over the API, served by gunicorn on PostgreSQL: one wins per version, nothing lost."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.conftest import api_token, make_user

from .harness import Site, serve

pytestmark = pytest.mark.postgres

CLIENTS = 50


def token_session(user) -> requests.Session:  # type: ignore[no-untyped-def]
    session = requests.Session()
    session.headers["Authorization"] = f"Token {api_token(user)}"
    return session


def all_at_once(work, count: int = CLIENTS) -> list[Any]:  # type: ignore[no-untyped-def]
    """Run work(i) in `count` threads released together, each with its own HTTP session."""
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        barrier.wait(timeout=30)
        return work(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.fixture
def writer(live_plan):  # type: ignore[no-untyped-def]
    return make_user("alice", "填报员", units=("市教育局",))


@pytest.fixture
def site(live_plan) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    with serve() as running:
        yield running


def test_fifty_saves_of_the_same_draft(site, writer, figure) -> None:  # type: ignore[no-untyped-def]
    from indicators.models import IndicatorValue
    from planning.models import Plan
    from regions.models import Region

    indicator = Plan.objects.get(code="leshan-edu-14fyp").indicators.get(number=2)  # 学前教育毛入园率, %
    city = Region.objects.get(code="511100")
    url = f"{site.url}/api/v1/indicator-values/"
    sessions = [token_session(writer) for _ in range(CLIENTS)]
    created = sessions[0].post(
        url, json={"indicator": indicator.pk, "region": city.pk, "year": 2024, "value": "95.00", "source": "统计年报"}
    )
    assert created.status_code == 201, created.text
    pk = created.json()["id"]
    detail = f"{url}{pk}/"
    values = [f"{Decimal('95.10') + Decimal(i) / 100:.2f}" for i in range(CLIENTS)]  # 95.10 … 95.59, all distinct

    # Round 1: everyone read version 1 and saves at once. Exactly one wins; the rest see the winner's value.
    responses = all_at_once(lambda i: sessions[i].patch(detail, json={"version": 1, "value": values[i]}))
    codes = Counter(r.status_code for r in responses)
    assert codes == {200: 1, 409: CLIENTS - 1}, codes
    winner = next(r.json() for r in responses if r.status_code == 200)
    for response in responses:
        if response.status_code == 409:
            current = response.json()["current"]
            assert (current["version"], Decimal(current["value"])) == (2, Decimal(winner["value"]))
            assert "已被他人修改" in response.json()["detail"]
    stored = IndicatorValue.objects.get(pk=pk)
    assert (stored.version, stored.value) == (2, Decimal(winner["value"]))

    # Round 2: everyone keeps trying, each time from the version the 409 reported, until saved.
    # No update may be lost: 50 more versions, each client's value in the history exactly once.
    def save_until_accepted(i: int) -> int:
        version, attempts = 2, 0
        while True:
            attempts += 1
            response = sessions[i].patch(detail, json={"version": version, "value": values[i]})
            if response.status_code == 200:
                return attempts
            assert response.status_code == 409, response.text
            version = response.json()["current"]["version"]

    attempts = all_at_once(save_until_accepted)
    stored.refresh_from_db()
    assert stored.version == 2 + CLIENTS
    saved = Counter(
        IndicatorValue.history.filter(id=pk, version__gt=2).values_list("value", flat=True).order_by("version")
    )
    assert saved == Counter(Decimal(v) for v in values)
    assert set(IndicatorValue.history.filter(id=pk, version__gt=1).values_list("history_change_reason", flat=True)) == {
        "接口：保存草稿"
    }
    figure(
        "同一草稿 50 个并发保存",
        clients=CLIENTS,
        first_round_won=1,
        first_round_conflicts=codes[409],
        retries_until_all_saved=sum(attempts) - CLIENTS,
        versions_written=stored.version - 1,
        updates_lost=CLIENTS - sum(saved.values()),
    )


def test_fifty_saves_of_different_entries(site, writer, figure) -> None:  # type: ignore[no-untyped-def]
    from indicators.models import IndicatorValue
    from planning.models import Plan
    from regions.models import Region

    plan = Plan.objects.get(code="leshan-edu-14fyp")
    rate_indicators = [i for i in plan.indicators.order_by("number") if not i.is_additive and i.target_value]
    regions = list(Region.objects.filter(parent__code="511100").order_by("order"))
    combos = [(ind, region) for ind in rate_indicators for region in regions][:CLIENTS]
    assert len(combos) == CLIENTS
    url = f"{site.url}/api/v1/indicator-values/"
    sessions = [token_session(writer) for _ in range(CLIENTS)]

    def create(i: int) -> requests.Response:
        indicator, region = combos[i]
        return sessions[i].post(
            url,
            json={
                "indicator": indicator.pk,
                "region": region.pk,
                "year": 2024,
                "value": format(indicator.target_value.normalize(), "f"),
                "source": "统计年报",
            },
        )

    responses = all_at_once(create)
    assert [r.status_code for r in responses] == [201] * CLIENTS, [r.text for r in responses if r.status_code != 201]
    stored = IndicatorValue.objects.filter(year=2024, created_by=writer)
    assert stored.count() == CLIENTS
    assert {(v.indicator_id, v.region_id) for v in stored} == {(i.pk, r.pk) for i, r in combos}
    figure("50 条不同填报并发新建", clients=CLIENTS, stored=stored.count(), lost=CLIENTS - stored.count())
