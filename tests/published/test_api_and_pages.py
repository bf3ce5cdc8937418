"""Published figures (公开数据): the API, adopting a Leshan figure as a draft, the indicator page's 公开报道 and 对标.

A published figure never counts as an approved entry and never changes a status.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html import unescape

import pytest
from django.conf import settings
from django.test import Client

from indicators.models import IndicatorStatus, IndicatorValue
from published.models import PublishedFigure
from published.services import figure_adopt_as_draft

pytestmark = pytest.mark.django_db

QUOTE_CITY = "2023年，全市学前教育毛入园率达95.6%，较上年提高0.3个百分点。"
QUOTE_PEER = "全市学前三年毛入园率达97%以上，普惠性幼儿园覆盖率达92%。"


def make_figure(key: str, **fields) -> PublishedFigure:  # type: ignore[no-untyped-def]
    defaults = {
        "subject": "乐山市",
        "province": "四川省",
        "measure": "学前教育毛入园率",
        "unit": "%",
        "year": 2023,
        "quote": QUOTE_CITY,
        "source_document": "乐山市教育局2023年工作总结",
        "source_title": "乐山市教育局关于2023年工作总结和2024年工作安排的报告",
        "location": "第一部分第二段",
    }
    defaults.update(fields)
    return PublishedFigure.objects.create(key=key, **defaults)


@pytest.fixture
def figures(rate, city):  # type: ignore[no-untyped-def]
    """Leshan's own figure for the rate and a peer's that is above Leshan's 2025 target (96%); the figures of the
    data file are removed first (inside the test's transaction), so what the pages show is only these."""
    PublishedFigure.objects.all().delete()
    leshan = make_figure("t-leshan-rate-2023", region=city, indicator=rate, value=Decimal("95.6"))
    peer = make_figure(
        "t-neijiang-rate-2023",
        subject="内江市",
        measure="学前三年毛入园率",
        value=Decimal("97"),
        qualifier="以上",
        quote=QUOTE_PEER,
        source_document="内江市2023年国民经济和社会发展统计公报（测试）",
        source_title="2023年内江市国民经济和社会发展统计公报",
        location="九、教育",
        indicator=rate,
        definition_note="原文为“学前三年毛入园率”",
    )
    other = make_figure(
        "t-jiujiang-2022",
        subject="九江市",
        province="江西省",
        measure="普惠性幼儿园覆盖率",
        value=Decimal("90"),
        year=2022,
        quote="普惠性幼儿园覆盖率达90%。",
        source_document="九江市2022年教育统计公报",
        source_title="2022年九江市教育事业发展统计公报",
    )
    return {"leshan": leshan, "peer": peer, "other": other}


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


# --- API --------------------------------------------------------------------------------------------------------


def test_api_lists_filters_and_retrieves_figures(leo, figures, rate) -> None:  # type: ignore[no-untyped-def]
    client = client_for(leo)
    listed = client.get("/api/v1/published-figures/")
    assert listed.status_code == 200
    ids = {row["id"] for row in listed.json()["results"]}
    assert {f.pk for f in figures.values()} <= ids

    by_indicator = client.get(f"/api/v1/published-figures/?indicator={rate.pk}").json()["results"]
    assert {row["id"] for row in by_indicator} >= {figures["leshan"].pk, figures["peer"].pk}
    assert figures["other"].pk not in {row["id"] for row in by_indicator}

    by_subject = client.get("/api/v1/published-figures/?subject=内江市").json()["results"]
    assert [row["id"] for row in by_subject if row["id"] == figures["peer"].pk] == [figures["peer"].pk]
    assert all(row["subject"] == "内江市" for row in by_subject)

    by_year = client.get("/api/v1/published-figures/?year=2022").json()["results"]
    assert figures["other"].pk in {row["id"] for row in by_year} and all(row["year"] == 2022 for row in by_year)

    by_source = client.get(
        "/api/v1/published-figures/", {"source_document": "内江市2023年国民经济和社会发展统计公报（测试）"}
    ).json()["results"]
    assert [row["id"] for row in by_source] == [figures["peer"].pk]

    assert client.get("/api/v1/published-figures/?year=abc").status_code == 400
    assert client.get("/api/v1/published-figures/?indicator=99999999").status_code == 400

    detail = client.get(f"/api/v1/published-figures/{figures['peer'].pk}/")
    assert detail.status_code == 200
    body = detail.json()
    assert set(body) == {
        "id",
        "subject",
        "province",
        "region",
        "measure",
        "value",
        "unit",
        "qualifier",
        "year",
        "period",
        "quote",
        "source_document",
        "source_title",
        "location",
        "indicator",
        "task_target",
        "definition_note",
    }
    assert body["quote"] == QUOTE_PEER and body["qualifier"] == "以上" and body["indicator"] == rate.pk
    assert Decimal(body["value"]) == Decimal("97")
    assert client.get("/api/v1/published-figures/99999999/").status_code == 404


def test_api_is_for_signed_in_users_only(figures) -> None:  # type: ignore[no-untyped-def]
    anonymous = Client()
    assert anonymous.get("/api/v1/published-figures/").status_code == 401
    assert anonymous.get(f"/api/v1/published-figures/{figures['peer'].pk}/").status_code == 401


def test_api_is_read_only(leo, ada, figures) -> None:  # type: ignore[no-untyped-def]
    for user in (leo, ada):
        client = client_for(user)
        url = f"/api/v1/published-figures/{figures['peer'].pk}/"
        assert client.patch(url, {"value": "1"}, content_type="application/json").status_code == 405
        assert client.delete(url).status_code == 405
    figures["peer"].refresh_from_db()
    assert figures["peer"].value == Decimal("97")


# --- adopting a Leshan figure as a draft -------------------------------------------------------------------------


def test_a_capturer_adopts_a_leshan_figure_as_a_draft(alice, figures, rate, city) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    response = client.post(f"/published-figures/{figures['leshan'].pk}/adopt/")
    entry = IndicatorValue.objects.get(indicator=rate, region=city, year=2023)
    assert response.status_code == 302 and response["Location"] == f"/values/{entry.pk}/"
    assert entry.status == "draft" and entry.value == Decimal("95.6") and entry.approved_value is None
    assert entry.source == figures["leshan"].source_title
    assert QUOTE_CITY in entry.note and "第一部分第二段" in entry.note
    assert entry.created_by == alice
    # Once more: the entry exists, so the duplicate message and a link to it.
    again = client.post(f"/published-figures/{figures['leshan'].pk}/adopt/", follow=True)
    assert again.redirect_chain[-1][0] == f"/values/{entry.pk}/"
    assert "已有填报" in again.content.decode()
    assert IndicatorValue.objects.filter(indicator=rate, region=city, year=2023).count() == 1


def test_people_who_may_not_capture_the_cell_cannot_adopt(bob, leo, frank, figures, rate, city) -> None:  # type: ignore[no-untyped-def]
    # leo leads (reads only): refused; bob (沐川县 only) does not see the city-wide cell, frank not the indicator.
    assert client_for(leo).post(f"/published-figures/{figures['leshan'].pk}/adopt/").status_code == 403
    assert client_for(bob).post(f"/published-figures/{figures['leshan'].pk}/adopt/").status_code == 404
    assert client_for(frank).post(f"/published-figures/{figures['leshan'].pk}/adopt/").status_code == 404
    assert Client().post(f"/published-figures/{figures['leshan'].pk}/adopt/").status_code == 302  # to the login
    assert not IndicatorValue.objects.filter(indicator=rate, region=city, year=2023).exists()


def test_a_peer_figure_or_a_get_is_not_adopted(alice, figures) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    assert client.get(f"/published-figures/{figures['leshan'].pk}/adopt/").status_code == 405
    before = IndicatorValue.objects.count()
    response = client.post(f"/published-figures/{figures['peer'].pk}/adopt/", follow=True)
    assert "只有对应规划指标的乐山" in response.content.decode()
    assert IndicatorValue.objects.count() == before


def test_a_figure_outside_the_plan_years_is_refused(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    old = make_figure("t-leshan-rate-2019", region=city, indicator=rate, value=Decimal("92.1"), year=2019)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        figure_adopt_as_draft(figure=old, user=alice)
    assert "不在规划期 2021—2025 年之内" in caught.value.messages[0]
    response = client_for(alice).post(f"/published-figures/{old.pk}/adopt/", follow=True)
    assert "不在规划期 2021—2025 年之内" in response.content.decode()
    assert not IndicatorValue.objects.filter(indicator=rate, region=city, year=2019).exists()


def test_a_source_title_too_long_for_the_entry_is_refused_not_cut(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError

    long_title = "乐山市" + "关于教育工作" * 30  # over the 100 characters of an entry's source
    figure = make_figure("t-long-title", region=city, indicator=rate, value=Decimal("95.7"), source_title=long_title)
    with pytest.raises(ValidationError) as caught:
        figure_adopt_as_draft(figure=figure, user=alice)
    assert "最多 100 字" in caught.value.messages[0]
    assert not IndicatorValue.objects.filter(indicator=rate, region=city, year=2023).exists()


# --- the indicator page ------------------------------------------------------------------------------------------


def test_loading_the_figures_changes_no_status_and_no_entry(rate) -> None:  # type: ignore[no-untyped-def]
    from indicators.status import recompute_indicator_statuses
    from published.loading import load_published_figures

    recompute_indicator_statuses(plan_ids=[rate.plan_id])
    before = list(IndicatorStatus.objects.order_by("pk").values())
    values_before = list(IndicatorValue.objects.order_by("pk").values())
    assert before  # there are statuses to compare
    PublishedFigure.objects.all().delete()
    data_file = settings.PLAN_FIXTURES_DIR / "published_figures.yaml"
    if data_file.exists():
        load_published_figures(data_file)
    make_figure("t-leshan-rate-2023c", region=rate.plan.region, indicator=rate, value=Decimal("99"))
    recompute_indicator_statuses(plan_ids=[rate.plan_id])  # a recompute reads approved values only
    assert list(IndicatorStatus.objects.order_by("pk").values()) == before
    assert list(IndicatorValue.objects.order_by("pk").values()) == values_before


def test_indicator_page_shows_the_published_figures_and_changes_no_status(  # type: ignore[no-untyped-def]
    alice, leo, figures, rate, city
) -> None:
    before = list(IndicatorStatus.objects.order_by("pk").values())
    values_before = list(IndicatorValue.objects.order_by("pk").values())
    leshan = figures["leshan"]
    page = client_for(alice).get(f"/dashboard/indicators/{rate.pk}/?region={city.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "公开报道" in html
    assert f'title="{QUOTE_CITY}"' in html
    assert leshan.source_title in html and figures["peer"].source_title in html
    assert "97%以上" in html and figures["peer"].definition_note in unescape(html)
    assert "采用为填报草稿" in html and f"/published-figures/{leshan.pk}/adopt/" in html
    assert f"/published-figures/{figures['peer'].pk}/adopt/" not in html  # a peer's figure is not adopted
    # The chart has its own 公开报道 series, apart from the approved values.
    chart = json.loads(unescape(re.search(r'id="data-trajectory"[^>]*>(.*?)</script>', html, re.S).group(1)))
    kinds = {s["kind"]: s for s in chart["series"]}
    assert kinds["published"]["name"] == "公开报道"
    assert kinds["published"]["data"][chart["years"].index("2023")] == 95.6
    assert kinds["actual"]["data"][chart["years"].index("2023")] is None
    assert any(s["kind"] == "peer" and "内江市" in s["name"] for s in chart["series"])
    # A leader sees the list but no button.
    leader_html = client_for(leo).get(f"/dashboard/indicators/{rate.pk}/").content.decode()
    assert "公开报道" in leader_html and "采用为填报草稿" not in leader_html
    assert list(IndicatorStatus.objects.order_by("pk").values()) == before
    assert list(IndicatorValue.objects.order_by("pk").values()) == values_before


# --- 对标 ----------------------------------------------------------------------------------------------------------


def test_benchmark_page_has_a_chart_table_and_says_who_reached_the_target(leo, figures, rate) -> None:  # type: ignore[no-untyped-def]
    response = client_for(leo).get("/dashboard/benchmark/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "内江市 2023年已达 97%以上，高于乐山 2025 年目标 96%" in html
    assert figures["peer"].definition_note in unescape(html)
    assert figures["peer"].source_title in html
    block = re.search(rf'id="data-benchmark-{rate.pk}"[^>]*>(.*?)</script>', html, re.S)
    assert block is not None
    chart = json.loads(unescape(block.group(1)))
    names = [s["name"] for s in chart["series"]]
    assert "乐山市（已审核）" in names and "内江市（公开报道）" in names and "乐山 2025年目标" in names
    assert 'data-chart="trajectory"' in html and "<script>" not in html  # no inline script
    # A figure linked to no indicator is not listed.
    assert figures["other"].source_title not in html


def test_benchmark_respects_the_indicator_scope(frank, figures) -> None:  # type: ignore[no-untyped-def]
    html = client_for(frank).get("/dashboard/benchmark/").content.decode()
    assert "内江市" not in html
