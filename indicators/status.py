"""Set-based recompute of indicator statuses (IndicatorStatus), in one SQL statement per call.

The rules are those of planning.assessment.assess (the reference; tests check the two agree). To keep the
band comparisons exact on every database, values are compared as integers scaled by 10⁴ and the ratio is
never divided out: R < θ is tested as  s·(a−b)·(T−B)·100 < Θ·(y−B)·|t−b|  (see `_STATUS`). On PostgreSQL the
scaled values are 64-bit integers, falling back to NUMERIC (exact, unbounded) when a product would overflow;
on SQLite they are 64-bit integers.

Each call upserts only rows whose content changed (so a no-op recompute writes nothing) and deletes
status rows that no longer correspond to an indicator × region × year of the plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import DataError, connection, transaction
from django.utils import timezone

from config.caching import status_changed
from planning.assessment import STORED_FIELDS
from planning.models import AssessmentStatus

SCALE = 10_000  # values have at most 4 decimal places
FAST_INT = "BIGINT"  # PostgreSQL's first choice for the scaled arithmetic (see recompute_indicator_statuses)

# Rows per series and as-of year: params (baseline/target per region) × plan years, joined with the
# latest approved observation up to that year and running least-squares sums including the baseline point.
_SQL = """
WITH RECURSIVE
plan_years(plan_id, y, last_y, first_y) AS (
    -- From the year after the baseline (values may precede the plan period) to the plan's last year.
    SELECT id, CAST(baseline_year + 1 AS INTEGER), CAST(period_end_year AS INTEGER),
           CAST(period_start_year AS INTEGER)
    FROM planning_plan WHERE {plan_filter}
    UNION ALL
    SELECT plan_id, y + 1, last_y, first_y FROM plan_years WHERE y < last_y
),
params AS (
    SELECT i.id AS indicator_id, r.id AS region_id, i.plan_id, i.baseline_year AS by_, i.target_year AS ty,
           i.direction AS d,
           CAST(ROUND(p.lagging_below * 100) AS {int}) AS th_lag,
           CAST(ROUND(p.watch_below * 100) AS {int}) AS th_watch,
           CAST(ROUND(p.on_track_below * 100) AS {int}) AS th_track,
           CASE WHEN r.id = p.region_id THEN i.baseline_value
                WHEN rt.baseline_value IS NOT NULL THEN rt.baseline_value
                WHEN i.is_additive THEN NULL ELSE i.baseline_value END AS b,
           CASE WHEN r.id = p.region_id THEN i.target_value
                WHEN rt.target_value IS NOT NULL THEN rt.target_value
                WHEN i.is_additive THEN NULL ELSE i.target_value END AS t0,
           -- 1 where the series follows the indicator's own target, which a 规划调整 changes from a year on.
           CASE WHEN r.id = p.region_id THEN 1
                WHEN rt.target_value IS NOT NULL OR i.is_additive THEN 0 ELSE 1 END AS follows
    FROM indicators_indicator i
    JOIN planning_plan p ON p.id = i.plan_id
    JOIN regions_region r ON (r.id = p.region_id OR r.parent_id = p.region_id
         OR r.parent_id IN (SELECT c.id FROM regions_region c WHERE c.parent_id = p.region_id))
    LEFT JOIN indicators_indicatorregiontarget rt ON rt.indicator_id = i.id AND rt.region_id = r.id
    WHERE {plan_filter_i} AND {indicator_filter} AND {region_filter}
),
scaled AS (
    SELECT params.*, CAST(ROUND(b * {scale}) AS {int}) AS bb
    FROM params
),
adjusted AS (
    -- 规划调整: each adjustment holds from its year until the next one (planning.assessment.target_as_of).
    SELECT indicator_id, effective_year AS from_y, adjusted_value AS v,
           COALESCE(LEAD(effective_year) OVER (PARTITION BY indicator_id ORDER BY effective_year), 100000) AS until_y
    FROM indicators_targetadjustment
),
targeted AS (
    -- One row per series and year, with the target in force that year.
    SELECT s.*, py.y AS as_of, py.first_y,
           CASE WHEN s.follows = 1 AND adj.v IS NOT NULL THEN adj.v ELSE s.t0 END AS t
    FROM scaled s
    JOIN plan_years py ON py.plan_id = s.plan_id
    LEFT JOIN adjusted adj ON adj.indicator_id = s.indicator_id AND py.y >= adj.from_y AND py.y < adj.until_y
),
grid AS (
    -- The approved value of that year when there is one (equality joins only).
    SELECT s.*, CAST(ROUND(s.t * {scale}) AS {int}) AS tt, s.as_of - s.by_ AS x, v.approved_value AS val_year,
           CAST(ROUND(v.approved_value * {scale}) AS {int}) AS a_year
    FROM targeted s
    LEFT JOIN indicators_indicatorvalue v ON v.indicator_id = s.indicator_id AND v.region_id = s.region_id
         AND v.year = s.as_of AND v.approved_value IS NOT NULL AND v.year > s.by_ AND v.year <= s.ty
),
running AS (
    -- Running sums of the observations up to each as-of year; k also numbers the runs of years that share
    -- the same latest observation, which the next step uses to carry that observation forward.
    SELECT grid.*,
           COUNT(a_year) OVER w AS k,
           SUM(CASE WHEN a_year IS NOT NULL THEN x END) OVER w AS sx,
           SUM(CASE WHEN a_year IS NOT NULL THEN x * x END) OVER w AS sxx,
           CAST(SUM(a_year) OVER w AS {int}) AS sa,
           CAST(SUM(a_year * x) OVER w AS {int}) AS sxa,
           MAX(CASE WHEN a_year IS NOT NULL THEN as_of END) OVER w AS y
    FROM grid
    WINDOW w AS (PARTITION BY indicator_id, region_id ORDER BY as_of ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
carried AS (
    SELECT running.*,
           MAX(a_year) OVER (PARTITION BY indicator_id, region_id, k) AS a,
           MAX(val_year) OVER (PARTITION BY indicator_id, region_id, k) AS val,
           ty - by_ AS span, y - by_ AS elapsed,
           CASE WHEN tt > bb THEN 1 ELSE -1 END AS sg
    FROM running
),
fit AS (
    -- Least squares through (0, B) and the observations (x = year − baseline year), evaluated at x = span:
    -- f·n·spread = SY·spread + (n·SxY − Sx·SY)·(n·span − Sx), spread = n·Sxx − Sx² > 0.
    SELECT carried.*, k + 1 AS n, sa + bb AS sy, (k + 1) * sxx - sx * sx AS spread
    FROM carried WHERE as_of >= first_y
),
computed AS {materialized} (
    SELECT indicator_id, region_id, as_of, y, val, b, t,
        CASE
            WHEN y IS NULL THEN 'no_data'
            WHEN tt IS NULL THEN 'no_plan'
            WHEN d * (a - tt) >= 0 THEN 'achieved'
            WHEN bb IS NULL THEN 'no_plan'
            WHEN tt = bb THEN 'regressing'
            WHEN sg * (a - bb) < 0 THEN 'regressing'
            WHEN sg * (a - bb) * span * 100 < th_lag * elapsed * ABS(tt - bb) THEN 'lagging'
            WHEN sg * (a - bb) * span * 100 < th_watch * elapsed * ABS(tt - bb) THEN 'watch'
            WHEN sg * (a - bb) * span * 100 < th_track * elapsed * ABS(tt - bb) THEN 'on_track'
            ELSE 'ahead'
        END AS status,
        CASE WHEN y IS NOT NULL AND tt IS NOT NULL THEN ROUND((tt - a) * 1.0 / {scale}, 4) END AS gap,
        CASE WHEN y IS NOT NULL AND bb IS NOT NULL AND tt IS NOT NULL AND tt <> bb
             THEN ROUND((a - bb) * 1.0 / (tt - bb), 4) END AS completion,
        CASE WHEN y IS NOT NULL THEN ROUND(elapsed * 1.0 / span, 4) END AS expected_completion,
        CASE WHEN y IS NOT NULL AND bb IS NOT NULL AND tt IS NOT NULL AND tt <> bb
             THEN ROUND((a - bb) * span * 1.0 / ((tt - bb) * elapsed), 4) END AS ratio,
        CASE WHEN y IS NOT NULL AND bb IS NOT NULL
             THEN ROUND((sy * spread + (n * sxa - sx * sy) * (n * span - sx)) * 1.0 / (n * spread * {scale}), 4)
        END AS forecast_value,
        CASE WHEN y IS NOT NULL AND bb IS NOT NULL AND tt IS NOT NULL
             THEN d * (sy * spread + (n * sxa - sx * sy) * (n * span - sx) - tt * n * spread) >= 0 END
             AS forecast_meets_target
    FROM fit
),
changed AS {materialized} (
    -- Only rows that are new or differ reach the write: a recompute with nothing new writes nothing,
    -- and the comparison is one hash join instead of a conflict check per row.
    SELECT c.*, old.id AS old_id FROM computed c
    LEFT JOIN indicators_indicatorstatus old ON old.indicator_id = c.indicator_id AND old.region_id = c.region_id
         AND old.as_of_year = c.as_of
    WHERE old.id IS NULL OR {changed}
)
{write}
"""

# SQLite: one upsert. PostgreSQL: new rows by plain INSERT and changed rows by UPDATE in data-modifying CTEs,
# which spares a million speculative insertions (ON CONFLICT) on a first or national recompute.
_UPSERT = """
INSERT INTO indicators_indicatorstatus (
    indicator_id, region_id, as_of_year, status, latest_year, latest_value, baseline_value, target_value,
    gap, completion, expected_completion, ratio, forecast_value, forecast_meets_target, changed_at
)
SELECT indicator_id, region_id, as_of, status, y, val, b, t, gap, completion, expected_completion, ratio,
       forecast_value, forecast_meets_target, %s
FROM changed WHERE 1 = 1
ON CONFLICT (indicator_id, region_id, as_of_year) DO UPDATE SET
    status = excluded.status, latest_year = excluded.latest_year, latest_value = excluded.latest_value,
    baseline_value = excluded.baseline_value, target_value = excluded.target_value, gap = excluded.gap,
    completion = excluded.completion, expected_completion = excluded.expected_completion, ratio = excluded.ratio,
    forecast_value = excluded.forecast_value, forecast_meets_target = excluded.forecast_meets_target,
    changed_at = excluded.changed_at
"""
_INSERT_AND_UPDATE = """,
inserted AS (
    INSERT INTO indicators_indicatorstatus (
        indicator_id, region_id, as_of_year, status, latest_year, latest_value, baseline_value, target_value,
        gap, completion, expected_completion, ratio, forecast_value, forecast_meets_target, changed_at
    )
    SELECT indicator_id, region_id, as_of, status, y, val, b, t, gap, completion, expected_completion, ratio,
           forecast_value, forecast_meets_target, %s
    FROM changed WHERE old_id IS NULL
    RETURNING 1
),
updated AS (
    UPDATE indicators_indicatorstatus s SET
        status = c.status, latest_year = c.y, latest_value = c.val, baseline_value = c.b, target_value = c.t,
        gap = c.gap, completion = c.completion, expected_completion = c.expected_completion, ratio = c.ratio,
        forecast_value = c.forecast_value, forecast_meets_target = c.forecast_meets_target, changed_at = %s
    FROM changed c WHERE c.old_id = s.id
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
"""

# The stored columns a recompute compares (and rewrites when any differs).
COMPARED = STORED_FIELDS

_DELETE_STALE = """
DELETE FROM indicators_indicatorstatus
WHERE indicator_id IN (SELECT i.id FROM indicators_indicator i WHERE {plan_filter_i} AND {indicator_filter})
  AND {region_filter_s}
  AND NOT EXISTS (
    SELECT 1 FROM indicators_indicator i
    JOIN planning_plan p ON p.id = i.plan_id
    JOIN regions_region r ON (r.id = p.region_id OR r.parent_id = p.region_id
         OR r.parent_id IN (SELECT c.id FROM regions_region c WHERE c.parent_id = p.region_id))
    WHERE i.id = indicators_indicatorstatus.indicator_id AND r.id = indicators_indicatorstatus.region_id
      AND indicators_indicatorstatus.as_of_year BETWEEN p.period_start_year AND p.period_end_year
  )
"""


@dataclass(frozen=True)
class RecomputeResult:
    rows_written: int
    rows_deleted: int


def _in(column: str, ids: Iterable[int] | None) -> tuple[str, list[int]]:
    if ids is None:
        return "1 = 1", []
    values = [int(i) for i in ids]
    if not values:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def recompute_indicator_statuses(
    *,
    plan_ids: Iterable[int] | None = None,
    indicator_ids: Iterable[int] | None = None,
    region_ids: Iterable[int] | None = None,
) -> RecomputeResult:
    """Recompute IndicatorStatus for the given plans/indicators/regions (all when None), set-based."""
    vendor = connection.vendor
    distinct = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
    plan_where, plan_args = _in("id", plan_ids)
    plan_where_i, plan_args_i = _in("i.plan_id", plan_ids)
    indicator_where, indicator_args = _in("i.id", indicator_ids)
    region_where, region_args = _in("r.id", region_ids)
    # computed.y is the latest year; the other compared columns share their names.
    pairs = [
        ("status", "status"),
        ("latest_year", "y"),
        ("latest_value", "val"),
        ("baseline_value", "b"),
        ("target_value", "t"),
        *[(name, name) for name in COMPARED[5:]],
    ]
    changed = " OR ".join(f"old.{stored} {distinct} c.{computed}" for stored, computed in pairs)
    postgres = vendor == "postgresql"

    def statement(int_type: str) -> str:
        return _SQL.format(
            materialized="MATERIALIZED" if postgres else "",
            write=_INSERT_AND_UPDATE if postgres else _UPSERT,
            plan_filter=plan_where,
            plan_filter_i=plan_where_i,
            indicator_filter=indicator_where,
            region_filter=region_where,
            int=int_type,
            scale=SCALE,
            changed=changed,
        )

    region_where_s, region_args_s = _in("indicators_indicatorstatus.region_id", region_ids)
    delete_sql = _DELETE_STALE.format(
        plan_filter_i=plan_where_i, indicator_filter=indicator_where, region_filter_s=region_where_s
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if vendor == "postgresql":
            # The window sorts of a national recompute fit in memory instead of spilling to disk.
            cursor.execute("SET LOCAL work_mem = '256MB'")
        now = timezone.now()
        args: list[Any] = [*plan_args, *plan_args_i, *indicator_args, *region_args, now, *([now] if postgres else [])]
        if postgres:
            # 64-bit integers are several times faster than NUMERIC and exact while nothing overflows; with
            # figures so large that a product would, PostgreSQL raises instead of rounding, and the same
            # statement runs again in NUMERIC.
            try:
                with transaction.atomic():
                    cursor.execute(statement(FAST_INT), args)
            except DataError:
                cursor.execute(statement("NUMERIC"), args)
            written = cursor.fetchone()[0]
        else:
            cursor.execute(statement("INTEGER"), args)
            written = cursor.rowcount
        if vendor == "sqlite":
            # sqlite3 reports no rowcount for a statement that starts with WITH.
            cursor.execute("SELECT changes()")
            written = cursor.fetchone()[0]
        cursor.execute(delete_sql, [*plan_args_i, *indicator_args, *region_args_s])
        deleted = max(cursor.rowcount, 0)
    if written or deleted:
        status_changed()
    return RecomputeResult(rows_written=written, rows_deleted=deleted)


STATUS_CODES = set(AssessmentStatus.values)
