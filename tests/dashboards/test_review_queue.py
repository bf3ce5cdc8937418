"""待审核: what each row shows (change from last year, outlier note, evidence, author, waiting time), bulk approval
with outlier confirmation, filters and search, pagination, scope and query counts."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboards import workbench
from indicators.models import IndicatorValue
from indicators.services import (
    IndicatorValueInput,
    indicator_value_approve,
    indicator_value_create,
    indicator_value_submit,
)
from indicators.values import INDICATOR_VALUE
from planning.entries import evidence_add
from planning.models import EntryStatus, Task, TaskProgress
from planning.services import TaskProgressInput, task_progress_approve, task_progress_create, task_progress_submit
from regions.models import Region

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
REVIEW = reverse("workbench:review")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def submitted_value(user, indicator, region, year, value, **extra) -> IndicatorValue:  # type: ignore[no-untyped-def]
    entry = indicator_value_create(
        indicator=indicator,
        region=region,
        year=year,
        user=user,
        data=IndicatorValueInput(value=value, source="统计年报", **extra),
    )
    return indicator_value_submit(value=entry, user=user)


def approved_value(user, reviewer, indicator, region, year, value, **extra) -> IndicatorValue:  # type: ignore[no-untyped-def]
    return indicator_value_approve(value=submitted_value(user, indicator, region, year, value, **extra), user=reviewer)


def task(code: str) -> Task:
    return Task.objects.prefetch_related("targets__regions").get(plan__code="leshan-edu-14fyp", code=code)


def submitted_progress(user, code: str, year: int, **data) -> TaskProgress:  # type: ignore[no-untyped-def]
    entry = task_progress_create(
        task=task(code), year=year, region=None, user=user, data=TaskProgressInput(narrative="按计划推进", **data)
    )
    return task_progress_submit(progress=entry, user=user)


def row_html(content: str, token: str) -> str:
    """The table row holding the bulk checkbox of `token` ("iv-12")."""
    for row in re.findall(r"<tr.*?</tr>", content, flags=re.S):
        if f'name="selected" value="{token}"' in row:
            return row
    raise AssertionError(f"{token} 不在页面上")


def row_of(content: str, token: str) -> str:
    """That row's text."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row_html(content, token)))


def tab_count(content: str, label: str) -> int:
    found = re.search(rf"{label}<span class=\"n\">(\d+)</span>", content)
    assert found, label
    return int(found.group(1))


def total(content: str) -> int:
    found = re.search(r"共 (\d+) 条", content)
    assert found
    return int(found.group(1))


# --- what a row shows ------------------------------------------------------------------------------------


def test_a_value_row_shows_change_outlier_evidence_author_and_waiting(  # type: ignore[no-untyped-def]
    alice, carol, rate, city, muchuan
) -> None:
    approved_value(alice, carol, rate, city, 2022, "95.4")
    entry = indicator_value_create(
        indicator=rate, region=city, year=2023, user=alice, data=IndicatorValueInput(value="95.8", source="统计年报")
    )
    evidence_add(
        INDICATOR_VALUE,
        entry,
        files=[SimpleUploadedFile(f"佐证{n}.pdf", PDF, content_type="application/pdf") for n in (1, 2)],
        user=alice,
    )
    entry.refresh_from_db()
    indicator_value_submit(value=entry, user=alice)
    IndicatorValue.objects.filter(pk=entry.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=3, hours=2))
    # 沐川县 jumps from the baseline 95 to 98, beyond the whole 95 → 96 span: it needed an outlier note.
    jump = submitted_value(alice, rate, muchuan, 2023, "98", outlier_note="新建幼儿园集中投用，入园人数大增")

    content = client_for(carol).get(REVIEW).content.decode()
    row = row_of(content, f"iv-{entry.pk}")
    assert "95.8" in row
    assert "+0.4" in row and "(+0.4%)" in row  # 0.4 / 95.4 = 0.42%
    assert "2022年 95.4" in row
    assert "2 个" in row  # evidence files
    assert "Alice" in row  # who submitted it
    assert "已等待 3 天" in row
    assert "异常值" not in row

    outlier = row_of(content, f"iv-{jump.pk}")
    assert "异常值" in outlier and "新建幼儿园集中投用" in outlier
    assert "上年无已通过数据" in outlier  # nothing approved for 2022 in 沐川县
    assert '<td class="num"><span class="muted">无</span></td>' in row_html(content, f"iv-{jump.pk}")  # no evidence
    assert "已等待不足 1 小时" in outlier
    # The outlier row is marked for the script (全选 leaves it out) and can be confirmed in the bulk box.
    assert f'value="iv-{jump.pk}" form="bulk" aria-label="选择" data-outlier="1"' in content
    assert f'name="confirm_outlier" value="iv-{jump.pk}"' in content
    assert f'name="confirm_outlier" value="iv-{entry.pk}"' not in content


def test_task_rows_compare_percent_and_amounts_with_last_year(alice, carol) -> None:  # type: ignore[no-untyped-def]
    task_progress_approve(progress=submitted_progress(alice, "C2.1", 2022, percent="40"), user=carol)
    qualitative = submitted_progress(alice, "C2.1", 2023, percent="50")
    target = task("C14.2").quantity_targets[0]
    task_progress_approve(progress=submitted_progress(alice, "C14.2", 2022, amounts={target.pk: "4"}), user=carol)
    quantitative = submitted_progress(alice, "C14.2", 2023, amounts={target.pk: "3"})

    content = client_for(carol).get(REVIEW).content.decode()
    row = row_of(content, f"tp-{qualitative.pk}")
    assert "50%" in row and "+10" in row and "(+25%)" in row and "2022年 40" in row
    row = row_of(content, f"tp-{quantitative.pk}")
    assert target.label in row and "-1" in row and "(-25%)" in row and "2022年 4" in row
    assert "全市" in row


def test_the_change_percent_is_left_out_when_last_year_was_zero(alice, carol, headcount, city) -> None:  # type: ignore[no-untyped-def]
    # Last year's approved figure was 0: the change is shown, a percentage of nothing is not.
    approved_value(alice, carol, headcount, city, 2022, "0", outlier_note="口径调整")
    entry = submitted_value(alice, headcount, city, 2023, "0.5", outlier_note="口径调整")
    row = row_of(client_for(carol).get(REVIEW).content.decode(), f"iv-{entry.pk}")
    assert "+0.5" in row and "2022年 0" in row and "%)" not in row


def test_queries_do_not_grow_with_the_rows(alice, carol, rate, headcount) -> None:  # type: ignore[no-untyped-def]
    regions = list(Region.objects.filter(parent__code="511100").order_by("order"))
    client = client_for(carol)

    def queries() -> int:
        client.get(REVIEW)  # warm caches (sessions, content types)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(REVIEW).status_code == 200
        return len(captured)

    for region in regions[:2]:
        approved_value(alice, carol, rate, region, 2022, "95.2")
        submitted_value(alice, rate, region, 2023, "95.4")
    submitted_progress(alice, "C2.1", 2023, percent="50")
    few = queries()
    for region in regions[2:8]:
        approved_value(alice, carol, rate, region, 2022, "95.2")
        submitted_value(alice, rate, region, 2023, "95.4")
        submitted_value(alice, headcount, region, 2023, "0.5")
    target = task("C14.2").quantity_targets[0]
    submitted_progress(alice, "C14.2", 2023, amounts={target.pk: "3"})
    submitted_progress(alice, "C3.1", 2023, percent="20")
    many = queries()
    assert IndicatorValue.objects.filter(status=EntryStatus.SUBMITTED).count() == 14
    assert many == few


# --- bulk approval and outlier notes -------------------------------------------------------------------


def test_bulk_approval_leaves_out_an_unconfirmed_outlier_until_it_is_confirmed(  # type: ignore[no-untyped-def]
    alice, carol, rate, city, muchuan
) -> None:
    plain_entry = submitted_value(alice, rate, city, 2023, "95.5")
    outlier = submitted_value(alice, rate, muchuan, 2023, "98", outlier_note="新建幼儿园集中投用")
    client = client_for(carol)
    url = reverse("workbench:review-bulk-approve")

    response = client.post(url, {"selected": [f"iv-{plain_entry.pk}", f"iv-{outlier.pk}"]}, follow=True)
    content = response.content.decode()
    assert "已审核通过 1 条" in content
    assert "以下填报含异常值说明，未确认，未通过：学前教育毛入园率 · 沐川县 · 2023年" in content
    outlier.refresh_from_db()
    plain_entry.refresh_from_db()
    assert plain_entry.status == EntryStatus.APPROVED
    assert outlier.status == EntryStatus.SUBMITTED

    # A confirmation alone selects nothing; a confirmation of another row confirms nothing.
    response = client.post(url, {"confirm_outlier": [f"iv-{outlier.pk}"]}, follow=True)
    assert "请先勾选要通过的填报" in response.content.decode()
    response = client.post(
        url, {"selected": [f"iv-{outlier.pk}"], "confirm_outlier": [f"iv-{plain_entry.pk}"]}, follow=True
    )
    assert "未确认，未通过" in response.content.decode()
    outlier.refresh_from_db()
    assert outlier.status == EntryStatus.SUBMITTED

    response = client.post(
        url, {"selected": [f"iv-{outlier.pk}"], "confirm_outlier": [f"iv-{outlier.pk}"]}, follow=True
    )
    content = response.content.decode()
    assert "已审核通过 1 条" in content and "未确认" not in content
    outlier.refresh_from_db()
    assert outlier.status == EntryStatus.APPROVED


def test_bulk_approval_returns_to_the_filtered_queue_only(alice, carol, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = submitted_value(alice, rate, city, 2023, "95.5")
    url = reverse("workbench:review-bulk-approve")
    client = client_for(carol)
    response = client.post(url, {"selected": [f"iv-{entry.pk}"], "next": f"{REVIEW}?kind=indicator"})
    assert response["Location"] == f"{REVIEW}?kind=indicator"
    response = client.post(url, {"selected": ["iv-x", "zz-1", ""], "next": "https://example.com/"})
    assert response["Location"] == REVIEW
    response = client.post(url, {"selected": [], "next": "/dashboard/"})
    assert response["Location"] == REVIEW


def test_bulk_approval_cannot_reach_out_of_scope_entries(alice, bob, dave, muchuan, rate) -> None:  # type: ignore[no-untyped-def]
    entry = submitted_value(bob, rate, muchuan, 2023, "98", outlier_note="核实无误")
    response = client_for(dave).post(
        reverse("workbench:review-bulk-approve"),
        {"selected": [f"iv-{entry.pk}"], "confirm_outlier": [f"iv-{entry.pk}"]},
        follow=True,
    )
    content = response.content.decode()
    assert "沐川县" not in content  # neither approved nor named
    entry.refresh_from_db()
    assert entry.status == EntryStatus.SUBMITTED


# --- filters, search, tabs and pages ---------------------------------------------------------------


@pytest.fixture
def queue(alice, carol, rate, headcount, city, muchuan, jiajiang):  # type: ignore[no-untyped-def]
    return {
        "rate_city": submitted_value(alice, rate, city, 2023, "95.5"),
        "rate_muchuan": submitted_value(alice, rate, muchuan, 2023, "95.6"),
        "head_jiajiang": submitted_value(alice, headcount, jiajiang, 2023, "0.5"),
        "moral": submitted_progress(alice, "C2.1", 2023, percent="50"),
    }


def tokens(content: str) -> set[str]:
    return set(re.findall(r'name="selected" value="([a-z]+-\d+)"', content))


def token(entry) -> str:  # type: ignore[no-untyped-def]
    return f"{'iv' if isinstance(entry, IndicatorValue) else 'tp'}-{entry.pk}"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"rate_city", "rate_muchuan", "head_jiajiang", "moral"}),
        ({"kind": "indicator"}, {"rate_city", "rate_muchuan", "head_jiajiang"}),
        ({"kind": "task"}, {"moral"}),
        ({"kind": "nonsense"}, {"rate_city", "rate_muchuan", "head_jiajiang", "moral"}),  # ignored
        ({"indicator": "RATE"}, {"rate_city", "rate_muchuan"}),
        ({"region": "MUCHUAN"}, {"rate_muchuan"}),
        ({"region": "CITY"}, {"rate_city", "moral"}),  # progress for the whole plan belongs to 全市
        ({"task": "MORAL"}, {"moral"}),
        ({"q": "毛入园率"}, {"rate_city", "rate_muchuan"}),
        ({"q": "夹江"}, {"head_jiajiang"}),
        ({"q": "专栏2-1"}, {"moral"}),
        ({"q": "德育实效"}, {"moral"}),
        ({"q": "  毛入园率   沐川 "}, {"rate_muchuan"}),  # every word must match
        ({"q": "没有这个"}, set()),
        ({"kind": "indicator", "q": "乐山"}, {"rate_city"}),
    ],
)
def test_filters_and_search(carol, queue, rate, city, muchuan, query, expected) -> None:  # type: ignore[no-untyped-def]
    ids = {"RATE": rate.pk, "MUCHUAN": muchuan.pk, "CITY": city.pk, "MORAL": queue["moral"].task_id}
    params = {k: str(ids.get(v, v)) for k, v in query.items()}
    content = client_for(carol).get(REVIEW, params).content.decode()
    assert tokens(content) == {token(queue[name]) for name in expected}
    assert total(content) == len(expected)
    if not expected:
        assert "没有符合条件的待审核填报" in content


def test_kind_tabs_count_exactly_what_they_list(carol, queue, muchuan) -> None:  # type: ignore[no-untyped-def]
    client = client_for(carol)
    for extra in ({}, {"region": str(muchuan.pk)}, {"q": "学前"}):
        content = client.get(REVIEW, extra).content.decode()
        for kind, label in (("", "全部"), ("indicator", "指标数值"), ("task", "任务进展")):
            listed = client.get(REVIEW, {**extra, "kind": kind}).content.decode()
            assert tab_count(content, label) == len(tokens(listed)) == total(listed), (extra, label)


def test_filter_choices_come_from_the_queue_only(carol, queue, headcount, rate) -> None:  # type: ignore[no-untyped-def]
    content = client_for(carol).get(REVIEW).content.decode()
    indicator_options = re.search(r'<select id="f-indicator".*?</select>', content, flags=re.S).group(0)
    assert f'value="{rate.pk}"' in indicator_options and f'value="{headcount.pk}"' in indicator_options
    assert indicator_options.count("<option") == 3  # 全部 and the two waiting
    region_options = re.search(r'<select id="f-region".*?</select>', content, flags=re.S).group(0)
    assert {"乐山市", "沐川县", "夹江县"} <= set(re.findall(r">([^<]+)</option>", region_options))
    assert "五通桥区" not in region_options


def test_out_of_scope_and_bad_filters(carol, dave, queue, muchuan, jiajiang) -> None:  # type: ignore[no-untyped-def]
    # dave reviews 夹江县 only: 沐川县 is not his to name (404), and its entries never reach his page.
    client = client_for(dave)
    assert client.get(REVIEW, {"region": muchuan.pk}).status_code == 404
    content = client.get(REVIEW, {"region": jiajiang.pk}).content.decode()
    assert "沐川县" not in content and "乐山市" not in content.split("<main", 1)[1]
    assert tokens(content) == {token(queue["head_jiajiang"])}
    assert client.get(REVIEW, {"task": queue["moral"].task_id}).status_code == 404  # a city task he cannot see

    bad = client_for(carol).get(REVIEW, {"region": "abc"})
    assert bad.status_code == 400 and "区域应为整数 id。" in bad.content.decode()
    bad = client_for(carol).get(REVIEW, {"indicator": "1e3"})
    assert bad.status_code == 400 and "指标应为整数 id。" in bad.content.decode()
    bad = client_for(carol).get(REVIEW, {"q": "很" * 51})
    assert bad.status_code == 400 and "搜索词不能超过 50 个字。" in bad.content.decode()
    assert client_for(carol).get(REVIEW, {"indicator": "9" * 18}).status_code == 404


def test_the_queue_is_paged(carol, queue, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(workbench, "REVIEW_PER_PAGE", 3)
    client = client_for(carol)
    first = client.get(REVIEW).content.decode()
    second = client.get(REVIEW, {"page": "2"}).content.decode()
    assert "第 1 / 2 页，共 4 条" in first and "第 2 / 2 页，共 4 条" in second
    assert len(tokens(first)) == 3 and len(tokens(second)) == 1
    assert tokens(first).isdisjoint(tokens(second))
    # The longest waiting first, across both kinds.
    assert token(queue["rate_city"]) in tokens(first) and token(queue["moral"]) in tokens(second)
    filtered = client.get(REVIEW, {"kind": "indicator"}).content.decode()
    assert len(tokens(filtered)) == 3 and "共 3 条" in filtered
