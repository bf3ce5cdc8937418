"""The public pages (政务公开, /public/): anonymous, read-only, cached, and showing only what may be published."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from indicators.services import (
    IndicatorValueInput,
    indicator_value_approve,
    indicator_value_create,
    indicator_value_return,
    indicator_value_submit,
)
from planning.models import Plan
from tests.conftest import make_user


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """The pages are cached per plan; every test starts from what its own database holds."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anonymous() -> Client:
    return Client()


def public_plans() -> list[Plan]:
    year = timezone.localdate().year
    return list(Plan.objects.filter(public_page=True, period_start_year__lte=year))


def body(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def test_the_list_and_a_plan_page_are_public(anonymous, plan) -> None:  # type: ignore[no-untyped-def]
    response = anonymous.get("/public/")
    assert response.status_code == 200
    assert plan.title in body(response)
    assert f'href="/public/{plan.code}/"' in body(response)
    assert "退出" not in body(response) and "/dashboard/" not in body(response)
    assert 'href="/accounts/login/"' in body(response)

    response = anonymous.get(f"/public/{plan.code}/")
    assert response.status_code == 200
    page = body(response)
    for indicator in plan.indicators.all():
        assert indicator.name in page
    # One chart per indicator, its data in a JSON block; no inline script anywhere.
    assert page.count('data-chart="trajectory"') == plan.indicators.count()
    assert len(re.findall(r'<script id="public-chart-\d+" type="application/json">', page)) == plan.indicators.count()
    assert re.search(r"<script(?![^>]*(\bsrc=|application/json))[^>]*>", page) is None
    assert "专栏任务进展" in page


def test_pages_are_cacheable_by_anyone(anonymous, plan) -> None:  # type: ignore[no-untyped-def]
    for url in ("/public/", f"/public/{plan.code}/"):
        response = anonymous.get(url)
        assert response["Cache-Control"] == "public, max-age=60"
        assert "Set-Cookie" not in response.headers and not response.cookies
        assert "Cookie" not in response.get("Vary", "")
        assert "default-src 'self'" in response["Content-Security-Policy"]


def test_a_signed_in_person_sees_the_same_page(anonymous, plan, alice) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(alice)
    signed_in = body(client.get(f"/public/{plan.code}/"))
    assert "Alice" not in signed_in and "alice" not in signed_in
    assert signed_in == body(anonymous.get(f"/public/{plan.code}/"))


def test_an_unticked_plan_is_neither_listed_nor_shown(anonymous, plan) -> None:  # type: ignore[no-untyped-def]
    anonymous.get(f"/public/{plan.code}/")  # cached while public
    Plan.objects.filter(pk=plan.pk).update(public_page=False)
    cache.clear()
    assert plan.title not in body(anonymous.get("/public/"))
    assert anonymous.get(f"/public/{plan.code}/").status_code == 404


def test_unticking_in_the_admin_takes_effect_despite_the_cache(
    anonymous, plan, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    assert anonymous.get(f"/public/{plan.code}/").status_code == 200
    assert plan.title in body(anonymous.get("/public/"))
    with django_capture_on_commit_callbacks(execute=True):
        plan.public_page = False
        plan.save()
    assert anonymous.get(f"/public/{plan.code}/").status_code == 404
    assert plan.title not in body(anonymous.get("/public/"))


def test_a_plan_not_yet_started_is_not_public(anonymous, plan) -> None:  # type: ignore[no-untyped-def]
    next_year = timezone.localdate().year + 1
    Plan.objects.filter(pk=plan.pk).update(
        period_start_year=next_year, period_end_year=max(plan.period_end_year, next_year)
    )
    assert anonymous.get(f"/public/{plan.code}/").status_code == 404
    assert plan.title not in body(anonymous.get("/public/"))
    assert anonymous.get("/public/no-such-plan/").status_code == 404


def test_only_approved_values_and_no_people_or_evidence(anonymous, plan, rate, city, alice, carol) -> None:  # type: ignore[no-untyped-def]
    # An approved value is shown; a draft, a submitted and a returned one (distinctive numbers) never are.
    def create(year: int, value: str):  # type: ignore[no-untyped-def]
        data = IndicatorValueInput(value=value, source="统计年报")
        return indicator_value_create(indicator=rate, region=city, year=year, user=alice, data=data)

    indicator_value_approve(value=indicator_value_submit(value=create(2022, "95.43"), user=alice), user=carol)
    create(2023, "95.77")  # a draft
    indicator_value_submit(value=create(2021, "95.13"), user=alice)
    returned = indicator_value_submit(value=create(2024, "95.91"), user=alice)
    indicator_value_return(value=returned, user=carol, comment="请核对口径")
    make_user("zhangsan_public", "领导")

    pages = {url: body(anonymous.get(url)) for url in ("/public/", *(f"/public/{p.code}/" for p in public_plans()))}
    page = pages[f"/public/{plan.code}/"]
    assert "95.43" in page
    for url, text in pages.items():
        for secret in ("95.77", "95.13", "95.91", "请核对口径"):
            assert secret not in text, (url, secret)
        for user in User.objects.all():
            assert user.username not in text, (url, user.username)
            if user.first_name:
                assert user.first_name not in text, (url, user.first_name)
        assert "/evidence/" not in text
        assert "佐证" not in text


def test_demo_data_is_labelled(anonymous, plan, rate, city, alice, carol) -> None:  # type: ignore[no-untyped-def]
    assert "演示数据" not in body(anonymous.get(f"/public/{plan.code}/"))
    entry = indicator_value_create(
        indicator=rate, region=city, year=2022, user=alice, data=IndicatorValueInput(value="95.2", source="统计年报")
    )
    indicator_value_approve(value=indicator_value_submit(value=entry, user=alice), user=carol)
    type(entry).objects.filter(pk=entry.pk).update(is_demo=True)
    cache.clear()
    for url in ("/public/", f"/public/{plan.code}/"):
        assert 'class="demo-banner"' in body(anonymous.get(url))
        assert "演示数据" in body(anonymous.get(url))


def test_a_recompute_drops_the_cached_page(
    anonymous, plan, rate, city, alice, carol, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    assert "95.34" not in body(anonymous.get(f"/public/{plan.code}/"))
    entry = indicator_value_create(
        indicator=rate, region=city, year=2022, user=alice, data=IndicatorValueInput(value="95.34", source="统计年报")
    )
    with django_capture_on_commit_callbacks(execute=True):
        indicator_value_approve(value=indicator_value_submit(value=entry, user=alice), user=carol)
    assert "95.34" in body(anonymous.get(f"/public/{plan.code}/"))


def test_published_figures_are_shown_with_their_sources(anonymous, plan, rate, city) -> None:  # type: ignore[no-untyped-def]
    from published.models import PublishedFigure

    PublishedFigure.objects.create(
        region=city,
        subject="乐山市",
        province="四川省",
        measure="学前三年毛入园率",
        value="93.61",
        unit="%",
        year=2020,
        quote="学前三年毛入园率达到93.61%",
        source_document="test.txt",
        source_title="乐山市教育事业发展公报（测试）",
        indicator=rate,
        key="public-test-figure",
    )
    page = body(anonymous.get(f"/public/{plan.code}/"))
    for text in ("学前三年毛入园率", "93.61", "2020", "学前三年毛入园率达到93.61%", "乐山市教育事业发展公报（测试）"):
        assert text in page
