"""Task progress through the service layer: each kind of task, scope, cumulative totals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from planning.models import EntryStatus, Task, TaskProgress
from planning.services import (
    DuplicateEntry,
    TaskProgressInput,
    task_progress_approve,
    task_progress_create,
    task_progress_reopen,
    task_progress_submit,
    task_progress_update,
)
from planning.views import task_progress_context
from planning.workflow import ConflictError, NotAllowed, NotInScope, TransitionError

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]


def task(code: str) -> Task:
    return Task.objects.prefetch_related("targets__regions").get(plan__code="leshan-edu-14fyp", code=code)


def amounts(code: str, *values: str) -> dict[int, str]:
    return {t.pk: v for t, v in zip(task(code).quantity_targets, values, strict=True)}


def errors_of(call) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


def test_a_quantitative_task_records_each_target(alice) -> None:  # type: ignore[no-untyped-def]
    # 专栏14-3: 实施学校80所141个项目，新建（改、扩）校舍22.9万平方米、运动场19万平方米，购置设备54万台（件、套）
    progress = task_progress_create(
        task=task("C14.3"),
        year=2022,
        region=None,
        user=alice,
        data=TaskProgressInput(narrative="完成校舍改造", amounts=amounts("C14.3", "20", "35", "5.25", "4", "12.5")),
    )
    stored = {row.target.label: row.amount for row in progress.amounts.select_related("target")}
    assert stored == {
        "实施学校": Decimal("20"),
        "实施项目": Decimal("35"),
        "新建（改、扩）校舍": Decimal("5.25"),
        "新建（改、扩）运动场": Decimal("4"),
        "购置设备": Decimal("12.5"),
    }


def test_counts_are_whole_numbers_and_areas_may_have_decimals(alice) -> None:  # type: ignore[no-untyped-def]
    found = errors_of(
        lambda: task_progress_create(
            task=task("C14.3"),
            year=2022,
            region=None,
            user=alice,
            data=TaskProgressInput(narrative="x", amounts=amounts("C14.3", "20.5", "-1", "5.255", "abc", "")),
        )
    )
    ids = [t.pk for t in task("C14.3").quantity_targets]
    assert found[f"amount_{ids[0]}"] == ["实施学校应为整数。"]
    assert found[f"amount_{ids[1]}"] == ["实施项目不能为负数。"]
    assert found[f"amount_{ids[2]}"] == ["新建（改、扩）校舍最多保留 2 位小数。"]
    assert found[f"amount_{ids[3]}"] == ["“abc”不是有效的数字。"]
    assert found[f"amount_{ids[4]}"] == ["请填写购置设备。"]
    assert not TaskProgress.objects.exists()


def test_a_qualitative_task_reports_a_percentage(alice) -> None:  # type: ignore[no-untyped-def]
    qualitative = task("C2.1")
    assert qualitative.progress_kind == "qualitative"
    found = errors_of(
        lambda: task_progress_create(
            task=qualitative, year=2022, region=None, user=alice, data=TaskProgressInput(narrative="", percent="120")
        )
    )
    assert found == {
        "narrative": ["请填写本年度工作进展（做了什么、完成情况）。"],
        "percent": ["完成百分比不能超过 100。"],
    }
    progress = task_progress_create(
        task=qualitative,
        year=2022,
        region=None,
        user=alice,
        data=TaskProgressInput(narrative="形成优秀工作案例 12 篇", percent="40"),
    )
    assert progress.percent == Decimal("40")


def test_a_region_milestone_is_reported_by_region(alice, bob, muchuan) -> None:  # type: ignore[no-untyped-def]
    milestone = task("C8.1")  # 五通桥区、金口河区、峨眉山市、夹江县 通过义务教育优质均衡验收
    from regions.models import Region

    wutongqiao = Region.objects.get(name="五通桥区")
    found = errors_of(
        lambda: task_progress_create(
            task=milestone, year=2023, region=None, user=alice, data=TaskProgressInput(narrative="推进中")
        )
    )
    assert found["region"] == ["该任务按区域填报，区域应为：五通桥区、金口河区、夹江县、峨眉山市。"]
    assert found["passed"] == ["请选择是否已通过验收/评估。"]
    progress = task_progress_create(
        task=milestone,
        year=2023,
        region=wutongqiao,
        user=alice,
        data=TaskProgressInput(narrative="已通过省级督导评估", passed=True),
    )
    assert progress.passed is True
    # 沐川县 is not among the named counties: its capturer cannot report this task at all.
    with pytest.raises(NotInScope):
        task_progress_create(
            task=milestone, year=2023, region=muchuan, user=bob, data=TaskProgressInput(narrative="x", passed=False)
        )


def test_a_city_task_is_not_reported_by_region(alice, muchuan) -> None:  # type: ignore[no-untyped-def]
    found = errors_of(
        lambda: task_progress_create(
            task=task("C2.1"), year=2022, region=muchuan, user=alice, data=TaskProgressInput(narrative="x", percent="1")
        )
    )
    assert found["region"] == ["该任务为全市任务，不按区域填报。"]


def test_only_the_lead_unit_captures_and_co_units_view(alice, frank, carol) -> None:  # type: ignore[no-untyped-def]
    # 专栏7 tasks are led by 市教育局 with 市财政局 co-operating (copied from the implementation plan).
    preschool = task("C7.1")
    assert "市财政局" in preschool.responsibilities.values_list("unit__name", flat=True)
    with pytest.raises(NotAllowed, match="您没有填报该任务的权限"):
        task_progress_create(
            task=preschool, year=2022, region=None, user=frank, data=TaskProgressInput(narrative="x", percent="10")
        )
    progress = task_progress_create(
        task=preschool,
        year=2022,
        region=None,
        user=alice,
        data=TaskProgressInput(narrative="扶持普惠性民办园 12 所", percent="30"),
    )
    with pytest.raises(NotAllowed):
        task_progress_update(
            progress=progress, version=progress.version, user=frank, data=TaskProgressInput(narrative="y", percent="20")
        )
    # A task with no 市财政局 role is not even visible to frank.
    with pytest.raises(NotInScope):
        task_progress_create(
            task=task("C10.4"),
            year=2022,
            region=None,
            user=frank,
            data=TaskProgressInput(narrative="x", amounts=amounts("C10.4", "1", "1")),
        )


def test_workflow_and_cumulative_totals(alice, carol) -> None:  # type: ignore[no-untyped-def]
    kindergartens = task("C14.2")  # 新建城镇公办幼儿园16所
    target = kindergartens.quantity_targets[0]
    for year, built in [(2021, "3"), (2022, "5")]:
        progress = task_progress_create(
            task=kindergartens,
            year=year,
            region=None,
            user=alice,
            data=TaskProgressInput(narrative="新建", amounts={target.pk: built}),
        )
        task_progress_approve(progress=task_progress_submit(progress=progress, user=alice), user=carol)
    draft = task_progress_create(
        task=kindergartens,
        year=2023,
        region=None,
        user=alice,
        data=TaskProgressInput(narrative="新建", amounts={target.pk: "4"}),
    )
    context = task_progress_context(kindergartens, 2023, None, draft)
    row = context["target_rows"][0]
    assert (row["before"], row["this_year"], row["cumulative"]) == (Decimal("8"), Decimal("4"), Decimal("12"))


def test_a_correction_keeps_the_approved_amounts(alice, carol) -> None:  # type: ignore[no-untyped-def]
    kindergartens = task("C14.2")
    target = kindergartens.quantity_targets[0]
    progress = task_progress_create(
        task=kindergartens,
        year=2021,
        region=None,
        user=alice,
        data=TaskProgressInput(narrative="新建", amounts={target.pk: "3"}),
    )
    progress = task_progress_approve(progress=task_progress_submit(progress=progress, user=alice), user=carol)
    progress = task_progress_reopen(progress=progress, user=alice)
    progress = task_progress_update(
        progress=progress,
        version=progress.version,
        user=alice,
        data=TaskProgressInput(narrative="更正", amounts={target.pk: "2"}),
    )
    row = progress.amounts.get()
    assert (row.amount, row.approved_amount) == (Decimal("2"), Decimal("3"))
    assert progress.status == EntryStatus.DRAFT
    assert progress.revision == 2


def test_transitions_and_conflicts(alice, erin, carol) -> None:  # type: ignore[no-untyped-def]
    progress = task_progress_create(
        task=task("C2.1"), year=2022, region=None, user=alice, data=TaskProgressInput(narrative="a", percent="10")
    )
    stale = TaskProgress.objects.get(pk=progress.pk)
    task_progress_update(progress=progress, version=1, user=erin, data=TaskProgressInput(narrative="b", percent="20"))
    with pytest.raises(ConflictError):
        task_progress_update(progress=stale, version=1, user=alice, data=TaskProgressInput(narrative="c", percent="30"))
    submitted = task_progress_submit(progress=progress, user=alice)
    with pytest.raises(TransitionError):
        task_progress_update(
            progress=submitted,
            version=submitted.version,
            user=alice,
            data=TaskProgressInput(narrative="d", percent="40"),
        )
    with pytest.raises(NotAllowed, match="不能审核本人"):
        task_progress_approve(progress=submitted, user=erin)  # alice created it, but erin edited it
    assert task_progress_approve(progress=submitted, user=carol).status == EntryStatus.APPROVED


def test_duplicates_point_to_the_existing_entry(alice) -> None:  # type: ignore[no-untyped-def]
    first = task_progress_create(
        task=task("C2.1"), year=2022, region=None, user=alice, data=TaskProgressInput(narrative="a", percent="10")
    )
    with pytest.raises(DuplicateEntry) as caught:
        task_progress_create(
            task=task("C2.1"), year=2022, region=None, user=alice, data=TaskProgressInput(narrative="b", percent="20")
        )
    assert caught.value.existing == first
