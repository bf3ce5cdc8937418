"""Finishing a worksheet for official use, shared by the 填报模板 and the status export.

Numbers are written as numbers (never as text, so SUM and sorting work) with a number format; the header row is
frozen and carries an auto-filter; column widths are estimated from the longest text shown, a CJK character
counting double (Excel's width unit is the width of one Latin digit).
"""

from __future__ import annotations

import datetime
import math
import unicodedata
from decimal import Decimal
from typing import Any

PERCENT_FORMAT = "0.0%"
LINE_HEIGHT = 15  # points per line of 11-point text, CJK included


def decimal_format(places: int) -> str:
    """The number format showing a value with the indicator's decimal places: 0 → "0", 2 → "0.00"."""
    return "0" if places <= 0 else "0." + "0" * places


def number(value: Decimal | None) -> int | float | None:
    """A stored decimal as an Excel number: whole values as int, the rest as float; None stays empty."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def text_width(text: str) -> int:
    """Columns taken by a line of text: wide (CJK, full-width punctuation, ①) characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 1 for ch in text)


def _places(number_format: str) -> int:
    if "." not in number_format:
        return 0
    return sum(1 for ch in number_format.split(".", 1)[1] if ch in "0#")


def shown(value: Any, number_format: str = "General") -> str:
    """The text Excel shows for a value under a number format (closely enough to size a column)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, int | float | Decimal):
        if number_format == "General":
            return str(value) if isinstance(value, int) else f"{float(value):.10g}"
        places = _places(number_format)
        if "%" in number_format:
            return f"{float(value) * 100:.{places}f}%"
        return f"{float(value):,.{places}f}" if "," in number_format else f"{float(value):.{places}f}"
    return str(value)


def cell_width(cell: Any) -> int:
    text = shown(cell.value, cell.number_format)
    return max((text_width(line) for line in text.splitlines()), default=0)


def fit_columns(
    sheet: Any,
    *,
    header_row: int,
    header_lines: int = 1,
    minimum: float = 6,
    maximum: float = 50,
    floors: dict[int, float] | None = None,
    caps: dict[int, float] | None = None,
) -> None:
    """Set each column's width from its longest shown text (rows above the header, e.g. a title, are left out).

    The header gets room for the filter button (or is allowed `header_lines` wrapped lines); a column capped
    below its longest text wraps its text cells, so nothing is hidden behind the next column.
    """
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    floors, caps = floors or {}, caps or {}
    longest: dict[int, int] = {}
    for row in sheet.iter_rows(min_row=header_row):
        for cell in row:
            width = cell_width(cell)
            if cell.row == header_row:
                width = math.ceil(width / header_lines) + 2  # bold, and the filter's drop-down button
            longest[cell.column] = max(longest.get(cell.column, 0), width)
    for column, width in longest.items():
        cap = caps.get(column, maximum)
        fitted = min(max(width + 2, floors.get(column, minimum)), cap)
        sheet.column_dimensions[get_column_letter(column)].width = fitted
        if width + 2 > cap:
            for (cell,) in sheet.iter_rows(min_row=header_row + 1, min_col=column, max_col=column):
                if isinstance(cell.value, str) and cell_width(cell) + 2 > cap:
                    alignment = cell.alignment
                    cell.alignment = Alignment(
                        wrap_text=True,
                        vertical=alignment.vertical or "top",
                        horizontal=alignment.horizontal,
                    )


def header_height(sheet: Any, row: int) -> float:
    """Points needed by a row of wrapped header cells at the columns' current widths."""
    from openpyxl.utils import get_column_letter

    lines = 1
    for cell in sheet[row]:
        if isinstance(cell.value, str) and cell.value:
            width = sheet.column_dimensions[get_column_letter(cell.column)].width or 8.43
            lines = max(lines, math.ceil(text_width(cell.value) / max(width - 1, 1)))
    return lines * LINE_HEIGHT


def finish_table(sheet: Any, *, header_row: int, freeze: str, landscape: bool = True) -> None:
    """Frozen header, auto-filter over the header and its rows, header repeated on every printed page."""
    from openpyxl.utils import get_column_letter

    last_column = get_column_letter(max(sheet.max_column, 1))
    sheet.freeze_panes = freeze
    sheet.auto_filter.ref = f"A{header_row}:{last_column}{max(sheet.max_row, header_row)}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    if landscape:
        sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
