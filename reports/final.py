"""终期评估报告: the whole period assessed against the targets, from the stored statuses of the plan's last year.

It reuses the annual report's collection (reports.collect) and layout (reports.document) and adds what a final
evaluation says: an overall conclusion with the 约束性 indicators first; every indicator with its baseline, its
target (and the adjusted target, 规划调整), its final-year value, achieved or not and the change over the period;
the column tasks by completion; the regions and the responsible units; what was not achieved and why, quoted from
the approved entries' own words (填报说明, 存在问题) and the reviewers' comments; and suggestions for the next plan,
each following from a figure stated beside it. Nothing is invented: where the entries say nothing, the report says
that they say nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from indicators.models import IndicatorStatus, IndicatorValue, TargetAdjustment
from indicators.selectors import target_adjustments_of, target_text
from planning.assessment import ACHIEVED, DISPLAY_LABELS, DISPLAY_STATUSES, NO_DATA, NO_PLAN, REGRESSING
from planning.models import Responsibility, ResponsibilityRole, Task, TaskProgress

from .charts import status_chart
from .collect import IndicatorLine, ReportData
from .document import (
    HEADING2_FONT,
    TITLE_FONT,
    TITLE_SIZE,
    _Builder,
    _date,
    _plain,
    cite,
    progress_text,
    report_time,
    target_cell,
)

NUMERALS = "一二三四五六七八九十"
# The final table on a landscape page (225 mm of type width).
FINAL_COLUMNS_MM = (10, 48, 14, 15, 19, 19, 21, 34, 20, 25)
QUOTES_PER_ITEM = 3  # the entries' own words quoted per item not achieved
QUOTE_CHARS = 120


@dataclass
class FinalLine:
    """One indicator at the end of the period (the plan's own region)."""

    line: IndicatorLine
    achieved: bool
    assessed: bool  # has an approved value in the period
    final_value: Decimal | None
    final_year: int | None
    target: Decimal | None  # the target in force in the last year (adjusted when adjusted)
    change: Decimal | None  # final value − baseline
    adjustments: list[TargetAdjustment] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def indicator(self) -> Any:
        return self.line.indicator

    @property
    def outcome(self) -> str:
        if not self.assessed:
            return "无已审核数据" if self.line.row.status == NO_DATA else "缺基期或目标"
        return "已实现" if self.achieved else "未实现"


@dataclass
class TaskLine:
    task: Task
    display: str
    label: str
    lead: str
    reasons: list[str] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        return self.display in (ACHIEVED, "achieved_early")


@dataclass
class RegionLine:
    name: str
    assessed: int
    achieved: int
    binding_assessed: int
    binding_achieved: int


@dataclass
class UnitLine:
    name: str
    indicators: int
    indicators_achieved: int
    tasks: int
    tasks_completed: int


@dataclass
class FinalData:
    lines: list[FinalLine]
    tasks: dict[str, list[TaskLine]]
    regions: list[RegionLine]
    units: list[UnitLine]


def _quote(text: str) -> str:
    """Someone's words as quoted: lines joined, cut at QUOTE_CHARS, in “”, their own “” turned into ‘’."""
    body = "；".join(part.strip().rstrip("。；;") for part in str(text).splitlines() if part.strip())
    if len(body) > QUOTE_CHARS:
        body = body[:QUOTE_CHARS] + "……"
    return "“" + body.replace("“", "‘").replace("”", "’") + "”"


def collect_final(data: ReportData) -> FinalData:
    """What the final evaluation adds to the annual collection; stored statuses of the last year, never recomputed."""
    plan = data.plan
    end = data.year
    indicator_ids = [line.indicator.pk for line in data.indicators]
    adjustments = target_adjustments_of(indicator_ids)

    # The entries' own words, approved only (a draft is not yet the bureau's word): the plan region's first.
    said: dict[int, list[str]] = defaultdict(list)
    values = (
        IndicatorValue.objects.filter(indicator__plan=plan, year__lte=end, approved_value__isnull=False)
        .exclude(note="", outlier_note="")
        .select_related("region")
        .order_by("-year", "region__order")
    )
    for value in values:
        for text in (value.note, value.outlier_note):
            if text.strip():
                said[value.indicator_id].append(f"{value.region.name}{value.year}年填报说明：{_quote(text)}")
    # Reviewers' comments when they returned an entry (kept in the entries' history).
    returned = (
        IndicatorValue.history.filter(indicator__plan=plan, year__lte=end)
        .exclude(review_comment="")
        .select_related("region")
        .order_by("-year", "region__order", "history_date")
    )
    seen: set[tuple[int, str]] = set()
    for row in returned:
        key = (row.indicator_id, row.review_comment)
        if key in seen:
            continue
        seen.add(key)
        said[row.indicator_id].append(f"{row.region.name}{row.year}年审核意见：{_quote(row.review_comment)}")

    lines = []
    for line in data.indicators:
        row = line.row
        assessed = row.status not in (NO_DATA, NO_PLAN) or row.latest_value is not None
        baseline = row.baseline_value if row.baseline_value is not None else line.indicator.baseline_value
        change = row.latest_value - baseline if row.latest_value is not None and baseline is not None else None
        lines.append(
            FinalLine(
                line=line,
                achieved=row.status == ACHIEVED,
                assessed=row.latest_value is not None and assessed,
                final_value=row.latest_value,
                final_year=row.latest_year,
                target=row.target_value if row.target_value is not None else line.indicator.target_value,
                change=change,
                adjustments=adjustments.get(line.indicator.pk, []),
                reasons=said.get(line.indicator.pk, [])[:QUOTES_PER_ITEM],
            )
        )

    task_comments: dict[int, list[str]] = defaultdict(list)
    for row in (
        TaskProgress.history.filter(task__plan=plan, year__lte=end)
        .exclude(review_comment="")
        .order_by("-year", "history_date")
        .values("task_id", "year", "review_comment")
    ):
        text = f"{row['year']}年审核意见：{_quote(row['review_comment'])}"
        if text not in task_comments[row["task_id"]]:
            task_comments[row["task_id"]].append(text)
    tasks: dict[str, list[TaskLine]] = {}
    for group, items in data.tasks_by_group.items():
        tasks[group] = []
        for task, display, label, lead in items:
            reasons = []
            words = progress_text(data.notes_for(task.pk), end)
            if words:
                reasons.append(words)
            reasons.extend(task_comments.get(task.pk, [])[:QUOTES_PER_ITEM])
            tasks[group].append(TaskLine(task, display, label, lead, reasons))

    # Regions: each division's indicators as of the last year (own targets or the city's, as the statuses say).
    binding = {line.indicator.pk for line in data.indicators if line.indicator.is_binding}
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for indicator_id, region_id, status in IndicatorStatus.objects.filter(
        indicator__plan=plan, as_of_year=end, region__in=plan.area_divisions()
    ).values_list("indicator_id", "region_id", "status"):
        if status in (NO_DATA, NO_PLAN):
            continue
        tally = counts[region_id]
        tally["assessed"] += 1
        tally["achieved"] += status == ACHIEVED
        if indicator_id in binding:
            tally["binding_assessed"] += 1
            tally["binding_achieved"] += status == ACHIEVED
    regions = [
        RegionLine(
            region.name,
            counts[region.pk]["assessed"],
            counts[region.pk]["achieved"],
            counts[region.pk]["binding_assessed"],
            counts[region.pk]["binding_achieved"],
        )
        for region in plan.area_divisions()
    ]

    # Responsible units: the indicators and the tasks they lead.
    units: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for final in lines:
        unit = final.indicator.lead_unit
        if unit is not None and final.assessed:
            units[unit.name][0] += 1
            units[unit.name][1] += final.achieved
    completed = {t.task.pk: t.completed for items in tasks.values() for t in items}
    for name, task_id in (
        Responsibility.objects.filter(task__plan=plan, role=ResponsibilityRole.LEAD)
        .filter(~Q(task_id=None))
        .values_list("unit__name", "task_id")
        .order_by("unit__order", "unit__name", "task__order")
    ):
        units[name][2] += 1
        units[name][3] += completed.get(task_id, False)
    unit_lines = [UnitLine(name, *figures) for name, figures in units.items()]
    return FinalData(lines=lines, tasks=tasks, regions=regions, units=unit_lines)


def build_final_docx(data: ReportData, final: FinalData) -> bytes:
    return _FinalBuilder(data, final).build()


def _signed(value: Decimal | None) -> str:
    if value is None:
        return "—"
    text = _plain(value)
    return text if text.startswith("-") or text == "0" else f"+{text}"


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


class _FinalBuilder(_Builder):
    def __init__(self, data: ReportData, final: FinalData) -> None:
        super().__init__(data)
        self.final = final
        self.region_table = 0

    # --- figures the sections share --------------------------------------------------------------------

    def _binding(self) -> list[FinalLine]:
        return [f for f in self.final.lines if f.indicator.is_binding]

    def _missed(self) -> list[FinalLine]:
        return [f for f in self.final.lines if f.assessed and not f.achieved]

    def _undated(self) -> list[FinalLine]:
        return [f for f in self.final.lines if not f.assessed]

    def _value(self, f: FinalLine) -> str:
        if f.final_value is None:
            return "无已审核数据"
        year = "" if f.final_year == self.data.year else f"（{f.final_year}年）"
        return f"{_plain(f.final_value)}{year}"

    def _figures(self, f: FinalLine, *, short: bool = False) -> str:
        """The figures a sentence about an indicator cites: final value, target in force, gap (表1第n项)."""
        unit = f.indicator.unit if f.indicator.unit not in ("", "—") else ""
        gap = (
            f"差距{_plain(abs(f.target - f.final_value))}{unit}"
            if f.final_value is not None and f.target is not None and not f.achieved
            else ""
        )
        if short:
            return f"{gap or self._value(f)}，表1第{f.indicator.number}项"
        when = f"{self.data.year}年" if f.final_year == self.data.year else f"最近一年已审核数据（{f.final_year}年）"
        target = _plain(f.target) + f.indicator.target_qualifier
        text = f"{when}为{_plain(f.final_value)}{unit}，目标{target}{unit}"
        if gap:
            text += f"，{gap}"
        if f.line.row.completion is not None and not f.achieved:
            text += f"，完成度{f.line.row.completion * 100:.0f}%"
        return text + f"（见表1第{f.indicator.number}项）"

    def _tasks(self) -> list[TaskLine]:
        return [t for items in self.final.tasks.values() for t in items]

    # --- the document ------------------------------------------------------------------------------------

    def build(self) -> bytes:

        from docx.shared import Pt

        data = self.data
        plan = data.plan
        self.setup_styles()
        self.setup_page()
        self.properties()
        for text in (plan.title, "终期评估报告"):
            p = self.paragraph(indent=False, align="CENTER")
            p.paragraph_format.line_spacing = Pt(36)
            self.run(p, text, TITLE_FONT, TITLE_SIZE)
        self.paragraph(indent=False)
        note = self.paragraph(indent=False, align="CENTER")
        self.run(
            note,
            f"（规划期{plan.period_start_year}—{plan.period_end_year}年，数据截至{data.year}年，依据已审核数据）",
            HEADING2_FONT,
        )
        if data.demo:
            self.demo_warning()
        self.paragraph(indent=False)
        groups = list(self.final.tasks)
        entries: list[tuple[int, str]] = [
            (1, "一、总体结论"),
            (1, "二、主要指标完成情况"),
            (1, "三、专栏任务完成情况"),
            *[(2, f"（{NUMERALS[i]}）{group}") for i, group in enumerate(groups)],
            (1, "四、各地区和责任单位完成情况"),
            (2, "（一）各地区"),
            (2, "（二）责任单位"),
            (1, "五、未实现的目标及原因"),
            (2, "（一）主要指标"),
            (2, "（二）专栏任务"),
            (1, "六、对下一规划的建议"),
            (1, "七、说明"),
        ]
        self.table_of_contents(entries)
        self.page_break()

        self.conclusion()
        self.indicator_table()
        self.task_sections(groups)
        self.regions_and_units()
        self.not_achieved()
        self.suggestions()
        self.final_notes()

        self.paragraph()
        date = _date(timezone.localtime(report_time(plan)).date())

        def width(text: str) -> float:
            return sum(0.5 if ch.isascii() else 1 for ch in text)

        for text, indent in ((plan.issuing_body, 4 + (width(date) - width(plan.issuing_body)) / 2), (date, 4)):
            p = self.paragraph(text, indent=False, align="RIGHT")
            p.paragraph_format.right_indent = Pt(16 * max(indent, 0))
        return self.saved()

    def conclusion(self) -> None:
        data, final = self.data, self.final
        plan = data.plan
        self.heading("一、总体结论", 1)
        binding = self._binding()
        binding_missed = [f for f in binding if not f.achieved]
        if not binding:
            text = "本规划未设约束性指标。"
        elif not binding_missed:
            text = f"约束性指标{len(binding)}项，全部实现。"
        else:
            # Not achieved, or not to be judged for want of approved data: said as such.
            names = "、".join(f.indicator.name + ("" if f.assessed else f"（{f.outcome}）") for f in binding_missed)
            met = len(binding) - len(binding_missed)
            text = (
                f"约束性指标{len(binding)}项，"
                + (f"实现{met}项，" if met else "")
                + f"未实现{len(binding_missed)}项：{names}。"
            )
        self.paragraph(text)
        total = len(final.lines)
        achieved = sum(f.achieved for f in final.lines)
        missed = self._missed()
        undated = self._undated()
        text = (
            f"规划期{plan.period_start_year}—{plan.period_end_year}年已满。{total}项主要指标中，"
            f"按{data.year}年已审核数据，{achieved}项实现规划目标"
        )
        text += f"，{len(missed)}项未实现"
        if undated:
            text += f"，{len(undated)}项没有可据以判定的已审核数据"
        text += "。"
        lagging = [f for f in final.lines if f.assessed and f.final_year != data.year]
        if lagging:
            text += f"其中{len(lagging)}项指标尚无{data.year}年已审核数据，按最近一年已审核数据判定。"
        adjusted = [f for f in final.lines if f.adjustments]
        if adjusted:
            text += f"规划期内有{len(adjusted)}项指标的目标经规划调整，按调整后目标判定（见第七部分）。"
        self.paragraph(text)
        tasks = self._tasks()
        done = sum(t.completed for t in tasks)
        self.paragraph(
            f"专栏任务{len(tasks)}项，按{data.year}年已审核进展，{done}项完成目标，{len(tasks) - done}项未完成。"
            f"指标状态分布见图{self.figures + 1}。"
        )
        self.figure(status_chart(data.counts), f"主要指标{data.year}年状态分布", width_mm=130)

    def indicator_table(self) -> None:
        data = self.data
        plan = data.plan
        self.section(landscape=True)
        self.heading("二、主要指标完成情况", 1)
        self.paragraph(
            f"各项主要指标的基期值、目标值、{data.year}年值和规划期变化见表{self.tables + 1}；"
            "“调整后目标值”为经规划调整、在末年有效的目标，未调整的为“—”。"
        )
        self.caption("表", f"主要指标完成情况（{plan.period_start_year}—{plan.period_end_year}年）")
        headers = [
            "序号",
            "指标",
            "单位",
            "属性",
            f"{plan.baseline_year}年基期值",
            f"{plan.period_end_year}年目标值",
            "调整后目标值",
            f"{data.year}年值",
            "是否实现",
            "规划期变化",
        ]
        rows = []
        for f in self.final.lines:
            indicator, row = f.indicator, f.line.row
            adjusted = (
                _plain(f.target) + indicator.target_qualifier
                if f.target is not None and f.target != indicator.target_value
                else "—"
            )
            rows.append(
                [
                    str(indicator.number),
                    indicator.name,
                    indicator.unit,
                    indicator.get_attribute_display(),
                    _plain(row.baseline_value if row.baseline_value is not None else indicator.baseline_value),
                    _plain(indicator.target_value) + indicator.target_qualifier,
                    adjusted,
                    self._value(f),
                    f.outcome,
                    _signed(f.change),
                ]
            )
        self.table(headers, rows, FINAL_COLUMNS_MM, numeric={0, 2, 3, 4, 5, 6, 7, 8, 9})
        self.section(landscape=False)

    def task_sections(self, groups: list[str]) -> None:
        data = self.data
        self.heading("三、专栏任务完成情况", 1)
        tasks = self._tasks()
        done = sum(t.completed for t in tasks)
        self.paragraph(
            f"专栏任务共{len(tasks)}项，按{data.year}年已审核进展完成{done}项，完成率{_share(done, len(tasks))}，"
            f"各组完成情况见表{self.tables + 1}；未完成的任务及原因见第五部分。"
        )
        self.caption("表", "专栏任务完成情况")
        rows = []
        for group in groups:
            items = self.final.tasks[group]
            finished = sum(t.completed for t in items)
            rows.append([group, str(len(items)), str(finished), _share(finished, len(items))])
        self.table(["任务组", "任务数", "已完成", "完成率"], rows, (80, 24, 24, 24), numeric={1, 2, 3})
        for index, group in enumerate(groups):
            items = self.final.tasks[group]
            self.heading(f"（{NUMERALS[index]}）{group}", 2)
            counts = Counter(t.display for t in items if not t.completed)
            finished = sum(t.completed for t in items)
            text = f"共{len(items)}项，完成{finished}项"
            if counts:
                text += "；未完成的" + "、".join(
                    f"{DISPLAY_LABELS[key]}{n}项" for key, _label in DISPLAY_STATUSES if (n := counts.get(key))
                )
            self.paragraph(text + "。")

    def regions_and_units(self) -> None:
        data, final = self.data, self.final
        self.heading("四、各地区和责任单位完成情况", 1)
        self.heading("（一）各地区", 2)
        regions = [r for r in final.regions if r.assessed]
        if not regions:
            self.paragraph("各地区没有可据以判定的已审核数据。")
        else:
            self.paragraph(
                f"各县（市、区）按{data.year}年已审核数据判定的指标实现情况见表{self.tables + 1}"
                "（各地区的目标为分解目标，未分解的按全市目标判定）。"
            )
            self.caption("表", f"各地区主要指标实现情况（{data.year}年）")
            self.region_table = self.tables
            self.table(
                ["区域", "已判定指标", "已实现", "实现率", "约束性已实现"],
                [
                    [
                        r.name,
                        str(r.assessed),
                        str(r.achieved),
                        _share(r.achieved, r.assessed),
                        f"{r.binding_achieved}/{r.binding_assessed}" if r.binding_assessed else "—",
                    ]
                    for r in regions
                ],
                (44, 30, 26, 26, 30),
                numeric={1, 2, 3, 4},
            )
        self.heading("（二）责任单位", 2)
        units = [u for u in final.units if u.indicators or u.tasks]
        if not units:
            self.paragraph("没有明确牵头单位的指标或任务。")
            return
        self.paragraph(f"各牵头单位所牵头指标和专栏任务的完成情况见表{self.tables + 1}。")
        self.caption("表", "责任单位牵头指标和任务完成情况")
        self.table(
            ["牵头单位", "牵头指标", "已实现", "牵头任务", "已完成"],
            [
                [u.name, str(u.indicators), str(u.indicators_achieved), str(u.tasks), str(u.tasks_completed)]
                for u in units
            ],
            (56, 25, 25, 25, 25),
            numeric={1, 2, 3, 4},
        )

    def not_achieved(self) -> None:
        data = self.data
        self.heading("五、未实现的目标及原因", 1)
        self.heading("（一）主要指标", 2)
        missed = sorted(self._missed(), key=lambda f: (not f.indicator.is_binding, f.indicator.number))
        if not missed:
            self.paragraph("已判定的主要指标均已实现。")
        for index, f in enumerate(missed, 1):
            mark = "（约束性）" if f.indicator.is_binding else ""
            unit = f.indicator.lead_unit.name if f.indicator.lead_unit else "未明确"
            text = f"{index}. {f.indicator.name}{mark}：{self._figures(f)}。牵头单位：{unit}。"
            if f.reasons:
                text += "填报和审核记录中的说明：" + "；".join(f.reasons) + "。"
            else:
                text += "填报和审核记录中没有相关说明。"
            self.paragraph(text)
        undated = self._undated()
        if undated:
            names = "、".join(f.indicator.name for f in undated)
            self.paragraph(f"另有{len(undated)}项指标规划期内没有可据以判定的已审核数据：{names}。")
        self.heading("（二）专栏任务", 2)
        open_ = [t for t in self._tasks() if not t.completed]
        if not open_:
            self.paragraph("专栏任务均已完成。")
        for index, t in enumerate(open_, 1):
            text = f"{index}. {t.task.label} {t.task.title}（进度状态：{t.label}，牵头单位：{t.lead or '未明确'}）。"
            text += "".join(t.reasons) if t.reasons else f"截至{data.year}年没有已审核的进展说明。"
            self.paragraph(text.rstrip("。") + "。")

    def suggestions(self) -> None:
        """Each suggestion follows from the figures it cites; none is about a matter the data does not show."""
        final = self.final
        self.heading("六、对下一规划的建议", 1)
        self.paragraph("以下建议均由本报告所列数据得出，供编制下一规划时参考。")
        said: list[str] = []
        binding_missed = [f for f in self._binding() if f.assessed and not f.achieved]
        for f in binding_missed:
            said.append(
                f"{f.indicator.name}为约束性指标且未实现（{self._figures(f)}），建议下一规划继续保留为约束性指标，并落实专项措施。"
            )
        others = [f for f in self._missed() if not f.indicator.is_binding]
        regressed = [f for f in others if f.line.row.status == REGRESSING]
        behind = [f for f in others if f.line.row.status != REGRESSING]
        if behind:
            cited = "；".join(f"{f.indicator.name}（{self._figures(f, short=True)}）" for f in behind)
            said.append(f"未实现的预期性指标{len(behind)}项（{cited}），建议保留并加强推进。")
        if regressed:
            cited = "；".join(
                f"{f.indicator.name}，规划期变化{_signed(f.change)}（见表1第{f.indicator.number}项）" for f in regressed
            )
            said.append(f"{len(regressed)}项指标较基期倒退（{cited}），建议分析原因，作为下一规划的重点指标。")
        achieved = [f for f in final.lines if f.achieved]
        if achieved:
            cited = "、".join(f"{f.indicator.name}（{self._value(f)}，表1第{f.indicator.number}项）" for f in achieved)
            said.append(
                f"已实现的{len(achieved)}项指标（{cited}），建议以实际达到的水平为新基期，研究设定下一规划目标。"
            )
        undated = self._undated()
        if undated:
            cited = "、".join(f.indicator.name for f in undated)
            said.append(
                f"{len(undated)}项指标规划期内没有可据以判定的已审核数据（{cited}），建议下一规划明确统计口径、数据来源和填报责任。"
            )
        open_ = [t for t in self._tasks() if not t.completed]
        if open_:
            said.append(
                f"未完成的专栏任务{len(open_)}项（见表2和第五部分），建议逐项评估后纳入下一规划或年度工作安排。"
            )
        regions = [r for r in final.regions if r.assessed]
        if len(regions) > 1:
            lowest = min(regions, key=lambda r: (r.achieved / r.assessed, r.name))
            highest = max(regions, key=lambda r: (r.achieved / r.assessed, r.name))
            if lowest.achieved * highest.assessed < highest.achieved * lowest.assessed:
                said.append(
                    f"地区间实现率差距明显：{lowest.name}为{_share(lowest.achieved, lowest.assessed)}"
                    f"（{lowest.achieved}/{lowest.assessed}），{highest.name}为{_share(highest.achieved, highest.assessed)}"
                    f"（{highest.achieved}/{highest.assessed}）（见表{self.region_table}），建议下一规划对实现率较低的地区加强支持和督导。"
                )
        if not said:
            said.append("各项指标和任务均已实现，建议下一规划在此基础上研究设定更高目标。")
        for index, text in enumerate(said, 1):
            self.paragraph(f"{index}. {text}")

    def final_notes(self) -> None:
        data = self.data
        self.heading("七、说明", 1)
        self.paragraph(
            f"1. 本报告由系统根据各单位填报并经审核通过的数据生成。“是否实现”按{data.year}年（无当年数据的按最近一年）"
            "已审核值与目标值比较：达到或优于目标为已实现；“规划期变化”为该值与基期值之差。"
        )
        basis = f"2. 指标、目标和专栏任务依据{cite(data.plan, with_body=False)}"
        if data.related_plans:
            basis += "；部分任务的责任单位依据" + "、".join(cite(other, with_body=True) for other in data.related_plans)
        self.paragraph(basis + "。")
        adjusted = [f for f in self.final.lines if f.adjustments]
        if adjusted:
            self.paragraph(
                "3. 规划调整："
                + "；".join(f"{f.indicator.name}{target_text(f.indicator, f.adjustments)}" for f in adjusted)
                + "。调整生效年度及以后按调整后目标判定，此前各年按原目标判定。"
            )
        else:
            self.paragraph("3. 规划期内没有指标目标经规划调整。")
        self.paragraph("4. 未实现原因引自填报说明、任务进展中的“存在问题”和审核意见，按原文引用并注明区域和年度。")


__all__ = ["FinalData", "build_final_docx", "collect_final", "target_cell"]
