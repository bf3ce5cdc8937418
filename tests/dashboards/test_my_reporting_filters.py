"""我的填报: filters by indicator, region, task, status tab and overdue, the search box, pages, scope and queries."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from dashboards import workbench
from indicators.services import IndicatorValueInput, indicator_value_create, indicator_value_submit
from planning.models import Task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

MY = reverse("workbench:my-reporting")
TABS = ["全部", "未填报", "草稿", "已退回", "待审核", "已通过", "已逾期"]
TAB_KEYS = dict(zip(TABS, ["all", "missing", "draft", "returned", "submitted", "approved", "overdue"], strict=True))


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def rows(content: str) -> list[str]:
    """The text of each row of the list."""
    body = content.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    found = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in re.findall(r"<tr>.*?</tr>", body, re.S)
    ]
    return [row for row in found if "没有符合条件的事项" not in row]


def tab_counts(content: str) -> dict[str, int]:
    return {label: int(n) for label, n in re.findall(r'>([^<>]+)<span class="n">(\d+)</span>', content)}


def total(content: str) -> int:
    found = re.search(r"共 (\d+) 条", content)
    assert found
    return int(found.group(1))


def moral() -> Task:
    return Task.objects.get(plan__code="leshan-edu-14fyp", code="C2.1")


@pytest.fixture
def some_entries(alice, rate, headcount, city, muchuan):  # type: ignore[no-untyped-def]
    draft = indicator_value_create(
        indicator=rate, region=muchuan, year=2025, user=alice, data=IndicatorValueInput(value="95.5", source="年报")
    )
    submitted = indicator_value_submit(
        value=indicator_value_create(
            indicator=headcount,
            region=city,
            year=2025,
            user=alice,
            data=IndicatorValueInput(value="9.5", source="年报"),
        ),
        user=alice,
    )
    return {"draft": draft, "submitted": submitted}


def test_filters_narrow_the_list_and_the_tabs_together(alice, some_entries, rate, muchuan) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    everything = client.get(MY, {"year": 2025}).content.decode()
    assert tab_counts(everything)["全部"] > 100  # 市教育局: its indicators in every region, and its tasks

    by_indicator = client.get(MY, {"year": 2025, "indicator": rate.pk}).content.decode()
    listed = rows(by_indicator)
    assert listed and all("学前教育毛入园率" in row for row in listed)
    assert tab_counts(by_indicator)["全部"] == len(listed) == 13  # the city and its 12 counties and districts
    assert tab_counts(by_indicator)["草稿"] == 1

    by_region = client.get(MY, {"year": 2025, "region": muchuan.pk}).content.decode()
    assert rows(by_region) and all("沐川县" in row for row in rows(by_region))

    both = client.get(MY, {"year": 2025, "region": muchuan.pk, "indicator": rate.pk}).content.decode()
    assert len(rows(both)) == 1 and "草稿" in rows(both)[0]

    task = client.get(MY, {"year": 2025, "task": moral().pk}).content.decode()
    assert len(rows(task)) == 1 and "专栏2-1" in rows(task)[0]


def test_the_plan_region_includes_tasks_for_the_whole_plan(alice, city) -> None:  # type: ignore[no-untyped-def]
    content = client_for(alice).get(MY, {"year": 2025, "region": city.pk}).content.decode()
    listed = rows(content)
    assert any("专栏2-1" in row and "全市" in row for row in listed)
    assert all("乐山市" in row or "全市" in row for row in listed)


@pytest.mark.parametrize(
    ("q", "must"),
    [
        ("毛入园率", ["毛入园率"]),
        ("沐川", ["沐川县"]),
        ("毛入园率 沐川", ["毛入园率", "沐川县"]),
        ("德育实效", ["德育实效研究工程"]),
        ("专栏2-1", ["专栏2-1"]),
    ],
)
def test_search(alice, q, must) -> None:  # type: ignore[no-untyped-def]
    content = client_for(alice).get(MY, {"year": 2025, "q": q}).content.decode()
    listed = rows(content)
    assert listed
    assert all(all(word in row for word in must) for row in listed)
    assert total(content) == len(listed) == tab_counts(content)["全部"]
    assert f'value="{q}"' in content  # the box keeps what was asked


def test_search_finding_nothing_says_so(alice) -> None:  # type: ignore[no-untyped-def]
    content = client_for(alice).get(MY, {"year": 2025, "q": "没有这样的事项"}).content.decode()
    assert rows(content) == [] and "没有符合条件的事项" in content and tab_counts(content)["全部"] == 0


def test_overdue_filter(alice, some_entries, rate) -> None:  # type: ignore[no-untyped-def]
    # The 2025 deadline (2026-01-31) has passed: missing, draft and returned items are overdue; submitted ones not.
    client = client_for(alice)
    overdue = client.get(MY, {"year": 2025, "overdue": "1"}).content.decode()
    counts = tab_counts(overdue)
    assert counts["全部"] == counts["已逾期"] == counts["未填报"] + counts["草稿"] + counts["已退回"]
    assert counts["待审核"] == 0
    assert "checked" in re.search(r'<input type="checkbox" name="overdue"[^>]*>', overdue).group(0)
    everything = tab_counts(client.get(MY, {"year": 2025}).content.decode())
    assert counts["全部"] == everything["全部"] - everything["待审核"] - everything["已通过"] == everything["已逾期"]
    submitted = client.get(MY, {"year": 2025, "overdue": "1", "q": "幼儿数 乐山市"}).content.decode()
    assert rows(submitted) == []  # the one submitted is not overdue


@pytest.mark.parametrize(
    "filters",
    [{}, {"q": "学前"}, {"region": "MUCHUAN"}, {"overdue": "1"}, {"indicator": "RATE", "q": "沐川"}],
)
def test_each_tab_counts_exactly_the_list_it_shows(alice, some_entries, rate, muchuan, filters, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(workbench, "REPORTING_PER_PAGE", 1000)  # one page, so the rows can be counted too
    params = {
        "year": "2025",
        **{k: str({"MUCHUAN": muchuan.pk, "RATE": rate.pk}.get(v, v)) for k, v in filters.items()},
    }
    client = client_for(alice)
    counts = tab_counts(client.get(MY, params).content.decode())
    for label in TABS:
        listed = client.get(MY, {**params, "status": TAB_KEYS[label]}).content.decode()
        assert counts[label] == total(listed) == len(rows(listed)), (filters, label)
        assert tab_counts(listed) == counts  # the tabs do not change with the tab chosen


def test_tab_links_keep_the_filters(alice, rate) -> None:  # type: ignore[no-untyped-def]
    content = client_for(alice).get(MY, {"year": 2025, "indicator": rate.pk, "q": "沐川"}).content.decode()
    link = re.search(r'<a href="([^"]+)" class="[^"]*">草稿', content).group(1)
    assert f"indicator={rate.pk}" in link and "status=draft" in link and "q=%E6%B2%90%E5%B7%9D" in link


def test_scope_other_counties_never_appear(bob, jiajiang, muchuan, rate) -> None:  # type: ignore[no-untyped-def]
    client = client_for(bob)
    content = client.get(MY, {"year": 2025}).content.decode()
    main = content.split("<main", 1)[1]
    assert "沐川县" in main
    for other in ("夹江县", "五通桥区", "市中区", "峨眉山市"):
        assert other not in main
    region_options = re.search(r'<select id="f-region".*?</select>', content, re.S).group(0)
    assert region_options.count("<option") == 2  # 全部 and 沐川县
    # Naming a county outside the scope is a 404, as on the dashboards; searching for one finds nothing.
    assert client.get(MY, {"year": 2025, "region": jiajiang.pk}).status_code == 404
    found = client.get(MY, {"year": 2025, "q": "夹江"}).content.decode()
    assert rows(found) == [] and "夹江县" not in found.split("<main", 1)[1].replace('value="夹江"', "")


def test_bad_filters_are_refused_in_chinese(alice, frank, rate) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    for params, message in (
        ({"region": "abc"}, "区域应为整数 id。"),
        ({"indicator": "x1"}, "指标应为整数 id。"),
        ({"task": "²"}, "任务应为整数 id。"),
        ({"q": "字" * 51}, "搜索词不能超过 50 个字。"),
        ({"q": "a\x00b"}, "搜索词含有无法识别的字符。"),
    ):
        response = client.get(MY, params)
        assert response.status_code == 400, params
        assert message in response.content.decode()
    assert client.get(MY, {"indicator": "9" * 18}).status_code == 404
    # frank (市财政局) leads no indicator and sees none: naming one is a 404, not an empty list.
    assert client_for(frank).get(MY, {"indicator": rate.pk}).status_code == 404
    # An unknown status tab shows everything, as an unknown dashboard filter is ignored.
    content = client.get(MY, {"year": 2025, "status": "nonsense"}).content.decode()
    assert total(content) == tab_counts(content)["全部"]


def test_the_list_is_paged(alice, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(workbench, "REPORTING_PER_PAGE", 5)
    client = client_for(alice)
    first = client.get(MY, {"year": 2025, "q": "学前"}).content.decode()
    count = total(first)
    pages = -(-count // 5)
    assert f"第 1 / {pages} 页，共 {count} 条" in first and len(rows(first)) == 5
    last = client.get(MY, {"year": 2025, "q": "学前", "page": pages}).content.decode()
    assert len(rows(last)) == count - 5 * (pages - 1)
    assert set(rows(first)).isdisjoint(rows(last))
    # The pager keeps the filters.
    assert re.search(r'href="\?[^"]*q=%E5%AD%A6%E5%89%8D[^"]*page=2"', first)


def test_queries_stay_fixed_with_filters(alice, some_entries, rate, muchuan, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    client.get(MY)
    for params in (
        {"year": 2025},
        {"year": 2025, "indicator": rate.pk, "region": muchuan.pk, "task": moral().pk, "q": "学前", "overdue": "1"},
    ):
        with django_assert_max_num_queries(21):  # the same whatever the plan's size
            assert client.get(MY, params).status_code == 200
