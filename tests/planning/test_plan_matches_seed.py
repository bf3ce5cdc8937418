"""The loaded plan checked against the source documents themselves, parsed here independently."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from indicators.models import Attribute, Indicator
from planning.loading import DEFAULT_LEAD_SOURCE
from planning.models import (
    Column,
    Initiative,
    Plan,
    Responsibility,
    ResponsibilityBasis,
    ResponsibilityRole,
    TargetKind,
    Task,
    TaskTarget,
)
from regions.models import Region

pytestmark = pytest.mark.django_db

SOURCES = Path(settings.PLAN_FIXTURES_DIR) / "sources"
PLAN_FILE = "002_14860a9f346e3f37.txt"
IMPLEMENTATION_FILE = "004_26a365b65bc174c3.txt"
CN_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


def seed(name: str) -> str:
    return (SOURCES / name).read_text(encoding="utf-8")


def seed_indicator_rows() -> list[tuple[int, str, str, Decimal, Decimal, str]]:
    """专栏1 as printed: one tab-indented cell per line, rows separated by blank lines."""
    text = seed(PLAN_FILE)
    start = text.index("专栏1  ")
    table = text[start : text.index("四、重点任务", start)]
    rows = []
    for block in re.split(r"\n\s*\n(?=\t\d+\n)", table)[1:]:
        cells = [c.strip() for c in block.strip("\n").split("\n\t")]
        cells = [re.sub(r"\s+", "", c) for c in cells if c.strip()]
        number, *name_parts, unit, base, target, attribute = cells
        rows.append((int(number), "".join(name_parts), unit, Decimal(base), Decimal(target), attribute))
    return rows


def seed_column_tasks() -> dict[int, list[tuple[int | None, str]]]:
    """Every 专栏N (N ≥ 2) with its task lines: (number, line without the number)."""
    lines = seed(PLAN_FILE).split("\n")
    columns: dict[int, list[tuple[int | None, str]]] = {}
    for index, line in enumerate(lines):
        header = re.match(r"^\t专栏(\d+)  ", line)
        if not header or header.group(1) == "1":
            continue
        tasks: list[tuple[int | None, str]] = []
        blank_run = 0
        for candidate in lines[index + 1 :]:
            candidate = candidate.strip()
            if not candidate:
                blank_run += 1
                if blank_run == 2 and tasks:
                    break  # a column's tasks are single-spaced; a double blank ends the column
                continue
            blank_run = 0
            numbered = re.match(r"^(\d+)\.(.*)$", candidate)
            if numbered and int(numbered.group(1)) == len(tasks) + 1:
                tasks.append((int(numbered.group(1)), numbered.group(2)))
            elif not tasks and not numbered:
                tasks.append((None, candidate))  # 专栏11's single unnumbered task
                break
            else:
                break
        columns[int(header.group(1))] = tasks
    return columns


def seed_implementation_units() -> dict[str, tuple[str, list[str]]]:
    """Title of each task of the implementation plan → (lead unit, co-operating units).

    The text is cut at every "(责任单位:…)"; each piece starts with the heading of the task it closes,
    "N.标题。" or, under 三、保障措施, "(一)标题。".
    """
    text = seed(IMPLEMENTATION_FILE)
    pieces = re.split(r"\(责任单位:([^)]*)\)", text[text.index("二、重点任务") :])
    found = {}
    for piece, units in zip(pieces[0::2], pieces[1::2], strict=False):
        heading = re.search(r"(?:^|\n)\s*\d+\.([^。]+)。", "\n" + piece) or re.search(r"\([一二三]\)([^。]+)。", piece)
        assert heading is not None, piece[:40]
        lead, _, rest = units.split("。")[0].partition(",")
        found[heading.group(1)] = (lead, [u for u in rest.split("、") if u])
    return found


@pytest.fixture
def plan() -> Plan:
    return Plan.objects.get(source_document=PLAN_FILE)


@pytest.fixture
def implementation_plan() -> Plan:
    return Plan.objects.get(source_document=IMPLEMENTATION_FILE)


def test_it_loads_the_plan_counts(plan: Plan) -> None:
    assert plan.indicators.count() == 16
    assert plan.initiatives.count() == 18
    assert plan.columns.exclude(number=1).count() == 15
    assert Task.objects.filter(plan=plan, column__isnull=False).count() == 55
    assert Task.objects.filter(plan=plan, column__isnull=False, number__isnull=True).count() == 1
    groups = list(plan.initiatives.order_by("group_order").values_list("group_title", flat=True).distinct())
    assert groups == ["实施全面育人五大提质行动", "实施教育发展六大争先计划", "实施教育保障七大提升工程"]
    assert [plan.initiatives.filter(group_order=g).count() for g in (1, 2, 3)] == [5, 6, 7]
    assert (plan.period_start_year, plan.period_end_year, plan.baseline_year) == (2021, 2025, 2020)


def test_every_indicator_matches_column_1(plan: Plan) -> None:
    rows = seed_indicator_rows()
    assert len(rows) == 16
    loaded = {i.number: i for i in plan.indicators.all()}
    for number, name, unit, baseline, target, attribute in rows:
        indicator = loaded[number]
        assert indicator.name == name
        assert indicator.unit == unit
        assert indicator.baseline_value == baseline
        assert indicator.baseline_year == 2020
        assert indicator.target_value == target
        assert indicator.target_year == 2025
        assert indicator.get_attribute_display() == attribute
        assert indicator.source_document == PLAN_FILE
    binding = list(plan.indicators.filter(attribute=Attribute.BINDING).values_list("name", flat=True))
    assert binding == ["九年义务教育巩固率"]


def test_every_printed_value_fits_the_indicators_decimal_places(plan: Plan) -> None:
    for indicator in plan.indicators.all():
        for value in (indicator.baseline_value, indicator.target_value):
            assert value == round(value, indicator.decimal_places), indicator


def test_additive_indicators_are_the_head_counts(plan: Plan) -> None:
    additive = set(plan.indicators.filter(is_additive=True).values_list("unit", flat=True))
    assert additive == {"万人", "万人次"}


def test_every_column_task_matches_the_text(plan: Plan) -> None:
    columns = seed_column_tasks()
    assert sorted(columns) == list(range(2, 17))
    for number, tasks in columns.items():
        column = Column.objects.get(plan=plan, number=number)
        loaded = list(column.tasks.order_by("order"))
        assert len(loaded) == len(tasks), column
        for task, (task_number, line) in zip(loaded, tasks, strict=True):
            assert task.number == task_number
            assert f"{task.title}。{task.text}" == line
            assert task.initiative == column.initiative


def test_columns_belong_to_their_initiatives(plan: Plan) -> None:
    expected = {
        2: "实施德育铸魂提质行动",
        7: "实施学前教育普及普惠发展争先计划",
        11: "实施高等教育内涵发展争先计划",
        13: "实施人才队伍素质提升工程",
        14: "实施薄弱环节改善与能力提升工程",
        16: "实施育人环境改善提升工程",
    }
    for number, title in expected.items():
        assert Column.objects.get(plan=plan, number=number).initiative.title == title
    text = seed(PLAN_FILE)
    for initiative in plan.initiatives.all():
        assert f"{initiative.number}.{initiative.title}。" in text
        assert f"{initiative.group_number}{initiative.group_title}" in text


def test_every_target_quotes_its_task_and_carries_its_number() -> None:
    targets = TaskTarget.objects.select_related("task")
    assert targets.count() > 0
    for target in targets:
        assert target.source_text in target.task.text, target
        if target.kind != TargetKind.MILESTONE:
            printed = f"{target.value.normalize():f}"
            assert printed in target.source_text, target
        if target.value_max is not None:
            assert f"{target.value.normalize():f}—{target.value_max.normalize():f}" in target.source_text


@pytest.mark.parametrize(
    ("code", "label", "value", "unit", "kind"),
    [
        ("C2.2", "评选德育“嘉课程”", "50", "个", TargetKind.CUMULATIVE),
        ("C3.2", "评选智育“嘉课堂”", "50", "节", TargetKind.ANNUAL),
        ("C14.2", "新建城镇公办幼儿园", "16", "所", TargetKind.CUMULATIVE),
        ("C14.3", "新建（改、扩）校舍", "22.9", "万平方米", TargetKind.CUMULATIVE),
        ("C14.3", "实施项目", "141", "个", TargetKind.CUMULATIVE),
        ("C12.2", "投入专项经费", "2.5", "亿元", TargetKind.CUMULATIVE),
    ],
)
def test_worked_examples_of_targets(plan: Plan, code: str, label: str, value: str, unit: str, kind: str) -> None:
    target = TaskTarget.objects.get(task__plan=plan, task__code=code, label=label)
    assert target.value == Decimal(value)
    assert target.unit == unit
    assert target.kind == kind
    assert target.target_year == 2025


def test_tasks_with_several_numbers_have_one_target_each(plan: Plan) -> None:
    assert TaskTarget.objects.filter(task__plan=plan, task__code="C14.3").count() == 5
    assert TaskTarget.objects.filter(task__plan=plan, task__code="C14.1").count() == 4


def test_region_milestones_name_the_counties(plan: Plan) -> None:
    quality = TaskTarget.objects.get(task__plan=plan, task__code="C8.1")
    assert quality.kind == TargetKind.MILESTONE
    assert set(quality.regions.values_list("name", flat=True)) == {
        "五通桥区",
        "金口河区",
        "峨眉山市",
        "夹江县",
    }
    assert quality.value == 4
    smart = TaskTarget.objects.get(task__plan=plan, task__code="C15.2")
    assert set(smart.regions.values_list("name", flat=True)) == {"市中区", "沙湾区", "峨眉山市"}


def test_qualitative_tasks_have_no_target(plan: Plan) -> None:
    qualitative = Task.objects.filter(plan=plan, column__isnull=False, targets__isnull=True)
    assert set(qualitative.values_list("code", flat=True)) >= {"C2.1", "C3.1", "C11", "C16.1"}
    assert not TaskTarget.objects.filter(task__code="C2.1", task__plan=plan).exists()


def test_implementation_plan_units_are_as_printed(implementation_plan: Plan) -> None:
    printed = seed_implementation_units()
    tasks = list(implementation_plan.tasks.prefetch_related("responsibilities__unit"))
    assert len(tasks) == 26
    assert len(printed) == 26
    for task in tasks:
        lead, co = printed[task.title]
        rows = sorted(task.responsibilities.all(), key=lambda r: r.order)
        assert [r.unit.name for r in rows if r.role == ResponsibilityRole.LEAD] == [lead], task
        assert [r.unit.name for r in rows if r.role == ResponsibilityRole.CO] == co, task
        assert {r.basis for r in rows} == {ResponsibilityBasis.STATED}
        assert all(r.source.startswith(IMPLEMENTATION_FILE) for r in rows)


def test_implementation_plan_goals_are_indicators(implementation_plan: Plan) -> None:
    text = seed(IMPLEMENTATION_FILE)
    indicators = list(implementation_plan.indicators.all())
    assert len(indicators) == 7
    for indicator in indicators:
        assert indicator.source_text in text
        assert f"{indicator.target_value.normalize():f}" in indicator.source_text
        assert indicator.attribute == Attribute.UNSPECIFIED
        assert indicator.lead_unit is not None
        assert indicator.lead_unit.name == "市教育局"
    # Baselines only where 专栏1 of the plan gives the same indicator's 2020 value.
    with_baseline = {i.name: i.baseline_value for i in indicators if i.baseline_value is not None}
    assert with_baseline == {
        "公办幼儿园在园幼儿占比": Decimal("40.9"),
        "九年义务教育巩固率": Decimal("95"),
        "高中阶段毛入学率": Decimal("95"),
    }


def test_plan_tasks_copy_units_from_the_matching_implementation_task(plan: Plan) -> None:
    preschool = Task.objects.get(plan__source_document=IMPLEMENTATION_FILE, title="实施学前教育普及普惠发展争先计划")
    expected = [(r.unit.name, r.role) for r in preschool.responsibilities.order_by("order")]
    for task in Task.objects.filter(plan=plan, column__number=7):
        rows = task.responsibilities.order_by("order")
        assert [(r.unit.name, r.role) for r in rows] == expected
        assert {r.basis for r in rows} == {ResponsibilityBasis.MAPPED}
        assert all(IMPLEMENTATION_FILE in r.source for r in rows)


def test_task_rules_win_over_initiative_rules(plan: Plan) -> None:
    # 专栏2 follows 落实立德树人根本任务, but its 家校共育工程 follows 切实加强家校共育.
    home_school = Task.objects.get(plan=plan, code="C2.4")
    assert list(home_school.responsibilities.values_list("unit__name", flat=True)) == ["市教育局", "市妇联"]
    moral = Task.objects.get(plan=plan, code="C2.1")
    assert "市委宣传部" in moral.responsibilities.values_list("unit__name", flat=True)


def test_unmapped_tasks_are_led_by_the_issuing_body_by_default(plan: Plan) -> None:
    defaults = Responsibility.objects.filter(task__plan=plan, basis=ResponsibilityBasis.DEFAULT)
    assert defaults.exists()
    for row in defaults:
        assert row.unit.name == "市教育局"
        assert row.role == ResponsibilityRole.LEAD
        assert row.source == DEFAULT_LEAD_SOURCE
        assert row.task.responsibilities.count() == 1
    # 专栏10 (职业教育) has no matching task in the implementation plan.
    assert set(
        Responsibility.objects.filter(task__plan=plan, task__column__number=10).values_list("basis", flat=True)
    ) == {ResponsibilityBasis.DEFAULT}


def test_every_task_has_exactly_one_lead() -> None:
    for task in Task.objects.prefetch_related("responsibilities"):
        leads = [r for r in task.responsibilities.all() if r.role == ResponsibilityRole.LEAD]
        assert len(leads) == 1, task


def test_regions_are_the_city_and_its_twelve_divisions() -> None:
    city = Region.objects.get(code="511100")
    assert city.name == "乐山市"
    assert city.parent is None
    children = {r.name: r.code for r in city.children.all()}
    assert children == {
        "市中区": "511102",
        "沙湾区": "511111",
        "五通桥区": "511112",
        "金口河区": "511113",
        "犍为县": "511123",
        "井研县": "511124",
        "夹江县": "511126",
        "沐川县": "511129",
        "峨边彝族自治县": "511132",
        "马边彝族自治县": "511133",
        "峨眉山市": "511181",
        "乐山高新区": None,
    }
    assert city.children.get(name="峨眉山市").get_kind_display() == "县级市"
    assert city.children.get(name="马边彝族自治县").get_kind_display() == "自治县"
    assert city.children.get(name="乐山高新区").get_kind_display() == "开发区"


def test_regions_named_by_the_plan_exist() -> None:
    text = seed(PLAN_FILE)
    for name in [
        "市中区",
        "沙湾区",
        "五通桥区",
        "金口河区",
        "夹江县",
        "峨眉山市",
        "峨边彝族自治县",
        "乐山高新区",
    ]:
        assert name in text
        assert Region.objects.filter(name=name, parent__code="511100").exists()


def test_indicators_default_to_the_issuing_body_as_lead(plan: Plan) -> None:
    for indicator in Indicator.objects.filter(plan=plan).select_related("lead_unit"):
        assert indicator.lead_unit is not None
        assert indicator.lead_unit.name == "市教育局"
        assert indicator.lead_unit_source == DEFAULT_LEAD_SOURCE


def test_initiative_codes_are_unique_per_plan() -> None:
    for plan in Plan.objects.all():
        codes = list(Initiative.objects.filter(plan=plan).values_list("code", flat=True))
        assert len(codes) == len(set(codes))
