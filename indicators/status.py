"""Set-based recompute of indicator statuses (IndicatorStatus): one SQL statement per plan, for the regions whose
input fingerprint changed (see `input_fingerprints`, docs/scaling.md).

The rules are those of planning.assessment.assess (the reference; tests check the two agree). To keep the
band comparisons exact on every database, values are compared as integers scaled by 10⁴ and the ratio is
never divided out: R < θ is tested as  s·(a−b)·(T−B)·100 < Θ·(y−B)·|t−b|  (see `computed`). On PostgreSQL the
scaled values are 64-bit integers, falling back to NUMERIC (exact, unbounded) when a product would overflow;
on SQLite they are 64-bit integers.

Each call writes only rows whose content changed (so a recompute with nothing new writes nothing) and deletes
status rows of the recomputed regions outside the plan period, and of regions no longer in the plan's area.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import DataError, connection, transaction
from django.utils import timezone

from config.caching import status_changed
from planning.assessment import ACHIEVED, ACHIEVED_EARLY, STORED_FIELDS
from planning.models import AssessmentStatus

from .models import Indicator, StatusCount, StatusFingerprint

SCALE = 10_000  # values have at most 4 decimal places
FAST_INT = "BIGINT"  # PostgreSQL's first choice for the scaled arithmetic (see recompute_indicator_statuses)

# One statement per plan, generated for its years Y1…Yn (the year after the baseline to the last year; values may
# precede the plan period). Each series (indicator × region) is read once: its approved values pivoted into one row
# (u_1…u_n), then one row per as-of year is taken from that row by prefix sums written out per year — no sort, no
# window, no self-join. The rules are those of planning.assessment.assess (see `computed`).
_SQL = """
WITH
ind AS (
    -- The plan's indicators; it_k is the indicator's own target in force in year Yk (规划调整 from its year on,
    -- as planning.assessment.target_as_of).
    SELECT i.id, i.baseline_year AS by_, i.target_year AS ty, i.direction AS d, i.is_additive AS additive,
           i.lead_unit_id AS unit, i.baseline_value AS ib, i.target_value AS it, {adjusted_targets}
    FROM (SELECT i.*, {adjusted_values} FROM indicators_indicator i
          WHERE i.plan_id = %(plan)s AND {indicator_filter}) i
),
area AS (
    SELECT r.id FROM regions_region r
    WHERE (r.id = %(root)s OR r.parent_id = %(root)s
           OR r.parent_id IN (SELECT c.id FROM regions_region c WHERE c.parent_id = %(root)s))
      AND {region_filter}
),
obs AS (
    -- The approved values of the plan years, one row per series (unique per indicator × region × year).
    SELECT v.indicator_id, v.region_id, {pivot}
    FROM indicators_indicatorvalue v
    WHERE v.indicator_id IN (SELECT id FROM ind) AND v.region_id IN (SELECT id FROM area)
      AND v.approved_value IS NOT NULL AND v.year BETWEEN %(first_year)s AND %(last_year)s
    GROUP BY v.indicator_id, v.region_id
),
series AS (
    -- Baseline and target per region (the plan's own region uses the indicator's; a region's own figures where
    -- set; additive indicators have none otherwise), and the observations inside (baseline year, target year].
    SELECT i.id AS indicator_id, r.id AS region_id, i.by_, i.ty, i.ty - i.by_ AS span, i.d, i.unit,
           CAST(ROUND((CASE WHEN r.id = %(root)s THEN i.ib
                WHEN rt.baseline_value IS NOT NULL THEN rt.baseline_value
                WHEN i.additive THEN NULL ELSE i.ib END) * {scale}) AS {int}) AS bb,
           CAST(ROUND((CASE WHEN r.id = %(root)s THEN i.it
                WHEN rt.target_value IS NOT NULL THEN rt.target_value
                WHEN i.additive THEN NULL ELSE i.it END) * {scale}) AS {int}) AS tt0,
           -- 1 where the series follows the indicator's own target, which a 规划调整 changes from a year on.
           CASE WHEN r.id = %(root)s THEN 1
                WHEN rt.target_value IS NOT NULL OR i.additive THEN 0 ELSE 1 END AS follows,
           {series_columns}
    FROM ind i CROSS JOIN area r
    LEFT JOIN indicators_indicatorregiontarget rt ON rt.indicator_id = i.id AND rt.region_id = r.id
    LEFT JOIN obs o ON o.indicator_id = i.id AND o.region_id = r.id
),
scaled AS {materialized} (
    -- Everything per series once, as integers scaled by 10⁴; the steps below only add and pick integers.
    SELECT * FROM series
),
stepped AS (
    -- One row per series and as-of year: count and sums of the observations up to that year (x = year −
    -- baseline year) and the latest of them (y, a scaled, val as stored).
    {steps}
),
carried AS (
    -- The fence (OFFSET 0 on PostgreSQL): each level's columns are computed once per row, not once per use above (no inlining).
    SELECT stepped.*, y - by_ AS elapsed, k + 1 AS n, sa + bb AS sy, (k + 1) * sxx - sx * sx AS spread,
           CASE WHEN tt > bb THEN 1 ELSE -1 END AS sg
    FROM stepped {fence}
),
fit AS (
    -- Least squares through (0, B) and the observations (x = year − baseline year), evaluated at x = span:
    -- f·n·spread = SY·spread + (n·SxY − Sx·SY)·(n·span − Sx), spread = n·Sxx − Sx² > 0.
    SELECT carried.*, sy * spread + (n * sxa - sx * sy) * (n * span - sx) AS f, sg * (a - bb) AS progress,
           elapsed * ABS(tt - bb) AS due
    FROM carried {fence}
),
computed AS {computed_materialized} (
    SELECT indicator_id, region_id, as_of, y, {val} AS val, {b} AS b, {t} AS t, unit, ty,
        CASE
            WHEN y IS NULL THEN 'no_data'
            WHEN tt IS NULL THEN 'no_plan'
            WHEN d * (a - tt) >= 0 THEN 'achieved'
            WHEN bb IS NULL THEN 'no_plan'
            WHEN tt = bb THEN 'regressing'
            WHEN progress < 0 THEN 'regressing'
            WHEN progress * span * 100 < %(th_lag)s * due THEN 'lagging'
            WHEN progress * span * 100 < %(th_watch)s * due THEN 'watch'
            WHEN progress * span * 100 < %(th_track)s * due THEN 'on_track'
            ELSE 'ahead'
        END AS status,
        CASE WHEN y IS NOT NULL AND tt IS NOT NULL THEN {gap} END AS gap,
        CASE WHEN y IS NOT NULL AND bb IS NOT NULL AND tt IS NOT NULL AND tt <> bb
             THEN {completion} END AS completion,
        CASE WHEN y IS NOT NULL THEN {expected_completion} END AS expected_completion,
        CASE WHEN y IS NOT NULL AND bb IS NOT NULL AND tt IS NOT NULL AND tt <> bb
             THEN {ratio} END AS ratio,
        CASE WHEN y IS NOT NULL AND bb IS NOT NULL
             THEN {forecast_value}
        END AS forecast_value,
        CASE WHEN y IS NOT NULL AND bb IS NOT NULL AND tt IS NOT NULL
             THEN d * (f - tt * n * spread) >= 0 END
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


def _quotient(p: str, q: str, exact: bool) -> str:
    """p / q rounded to 4 places, half away from zero (as ROUND and planning.assessment do).

    `exact`: in 64-bit integers, floor((2·10⁴·|p| + |q|) / 2|q|) with the sign put back and scaled by 10⁻⁴ — exact,
    and several times faster than NUMERIC division (which was most of a national recompute's computing); an
    overflow raises and the statement runs again in NUMERIC, where the division is ROUND(p * 1.0 / q, 4).
    """
    if not exact:
        return f"ROUND(({p}) * 1.0 / ({q}), 4)"
    return (
        f"(CASE WHEN (({p}) < 0) <> (({q}) < 0) THEN -1 ELSE 1 END) "
        f"* ((ABS({p}) * {2 * SCALE} + ABS({q})) / (2 * ABS({q}))) * {Decimal(1).scaleb(-4)}"
    )


def _divisions(exact: bool) -> dict[str, str]:
    """The stored quotients of `computed` (gap, completion, expected completion, ratio, forecast value)."""
    return {
        "gap": f"(tt - a) * {Decimal(1).scaleb(-4)}" if exact else f"ROUND((tt - a) * 1.0 / {SCALE}, 4)",
        "completion": _quotient("a - bb", "tt - bb", exact),
        "expected_completion": _quotient("elapsed", "span", exact),
        "ratio": _quotient("(a - bb) * span", "(tt - bb) * elapsed", exact),
        "forecast_value": _quotient("f", f"n * spread * {SCALE}", exact),
    }


def _plan_sql(years: list[int], first_y: int, int_type: str, numeric: bool) -> dict[str, str]:
    """The year-dependent parts of _SQL for a plan whose as-of years are `years` (stored from `first_y` on).

    The series carry only integers scaled by 10⁴ (exact: values, baselines and targets have at most 4 decimal
    places), and the stored baseline, target and latest value are those integers × 10⁻⁴. With `numeric` (SQLite,
    whose decimals are floating point) the stored figures are also carried through as read, so a second recompute
    compares like with like.
    """
    n = len(years)
    ks = range(1, n + 1)
    scale = f"* {SCALE}) AS {int_type})"
    adjusted_values = ", ".join(
        f"COALESCE((SELECT a.adjusted_value FROM indicators_targetadjustment a WHERE a.indicator_id = i.id "
        f"AND a.effective_year <= {years[k - 1]} ORDER BY a.effective_year DESC LIMIT 1), i.target_value) AS adj_{k}"
        for k in ks
    )
    adjusted_targets = ", ".join(
        [f"CAST(ROUND(i.adj_{k} {scale} AS itt_{k}" for k in ks]
        + ([f"i.adj_{k} AS it_{k}" for k in ks] if numeric else [])
    )
    pivot = ", ".join(
        [f"MAX(CASE WHEN v.year = {years[k - 1]} THEN v.approved_value END) AS a_{k}" for k in ks]
        + (
            [f"MAX(CASE WHEN v.year = {years[k - 1]} THEN v.approved_value END) AS u_{k}" for k in ks]
            if numeric
            else []
        )
    )
    inside = [f"{years[k - 1]} > i.by_ AND {years[k - 1]} <= i.ty" for k in ks]
    series_columns = ", ".join(
        [f"i.itt_{k}" for k in ks]
        + [f"CAST(ROUND((CASE WHEN {inside[k - 1]} THEN o.a_{k} END) {scale} AS a_{k}" for k in ks]
        + (
            [f"i.it_{k}" for k in ks]
            + [f"CASE WHEN {inside[k - 1]} THEN o.u_{k} END AS u_{k}" for k in ks]
            + [
                "CASE WHEN r.id = %(root)s THEN i.ib WHEN rt.baseline_value IS NOT NULL THEN rt.baseline_value "
                "WHEN i.additive THEN NULL ELSE i.ib END AS b",
                "CASE WHEN r.id = %(root)s THEN i.it WHEN rt.target_value IS NOT NULL THEN rt.target_value "
                "WHEN i.additive THEN NULL ELSE i.it END AS t0",
            ]
            if numeric
            else []
        )
    )
    steps = []
    for k in ks:
        year = years[k - 1]
        if year < first_y:
            continue  # its observation counts in later years; no row of its own
        js = range(1, k + 1)
        seen = [f"(CASE WHEN a_{j} IS NOT NULL THEN 1 ELSE 0 END)" for j in js]
        x = [f"(CASE WHEN a_{j} IS NOT NULL THEN {years[j - 1]} - by_ ELSE 0 END)" for j in js]
        xx = [
            f"(CASE WHEN a_{j} IS NOT NULL THEN ({years[j - 1]} - by_) * ({years[j - 1]} - by_) ELSE 0 END)" for j in js
        ]
        sa = [f"COALESCE(a_{j}, 0)" for j in js]
        sxa = [f"COALESCE(a_{j} * ({years[j - 1]} - by_), 0)" for j in js]
        y = (
            "COALESCE("
            + ", ".join(f"CASE WHEN a_{j} IS NOT NULL THEN {years[j - 1]} END" for j in reversed(js))
            + ", NULL)"
        )
        a = "COALESCE(" + ", ".join(f"a_{j}" for j in reversed(js)) + ", NULL)"
        carried = (
            f"b, CASE WHEN follows = 1 THEN it_{k} ELSE t0 END AS t, "
            + "COALESCE("
            + ", ".join(f"u_{j}" for j in reversed(js))
            + ", NULL) AS val, "
            if numeric
            else ""
        )
        steps.append(
            f"SELECT indicator_id, region_id, by_, ty, span, d, unit, bb, {year} AS as_of, {carried}"
            f"CASE WHEN follows = 1 THEN itt_{k} ELSE tt0 END AS tt, "
            f"{' + '.join(seen)} AS k, {' + '.join(x)} AS sx, {' + '.join(xx)} AS sxx, "
            f"CAST({' + '.join(sa)} AS {int_type}) AS sa, CAST({' + '.join(sxa)} AS {int_type}) AS sxa, "
            f"{y} AS y, {a} AS a "
            "FROM scaled"
        )
    unit = Decimal(1).scaleb(-4)
    return {
        "adjusted_values": adjusted_values,
        "adjusted_targets": adjusted_targets,
        "pivot": pivot,
        "series_columns": series_columns,
        "steps": "\nUNION ALL\n".join(steps),
        "val": "val" if numeric else f"a * {unit}",
        "b": "b" if numeric else f"bb * {unit}",
        "t": "t" if numeric else f"tt * {unit}",
    }


# Every write of status rows: the stored columns from the computed ones, changed now.
_INSERT_INTO = """INSERT INTO indicators_indicatorstatus (
    indicator_id, region_id, as_of_year, status, latest_year, latest_value, baseline_value, target_value,
    gap, completion, expected_completion, ratio, forecast_value, forecast_meets_target, changed_at
)
SELECT indicator_id, region_id, as_of, status, y, val, b, t, gap, completion, expected_completion, ratio,
       forecast_value, forecast_meets_target, %(now)s"""
# SQLite: one upsert. PostgreSQL: new rows by plain INSERT and changed rows by UPDATE in data-modifying CTEs,
# which spares a million speculative insertions (ON CONFLICT) on a first or national recompute.
_UPSERT = (
    """
"""
    + _INSERT_INTO
    + """
FROM changed WHERE 1 = 1
ON CONFLICT (indicator_id, region_id, as_of_year) DO UPDATE SET
    status = excluded.status, latest_year = excluded.latest_year, latest_value = excluded.latest_value,
    baseline_value = excluded.baseline_value, target_value = excluded.target_value, gap = excluded.gap,
    completion = excluded.completion, expected_completion = excluded.expected_completion, ratio = excluded.ratio,
    forecast_value = excluded.forecast_value, forecast_meets_target = excluded.forecast_meets_target,
    changed_at = excluded.changed_at
"""
)
_INSERT_AND_UPDATE = (
    """,
inserted AS (
"""
    + _INSERT_INTO
    + """
    FROM changed WHERE old_id IS NULL
    RETURNING 1
),
updated AS (
    UPDATE indicators_indicatorstatus s SET
        status = c.status, latest_year = c.y, latest_value = c.val, baseline_value = c.b, target_value = c.t,
        gap = c.gap, completion = c.completion, expected_completion = c.expected_completion, ratio = c.ratio,
        forecast_value = c.forecast_value, forecast_meets_target = c.forecast_meets_target, changed_at = %(now)s
    FROM changed c WHERE c.old_id = s.id
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
"""
)
# Regions with no stored rows yet (a plan's first recompute, new regions): every computed row is new, so no
# comparison and no second materialisation, a plain INSERT.
_INSERT_FRESH = (
    """
"""
    + _INSERT_INTO
    + """
FROM computed
"""
)
# A first recompute on PostgreSQL: the rows go in and their counts come from what the INSERT returns (a few
# narrow columns), so the wide computed rows are never held in memory.
_INSERT_FRESH_COUNTED = (
    """,
inserted AS (
"""
    + _INSERT_INTO
    + """
    FROM computed
    RETURNING indicator_id, region_id, as_of_year, status, latest_year
),
counted AS (
    INSERT INTO indicators_statuscount (plan_id, region_id, as_of_year, lead_unit_id, status, count)
    SELECT %(plan)s, s.region_id, s.as_of_year, i.lead_unit_id, {display}, COUNT(*)
    FROM inserted s JOIN indicators_indicator i ON i.id = s.indicator_id
    GROUP BY s.region_id, s.as_of_year, i.lead_unit_id, {display}
)
SELECT count(*) FROM inserted
"""
)
# With whole regions recomputed, their StatusCount rows come from the same computed rows (no second read).
_COUNTED = """,
counted AS (
    INSERT INTO indicators_statuscount (plan_id, region_id, as_of_year, lead_unit_id, status, count)
    SELECT %(plan)s, region_id, as_of, unit, {display}, COUNT(*)
    FROM computed
    GROUP BY region_id, as_of, unit, {display}
    RETURNING 1
)"""

# The stored columns a recompute compares (and rewrites when any differs).
COMPARED = STORED_FIELDS


@dataclass(frozen=True)
class RecomputeResult:
    rows_written: int
    rows_deleted: int
    regions_total: int = 0  # plan × region pieces looked at
    regions_recomputed: int = 0  # of which recomputed (their input fingerprint changed, or forced)


@dataclass(frozen=True)
class _Plan:
    id: int
    root: int
    years: list[int]  # the as-of years a series is followed through: baseline year + 1 … last year
    first_y: int  # statuses are stored from the first year of the period on
    thresholds: tuple[int, int, int]  # lagging/watch/on-track bands in per cent, rounded as ROUND() would


def _ids(column: str, ids: Iterable[int] | None) -> str:
    """`column IN (…)` with the ids written out (integers only; no parameter limit on either database)."""
    if ids is None:
        return "1 = 1"
    values = sorted({int(i) for i in ids})
    return f"{column} IN ({', '.join(map(str, values))})" if values else "1 = 0"


def _plans(plan_ids: Iterable[int] | None) -> list[_Plan]:
    from planning.models import Plan

    plans = Plan.objects.exclude(region__isnull=True).order_by("pk")
    if plan_ids is not None:
        plans = plans.filter(pk__in=list(plan_ids))

    def percent(value: Decimal) -> int:
        return int((value * 100).quantize(Decimal(1), ROUND_HALF_UP))

    return [
        _Plan(
            id=p.pk,
            root=p.region_id or 0,  # plans without a region are excluded above
            years=list(range(p.baseline_year + 1, p.period_end_year + 1)),
            first_y=p.period_start_year,
            thresholds=(percent(p.lagging_below), percent(p.watch_below), percent(p.on_track_below)),
        )
        for p in plans.only(
            "pk",
            "region_id",
            "baseline_year",
            "period_start_year",
            "period_end_year",
            "lagging_below",
            "watch_below",
            "on_track_below",
        )
    ]


def recompute_indicator_statuses(
    *,
    plan_ids: Iterable[int] | None = None,
    indicator_ids: Iterable[int] | None = None,
    region_ids: Iterable[int] | None = None,
    force: bool = False,
    verify: bool = False,
    connections: int | None = None,
) -> RecomputeResult:
    """Recompute IndicatorStatus for the given plans/indicators/regions (all when None), set-based.

    Whole regions (no `indicator_ids`) are recomputed only where their input fingerprint changed since the last
    recompute (or with `force`), and their new fingerprints kept; a recompute of some indicators leaves the
    fingerprints alone, so the next whole recompute looks at those regions again. Status counts follow.
    `verify` (the nightly run) also counts the stored rows per region — O(rows) — and redoes a region whose rows
    were deleted or added outside the recompute, and removes rows of regions outside the plan's area.
    Many changed regions are recomputed on `connections` (default RECOMPUTE_CONNECTIONS) connections at once when
    this runs outside a transaction on PostgreSQL; a piece of the nightly chord passes 1 (the chord is parallel).
    """
    connections = settings.RECOMPUTE_CONNECTIONS if connections is None else connections
    if (
        indicator_ids is None
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and connections > 1
    ):
        return _recompute_in_parts(
            plan_ids=plan_ids, region_ids=region_ids, force=force, verify=verify, connections=connections
        )
    return _recompute(plan_ids=plan_ids, indicator_ids=indicator_ids, region_ids=region_ids, force=force, verify=verify)


def _recompute_in_parts(
    *, plan_ids: Iterable[int] | None, region_ids: Iterable[int] | None, force: bool, verify: bool, connections: int
) -> RecomputeResult:
    """Many changed regions of a plan: recomputed in parts on `connections` connections at once, each part
    in its own transaction with its own fingerprints and counts (so a part that fails leaves its regions to be
    redone by the next recompute, as a failed piece of the nightly chord does); then the plan once more, serially,
    for what changed meanwhile and for regions that left its area."""
    regions = None if region_ids is None else sorted({int(r) for r in region_ids})
    written = deleted = total = recomputed = 0
    for plan in _plans(plan_ids):
        if not plan.years:
            continue
        with transaction.atomic(), connection.cursor() as cursor:  # committed: the parts fold the log again
            current, changed, _ = _changes(cursor, plan, regions, force=force, verify=verify)
        if len(changed) <= settings.RECOMPUTE_PARALLEL_REGIONS:
            # Few: one transaction (which looks at the fingerprints again itself).
            alone = _recompute(plan_ids=[plan.id], indicator_ids=None, region_ids=regions, force=force, verify=verify)
            written, deleted = written + alone.rows_written, deleted + alone.rows_deleted
            total, recomputed = total + alone.regions_total, recomputed + alone.regions_recomputed
            continue
        with ThreadPoolExecutor(connections) as pool:
            done = [pool.submit(_part, plan.id, changed[i::connections]) for i in range(connections)]
        for result in (future.result() for future in done):  # a failed part raises here, after the others
            written, deleted = written + result.rows_written, deleted + result.rows_deleted
        # What changed while the parts ran, and regions that left the area (and, verifying, stray rows).
        rest = _recompute(plan_ids=[plan.id], indicator_ids=None, region_ids=regions, force=False, verify=verify)
        written, deleted = written + rest.rows_written, deleted + rest.rows_deleted
        total, recomputed = total + len(current), recomputed + len(changed) + rest.regions_recomputed
    return RecomputeResult(
        rows_written=written, rows_deleted=deleted, regions_total=total, regions_recomputed=recomputed
    )


def _changes(
    cursor: Any, plan: _Plan, regions: list[int] | None, *, force: bool, verify: bool
) -> tuple[dict[int, int], list[int], list[int]]:
    """The plan's regions (or those of `regions`) with their input fingerprints, those to recompute (fingerprint
    changed, forced, or — verifying — a wrong number of stored rows), and those gone from its area."""
    # The fingerprints first: a change committed after this point makes the next one differ.
    current = input_fingerprints(cursor, plan, regions)
    stored = dict(
        StatusFingerprint.objects.filter(plan_id=plan.id)
        .filter(**({} if regions is None else {"region_id__in": regions}))
        .values_list("region_id", "fingerprint")
    )
    rows, expected = _row_counts(cursor, plan, regions) if verify else ({}, None)
    changed = [
        r for r, fp in current.items() if force or stored.get(r) != fp or (verify and rows.get(r, 0) != expected)
    ]
    gone = sorted((stored.keys() | rows.keys()) - current.keys())
    return current, changed, gone


def _part(plan_id: int, regions: list[int]) -> RecomputeResult:
    try:
        return _recompute(plan_ids=[plan_id], indicator_ids=None, region_ids=regions, force=True, verify=False)
    finally:
        connection.close()  # this thread's own connection


def _recompute(
    *,
    plan_ids: Iterable[int] | None,
    indicator_ids: Iterable[int] | None,
    region_ids: Iterable[int] | None,
    force: bool,
    verify: bool,
) -> RecomputeResult:
    regions = None if region_ids is None else sorted({int(r) for r in region_ids})
    indicators = None if indicator_ids is None else sorted({int(i) for i in indicator_ids})
    if indicators is not None and plan_ids is None:
        # Only the plans these indicators belong to: every other plan's statement would find nothing to write, yet
        # cost a statement, a delete and a recount of the regions' stored counts (most of one series' recompute).
        plan_ids = set(Indicator.objects.filter(pk__in=indicators).values_list("plan_id", flat=True))
    plans = _plans(plan_ids)
    written = deleted = total = recomputed = 0
    gone: list[int]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '256MB'")  # a national recompute's hashes stay in memory
        now = timezone.now()
        for plan in plans:
            if not plan.years:
                continue
            if indicators is not None:
                chosen, gone, whole = regions, [], regions is None
            else:
                current, changed, gone = _changes(cursor, plan, regions, force=force, verify=verify)
                total += len(current)
                recomputed += len(changed)
                whole = regions is None and len(changed) == len(current)
                chosen = None if whole else changed
                if not changed and not gone:
                    continue
            counted = connection.vendor == "postgresql" and indicators is None
            if counted:
                _clear_counts(plan.id, None if whole else [*(chosen or []), *gone])
            if chosen is None or chosen:
                # No stored rows in these regions (a first recompute): nothing to compare with.
                fresh = indicators is None and not _any_rows(cursor, plan, chosen)
                written += _write(cursor, plan, indicators, chosen, now, counted, fresh)
            deleted += _delete_stale(cursor, plan, indicators, chosen, gone)
            if indicators is None:
                _keep_fingerprints(plan, current, changed, gone, now)
            if not counted:
                status_counts_refresh(plan_id=plan.id, region_ids=None if whole else [*(chosen or []), *gone])
    if written or deleted:
        status_changed()
    return RecomputeResult(
        rows_written=written, rows_deleted=deleted, regions_total=total, regions_recomputed=recomputed
    )


def _display(status: str, latest_year: str, target_year: str) -> str:
    """planning.assessment.display_status in SQL: achieved before the target year shows as achieved early."""
    return (
        f"CASE WHEN {status} = '{ACHIEVED}' AND {latest_year} < {target_year} THEN '{ACHIEVED_EARLY}' ELSE {status} END"
    )


def _write(
    cursor: Any,
    plan: _Plan,
    indicators: list[int] | None,
    regions: list[int] | None,
    now: Any,
    counted: bool,
    fresh: bool = False,
) -> int:
    """Compute and write the statuses; with `counted` (PostgreSQL, whole regions) their StatusCount rows too, in
    the same statement, after the old ones of those regions are deleted; `fresh`: none of these rows exist yet."""
    postgres = connection.vendor == "postgresql"
    distinct = "IS DISTINCT FROM" if postgres else "IS NOT"
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
    th_lag, th_watch, th_track = plan.thresholds

    def statement(int_type: str) -> str:
        sql = _SQL.format(
            materialized="MATERIALIZED" if postgres else "",
            fence="OFFSET 0" if postgres else "",
            computed_materialized="" if not postgres or (fresh and counted) else "MATERIALIZED",
            write=_INSERT_FRESH_COUNTED.format(display=_display("s.status", "s.latest_year", "i.target_year"))
            if postgres and fresh and counted
            else (_COUNTED.format(display=_display("status", "y", "ty")) if counted else "")
            + (_UPSERT if not postgres else _INSERT_FRESH if fresh else _INSERT_AND_UPDATE),
            indicator_filter=_ids("i.id", indicators),
            region_filter=_ids("r.id", regions),
            int=int_type,
            scale=SCALE,
            changed=changed,
            **_plan_sql(plan.years, plan.first_y, int_type, numeric=not postgres),
            **_divisions(int_type == FAST_INT),
        )
        # Integers of our own (ids, years, per cent); the only parameter is the time of the change.
        return sql % {
            "plan": plan.id,
            "root": plan.root,
            "first_year": plan.years[0],
            "last_year": plan.years[-1],
            "th_lag": th_lag,
            "th_watch": th_watch,
            "th_track": th_track,
            "now": "%s",
        }

    if postgres:
        # 64-bit integers are several times faster than NUMERIC and exact while nothing overflows; with figures
        # so large that a product would, PostgreSQL raises instead of rounding, and the statement runs in NUMERIC.
        args = [now] if fresh else [now, now]
        try:
            with transaction.atomic():
                cursor.execute(statement(FAST_INT), args)
        except DataError:
            cursor.execute(statement("NUMERIC"), args)
        return max(cursor.rowcount, 0) if fresh and not counted else int(cursor.fetchone()[0])
    cursor.execute(statement("INTEGER"), [now])
    # sqlite3 reports no rowcount for a statement that starts with WITH.
    cursor.execute("SELECT changes()")
    return int(cursor.fetchone()[0])


def _any_rows(cursor: Any, plan: _Plan, regions: list[int] | None) -> bool:
    cursor.execute(
        "SELECT 1 FROM indicators_indicatorstatus s "
        f"WHERE s.indicator_id IN (SELECT id FROM indicators_indicator WHERE plan_id = {plan.id}) "
        f"AND {_ids('s.region_id', regions)} LIMIT 1"
    )
    return cursor.fetchone() is not None


def _row_counts(cursor: Any, plan: _Plan, regions: list[int] | None) -> tuple[dict[int, int], int]:
    """Stored status rows per region of the plan's indicators, and how many each region of its area should have."""
    cursor.execute(
        "SELECT s.region_id, COUNT(*) FROM indicators_indicatorstatus s "
        f"WHERE s.indicator_id IN (SELECT id FROM indicators_indicator WHERE plan_id = {plan.id}) "
        f"AND {_ids('s.region_id', regions)} GROUP BY s.region_id"
    )
    rows = {int(region): int(n) for region, n in cursor.fetchall()}
    cursor.execute(f"SELECT COUNT(*) FROM indicators_indicator WHERE plan_id = {plan.id}")
    indicators = int(cursor.fetchone()[0])
    return rows, indicators * sum(1 for y in plan.years if y >= plan.first_y)


def _delete_stale(
    cursor: Any, plan: _Plan, indicators: list[int] | None, regions: list[int] | None, gone: list[int]
) -> int:
    """Rows of the recomputed series outside the plan period, and rows of regions not in the plan's area."""
    of_plan = f"indicator_id IN (SELECT id FROM indicators_indicator i WHERE i.plan_id = {plan.id} AND {_ids('i.id', indicators)})"
    conditions = []
    if regions is None or regions:
        conditions.append(
            f"({_ids('region_id', regions)} AND (as_of_year < {plan.first_y} OR as_of_year > {plan.years[-1]}))"
        )
    if gone:
        conditions.append(_ids("region_id", gone))
    if not conditions:
        return 0
    cursor.execute(f"DELETE FROM indicators_indicatorstatus WHERE {of_plan} AND ({' OR '.join(conditions)})")
    return max(cursor.rowcount, 0)


def _keep_fingerprints(plan: _Plan, current: dict[int, int], changed: list[int], gone: list[int], now: Any) -> None:
    if gone:
        StatusFingerprint.objects.filter(plan_id=plan.id, region_id__in=gone).delete()
    if changed:
        StatusFingerprint.objects.bulk_create(
            [StatusFingerprint(plan_id=plan.id, region_id=r, fingerprint=current[r], computed_at=now) for r in changed],
            update_conflicts=True,
            unique_fields=["plan", "region"],
            update_fields=["fingerprint", "computed_at"],
            batch_size=2000,
        )


# --- input fingerprints ---------------------------------------------------------------------------------------

# Per plan × region: an order-free XOR of one 64-bit hash per approved value (keyed by indicator and year) and per
# region target, mixed with one hash of everything plan-wide the statuses read (the plan's years, region and bands;
# each indicator's years, baseline, target, direction and additivity; each 规划调整). PostgreSQL's own hash
# functions; on SQLite the same names are registered in Python (register_sqlite_functions).
_TEXT = "COALESCE(CAST({} AS TEXT), '~')"


def _text(*columns: str) -> str:
    return " || '|' || ".join(_TEXT.format(c) for c in columns)


_FINGERPRINTS = """
WITH
area AS (
    SELECT r.id FROM regions_region r
    WHERE (r.id = {root} OR r.parent_id = {root}
           OR r.parent_id IN (SELECT c.id FROM regions_region c WHERE c.parent_id = {root}))
      AND {region_filter}
),
plan_wide AS (
    SELECT hashint8extended(
        COALESCE((SELECT bit_xor(hashtextextended({indicator_text}, 0)) FROM indicators_indicator i
                  WHERE i.plan_id = {plan}), 0),
        hashint8extended(
            COALESCE((SELECT bit_xor(hashtextextended({adjustment_text}, 0)) FROM indicators_targetadjustment a
                      WHERE a.indicator_id IN (SELECT id FROM indicators_indicator WHERE plan_id = {plan})), 0),
            (SELECT hashtextextended({plan_text}, 0) FROM planning_plan p WHERE p.id = {plan}))) AS h
),
{inputs}
SELECT area.id, hashint8extended(COALESCE(inputs.vh, 0), hashint8extended(COALESCE(inputs.th, 0), plan_wide.h))
FROM area CROSS JOIN plan_wide
LEFT JOIN inputs ON inputs.region_id = area.id
"""
# The per-region part read from the data: one hash per approved value and per region target (the migration that
# creates PostgreSQL's triggers writes the same two hashes).
_SCANNED = """
vals AS (
    SELECT v.region_id, bit_xor(hashint8extended(v.indicator_id * 10000 + v.year,
                                                 hash_numeric_extended(v.approved_value, 0))) AS h
    FROM indicators_indicatorvalue v
    WHERE v.indicator_id IN (SELECT id FROM indicators_indicator WHERE plan_id = {plan})
      AND v.approved_value IS NOT NULL AND {region_filter_v}
    GROUP BY v.region_id
),
targets AS (
    SELECT rt.region_id, bit_xor(hashtextextended({target_text}, 0)) AS h
    FROM indicators_indicatorregiontarget rt
    WHERE rt.indicator_id IN (SELECT id FROM indicators_indicator WHERE plan_id = {plan}) AND {region_filter_t}
    GROUP BY rt.region_id
),
inputs AS (
    SELECT area.id AS region_id, vals.h AS vh, targets.h AS th FROM area
    LEFT JOIN vals ON vals.region_id = area.id LEFT JOIN targets ON targets.region_id = area.id
)"""
# The same, as kept by the triggers: a few thousand rows, whatever the number of values.
_KEPT = """
inputs AS (
    SELECT region_id, values_hash AS vh, targets_hash AS th FROM indicators_statusinput
    WHERE plan_id = {plan} AND {region_filter_s}
)"""
# The triggers' log of changes since the last recompute, folded into StatusInput (rows committed meanwhile stay
# for the next one: a DELETE takes only the rows it sees).
_FOLD = """
WITH folded AS (
    DELETE FROM indicators_statusinputchange WHERE plan_id = {plan} AND {region_filter_c}
    RETURNING region_id, values_hash, targets_hash
),
summed AS (
    SELECT region_id, bit_xor(values_hash) AS vh, bit_xor(targets_hash) AS th FROM folded GROUP BY region_id
)
INSERT INTO indicators_statusinput AS s (plan_id, region_id, values_hash, targets_hash)
SELECT {plan}, region_id, vh, th FROM summed ORDER BY region_id
ON CONFLICT (plan_id, region_id) DO UPDATE
SET values_hash = s.values_hash # EXCLUDED.values_hash, targets_hash = s.targets_hash # EXCLUDED.targets_hash
"""


def input_fingerprints(cursor: Any, plan: _Plan, regions: list[int] | None, *, scan: bool = False) -> dict[int, int]:
    """region id → the fingerprint of its statuses' inputs, for the plan's regions (or those of `regions`).

    On PostgreSQL from StatusInput (the triggers' log folded in first), unless `scan`; on SQLite by a scan.
    """
    kept = connection.vendor == "postgresql" and not scan
    if kept:
        cursor.execute(_FOLD.format(plan=plan.id, region_filter_c=_ids("region_id", regions)))
    inputs = (_KEPT if kept else _SCANNED).format(
        plan=plan.id,
        region_filter_v=_ids("v.region_id", regions),
        region_filter_t=_ids("rt.region_id", regions),
        region_filter_s=_ids("region_id", regions),
        target_text=_text("rt.indicator_id", "rt.baseline_value", "rt.target_value"),
    )
    cursor.execute(
        _FINGERPRINTS.format(
            plan=plan.id,
            root=plan.root,
            region_filter=_ids("r.id", regions),
            inputs=inputs,
            # The lead unit does not change a status, but StatusCount is kept per lead unit.
            indicator_text=_text(
                "i.id",
                "i.baseline_year",
                "i.target_year",
                "i.baseline_value",
                "i.target_value",
                "i.direction",
                "i.is_additive",
                "i.lead_unit_id",
            ),
            adjustment_text=_text("a.indicator_id", "a.effective_year", "a.adjusted_value"),
            plan_text=_text(
                "p.baseline_year",
                "p.period_start_year",
                "p.period_end_year",
                "p.region_id",
                "p.lagging_below",
                "p.watch_below",
                "p.on_track_below",
            ),
        )
    )
    return {int(region): int(fp) for region, fp in cursor.fetchall()}


def _signed64(digest: bytes) -> int:
    return int.from_bytes(digest[:8], "big", signed=True)


def _hash(*parts: Any) -> int:
    return _signed64(hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest())


class _BitXor:
    def __init__(self) -> None:
        self.value: int | None = None

    def step(self, value: int | None) -> None:
        if value is not None:
            self.value = value if self.value is None else self.value ^ value

    def finalize(self) -> int | None:
        return self.value


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """PostgreSQL's hash functions and bit_xor under the same names on SQLite (connection_created receiver)."""
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_function("hashint8extended", 2, lambda v, seed: _hash("i", v, seed), deterministic=True)
    raw.create_function("hashtextextended", 2, lambda v, seed: _hash("t", v, seed), deterministic=True)
    raw.create_function(
        "hash_numeric_extended",
        2,
        lambda v, seed: None if v is None else _hash("n", Decimal(str(v)).normalize(), seed),
        deterministic=True,
    )
    raw.create_aggregate("bit_xor", 1, _BitXor)


# --- stored counts -------------------------------------------------------------------------------------------


def _clear_counts(plan_id: int, regions: list[int] | None) -> None:
    of_plan = StatusCount.objects.filter(plan_id=plan_id)
    (of_plan if regions is None else of_plan.filter(region_id__in=regions)).delete()


def status_counts_refresh(*, plan_id: int, region_ids: Iterable[int] | None = None) -> None:
    """StatusCount of the plan in these regions (all when None) from the stored statuses, by shown status."""
    regions = None if region_ids is None else sorted({int(r) for r in region_ids})
    if regions == []:
        return
    _clear_counts(plan_id, regions)
    display = _display("s.status", "s.latest_year", "i.target_year")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO indicators_statuscount (plan_id, region_id, as_of_year, lead_unit_id, status, count)
            SELECT {int(plan_id)}, s.region_id, s.as_of_year, i.lead_unit_id, {display}, COUNT(*)
            FROM indicators_indicatorstatus s JOIN indicators_indicator i ON i.id = s.indicator_id
            WHERE i.plan_id = {int(plan_id)} AND {_ids("s.region_id", regions)}
            GROUP BY s.region_id, s.as_of_year, i.lead_unit_id, {display}
            """
        )


STATUS_CODES = set(AssessmentStatus.values)
