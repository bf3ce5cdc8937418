"""Redis goes down while people work (gunicorn + a worker on PostgreSQL and a private Redis).

Entries still save, submit and approve; nothing answers 500; the dashboards say the status waits to be
recomputed. When Redis is back, the catch-up job (which beat runs every ten minutes) recomputes what was
missed and nothing is missing.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import requests
from celery import Celery

from tests.conftest import api_token, make_user

from .harness import Worker, private_redis, process_env, serve, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ENTRIES = 10


def token_session(user) -> requests.Session:  # type: ignore[no-untyped-def]
    session = requests.Session()
    session.headers["Authorization"] = f"Token {api_token(user)}"
    return session


def test_work_goes_on_while_redis_is_down_and_nothing_is_missed(live_plan, figure) -> None:  # type: ignore[no-untyped-def]
    from indicators.models import IndicatorStatus, IndicatorValue, PendingSeriesRecompute
    from planning.models import Plan
    from regions.models import Region

    alice = make_user("alice", "填报员", units=("市教育局",))
    carol = make_user("carol", "审核员", units=("市教育局",))
    make_user("leo", "领导")
    indicator = Plan.objects.get(code="leshan-edu-14fyp").indicators.get(number=2)  # 学前教育毛入园率
    regions = list(Region.objects.filter(parent__code="511100").order_by("order")[:ENTRIES])

    with private_redis() as redis:
        env = process_env(REDIS_URL=redis.url)
        worker = Worker(env, "celery")
        try:
            with serve(REDIS_URL=redis.url) as site:
                writer, reviewer = token_session(alice), token_session(carol)
                leader = site.login("leo", "pw-leo")
                redis.kill()
                assert not redis.ping()

                codes: list[int] = []
                durations: list[float] = []

                def timed(call, *args, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
                    started = time.monotonic()
                    response = call(*args, **kwargs)
                    durations.append(time.monotonic() - started)
                    codes.append(response.status_code)
                    return response

                url = f"{site.url}/api/v1/indicator-values/"
                for i, region in enumerate(regions):
                    body = {"indicator": indicator.pk, "region": region.pk, "year": 2024, "source": "统计年报"}
                    created = timed(writer.post, url, json={**body, "value": f"{95 + i / 10:.1f}"})
                    assert created.status_code == 201, created.text
                    pk, version = created.json()["id"], created.json()["version"]
                    submitted = timed(writer.post, f"{url}{pk}/submit/", json={"version": version})
                    assert submitted.status_code == 200, submitted.text
                    approved = timed(reviewer.post, f"{url}{pk}/approve/", json={"version": version + 1})
                    assert approved.status_code == 200, approved.text

                # Everything approved; the recomputes could not be queued, so they wait in the database.
                assert IndicatorValue.objects.filter(indicator=indicator, status="approved").count() == ENTRIES
                assert PendingSeriesRecompute.objects.filter(indicator=indicator).count() == ENTRIES
                assert not IndicatorStatus.objects.filter(indicator=indicator, latest_year=2024).exists()
                pages = [
                    leader.get(f"{site.url}/dashboard/"),
                    leader.get(f"{site.url}/dashboard/indicators/{indicator.pk}/"),
                ]
                codes += [page.status_code for page in pages]
                assert [page.status_code for page in pages] == [200, 200]
                assert f"有 {ENTRIES} 项进度判定待重新计算" in pages[0].text
                assert pages[1].text.count("待重新计算") >= ENTRIES

                # Redis is back: beat's catch-up job runs (sent here rather than waiting ten minutes).
                redis.start()
                back_at = time.monotonic()
                Celery(broker=redis.url, set_as_current=False).send_task("indicators.tasks.recompute_pending")
                assert wait_for(lambda: not PendingSeriesRecompute.objects.exists(), timeout=90)
                caught_up = time.monotonic() - back_at
                assert "待重新计算" not in leader.get(f"{site.url}/dashboard/").text
        finally:
            worker.stop()

    statuses = {
        s.region_id: s for s in IndicatorStatus.objects.filter(indicator=indicator, as_of_year=2024, region__in=regions)
    }
    approved = dict(
        IndicatorValue.objects.filter(indicator=indicator, year=2024).values_list("region_id", "approved_value")
    )
    missing = [r.name for r in regions if statuses.get(r.pk) is None or statuses[r.pk].latest_year != 2024]
    assert missing == []
    assert {r: s.latest_value for r, s in statuses.items()} == approved
    assert all(isinstance(v, Decimal) for v in approved.values())
    figure(
        "Redis 宕机期间填报、提交、审核",
        requests=len(codes),
        server_errors=sum(code >= 500 for code in codes),
        slowest_request_seconds=round(max(durations), 2),
        pending_while_down=ENTRIES,
        seconds_to_catch_up_after_redis_back=round(caught_up, 1),
        statuses_missing_after_catch_up=len(missing),
    )
