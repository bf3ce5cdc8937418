"""The entry pages over HTTP: the permission matrix, forms with bad input, conflicts, lists and queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from indicators.models import IndicatorValue
from indicators.services import IndicatorValueInput, indicator_value_create, indicator_value_submit
from planning.models import EntryStatus, Task, TaskProgress
from planning.services import TaskProgressInput, task_progress_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def draft(alice, rate, city) -> IndicatorValue:  # type: ignore[no-untyped-def]
    return indicator_value_create(
        indicator=rate, region=city, year=2023, user=alice, data=IndicatorValueInput(value="95.4", source="统计年报")
    )


@pytest.fixture
def submitted(draft, alice) -> IndicatorValue:  # type: ignore[no-untyped-def]
    return indicator_value_submit(value=draft, user=alice)


# --- permission matrix ---------------------------------------------------------------------------

USERS = ["alice", "bob", "frank", "carol", "dave", "leo", "ada", "nobody"]

# Who may do what to a 市教育局 indicator's city-level entry created by alice.
# 404: not in the user's view scope; 403: visible but not allowed.
EXPECTED = {
    #          detail  edit  submit  create(other year)
    "alice": (200, 200, 302, 200),
    "bob": (404, 404, 404, 404),
    "frank": (404, 404, 404, 404),
    "carol": (200, 403, 403, 403),
    "dave": (404, 404, 404, 404),
    "leo": (200, 403, 403, 403),
    "ada": (200, 403, 403, 403),
    "nobody": (404, 404, 404, 404),
}


@pytest.mark.parametrize("who", USERS)
def test_capture_permissions(request, who, draft, rate, city) -> None:  # type: ignore[no-untyped-def]
    user = request.getfixturevalue(who)
    client = client_for(user)
    detail, edit, submit, create = EXPECTED[who]
    assert client.get(reverse("indicators:value-detail", args=[draft.pk])).status_code == detail
    assert client.get(reverse("indicators:value-edit", args=[draft.pk])).status_code == edit
    assert client.get(reverse("indicators:value-create", args=[rate.pk, city.pk, 2022])).status_code == create
    response = client.post(reverse("indicators:value-action", args=[draft.pk, "submit"]), {"version": draft.version})
    assert response.status_code == submit
    draft.refresh_from_db()
    assert draft.status == (EntryStatus.SUBMITTED if submit == 302 else EntryStatus.DRAFT)


REVIEW_EXPECTED = {
    "alice": 403,
    "bob": 404,
    "frank": 404,
    "carol": 302,
    "dave": 404,
    "leo": 403,
    "ada": 403,
    "nobody": 404,
}


@pytest.mark.parametrize("who", USERS)
def test_review_permissions(request, who, submitted) -> None:  # type: ignore[no-untyped-def]
    user = request.getfixturevalue(who)
    response = client_for(user).post(
        reverse("indicators:value-action", args=[submitted.pk, "approve"]), {"version": submitted.version}
    )
    assert response.status_code == REVIEW_EXPECTED[who]
    submitted.refresh_from_db()
    assert submitted.status == (EntryStatus.APPROVED if REVIEW_EXPECTED[who] == 302 else EntryStatus.SUBMITTED)


@pytest.mark.parametrize("who", USERS)
def test_lists_show_only_what_is_in_scope(request, who, draft) -> None:  # type: ignore[no-untyped-def]
    user = request.getfixturevalue(who)
    content = client_for(user).get(reverse("indicators:value-list")).content.decode()
    link = reverse("indicators:value-detail", args=[draft.pk])
    assert (link in content) == (EXPECTED[who][0] == 200)


@pytest.mark.parametrize(
    ("who", "my", "review"),
    [
        ("alice", 200, 403),
        ("carol", 403, 200),
        ("erin", 200, 200),
        ("leo", 403, 403),
        ("nobody", 403, 403),
    ],
)
def test_role_pages(request, who, my, review) -> None:  # type: ignore[no-untyped-def]
    client = client_for(request.getfixturevalue(who))
    assert client.get(reverse("workbench:my-reporting")).status_code == my
    assert client.get(reverse("workbench:review")).status_code == review


def test_anonymous_visitors_are_sent_to_log_in(draft) -> None:  # type: ignore[no-untyped-def]
    for url in [
        reverse("indicators:value-detail", args=[draft.pk]),
        reverse("workbench:my-reporting"),
        reverse("workbench:review"),
        reverse("home"),
    ]:
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("who", "landing"),
    [
        ("alice", "workbench:my-reporting"),
        ("carol", "workbench:review"),
        ("leo", "dashboards:overview"),
    ],
)
def test_people_land_on_their_page(request, who, landing) -> None:  # type: ignore[no-untyped-def]
    response = client_for(request.getfixturevalue(who)).get(reverse("home"))
    assert response["Location"] == reverse(landing)


# --- the entry form ----------------------------------------------------------------------------------


def test_the_form_shows_what_the_number_should_look_like(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    content = client_for(alice).get(reverse("indicators:value-create", args=[rate.pk, city.pk, 2023])).content.decode()
    assert "2020年基期" in content
    assert ">95<" in content
    assert "2025年目标" in content
    assert ">96<" in content
    assert "2023年应达到" in content
    assert "95.60" in content
    assert "最多 2 位小数" in content


def test_bad_input_rerenders_with_chinese_errors_and_keeps_what_was_typed(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    response = client_for(alice).post(
        reverse("indicators:value-create", args=[rate.pk, city.pk, 2023]),
        {"value": "九十五点五", "source": "", "note": "保留这段说明"},
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "“九十五点五”不是有效的数字。" in content
    assert "请填写数据来源" in content
    assert "保留这段说明" in content
    assert not IndicatorValue.objects.exists()


def test_saving_and_submitting_in_one_step(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    response = client_for(alice).post(
        reverse("indicators:value-create", args=[rate.pk, city.pk, 2023]),
        {
            "value": "95.5",
            "source": "统计年报",
            "submit": "1",
            "evidence": [SimpleUploadedFile("佐证.pdf", PDF, content_type="application/pdf")],
        },
    )
    entry = IndicatorValue.objects.get()
    assert response["Location"] == reverse("indicators:value-detail", args=[entry.pk])
    assert entry.status == EntryStatus.SUBMITTED
    assert entry.evidence.get().original_name == "佐证.pdf"


def test_a_wrong_file_keeps_the_entry_unsaved_and_says_why(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    response = client_for(alice).post(
        reverse("indicators:value-create", args=[rate.pk, city.pk, 2023]),
        {
            "value": "95.5",
            "source": "统计年报",
            "evidence": [SimpleUploadedFile("报告.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")],
        },
    )
    assert response.status_code == 400
    assert "文件“报告.pdf”的内容与扩展名 .pdf 不符" in response.content.decode()
    assert not IndicatorValue.objects.exists()


def test_a_duplicate_create_goes_to_the_existing_entry(alice, draft, rate, city) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    url = reverse("indicators:value-create", args=[rate.pk, city.pk, 2023])
    assert client.get(url)["Location"] == reverse("indicators:value-detail", args=[draft.pk])
    response = client.post(url, {"value": "96", "source": "x"}, follow=True)
    assert "已有填报（草稿），请打开已有填报修改" in response.content.decode()
    draft.refresh_from_db()
    assert draft.value == Decimal("95.4")


def test_editing_a_locked_entry_is_refused_with_a_message(alice, submitted) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    response = client.get(reverse("indicators:value-edit", args=[submitted.pk]), follow=True)
    assert "不能修改" in response.content.decode()


def test_two_people_saving_the_same_draft(alice, erin, draft) -> None:  # type: ignore[no-untyped-def]
    url = reverse("indicators:value-edit", args=[draft.pk])
    first, second = client_for(alice), client_for(erin)
    version = draft.version
    assert first.post(url, {"version": version, "value": "95.7", "source": "统计年报"}).status_code == 302
    response = second.post(url, {"version": version, "value": "95.9", "source": "统计年报"})
    assert response.status_code == 409
    content = response.content.decode()
    assert "已被他人修改" in content
    assert "95.7" in content  # theirs, shown
    assert 'value="95.9"' in content  # mine, kept in the form
    draft.refresh_from_db()
    assert draft.value == Decimal("95.7")
    # Saving again deliberately, now based on the current version, goes through.
    assert second.post(url, {"version": draft.version, "value": "95.9", "source": "统计年报"}).status_code == 302
    draft.refresh_from_db()
    assert draft.value == Decimal("95.9")


def test_returning_from_the_detail_page(carol, submitted) -> None:  # type: ignore[no-untyped-def]
    client = client_for(carol)
    url = reverse("indicators:value-action", args=[submitted.pk, "return"])
    response = client.post(url, {"version": submitted.version, "comment": ""}, follow=True)
    assert "退回时请填写审核意见" in response.content.decode()
    client.post(url, {"version": submitted.version, "comment": "口径与年报不一致"})
    submitted.refresh_from_db()
    assert submitted.status == EntryStatus.RETURNED


def test_the_detail_page_shows_history(alice, carol, submitted) -> None:  # type: ignore[no-untyped-def]
    client_for(carol).post(
        reverse("indicators:value-action", args=[submitted.pk, "approve"]), {"version": submitted.version}
    )
    content = client_for(alice).get(reverse("indicators:value-detail", args=[submitted.pk])).content.decode()
    assert "修改历史" in content
    assert "表单：审核通过" in content
    assert "状态：待审核 → 已通过" in content
    assert "Carol" in content


def test_evidence_is_served_only_within_scope(alice, bob, leo, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_create(
        indicator=rate,
        region=city,
        year=2023,
        user=alice,
        data=IndicatorValueInput(value="95.5", source="年报"),
        files=[SimpleUploadedFile("a.pdf", PDF)],
    )
    evidence = entry.evidence.get()
    url = reverse("indicators:value-evidence", args=[entry.pk, evidence.pk])
    response = client_for(leo).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "attachment" in response["Content-Disposition"]
    assert client_for(bob).get(url).status_code == 404


# --- 我的填报 and 待审核 ---------------------------------------------------------------------------------


def test_my_reporting_counts_what_is_due(bob, rate, muchuan) -> None:  # type: ignore[no-untyped-def]
    indicator_value_create(
        indicator=rate, region=muchuan, year=2025, user=bob, data=IndicatorValueInput(value="95.5", source="年报")
    )
    response = client_for(bob).get(reverse("workbench:my-reporting"), {"year": 2025})
    content = response.content.decode()
    # 沐川县: the 16 indicators of the plan, no tasks (no region milestone names 沐川县).
    assert '全部<span class="n">16</span>' in content
    assert '草稿<span class="n">1</span>' in content
    assert '未填报<span class="n">15</span>' in content
    # Deadline 2026-01-31 has passed on 2026-03-15: the 15 missing ones and the draft are overdue.
    assert '已逾期<span class="n">16</span>' in content
    assert "已逾期 43 天" in content


def test_my_reporting_runs_a_fixed_number_of_queries(alice, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    client.get(reverse("workbench:my-reporting"))
    with django_assert_max_num_queries(20):
        response = client.get(reverse("workbench:my-reporting"), {"year": 2023, "status": "all"})
    assert response.status_code == 200


def test_review_queue_lists_others_entries_and_bulk_approves(
    alice,
    erin,
    carol,
    rate,
    city,
    muchuan,  # type: ignore[no-untyped-def]
    django_assert_max_num_queries,
) -> None:
    mine = indicator_value_submit(
        value=indicator_value_create(
            indicator=rate, region=city, year=2023, user=erin, data=IndicatorValueInput(value="95.5", source="年报")
        ),
        user=erin,
    )
    theirs = indicator_value_submit(
        value=indicator_value_create(
            indicator=rate, region=muchuan, year=2023, user=alice, data=IndicatorValueInput(value="95.2", source="年报")
        ),
        user=alice,
    )
    task = Task.objects.get(plan__code="leshan-edu-14fyp", code="C2.1")
    progress = task_progress_create(
        task=task, year=2023, region=None, user=alice, data=TaskProgressInput(narrative="案例汇编", percent="50")
    )
    from planning.services import task_progress_submit

    task_progress_submit(progress=progress, user=alice)

    content = client_for(erin).get(reverse("workbench:review")).content.decode()
    assert f'value="iv-{theirs.pk}"' in content
    assert f'value="iv-{mine.pk}"' not in content  # never one's own
    assert f'value="tp-{progress.pk}"' in content

    client = client_for(carol)
    with django_assert_max_num_queries(15):
        client.get(reverse("workbench:review"))
    response = client.post(
        reverse("workbench:review-bulk-approve"),
        {"selected": [f"iv-{theirs.pk}", f"tp-{progress.pk}", f"iv-{mine.pk}"]},
        follow=True,
    )
    assert "已审核通过 3 条" in response.content.decode()
    assert IndicatorValue.objects.filter(status=EntryStatus.APPROVED).count() == 2
    assert TaskProgress.objects.get().status == EntryStatus.APPROVED


def test_bulk_approve_reports_what_it_could_not_do(erin, rate, city) -> None:  # type: ignore[no-untyped-def]
    mine = indicator_value_submit(
        value=indicator_value_create(
            indicator=rate, region=city, year=2023, user=erin, data=IndicatorValueInput(value="95.5", source="年报")
        ),
        user=erin,
    )
    response = client_for(erin).post(
        reverse("workbench:review-bulk-approve"), {"selected": [f"iv-{mine.pk}"]}, follow=True
    )
    assert "不能审核本人创建、修改或提交的填报" in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == EntryStatus.SUBMITTED


# --- task progress pages -------------------------------------------------------------------------------


def test_task_progress_form_round_trip(alice) -> None:  # type: ignore[no-untyped-def]
    task = Task.objects.get(plan__code="leshan-edu-14fyp", code="C14.2")
    target = task.targets.get()
    client = client_for(alice)
    url = reverse("planning:progress-create", args=[task.pk, 2023])
    assert "新建城镇公办幼儿园" in client.get(url).content.decode()
    bad = client.post(url, {"narrative": "", f"amount_{target.pk}": "2.5"})
    assert bad.status_code == 400
    assert "新建城镇公办幼儿园应为整数。" in bad.content.decode()
    good = client.post(url, {"narrative": "新建 3 所", f"amount_{target.pk}": "3", "submit": "1"})
    progress = TaskProgress.objects.get()
    assert good["Location"] == reverse("planning:progress-detail", args=[progress.pk])
    assert progress.status == EntryStatus.SUBMITTED
    detail = client.get(good["Location"]).content.decode()
    assert "新建 3 所" in detail
    assert "表单：提交审核" in detail


def test_list_pages_run_a_fixed_number_of_queries(
    leo, alice, rate, city, muchuan, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for region in (city, muchuan):
        for year in (2021, 2022, 2023):
            indicator_value_create(
                indicator=rate,
                region=region,
                year=year,
                user=alice,
                data=IndicatorValueInput(value="95.5", source="年报", outlier_note="x"),
            )
    client = client_for(leo)
    for url in [
        reverse("indicators:value-list"),
        reverse("planning:progress-list"),
        reverse("indicators:decomposition-list"),
    ]:
        client.get(url)
        with django_assert_max_num_queries(14):
            assert client.get(url).status_code == 200
