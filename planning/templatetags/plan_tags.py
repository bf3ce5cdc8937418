"""How numbers are written on every page: the one place for their style.

- a figure as people write it (`plain`), or rounded to its indicator's decimal places (`figure`, e.g. forecasts);
- completion, expected completion and the progress ratio as a whole percent (`percent`: 0.7412 → "74%");
- a change from last year with its sign (`signed`: "+0.4"; `signed_percent`: 0.0042 → "+0.4%");
- the gap to a target ("差 0.3", "已超出 0.1", "已达到目标") and a forecast ("趋势下降" rather than a count below zero);
- an entry's revision in words ("第 1 次更正", nothing for the first filing);
- a dashboard link's query with one value changed (`board_query`), so no filter is sent twice.

Missing values are "—" in the new filters; `plain` stays "" so `|plain|default:"…"` keeps working.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template

register = template.Library()

DASH = "—"


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None


def _written(value: Decimal) -> str:
    """No trailing zeros, no exponent, no "-0"."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0") else text


@register.filter
def plain(value: Any) -> str:
    """A figure as people write it: 9.4000 → 9.4, 95.0000 → 95; empty stays empty."""
    if value is None or value == "":
        return ""
    if isinstance(value, Decimal):
        return _written(value)
    return str(value)


def _places(indicator: Any) -> int:
    return int(getattr(indicator, "decimal_places", 2) if indicator is not None else 2)


@register.filter
def figure(value: Any, indicator: Any = None) -> str:
    """A computed figure rounded to the indicator's decimal places (half up), trailing zeros dropped: 96.8333 → 96.83."""
    number = _decimal(value)
    if number is None:
        return DASH
    return _written(number.quantize(Decimal(1).scaleb(-_places(indicator)), rounding=ROUND_HALF_UP))


@register.filter
def percent(value: Any) -> str:
    """A share (0.7412) as a whole percent ("74%"); the stored completion, expected completion and ratio are shares."""
    number = _decimal(value)
    if number is None:
        return DASH
    return f"{_written((number * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))}%"


def _with_sign(text: str) -> str:
    return text if text == "0" or text.startswith("-") else f"+{text}"


@register.filter
def signed(value: Any, indicator: Any = None) -> str:
    """A change from one year to the next with its sign, rounded as `figure`: +0.4, -1.25, 0."""
    number = _decimal(value)
    if number is None:
        return DASH
    return _with_sign(figure(number, indicator))


@register.filter
def signed_percent(value: Any) -> str:
    """A relative change (a share: 0.0042) as a percent to one decimal with its sign: +0.4%, -12%, 0%."""
    number = _decimal(value)
    if number is None:
        return DASH
    return f"{_with_sign(_written((number * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)))}%"


@register.filter
def forecast(value: Any, indicator: Any = None) -> str:
    """The trend forecast for the target year; a line heading below zero (no count or rate can be) is 趋势下降."""
    number = _decimal(value)
    if number is None:
        return DASH
    if number < 0:
        return "趋势下降"
    return figure(number, indicator)


@register.filter
def gap(row: Any, indicator: Any) -> str:
    """What is left to the target ("差 0.3"), or by how much it is already passed ("已超出 0.1")."""
    remaining = _decimal(getattr(row, "gap", None))
    if remaining is None:
        return DASH
    direction = getattr(indicator, "direction", 1) or 1
    unit = getattr(indicator, "unit", "")
    ahead = -remaining * direction  # how far the latest value is past the target, in the good direction
    amount = figure(abs(remaining), indicator)
    if ahead == 0 or amount == "0":
        return "已达到目标"
    if ahead > 0:
        return f"已超出 {amount} {unit}".strip()
    return f"差 {amount} {unit}".strip()


@register.filter
def revision(entry: Any) -> str:
    """An entry's revision in words: nothing for the first filing, "第 1 次更正" once it has been reopened once."""
    number = getattr(entry, "revision", 1) or 1
    return f"第 {number - 1} 次更正" if number > 1 else ""


@register.simple_tag
def board_query(board: Any, **changes: Any) -> str:
    """The dashboard's filters as a query string with `changes` applied, each key once."""
    return str(board.query(**changes))


@register.simple_tag
def target_adjusted(indicator: Any, target: Decimal | None) -> str:
    """ "（原目标 96，自2024年调整）" beside a target in force that a 规划调整 set; "" otherwise.

    Reads the indicator's adjustments (prefetch them: `target_adjustments`); a region's own decomposed target that
    differs from the published one is not an adjustment and gets nothing."""
    if target is None or target == indicator.target_value:
        return ""
    for row in indicator.target_adjustments.all():
        if row.adjusted_value == target:
            return (
                f"（原目标 {plain(indicator.target_value)}{indicator.target_qualifier}，自{row.effective_year}年调整）"
            )
    return ""
