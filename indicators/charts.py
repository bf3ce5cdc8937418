"""The trajectory chart's data (static/js/charts.js draws it), shared by the dashboards and the public pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from planning.assessment import expected_value

from .models import Indicator


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def trajectory_chart(
    indicator: Indicator,
    *,
    baseline: Decimal | None,
    target: Decimal | None,
    approved: dict[int, Decimal],
    forecast_from: Any = None,
    with_forecast: bool = True,
) -> dict[str, Any]:
    """Baseline, the straight path to the target, approved actuals, the forecast (from a stored assessment's latest
    value to its forecast, when `with_forecast`) and the target line."""
    years = list(range(indicator.baseline_year, indicator.target_year + 1))
    expected = (
        [
            _num(
                expected_value(
                    baseline, target, baseline_year=indicator.baseline_year, target_year=indicator.target_year, year=y
                )
            )
            for y in years
        ]
        if baseline is not None and target is not None
        else []
    )
    actual = [_num(baseline) if y == indicator.baseline_year else _num(approved.get(y)) for y in years]
    series = [
        {"name": "预期路径", "data": expected, "kind": "expected"},
        {"name": "实际（已审核）", "data": actual, "kind": "actual"},
    ]
    if with_forecast:
        forecast: list[float | None] = [None] * len(years)
        row = forecast_from
        if row is not None and row.forecast_value is not None and row.latest_year is not None:
            forecast[years.index(row.latest_year)] = _num(row.latest_value)
            forecast[-1] = _num(row.forecast_value)
        series.append({"name": "趋势预测", "data": forecast, "kind": "forecast"})
    series.append(
        {
            "name": f"{indicator.target_year}年目标",
            "data": [_num(target)] * len(years) if target is not None else [],
            "kind": "target",
        }
    )
    return {"years": [str(y) for y in years], "unit": indicator.unit, "series": series}
