"""年度监测报告 and 中期评估报告 as .docx (python-docx), from what `reports.collect` gathered."""

from __future__ import annotations

import io
from collections import Counter
from decimal import Decimal
from typing import Any

from django.utils import timezone

from planning.assessment import DISPLAY_LABELS, DISPLAY_STATUSES

from .charts import completion_chart, status_chart
from .collect import ReportData
from .models import ReportKind


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
