"""`load_plan`: idempotent, updates what a fixture edit changed, refuses broken fixtures whole."""

from __future__ import annotations

import shutil
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from indicators.management.commands.load_plan import load_all
from indicators.models import Indicator
from planning.models import (
    Plan,
    Responsibility,
    ResponsibilityBasis,
    ResponsibilityRole,
    Task,
    TaskTarget,
    Unit,
)
from planning.services import responsibility_save_manual
from regions.models import Region

pytestmark = pytest.mark.django_db

MODELS = [Region, Unit, Plan, Task, TaskTarget, Responsibility, Indicator]


def row_counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in MODELS}


@pytest.fixture
def fixtures_copy(tmp_path: Path) -> Path:
    target = tmp_path / "fixtures"
    shutil.copytree(settings.PLAN_FIXTURES_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_loading_again_writes_nothing() -> None:
    before = row_counts()
    report = load_all(settings.PLAN_FIXTURES_DIR)
    assert report.written == 0
    assert sorted(report.skipped_plans) == ["leshan-basic-edu-2021", "leshan-edu-14fyp"]
    assert row_counts() == before


def test_forced_reload_compares_every_row_and_changes_none() -> None:
    before = row_counts()
    history_before = Task.history.count()
    report = load_all(settings.PLAN_FIXTURES_DIR, force=True)
    assert report.written == 0
    assert report.counts["任务"]["unchanged"] == 81
    assert row_counts() == before
    assert Task.history.count() == history_before


def test_an_edited_fixture_updates_exactly_that_row(fixtures_copy: Path) -> None:
    edit(
        fixtures_copy / "plan_leshan_edu_14fyp.yaml",
        '  name: "高等教育毛入学率"\n  unit: "%"\n  baseline_value: "52"\n  target_value: "59"',
        '  name: "高等教育毛入学率"\n  unit: "%"\n  baseline_value: "52"\n  target_value: "60"',
    )
    before = row_counts()
    report = load_all(fixtures_copy)
    assert row_counts() == before
    assert report.counts["指标"]["updated"] == 1
    # ...plus each plan's record of the fixtures' checksum.
    assert report.counts["规划"]["updated"] == 2
    assert report.written == 3
    indicator = Indicator.objects.get(plan__code="leshan-edu-14fyp", name="高等教育毛入学率")
    assert indicator.target_value == Decimal("60")
    latest = indicator.history.first()
    assert latest is not None
    assert latest.history_change_reason == "load_plan plan_leshan_edu_14fyp.yaml"
    assert latest.prev_record is not None
    assert latest.prev_record.target_value == Decimal("59")


def test_a_changed_lead_unit_moves_the_lead_without_duplicates(fixtures_copy: Path) -> None:
    edit(
        fixtures_copy / "plan_leshan_basic_edu_2021.yaml",
        '  title: "切实加强家校共育"',
        '  title: "切实加强家校共育"\n  # lead and co swapped in this test',
    )
    path = fixtures_copy / "plan_leshan_basic_edu_2021.yaml"
    text = path.read_text(encoding="utf-8")
    block_start = text.index('  title: "切实加强家校共育"')
    block = text[block_start : text.index("- code:", block_start)]
    swapped = block.replace('lead_unit: "市教育局"', 'lead_unit: "市妇联"').replace('- "市妇联"', '- "市教育局"')
    path.write_text(text.replace(block, swapped), encoding="utf-8")

    load_all(fixtures_copy)

    task = Task.objects.get(plan__code="leshan-basic-edu-2021", title="切实加强家校共育")
    roles = dict(task.responsibilities.values_list("unit__name", "role"))
    assert roles == {"市妇联": ResponsibilityRole.LEAD, "市教育局": ResponsibilityRole.CO}
    # The plan task mapped to it follows.
    mapped = Task.objects.get(plan__code="leshan-edu-14fyp", code="C2.4")
    assert mapped.responsibilities.get(role=ResponsibilityRole.LEAD).unit.name == "市妇联"


def test_an_administrators_correction_survives_a_reload(fixtures_copy: Path, admin_user) -> None:  # type: ignore[no-untyped-def]
    task = Task.objects.get(plan__code="leshan-edu-14fyp", code="C10.1")
    row = task.responsibilities.get()
    row.unit = Unit.objects.get(name="市财政局")
    responsibility_save_manual(responsibility=row, user=admin_user)
    edit(fixtures_copy / "plan_leshan_edu_14fyp.yaml", 'title: "人才强基计划"', 'title: "人才强基计划（修订）"')

    load_all(fixtures_copy, force=True)

    rows = list(task.responsibilities.values_list("unit__name", "role", "basis"))
    assert rows == [("市财政局", ResponsibilityRole.LEAD, ResponsibilityBasis.MANUAL)]
    assert Responsibility.history.filter(id=row.id, history_change_reason="admin").exists()


def test_a_broken_fixture_writes_nothing_and_says_where(fixtures_copy: Path) -> None:
    edit(fixtures_copy / "plan_leshan_edu_14fyp.yaml", '  target_value: "14.5"', '  target_value: "十四点五"')
    edit(fixtures_copy / "units.yaml", '- name: "市残联"', '- name: "市残疾人联合会"')
    before = row_counts()
    with pytest.raises(CommandError) as caught:
        call_command("load_plan", fixtures=fixtures_copy, stdout=StringIO())
    message = str(caught.value)
    assert "载入失败，未写入任何数据" in message
    assert "plan_leshan_edu_14fyp.yaml 指标15: “十四点五” 不是数字" in message
    assert row_counts() == before
    assert not Unit.objects.filter(name="市残疾人联合会").exists()


def test_a_target_that_does_not_quote_its_task_is_refused(fixtures_copy: Path) -> None:
    edit(
        fixtures_copy / "plan_leshan_edu_14fyp.yaml",
        'source_text: "新建城镇公办幼儿园16所"',
        'source_text: "新建城镇公办幼儿园18所"',
    )
    with pytest.raises(CommandError, match=r"C14\.2 目标1: source_text 不是任务原文的一部分"):
        call_command("load_plan", fixtures=fixtures_copy, stdout=StringIO())


def test_the_command_reports_counts_in_chinese() -> None:
    out = StringIO()
    call_command("load_plan", force=True, stdout=out)
    assert "任务: 新增 0，更新 0，删除 0，未变 81" in out.getvalue()
    assert "规划数据已载入（写入 0 行）。" in out.getvalue()
