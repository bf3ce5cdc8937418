"""The task page (专栏任务 → one task): what it shows, whom it shows it to, and in how many queries.

Scope is checked by content: text entered in a region the person cannot see never reaches their page.
"""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from indicators.services import status_recompute_all
from planning.models import Task
from planning.services import (
    TaskProgressInput,
    task_progress_approve,
    task_progress_create,
    task_progress_reopen,
    task_progress_submit,
    task_progress_update,
)
from regions.models import Region
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def task(code: str) -> Task:
    return Task.objects.prefetch_related("targets__regions").get(plan__code="leshan-edu-14fyp", code=code)


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def page_of(user, task_obj: Task, query: str = "") -> str:  # type: ignore[no-untyped-def]
    response = client_for(user).get(reverse("dashboards:task", args=[task_obj.pk]) + query)
    assert response.status_code == 200
    return response.content.decode()


# --- the tasks board --------------------------------------------------------------------------------------------


def test_every_row_of_the_board_opens_its_task(leo, plan) -> None:  # type: ignore[no-untyped-def]
    body = client_for(leo).get(reverse("dashboards:tasks"), {"plan": plan.pk, "year": 2024}).content.decode()
    linked = {int(pk) for pk in re.findall(r'href="/dashboard/tasks/(\d+)/\?year=2024"', body)}
    assert linked == set(Task.objects.filter(plan=plan).values_list("pk", flat=True))


def test_the_board_shows_only_the_filters_that_apply_to_tasks(leo, plan, muchuan) -> None:  # type: ignore[no-untyped-def]
    client = client_for(leo)
    tasks = client.get(reverse("dashboards:tasks"), {"region": muchuan.pk, "attribute": "binding"}).content.decode()
    for kept in ('id="f-plan"', 'id="f-year"', 'id="f-status"', 'id="f-unit"'):
        assert kept in tasks
    # Region and 约束性/预期性 are an indicator's: not shown, but carried to the other tabs.
    assert 'id="f-region"' not in tasks
    assert 'id="f-attribute"' not in tasks
    assert f'<input type="hidden" name="region" value="{muchuan.pk}">' in tasks
    assert '<input type="hidden" name="attribute" value="binding">' in tasks
    overview = client.get(reverse("dashboards:overview")).content.decode()
    assert 'id="f-region"' in overview and 'id="f-attribute"' in overview


# --- what the page says ------------------------------------------------------------------------------------------


def test_the_page_shows_the_task_whole(alice, carol, leo, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    research = task("C2.1")  # qualitative: 市教育局 leads, 市委宣传部 and 市文化广电旅游局 co-operate
    with django_capture_on_commit_callbacks(execute=True):
        progress = task_progress_create(
            task=research,
            year=2023,
            region=None,
            user=alice,
            data=TaskProgressInput(
                narrative="形成优秀工作案例 12 篇", problems="经费不足", next_steps="争取专项经费", percent="40"
            ),
            files=[SimpleUploadedFile("案例汇编.pdf", PDF)],
        )
        progress = task_progress_approve(progress=task_progress_submit(progress=progress, user=alice), user=carol)
        # A correction under way: the approved 40% still counts and is shown first.
        progress = task_progress_reopen(progress=progress, user=alice)
        task_progress_update(
            progress=progress, version=progress.version, user=alice, data=TaskProgressInput(percent="45")
        )
    status_recompute_all()
    body = page_of(leo, research, "?year=2023")
    for text in (
        research.label,
        research.title,
        research.text[:40],
        "市教育局",
        "牵头单位",
        "市委宣传部",
        "配合单位",
        "2023 年度",
        "工作进展",
        "形成优秀工作案例 12 篇",
        "存在问题",
        "经费不足",
        "下步打算",
        "争取专项经费",
        "案例汇编.pdf",
        "进度判定历史",
    ):
        assert text in body, text
    assert re.search(r"40%\s*<span[^>]*>（更正待审：45%）", body)
    # Documents are cited by title, not by the file they were loaded from.
    assert f"来源：《{research.plan.title}》" in body
    assert ".txt" not in body
    evidence = progress.evidence.get()
    assert reverse("planning:progress-evidence", args=[progress.pk, evidence.pk]) in body
    assert reverse("planning:progress-detail", args=[progress.pk]) in body


def test_targets_show_their_progress_to_date(alice, carol, leo, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    kindergartens = task("C14.2")  # 新建城镇公办幼儿园, cumulative
    target = kindergartens.quantity_targets[0]
    with django_capture_on_commit_callbacks(execute=True):
        for year, amount in ((2021, "3"), (2022, "4")):
            entry = task_progress_create(
                task=kindergartens,
                year=year,
                region=None,
                user=alice,
                data=TaskProgressInput(narrative=f"{year}年新建", amounts={target.pk: amount}),
            )
            task_progress_approve(progress=task_progress_submit(progress=entry, user=alice), user=carol)
    status_recompute_all()
    body = page_of(leo, kindergartens, "?year=2022")
    row = re.search(rf"<td>{re.escape(target.label)}</td>(.*?)</tr>", body, re.S)
    assert row is not None
    cells = row.group(1)
    assert f"{target.display_value}{target.unit}{target.qualifier}" in cells
    assert f"7{target.unit}" in cells  # 3 + 4 approved by 2022
    assert "期末累计" in cells


def test_a_year_outside_the_plan_is_refused(leo) -> None:  # type: ignore[no-untyped-def]
    response = client_for(leo).get(reverse("dashboards:task", args=[task("C2.1").pk]), {"year": "1999"})
    assert response.status_code == 400
    assert "规划期" in response.content.decode()


# --- scope -------------------------------------------------------------------------------------------------------


def test_a_task_out_of_view_is_404(frank, bob) -> None:  # type: ignore[no-untyped-def]
    # 专栏14-2 is 市教育局's alone; 市财政局 co-operates on 专栏4-1. bob (沐川县) sees no city-wide task.
    assert client_for(frank).get(reverse("dashboards:task", args=[task("C14.2").pk])).status_code == 404
    assert client_for(frank).get(reverse("dashboards:task", args=[task("C4.1").pk])).status_code == 200
    assert client_for(bob).get(reverse("dashboards:task", args=[task("C2.1").pk])).status_code == 404


def test_entries_of_regions_out_of_scope_never_reach_the_page(alice, leo) -> None:  # type: ignore[no-untyped-def]
    """专栏8-1 is reported by 五通桥区, 金口河区, 夹江县 and 峨眉山市: jill (夹江县) sees the task and 夹江县's entry only."""
    jill = make_user("jill", "填报员", regions=("夹江县",))
    milestone = task("C8.1")
    texts = {}
    for name in ("夹江县", "五通桥区"):
        region = Region.objects.get(name=name)
        texts[name] = (f"{name}进展甲乙丙", f"{name}问题甲乙丙", f"{name}打算甲乙丙")
        task_progress_create(
            task=milestone,
            year=2023,
            region=region,
            user=jill if name == "夹江县" else alice,
            data=TaskProgressInput(
                narrative=texts[name][0], problems=texts[name][1], next_steps=texts[name][2], passed=False
            ),
            files=[SimpleUploadedFile(f"{name}佐证.pdf", PDF)],
        )
    mine = page_of(jill, milestone)
    for text in texts["夹江县"]:
        assert text in mine
    assert "夹江县佐证.pdf" in mine
    for text in (*texts["五通桥区"], "五通桥区佐证.pdf"):
        assert text not in mine
    # A leader sees both (so the check above is not vacuous).
    everything = page_of(leo, milestone)
    for text in (*texts["夹江县"], *texts["五通桥区"]):
        assert text in everything


# --- cost --------------------------------------------------------------------------------------------------------


def test_the_page_costs_the_same_with_one_entry_or_many(alice, leo, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    milestone = task("C8.1")
    regions = list(milestone.milestone_target.regions.order_by("order"))

    def report(region: Region, year: int) -> None:
        task_progress_create(
            task=milestone,
            year=year,
            region=region,
            user=alice,
            data=TaskProgressInput(narrative="推进中", problems="问题", next_steps="打算", passed=False),
            files=[SimpleUploadedFile("佐证.pdf", PDF)],
        )

    client = client_for(leo)
    url = reverse("dashboards:task", args=[milestone.pk])
    report(regions[0], 2021)
    client.get(url)  # warm the caches shared by every page
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for year in (2021, 2022, 2023, 2024):
        for region in regions:
            if (region, year) != (regions[0], 2021):
                report(region, year)
    with django_assert_max_num_queries(16), CaptureQueriesContext(connection) as many:
        body = client.get(url).content.decode()
    assert body.count("progress-entry") == 4 * len(regions)
    assert len(many) == len(one), [q["sql"] for q in many.captured_queries]
