"""Plan workbooks built in tests: a new plan titled 示例 (never shown as a real plan), and edits of exported ones."""

from __future__ import annotations

import io
from typing import Any

from exchange import plan_workbook as pw

EXAMPLE_CODE = "example-15fyp"


def example_rows() -> dict[str, list[list[Any]]]:
    """A small new plan (2026—2030, base year 2025) whose two indicators continue the 14th plan's indicators 2 and 7."""
    plan = {
        "code": EXAMPLE_CODE,
        "title": "示例：乐山市“十五五”教育发展规划（测试构造，非真实规划）",
        "short_title": "示例十五五规划",
        "issuing_body": "乐山市教育局",
        "issuing_body_note": "",
        "issued_on": "",
        "issued_on_text": "",
        "period_start_year": 2026,
        "period_end_year": 2030,
        "baseline_year": 2025,
        "region": "乐山市",
        "source": "示例（测试构造，非真实文件）",
        "note": "示例数据，仅用于测试。",
        "lagging_below": 0.6,
        "watch_below": 0.95,
        "on_track_below": 1.05,
    }
    return {
        pw.PLAN_SHEET: [[f.title, plan[f.key]] for f in pw.PLAN_FIELDS],
        pw.INDICATOR_SHEET: [
            # 序号 名称 单位 基期年 基期值 来源 目标年 目标值 限定语 属性 方向 小数 上限 加总 牵头 依据类型 依据 专栏 原文 说明 上一规划
            [
                1,
                "学前教育毛入园率",
                "%",
                2025,
                None,
                "",
                2030,
                97,
                "",
                "预期性",
                "越高越好",
                2,
                100,
                "否",
                "市教育局",
                "原文载明",
                "示例",
                1,
                "",
                "",
                "leshan-edu-14fyp#2",
            ],
            [
                2,
                "九年义务教育巩固率",
                "%",
                2025,
                96.5,
                "示例统计",
                2030,
                97,
                "以上",
                "约束性",
                "越高越好",
                2,
                100,
                "否",
                "市教育局",
                "原文载明",
                "示例",
                1,
                "",
                "",
                "leshan-edu-14fyp#7",
            ],
        ],
        pw.INITIATIVE_SHEET: [["（一）", "示例举措分组", "E1", 1, "示例重点举措"]],
        pw.COLUMN_SHEET: [[1, "示例主要指标", ""]],
        pw.TASK_SHEET: [["E1.1", "（一）1", 1, "示例任务", "示例：到2030年新建公办幼儿园10所。", "E1", None]],
        pw.TARGET_SHEET: [
            ["E1.1", "期末累计", "新建公办幼儿园", 10, None, "所", "", 2030, 0, "", "新建公办幼儿园10所"],
        ],
        pw.RESPONSIBILITY_SHEET: [
            ["E1.1", "市教育局", "牵头单位", "原文载明", "示例"],
            ["E1.1", "市财政局", "配合单位", "原文载明", "示例"],
        ],
    }


def workbook_bytes(rows: dict[str, list[list[Any]]]) -> bytes:
    """A workbook in the export's layout (mark, sheets, headings) holding `rows`."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = pw.HELP_SHEET
    workbook.active["A1"] = pw.WORKBOOK_MARK
    plan_sheet = workbook.create_sheet(pw.PLAN_SHEET)
    plan_sheet.append(["项目", "内容"])
    for row in rows[pw.PLAN_SHEET]:
        plan_sheet.append(row)
    for name, fields in pw.TABLES:
        sheet = workbook.create_sheet(name)
        sheet.append([f.title for f in fields])
        for row in rows[name]:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def example_workbook() -> bytes:
    return workbook_bytes(example_rows())


def edited(data: bytes, sheet: str, cell: str, value: Any) -> bytes:
    """`data` with one cell changed (None empties it)."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data))
    workbook[sheet][cell] = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
