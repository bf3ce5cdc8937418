"""PostgreSQL goes away while gunicorn serves, then comes back: clean 503s during, recovery after, no restart.

The outage is made by a relay between the site and PostgreSQL that drops every connection and refuses new ones
(what clients see while PostgreSQL restarts), so the PostgreSQL that other tests use keeps running.
"""

from __future__ import annotations

import time

import pytest
import requests
from django.conf import settings

from tests.conftest import api_token, make_user

from .harness import TcpProxy, database_url, serve, wait_for

pytestmark = pytest.mark.postgres


def test_requests_fail_cleanly_during_a_database_outage_and_recover_after(live_plan, figure) -> None:  # type: ignore[no-untyped-def]
    from indicators.models import IndicatorValue
    from planning.models import Plan
    from regions.models import Region

    make_user("leo", "领导")
    alice = make_user("alice", "填报员", units=("市教育局",))
    api = requests.Session()
    api.headers["Authorization"] = f"Token {api_token(alice)}"
    indicator = Plan.objects.get(code="leshan-edu-14fyp").indicators.get(number=2)
    city = Region.objects.get(code="511100")

    proxy = TcpProxy(int(settings.DATABASES["default"]["PORT"] or 5432))
    try:
        with serve(DATABASE_URL=database_url(port=proxy.port)) as site:
            leader = site.login("leo", "pw-leo")
            pages = ["/dashboard/", "/dashboard/regions/", "/healthz"]
            assert [leader.get(site.url + p).status_code for p in pages] == [200, 200, 200]
            assert api.get(f"{site.url}/api/v1/indicators/").status_code == 200

            proxy.outage()
            during: list[requests.Response] = []
            slowest = 0.0
            for _ in range(5):
                for path in pages:
                    started = time.monotonic()
                    during.append(leader.get(site.url + path, timeout=30))
                    slowest = max(slowest, time.monotonic() - started)
                started = time.monotonic()
                during.append(api.get(f"{site.url}/api/v1/indicators/", timeout=30))
                during.append(
                    api.post(
                        f"{site.url}/api/v1/indicator-values/",
                        json={"indicator": indicator.pk, "region": city.pk, "year": 2024, "value": "95.5"},
                        timeout=30,
                    )
                )
                slowest = max(slowest, time.monotonic() - started)
            assert {r.status_code for r in during} == {503}, [(r.status_code, r.text[:200]) for r in during]
            page = next(r for r in during if r.url.endswith("/dashboard/"))
            assert "数据库暂时无法连接" in page.text and page.headers["Retry-After"]
            api_error = next(r for r in during if "/api/" in r.url)
            assert api_error.json()["code"] == "database_unavailable"

            proxy.recover()
            back_at = time.monotonic()
            assert wait_for(lambda: leader.get(f"{site.url}/dashboard/", timeout=30).status_code == 200, timeout=30)
            recovered_after = time.monotonic() - back_at
            # Every worker thread reconnects: a run of requests all succeed, reads and a write.
            after = [leader.get(site.url + p, timeout=30).status_code for p in pages * 8]
            created = api.post(
                f"{site.url}/api/v1/indicator-values/",
                json={"indicator": indicator.pk, "region": city.pk, "year": 2024, "value": "95.5", "source": "年报"},
                timeout=30,
            )
            assert after == [200] * len(after)
            assert created.status_code == 201, created.text
    finally:
        proxy.close()

    assert IndicatorValue.objects.filter(indicator=indicator, region=city, year=2024).count() == 1
    figure(
        "服务期间 PostgreSQL 中断后恢复",
        requests_during_outage=len(during),
        answered_503=sum(r.status_code == 503 for r in during),
        answered_500=sum(r.status_code == 500 for r in during),
        slowest_during_outage_seconds=round(slowest, 2),
        seconds_to_recover=round(recovered_after, 2),
        requests_after_recovery_ok=len(after) + 1,
        app_restarted=0,
    )
