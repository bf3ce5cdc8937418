"""年度监测报告 and 中期评估报告 as .docx, built from the stored statuses (python-docx, charts by matplotlib).

The tables read the same IndicatorStatus/TaskStatus rows as the dashboards, so the report and the pages agree.
Charts are drawn server-side with the Noto CJK font installed with the system (fonts-noto-cjk).
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from planning.assessment import DISPLAY_LABELS, DISPLAY_STATUSES, display_status
from planning.models import Plan, Responsibility, ResponsibilityRole, Task, TaskStatus
from planning.selectors import AnnotatedAssessment

from .demo import demo_present
from .models import Flag, FlagKind, FlagState, Indicator, IndicatorValue, ReportKind
from .selectors import indicators_with_assessment

CJK_FONT_FILES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
]
CHART_COLOURS = {
    "achieved_early": "#0f7b3f",
    "achieved": "#2e9d57",
    "ahead": "#5cb85c",
    "on_track": "#3b73b9",
    "watch": "#e0a100",
    "lagging": "#d9641e",
    "regressing": "#c0392b",
    "no_data": "#b8c0cc",
    "no_plan": "#d5dae1",
}


@dataclass
class IndicatorLine:
    indicator: Indicator
    row: AnnotatedAssessment
    display: str
    label: str


@dataclass
class ReportData:
    plan: Plan
    year: int
    kind: str
    indicators: list[IndicatorLine]
    counts: list[tuple[str, str, int]]
    task_counts: list[tuple[str, str, int]]
    tasks_by_group: dict[str, list[tuple[Task, str, str, str]]]
    concerns: list[tuple[Flag, str]]
    demo: bool


def collect(plan: Plan, year: int, kind: str) -> ReportData:
    """Everything the report says, read from stored statuses (never recomputed here)."""
    indicators = list(
        indicators_with_assessment(
            Indicator.objects.filter(plan=plan).select_related("lead_unit", "plan"), year=year
        ).order_by("number")
    )
    lines = []
    for indicator in indicators:
        row = AnnotatedAssessment.of(indicator)
        display = display_status(row.status, row.latest_year, indicator.target_year)
        lines.append(IndicatorLine(indicator, row, display, DISPLAY_LABELS[display]))
    counts = Counter(line.display for line in lines)
    tasks = (
        Task.objects.filter(plan=plan)
        .select_related("initiative")
        .prefetch_related(
            Prefetch(
                "statuses",
                queryset=TaskStatus.objects.filter(as_of_year=year, target__isnull=True),
                to_attr="year_statuses",
            ),
            Prefetch(
                "responsibilities",
                queryset=Responsibility.objects.filter(role=ResponsibilityRole.LEAD).select_related("unit"),
                to_attr="leads",
            ),
        )
        .order_by("order")
    )
    task_counts: Counter[str] = Counter()
    by_group: dict[str, list[tuple[Task, str, str, str]]] = defaultdict(list)
    for task in tasks:
        overall = task.year_statuses[0] if task.year_statuses else None
        display = display_status(overall.status, overall.latest_year, plan.period_end_year) if overall else "no_data"
        task_counts[display] += 1
        lead = "、".join(r.unit.name for r in task.leads)
        by_group[task.initiative.group_title].append((task, display, DISPLAY_LABELS[display], lead))
    flags = list(
        Flag.objects.filter(plan=plan, state=FlagState.OPEN, kind=FlagKind.LAG)
        .select_related("indicator", "task", "region", "lead_unit")
        .order_by("-is_binding", "indicator__number", "task__order", "region__order")
    )
    notes: dict[tuple[int | None, int | None], str] = {
        (v.indicator_id, v.region_id): v.note or v.outlier_note
        for v in IndicatorValue.objects.filter(indicator__plan=plan, year__lte=year, approved_value__isnull=False)
        .exclude(note="", outlier_note="")
        .order_by("year")
    }
    concerns = [
        (flag, notes.get((flag.indicator_id, flag.region_id), "") if flag.indicator_id else "") for flag in flags
    ]
    return ReportData(
        plan=plan,
        year=year,
        kind=kind,
        indicators=lines,
        counts=[(key, label, counts.get(key, 0)) for key, label in DISPLAY_STATUSES],
        task_counts=[(key, label, task_counts.get(key, 0)) for key, label in DISPLAY_STATUSES],
        tasks_by_group=dict(by_group),
        concerns=concerns,
        demo=demo_present(),
    )


# --- charts ----------------------------------------------------------------------------------------


def _font() -> Any:
    from matplotlib import font_manager

    for path in CJK_FONT_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path)
    return None


def status_chart(counts: list[tuple[str, str, int]], title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = _font()
    shown = [(k, label, n) for k, label, n in counts if n]
    figure, axis = plt.subplots(figsize=(6.2, 0.45 * max(len(shown), 3) + 0.8), dpi=150)
    axis.barh([label for _, label, _ in shown], [n for *_, n in shown], color=[CHART_COLOURS[k] for k, _, _ in shown])
    axis.invert_yaxis()
    for index, (_k, _l, n) in enumerate(shown):
        axis.text(n, index, f" {n}", va="center", fontproperties=font)
    axis.set_title(title, fontproperties=font)
    for label in axis.get_yticklabels():
        label.set_fontproperties(font)
    axis.spines[["top", "right"]].set_visible(False)
    from matplotlib.ticker import MaxNLocator

    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    output = io.BytesIO()
    figure.savefig(output, format="png")
    plt.close(figure)
    return output.getvalue()


def completion_chart(lines: list[IndicatorLine], title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = _font()
    names = [f"{line.indicator.number}. {line.indicator.name}" for line in lines]
    completion = [float(line.row.completion or 0) * 100 for line in lines]
    expected = [float(line.row.expected_completion or 0) * 100 for line in lines]
    figure, axis = plt.subplots(figsize=(6.2, 0.32 * len(lines) + 1.2), dpi=150)
    positions = range(len(lines))
    axis.barh(
        positions, [min(max(c, 0), 130) for c in completion], color=[CHART_COLOURS[line.display] for line in lines]
    )
    axis.scatter(expected, positions, marker="|", s=220, color="#1f2933", zorder=3, label="按时间应完成")
    axis.set_yticks(list(positions), names)
    axis.invert_yaxis()
    axis.set_xlabel("完成度（%）", fontproperties=font)
    axis.set_title(title, fontproperties=font)
    for label in axis.get_yticklabels():
        label.set_fontproperties(font)
        label.set_fontsize(8)
    axis.legend(prop=font, loc="lower right")
    axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    output = io.BytesIO()
    figure.savefig(output, format="png")
    plt.close(figure)
    return output.getvalue()


# --- the document ---------------------------------------------------------------------------------


def _plain(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.normalize():f}"


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def build_docx(data: ReportData) -> bytes:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    document = Document()
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)

    def font(run: Any, name: str, size: float, bold: bool = False) -> None:
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.name = name
        run._element.rPr.rFonts.set(qn("w:eastAsia"), name)

    normal = document.styles["Normal"]
    normal.font.size = Pt(14)
    normal.font.name = "仿宋"
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋")

    def paragraph(
        text: str,
        *,
        size: float = 14,
        name: str = "仿宋",
        bold: bool = False,
        center: bool = False,
        indent: bool = True,
    ) -> Any:
        p = document.add_paragraph()
        p.paragraph_format.line_spacing = Pt(28)
        if indent:
            p.paragraph_format.first_line_indent = Pt(size * 2)
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        font(p.add_run(text), name, size, bold)
        return p

    def heading(text: str) -> None:
        paragraph(text, name="黑体", size=14, indent=True)

    kind_label = str(dict(ReportKind.choices)[data.kind])
    plan_title = data.plan.title
    paragraph(f"{plan_title}", size=20, name="方正小标宋简体", center=True, indent=False)
    paragraph(
        f"{data.year}年{kind_label}" if data.kind == ReportKind.ANNUAL else kind_label,
        size=20,
        name="方正小标宋简体",
        center=True,
        indent=False,
    )
    paragraph(
        f"（数据截至{data.year}年，依据已审核数据；{timezone.localdate():%Y年%m月%d日}由乐山教育规划目标跟踪系统生成）",
        size=12,
        name="楷体",
        center=True,
        indent=False,
    )
    if data.demo:
        warning = paragraph(
            "特别说明：系统中当前含有系统生成的演示数据（非真实统计），本报告中的数值仅用于演示，不得作为工作依据。",
            size=12,
            name="黑体",
            indent=False,
        )
        for run in warning.runs:
            run.font.color.rgb = RGBColor(0xB4, 0x23, 0x18)

    total = len(data.indicators)
    described = "，".join(f"{label}{n}项" for _k, label, n in data.counts if n)
    binding = [line for line in data.indicators if line.indicator.is_binding]
    elapsed = (data.year - data.plan.baseline_year) / (data.plan.period_end_year - data.plan.baseline_year)
    heading("一、总体情况")
    intro = (
        f"截至{data.year}年，规划期已过{elapsed:.0%}。{total}项主要指标中，{described}。"
        if data.kind == ReportKind.ANNUAL
        else f"规划实施已过{elapsed:.0%}，按“时间过半、任务过半”的要求评估：{total}项主要指标中，{described}。"
    )
    if binding:
        intro += "约束性指标" + "、".join(f"{b.indicator.name}{b.label}" for b in binding) + "。"
    task_described = "，".join(f"{label}{n}项" for _k, label, n in data.task_counts if n)
    intro += f"专栏任务{sum(n for *_, n in data.task_counts)}项中，{task_described}。"
    paragraph(intro)
    document.add_picture(io.BytesIO(status_chart(data.counts, "主要指标进度状态")), width=Cm(14))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER

    heading("二、主要指标完成情况")
    headers = [
        "序号",
        "指标",
        "单位",
        "属性",
        f"{data.plan.baseline_year}年基期",
        "最新值",
        f"{data.plan.period_end_year}年目标",
        "完成度/应完成",
        "状态",
    ]
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = [Cm(w) for w in (0.8, 3.5, 1.1, 1.3, 1.3, 2.5, 1.3, 2.1, 1.7)]
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = ""
        font(cell.paragraphs[0].add_run(text), "黑体", 9, True)
    for line in data.indicators:
        indicator, row = line.indicator, line.row
        latest = f"{_plain(row.latest_value)}（{row.latest_year}）" if row.latest_year else "—"
        values = [
            str(indicator.number),
            indicator.name,
            indicator.unit,
            indicator.get_attribute_display(),
            _plain(row.baseline_value if row.baseline_value is not None else indicator.baseline_value),
            latest,
            _plain(indicator.target_value) + indicator.target_qualifier,
            f"{_pct(row.completion)}/{_pct(row.expected_completion)}",
            line.label,
        ]
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            cell.text = ""
            font(cell.paragraphs[0].add_run(text), "仿宋", 9)
    # Both the grid (LibreOffice reads it) and each cell (Word reads those).
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
    document.add_paragraph()
    document.add_picture(io.BytesIO(completion_chart(data.indicators, "完成度与按时间应完成（竖线）")), width=Cm(15))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER

    heading("三、需要关注的事项")
    if not data.concerns:
        paragraph("截至目前，没有未解除的进度预警。")
    for index, (flag, note) in enumerate(data.concerns[:40], 1):
        mark = "（约束性）" if flag.is_binding else ""
        unit = flag.lead_unit.name if flag.lead_unit else "未明确"
        text = f"{index}. {flag.subject}{mark}：{flag.reason}。牵头单位：{unit}。"
        if note:
            text += f"填报说明：{note}"
        paragraph(text)
    if len(data.concerns) > 40:
        paragraph(f"另有{len(data.concerns) - 40}项，详见系统“总览”页。")

    heading("四、专栏任务推进情况")
    for group, items in data.tasks_by_group.items():
        counts = Counter(display for _t, display, _l, _u in items)
        summary = "，".join(f"{DISPLAY_LABELS[k]}{n}项" for k, _label in DISPLAY_STATUSES if (n := counts.get(k)))
        paragraph(f"{group}：共{len(items)}项任务，{summary}。")
        behind = [(task, label, lead) for task, display, label, lead in items if display in ("lagging", "regressing")]
        for task, label, lead in behind:
            paragraph(f"· {task.label} {task.title}（{label}，牵头单位：{lead or '未明确'}）", indent=True)

    heading("五、说明")
    paragraph(
        "1. 本报告由系统根据各单位填报并经审核通过的数据自动生成；状态按“完成度÷按时间应完成”的进度比划分："
        "低于0.6为滞后，0.6—0.95为需加快，0.95—1.05为基本符合预期，1.05以上为快于预期；低于基期为倒退。"
    )
    paragraph(
        f"2. 规划文本来源：{data.plan.source_document}。趋势预测为基期与各年已审核数据的最小二乘直线外推至{data.plan.period_end_year}年。"
    )
    output = io.BytesIO()
    document.save(output)
    return output.getvalue()
