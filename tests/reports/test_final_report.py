"""终期评估报告: its sections in order, 约束性 first, the reasons quoted from the entries, the year rules of the
mid-term and final reports, and the same document twice for an archived plan."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from docx import Document

from indicators.services import (
    IndicatorValueInput,
    indicator_target_adjust,
    indicator_value_approve,
    indicator_value_create,
    indicator_value_return,
    indicator_value_submit,
    indicator_value_update,
    status_recompute_all,
)
from planning.lifecycle import plan_evaluation_finalise, plan_state_set
from planning.models import PlanState, Task
from planning.services import (
    TaskProgressInput,
    task_progress_approve,
    task_progress_create,
    task_progress_submit,
)
from reports.models import Report
from reports.pdf import docx_to_pdf
from reports.services import check_report_year, midpoint_year, report_bytes
from tests.reports.test_document_layout import nested_quotes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

SECTIONS = [
    "一、总体结论",
    "二、主要指标完成情况",
    "三、专栏任务完成情况",
    "四、各地区和责任单位完成情况",
    "五、未实现的目标及原因",
    "六、对下一规划的建议",
    "七、说明",
]


def approve(user, reviewer, indicator, region, year, value, note="", *, returned: str = ""):  # type: ignore[no-untyped-def]
    entry = indicator_value_create(
        indicator=indicator,
        region=region,
        year=year,
        user=user,
        data=IndicatorValueInput(value=value, source="教育事业统计年报", note=note),
    )
    if returned:
        entry = indicator_value_return(
            value=indicator_value_submit(value=entry, user=user), user=reviewer, comment=returned
        )
        entry = indicator_value_update(
            entry=entry, version=entry.version, user=user, data=IndicatorValueInput(note=note)
        )
    return indicator_value_approve(value=indicator_value_submit(value=entry, user=user), user=reviewer)


@pytest.fixture
def final_year(alice, carol, ada, plan, city, muchuan, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """2025: the binding 九年义务教育巩固率 missed (with its reason), two indicators met, one target adjusted,
    a task with 存在问题."""
    indicators = {i.number: i for i in plan.indicators.all()}
    with django_capture_on_commit_callbacks(execute=True):
        approve(
            alice,
            carol,
            indicators[7],
            city,
            2025,
            "95.6",
            "受外出务工人员随迁子女流动影响，巩固率未达目标",
            returned="请说明未达目标的原因",
        )
        approve(alice, carol, indicators[2], city, 2025, "96")
        approve(alice, carol, indicators[2], muchuan, 2025, "95.9")
        approve(alice, carol, indicators[12], city, 2025, "57")
        indicator_target_adjust(
            indicator=indicators[12],
            adjusted_value="56.5",
            effective_year=2024,
            reason="中期评估调整",
            document="乐教发〔2024〕12号",
            user=ada,
        )
        task = Task.objects.get(plan=plan, code="C2.1")
        progress = task_progress_create(
            task=task,
            year=2025,
            region=None,
            user=alice,
            data=TaskProgressInput(narrative="完成课题研究", problems="专项经费不足，验收推迟", percent="80"),
        )
        task_progress_approve(progress=task_progress_submit(progress=progress, user=alice), user=carol)
    status_recompute_all()
    return indicators


def paragraphs(content: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(content)).paragraphs if p.text.strip()]


def test_the_final_report_says_what_a_final_evaluation_says(plan, final_year) -> None:  # type: ignore[no-untyped-def]
    content = report_bytes(plan, 2025, "final")
    lines = paragraphs(content)
    assert lines[1] == "终期评估报告"
    body = [line for line in lines if line in SECTIONS]
    # The table of contents lists them, then the body has them, in order.
    assert body[len(SECTIONS) :] == SECTIONS
    conclusion = lines[lines.index("一、总体结论", lines.index("七、说明")) + 1]
    assert conclusion.startswith("约束性指标1项，未实现1项：九年义务教育巩固率。")

    text = "\n".join(lines)
    assert nested_quotes(text) == []
    # What was not achieved and why, in the entries' and the reviewers' own words.
    assert "受外出务工人员随迁子女流动影响，巩固率未达目标" in text
    assert "审核意见：“请说明未达目标的原因”" in text
    assert "存在问题：专项经费不足，验收推迟" in text
    # Suggestions follow from figures and cite them.
    suggestions = text[text.index("六、对下一规划的建议", text.index("七、说明")) :]
    assert "九年义务教育巩固率为约束性指标且未实现（2025年为95.6%，目标96%，差距0.4%" in suggestions
    assert "见表1第7项" in suggestions
    # The adjustment: stated with its document, and used for the verdict.
    assert "高等教育毛入学率目标值 59（自2024年调整为 56.5，依据乐教发〔2024〕12号）" in text

    document = Document(io.BytesIO(content))
    table = document.tables[0]
    header = [c.text for c in table.rows[0].cells]
    assert header == [
        "序号",
        "指标",
        "单位",
        "属性",
        "2020年基期值",
        "2025年目标值",
        "调整后目标值",
        "2025年值",
        "是否实现",
        "规划期变化",
    ]
    rows = {row.cells[0].text: [c.text for c in row.cells] for row in table.rows[1:]}
    assert len(rows) == plan.indicators.count()
    assert rows["7"][4:] == ["95", "96", "—", "95.6", "未实现", "+0.6"]
    assert rows["2"][7:] == ["96", "已实现", "+1"]
    assert rows["12"][5:9] == ["59", "56.5", "57", "已实现"]
    titles = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert [t.split("　")[1] for t in titles if t.startswith("表")] == [
        "主要指标完成情况（2021—2025年）",
        "专栏任务完成情况",
        "各地区主要指标实现情况（2025年）",
        "责任单位牵头指标和任务完成情况",
    ]


def test_nothing_is_invented_where_the_entries_say_nothing(plan, final_year) -> None:  # type: ignore[no-untyped-def]
    text = "\n".join(paragraphs(report_bytes(plan, 2025, "final")))
    # 普惠性幼儿园在园幼儿比率 has no approved value at all: said so, never given a reason.
    assert "没有可据以判定的已审核数据" in text
    assert "填报和审核记录中没有相关说明" not in text.split("（一）主要指标")[-1].split("九年义务教育巩固率")[0]


@pytest.mark.parametrize(
    ("kind", "year", "message"),
    [
        ("midterm", 2024, "中期评估报告只针对规划期中点年度（2023 年）"),
        ("midterm", 2025, "中期评估报告只针对规划期中点年度（2023 年）"),
        ("final", 2024, "终期评估报告只针对规划期末年度（2025 年）"),
        ("annual", 2031, "年度应在规划期 2021—2025 年之内"),
    ],
)
def test_the_year_rules(plan, kind, year, message) -> None:  # type: ignore[no-untyped-def]
    assert midpoint_year(plan) == 2023
    with pytest.raises(ValidationError, match=message):
        check_report_year(plan, year, kind)
    with pytest.raises(CommandError, match=message):
        call_command("render_report", plan=plan.code, kind=kind, year=year, out="/tmp/unused", stdout=io.StringIO())
    check_report_year(plan, 2023, "midterm")
    check_report_year(plan, 2025, "final")
    check_report_year(plan, 2024, "annual")


def test_the_page_refuses_a_midterm_report_for_2024(leo, plan) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(leo)
    page = client.get(reverse("reports:reports")).content.decode()
    assert "终期评估报告" in page
    assert "中期评估报告针对规划期中点年度（2023 年）" in page
    answer = client.post(reverse("reports:reports"), {"plan": plan.pk, "year": 2024, "kind": "midterm"}, follow=True)
    assert "中期评估报告只针对规划期中点年度（2023 年）；2024 年请生成年度监测报告。" in answer.content.decode()
    assert not Report.objects.exists()


def test_the_final_report_is_generated_from_the_page(leo, plan, final_year, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(leo)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:reports"), {"plan": plan.pk, "year": 2025, "kind": "final"})
    report = Report.objects.get()
    assert report.state == "done", report.error
    assert report.filename.endswith("2025年终期评估报告.docx")
    download = client.get(reverse("reports:report-download", args=[report.pk]))
    assert Document(io.BytesIO(b"".join(download.streaming_content))).paragraphs[1].text == "终期评估报告"


def xml_parts(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("kind", ["final", "annual"])
def test_an_archived_plan_renders_the_same_document_twice(ada, plan, final_year, kind, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    plan_evaluation_finalise(plan=plan, user=ada)
    plan = plan_state_set(plan=plan, state=PlanState.ARCHIVED, user=ada)
    first_bytes = report_bytes(plan, 2025, kind)
    first = xml_parts(first_bytes)
    # Later: another day, another clock (Django's, and the one zip entries would be stamped with).
    import datetime
    import time

    from django.utils import timezone

    later = timezone.now() + datetime.timedelta(days=40)
    monkeypatch.setattr(timezone, "now", lambda: later)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: later.date())
    monkeypatch.setattr(time, "time", lambda: later.timestamp())
    second_bytes = report_bytes(plan, 2025, kind)
    assert first_bytes == second_bytes  # the very same file, not only the same text
    second = xml_parts(second_bytes)
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name
    finalised = timezone.localtime(plan.evaluation_finalised_at).date()
    assert f"{finalised.year}年{finalised.month}月{finalised.day}日" in first["word/document.xml"].decode()


def test_an_open_plan_states_today(plan, final_year) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    today = timezone.localtime(timezone.now()).date()
    text = "\n".join(paragraphs(report_bytes(plan, 2025, "final")))
    assert text.endswith(f"{today.year}年{today.month}月{today.day}日")


def test_libreoffice_lays_the_final_report_out(plan, final_year, soffice, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import re
    import subprocess

    docx = tmp_path / "final.docx"
    docx.write_bytes(report_bytes(plan, 2025, "final"))
    pdf = docx_to_pdf(docx, tmp_path)
    layout = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", layout)
    for heading in SECTIONS:
        assert heading in flat
    # The final values and the change over the period are never split across lines.
    lines = [re.sub(r"\s+", "", line) for line in layout.splitlines()]
    table = Document(io.BytesIO(docx.read_bytes())).tables[0]
    for row in table.rows[1:]:
        for index in (0, 4, 5, 6, 7, 9):
            whole = row.cells[index].text.replace(" ", "")
            assert any(whole in line for line in lines), whole
