"""`manage.py bench` (run by `make bench`): the scale benchmark, measured in one run and printed as one table.

On PostgreSQL, with synthetic plans of N regions × M indicators × Y years (each generated once and reused), at
every size of SIZES (how the cost grows): the full recompute of the stored statuses (seconds, rows/s, peak RSS of
the process that runs it), the no-op recompute, and the incremental one after ten series in ten regions were changed
in SQL (and changed back). At the main size only: the same recompute done the naive way on a slice (per-row ORM
save()), a hand-written INSERT of the same rows as the floor, the incremental recompute of one series, the dashboard
pages (server time and query counts), the API under wrk against gunicorn, and the nightly chord on one and on two
worker processes. The table is also written as Markdown (docs/benchmarks.md) with the machine, the date and how to
reproduce, beside one chart of seconds against size (docs/benchmarks-scaling.png).
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken

from benchmarks.harness import (
    ROOT,
    STATUS_COLUMNS,
    Row,
    clear_flags,
    clear_statuses,
    delete_status_rows,
    execute,
    free_port,
    percentile,
    plan_statuses_sql,
    process,
    shift_approved,
    spread_values,
    this_database_url,
    vacuum,
    wait_until,
)
from benchmarks.scale import generate, synthetic_code
from benchmarks.scaling import (
    FLAT_RATIO_GOAL,
    MAIN_RUNS,
    NOOP_SECONDS_GOAL,
    SPEEDUP_GOAL,
    ScalePoint,
    draw_chart,
    find_cjk_font,
    full_goal,
    incremental_met,
    main_size,
    median,
    median_run,
    noop_met,
    parse_sizes,
    seconds_label,
    spread,
)
from config.celery import app
from indicators.flags import sync_indicator_lag_flags
from indicators.models import Indicator, IndicatorStatus, IndicatorValue, StatusCount, StatusFingerprint
from indicators.selectors import region_plan_for
from indicators.services import status_recompute_series
from indicators.status import COMPARED, recompute_indicator_statuses
from indicators.tasks import recompute_in_chunks
from planning.assessment import Thresholds, assess
from planning.models import Plan, UserScope

# The sizes the cost is measured at, as regions (× 70 indicators × 5 years, the root region included):
# about 0.1M, 0.5M, 1.05M and 2M approved values. Override with --sizes (e.g. tiny ones while developing).
SIZES = (285, 1430, 3000, 5700)
# The main size, where the rows measured once (floor, naive, pages, API, chord) are taken.
MAIN_REGIONS = 3000
# The incremental recompute: this many series, each in a region of its own, changed outside the services.
INCREMENTAL_SERIES = 10
INCREMENTAL_CYCLES = 2  # changed and changed back, twice: four timed recomputes per size
NOOP_RUNS = 3
SKIPPABLE = {"naive": "逐行 ORM 对照", "pages": "页面", "api": "接口压测", "chord": "分片并行"}


class Command(BaseCommand):
    help = (
        "在 PostgreSQL 上运行规模基准（各规模的全量/无变化/增量重算，主规模上的下限、页面、接口、分片并行），"
        "打印一张表并写入 docs/benchmarks.md 与耗时随规模变化的图。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sizes",
            default=",".join(str(size) for size in SIZES),
            help="测量重算随规模增长的各规模（区域数，逗号分隔）",
        )
        parser.add_argument(
            "--regions", type=int, default=None, help=f"主规模（区域数）；默认取 --sizes 中最接近 {MAIN_REGIONS} 的"
        )
        parser.add_argument("--indicators", type=int, default=70)
        parser.add_argument("--years", type=int, default=5)
        parser.add_argument("--naive-values", type=int, default=20_000, help="逐行 ORM 方式所测的数值条数")
        parser.add_argument("--page-requests", type=int, default=30)
        parser.add_argument("--wrk-seconds", type=int, default=10)
        parser.add_argument("--connections", type=int, default=16)
        parser.add_argument("--output", default="docs/benchmarks.md")
        parser.add_argument(
            "--skip",
            action="append",
            default=[],
            help="跳过某一部分：" + "、".join(f"{k}（{v}）" for k, v in SKIPPABLE.items()),
        )
        # Internal: the recomputes of one size in a process of their own, for the peak RSS of the full one.
        parser.add_argument("--child-recompute", type=int, default=0, help="（内部使用）")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "make bench 需要 PostgreSQL：请设置 DATABASE_URL（例如 postgres://postgres@127.0.0.1/tracker_bench）。"
            )
        if options["child_recompute"]:
            self.child_recompute(options["child_recompute"])
            return
        unknown = sorted(set(options["skip"]) - SKIPPABLE.keys())
        if unknown:
            raise CommandError(f"--skip 只能是 {'、'.join(SKIPPABLE)}；无法识别：{'、'.join(unknown)}")
        try:
            sizes = parse_sizes(options["sizes"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        if options["regions"] is not None and options["regions"] < 1:
            raise CommandError("--regions（主规模的区域数）须为正整数。")
        main = main_size(sizes, options["regions"], MAIN_REGIONS)
        sizes = tuple(sorted({*sizes, main}))
        self.started, self.clock = timezone.localtime(), time.monotonic()
        self.progress(f"规模（区域数）：{'、'.join(str(s) for s in sizes)}；主规模 {main} 个区域")

        rows: list[Row] = []
        plans: dict[int, tuple[Plan, int]] = {}
        made = []
        for regions in sizes:
            plan, values, generated = self.synthetic_plan(regions, options["indicators"], options["years"])
            plans[regions] = (plan, values)
            if generated is not None:
                made.append(f"{values:,} 条数值 {generated:.1f} 秒")
        if made:
            rows.append(Row("生成合成数据（COPY）", "；".join(made)))
        # Statistics for every table, as autovacuum keeps them: without them (autovacuum off, as on some test
        # machines) the planner takes the plan's few hundred indicators for 20 rows and scans them per flag.
        execute("ANALYZE")

        points = []
        main_fulls: list[float] = []
        for regions in sizes:
            plan, values = plans[regions]
            self.progress(f"{values:,} 条数值（{regions} 个区域）：全量、无变化与增量重算（独立进程）……")
            runs = []
            for _ in range(MAIN_RUNS if regions == main else 1):
                runs.append(self.recompute_at(plan, regions, values))
                p = runs[-1]
                self.progress(
                    f"  全量 {p.full_seconds:.1f} 秒，无变化 {p.noop_seconds:.2f} 秒，增量 {p.incremental_seconds:.2f} 秒"
                )
            points.append(median_run(runs, lambda p: p.full_seconds))
            if regions == main:
                main_fulls = [p.full_seconds for p in runs]
        plan, values = plans[main]
        at_main = next(p for p in points if p.regions == main)

        naive = None
        if "naive" not in options["skip"]:
            self.progress("逐行 ORM 对照……")
            naive = self.naive(plan, options["naive_values"])
        self.progress("手写 SQL 下限……")
        floors = [self.floor(plan) for _ in range(MAIN_RUNS)]
        floor = {
            "floor_seconds": median([f["floor_seconds"] for f in floors]),
            "bare_seconds": median([f["bare_seconds"] for f in floors]),
        }
        goal = full_goal(at_main.full_seconds, floor["floor_seconds"])
        full_s = at_main.full_seconds

        def runs_label(figures: list[float]) -> str:
            return f"{len(figures)} 次中位；各次 {' / '.join(f'{f:.1f}' for f in figures)} 秒"

        rows += [
            Row(
                f"全量重算 {values:,} 条数值（主规模，清空判定与指纹后）",
                f"{full_s:.1f} 秒（{runs_label(main_fulls)}），写入 {at_main.full_rows:,} 行，"
                f"{values / full_s:,.0f} 数值/秒；"
                f"下限 {floor['floor_seconds']:.1f} 秒，本方案 / 下限 = {full_s / floor['floor_seconds']:.2f}",
                goal.text,
                goal.met,
            ),
            Row(
                "全量重算进程峰值内存（RSS，各规模中最大）",
                f"{max(p.peak_rss_mb for p in points):.0f} MB"
                f"（{max(points, key=lambda p: p.peak_rss_mb).values:,} 条数值）",
                "≤ 300 MB",
                max(p.peak_rss_mb for p in points) <= 300,
            ),
        ]
        if naive is not None:
            ratio_naive = naive["seconds_per_value"] / (full_s / values)
            rows.append(
                Row(
                    f"逐行 ORM save()（{naive['values']:,} 条数值切片，{naive['rows']:,} 行）",
                    f"{naive['seconds']:.1f} 秒，{1 / naive['seconds_per_value']:,.0f} 数值/秒；"
                    f"本方案快 {ratio_naive:.0f} 倍；与本方案结果不同的行 {naive['differing']}",
                    "≥ 20 倍",
                    ratio_naive >= 20,
                )
            )
        rows += [
            Row(
                "手写 SQL 下限：同一批结果行直接 INSERT（同一张表，四个索引）",
                f"{floor['floor_seconds']:.1f} 秒（{runs_label([f['floor_seconds'] for f in floors])}）；"
                f"{goal.floor_limit / floor['floor_seconds']:g} × 下限 = "
                f"{goal.floor_limit:.1f} 秒（全量重算目标的依据之一）",
            ),
            Row(
                "同一 INSERT 写入仅有唯一索引的表（说明索引的写入成本）",
                f"{floor['bare_seconds']:.1f} 秒",
            ),
            self.noop_row(points),
            self.incremental_row(points),
        ]
        series = self.incremental(plan)
        rows.append(
            Row(
                "审核通过一条数值后的单序列增量重算（含预警同步）",
                f"中位 {series['median_ms']:.1f} 毫秒，最慢 {series['max_ms']:.1f} 毫秒（{series['runs']} 次）",
                "≤ 50 毫秒",
                series["median_ms"] <= 50,
            )
        )
        # The pages and the API are measured in the state the nightly job leaves: statuses and their flags.
        self.progress("进度预警同步……")
        flags = sync_indicator_lag_flags(plan_ids=[plan.pk])
        execute("VACUUM ANALYZE indicators_flag")  # as autovacuum would after such a batch
        open_flags = plan.flags.filter(state="open").count()
        rows.append(
            Row("进度预警同步（全量）", f"新增 {flags.raised:,}，解除 {flags.resolved:,}；未解除预警 {open_flags:,} 条")
        )
        leader = self.leader()
        if "pages" not in options["skip"]:
            self.progress("页面……")
            small = plans[min(plans)][0]
            if small.pk != plan.pk:
                sync_indicator_lag_flags(plan_ids=[small.pk])  # its flags too, as the nightly job leaves them
            for page in self.pages(plan, small, leader, options["page_requests"]):
                rows.append(
                    Row(
                        f"页面 {page['name']}（{options['page_requests']} 次，服务端耗时）",
                        f"p50 {page['p50']:.0f} 毫秒，p95 {page['p95']:.0f} 毫秒；查询 {page['queries']} 次"
                        f"（{small.code} 上 {page['queries_small']} 次）",
                        "p95 ≤ 150 毫秒，查询数与规模无关",
                        page["p95"] <= 150 and page["queries"] == page["queries_small"],
                    )
                )
        if "api" not in options["skip"] and shutil.which("wrk") is None:
            rows.append(
                Row("接口压测（wrk）", "未运行：未找到 wrk（apt-get install wrk）", "≥ 300 请求/秒，p95 ≤ 100 毫秒")
            )
        elif "api" not in options["skip"]:
            self.progress("接口压测（wrk）……")
            for api in self.api_load(plan, leader, options["wrk_seconds"], options["connections"]):
                figure = f"{api['rps']:,.0f} 请求/秒，p95 {api['p95_ms']:.0f} 毫秒，非 2xx {api['errors']}"
                what = (
                    f"接口 GET {api['path']}（{api['mode']}；wrk，{options['connections']} 并发，"
                    f"{options['wrk_seconds']} 秒）"
                )
                if api["reference"]:
                    rows.append(Row(f"参照：只有令牌验证和一次查询的{what}", figure))
                    continue
                rows.append(
                    Row(
                        what,
                        figure,
                        "≥ 300 请求/秒，p95 ≤ 100 毫秒",
                        api["rps"] >= 300 and api["p95_ms"] <= 100 and api["errors"] == 0,
                    )
                )
        if "chord" not in options["skip"]:
            chords = self.chord(plan)
            for workers, seconds in chords.items():
                speedup = chords[1] / seconds
                rows.append(
                    Row(
                        f"每日全量任务（Celery chord，{workers} 个 worker 进程，含预警）",
                        f"{seconds:.1f} 秒" + (f"，加速 {speedup:.2f} 倍" if workers > 1 else ""),
                        f"≥ {SPEEDUP_GOAL:g} 倍（相对 1 个 worker 进程）" if workers > 1 else "",
                        speedup >= SPEEDUP_GOAL if workers > 1 else None,
                    )
                )
        self.report(rows, points, plan, values, options, main, sizes)

    def progress(self, message: str) -> None:
        """A line with the time since the start, shown at once (make bench runs for minutes)."""
        elapsed = int(time.monotonic() - self.clock)
        self.stdout.write(f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {message}")
        self.stdout.flush()

    @staticmethod
    def noop_row(points: list[ScalePoint]) -> Row:
        slowest = max(points, key=lambda p: p.noop_seconds)
        redone = [p.noop_regions for p in points if p.noop_regions is not None]
        return Row(
            "无变化重算（各规模；比较输入指纹，不写）",
            f"{' / '.join(f'{p.noop_seconds:.2f}' for p in points)} 秒（最慢 {slowest.noop_seconds:.2f} 秒，"
            f"{slowest.values:,} 条数值）；写入 {max(p.noop_rows for p in points)} 行；"
            + (f"重算 {max(redone)} 个区域" if redone else "重算区域数：重算未报告"),
            f"每个规模 ≤ {NOOP_SECONDS_GOAL:g} 秒，0 行",
            noop_met(points),
        )

    @staticmethod
    def incremental_row(points: list[ScalePoint]) -> Row:
        seconds = [p.incremental_seconds for p in points]
        redone = [p.incremental_regions for p in points if p.incremental_regions is not None]
        series = min(INCREMENTAL_SERIES, min(p.regions for p in points))
        return Row(
            f"增量重算（各规模；{series} 个区域各 1 条数值在 SQL 中直接修改后整份规划重算，再改回重算）",
            f"中位 {' / '.join(f'{s:.2f}' for s in seconds)} 秒，最大 / 最小 = {spread(seconds):.2f}；"
            + (
                f"每次重算 {'–'.join(sorted({str(min(redone)), str(max(redone))}, key=int))} 个区域"
                if redone
                else "重算区域数：重算未报告"
            ),
            f"与规模无关（最大 / 最小 ≤ {FLAT_RATIO_GOAL:g}），只重算改动的区域",
            incremental_met(points, series),
        )

    # --- the data --------------------------------------------------------------------------------------------

    def synthetic_plan(self, regions: int, indicators: int, years: int) -> tuple[Plan, int, float | None]:
        expected = (regions + 1) * indicators * years
        plan = Plan.objects.filter(code=synthetic_code(regions, indicators, years)).first()
        if plan is not None and IndicatorValue.objects.filter(indicator__plan=plan).count() == expected:
            self.progress(f"沿用已有的合成数据 {plan.code}（{expected:,} 条数值）")
            return plan, expected, None
        self.progress(f"生成合成数据 {regions} 个区域 × {indicators} 项指标 × {years} 年（{expected:,} 条数值）……")
        plan, written, seconds = generate(regions=regions, indicators=indicators, years=years)
        return plan, written, seconds

    # --- recompute ---------------------------------------------------------------------------------------------

    def recompute_at(self, plan: Plan, regions: int, values: int) -> ScalePoint:
        clear_statuses(plan)
        done = subprocess.run(
            [sys.executable, "manage.py", "bench", "--child-recompute", str(plan.pk)],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": this_database_url()},
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise CommandError(f"重算子进程失败：\n{done.stderr[-2000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        return ScalePoint(regions=regions, values=values, **figures)

    def child_recompute(self, plan_id: int) -> None:
        """Full (from nothing), no-op, then incremental: each timed, printed as one JSON line for the parent."""

        def timed() -> tuple[float, Any]:
            clock = time.perf_counter()
            result = recompute_indicator_statuses(plan_ids=[plan_id])
            return time.perf_counter() - clock, result

        def redone(result: Any) -> int | None:
            # Reported by the fingerprinting recompute; None where the recompute does not say.
            value = getattr(result, "regions_recomputed", None)
            return None if value is None else int(value)

        full_seconds, full = timed()
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tables = ("indicators_indicatorstatus", StatusFingerprint._meta.db_table, StatusCount._meta.db_table)
        execute(f"ANALYZE {', '.join(tables)}")  # as autovacuum would after the batch
        noops = [timed() for _ in range(NOOP_RUNS)]
        plan = Plan.objects.get(pk=plan_id)
        changed = spread_values(plan, INCREMENTAL_SERIES)
        incremental = []
        shifted = 0
        try:
            for _ in range(INCREMENTAL_CYCLES):
                for delta in (1, -1):
                    shift_approved(changed, delta)
                    shifted += delta
                    incremental.append(timed())
        finally:
            if shifted:  # a failed run leaves the synthetic values as they were
                shift_approved(changed, -shifted)
        noop_redone = [redone(r) for _, r in noops]
        incremental_redone = [redone(r) for _, r in incremental]
        regions_total = getattr(full, "regions_total", None)

        def most(counts: list[int | None]) -> int | None:
            known = [c for c in counts if c is not None]
            return max(known) if known and len(known) == len(counts) else None

        figures = {
            "full_seconds": full_seconds,
            "full_rows": full.rows_written,
            "noop_seconds": median([s for s, _ in noops]),
            "noop_rows": max(r.rows_written for _, r in noops),
            "noop_regions": most(noop_redone),
            "incremental_seconds": median([s for s, _ in incremental]),
            "incremental_max_seconds": max(s for s, _ in incremental),
            "incremental_rows": int(median([r.rows_written for _, r in incremental])),
            "incremental_regions": most(incremental_redone),
            "regions_total": None if regions_total is None else int(regions_total),
            "peak_rss_mb": peak_rss_mb,
        }
        self.stdout.write(json.dumps(figures))

    def naive(self, plan: Plan, wanted_values: int) -> dict[str, Any]:
        """The recompute as a loop: per series, read its values; per as-of year, assess() and save() one row."""
        indicators = list(plan.indicators.select_related("plan").order_by("number"))
        years = list(plan.years)
        per_region = len(indicators) * len(years)
        regions = list(plan.area_divisions()[: max(1, math.ceil(wanted_values / per_region))])
        region_ids = [r.pk for r in regions]
        ours = {
            (row[0], row[1], row[2]): row[3:]
            for row in IndicatorStatus.objects.filter(indicator__plan=plan, region_id__in=region_ids).values_list(
                "indicator_id", "region_id", "as_of_year", *COMPARED
            )
        }
        IndicatorStatus.objects.filter(indicator__plan=plan, region_id__in=region_ids).delete()
        self.stdout.write(f"逐行 ORM 方式：{len(regions)} 个区域 × {len(indicators)} 项指标……")
        thresholds = Thresholds(plan.lagging_below, plan.watch_below, plan.on_track_below)
        clock = time.perf_counter()
        written = 0
        for indicator in indicators:
            for region in regions:
                region_plan = region_plan_for(indicator, region)
                baseline, target = region_plan.baseline, region_plan.target
                if target is None:
                    continue  # nothing to assess against; such rows then count as differing in the figure
                observations = dict(
                    IndicatorValue.objects.filter(
                        indicator=indicator, region=region, approved_value__isnull=False
                    ).values_list("year", "approved_value")
                )
                for as_of in years:
                    result = assess(
                        baseline_year=indicator.baseline_year,
                        baseline=baseline,
                        target_year=indicator.target_year,
                        target=target,
                        observations=observations,
                        direction=indicator.direction,
                        as_of_year=as_of,
                        thresholds=thresholds,
                    )
                    row = IndicatorStatus.objects.filter(indicator=indicator, region=region, as_of_year=as_of).first()
                    row = row or IndicatorStatus(indicator=indicator, region=region, as_of_year=as_of)
                    row.status = result.status
                    row.latest_year = result.latest_year
                    row.latest_value = result.latest_value
                    row.baseline_value, row.target_value = baseline, target
                    row.gap, row.completion = result.gap, result.completion
                    row.expected_completion, row.ratio = result.expected_completion, result.ratio
                    row.forecast_value = result.forecast_value
                    row.forecast_meets_target = result.forecast_meets_target
                    row.changed_at = timezone.now()
                    row.save()
                    written += 1
        seconds = time.perf_counter() - clock
        theirs = {
            (row[0], row[1], row[2]): row[3:]
            for row in IndicatorStatus.objects.filter(indicator__plan=plan, region_id__in=region_ids).values_list(
                "indicator_id", "region_id", "as_of_year", *COMPARED
            )
        }
        differing = sum(1 for key in ours.keys() | theirs.keys() if not self.same(ours.get(key), theirs.get(key)))
        values = IndicatorValue.objects.filter(indicator__plan=plan, region_id__in=region_ids).count()
        # Put back exactly what the set-based recompute writes, so the later steps start from its state.
        recompute_indicator_statuses(plan_ids=[plan.pk], region_ids=region_ids)
        return {
            "seconds": seconds,
            "values": values,
            "rows": written,
            "seconds_per_value": seconds / values,
            "differing": differing,
        }

    @staticmethod
    def same(ours: tuple[Any, ...] | None, theirs: tuple[Any, ...] | None) -> bool:
        """Equal to the stored 4 decimal places (the naive way rounds half-even on save, SQL half away from zero)."""
        if ours is None or theirs is None:
            return ours is theirs
        for a, b in zip(ours, theirs, strict=True):
            if isinstance(a, Decimal) and isinstance(b, Decimal):
                if abs(a - b) > Decimal("0.0001"):
                    return False
            elif a != b:
                return False
        return True

    def floor(self, plan: Plan) -> dict[str, float]:
        """The same rows written by one bare INSERT … SELECT from a copy: no computing, no comparing."""
        where, args = plan_statuses_sql(plan)
        execute("DROP TABLE IF EXISTS bench_rows")
        execute(
            f"CREATE TEMP TABLE bench_rows AS SELECT {STATUS_COLUMNS} FROM indicators_indicatorstatus WHERE {where}",
            args,
        )
        delete_status_rows(plan)  # the same rows go back, so the plan's fingerprints and counts stay true
        clock = time.perf_counter()
        execute(f"INSERT INTO indicators_indicatorstatus ({STATUS_COLUMNS}) SELECT {STATUS_COLUMNS} FROM bench_rows")
        floor_seconds = time.perf_counter() - clock
        execute("DROP TABLE IF EXISTS bench_bare")
        execute("CREATE TABLE bench_bare (LIKE indicators_indicatorstatus INCLUDING DEFAULTS INCLUDING IDENTITY)")
        execute("CREATE UNIQUE INDEX ON bench_bare (indicator_id, region_id, as_of_year)")
        clock = time.perf_counter()
        execute(f"INSERT INTO bench_bare ({STATUS_COLUMNS}) SELECT {STATUS_COLUMNS} FROM bench_rows")
        bare_seconds = time.perf_counter() - clock
        execute("DROP TABLE bench_bare")
        execute("DROP TABLE bench_rows")
        # As after every batch here: vacuumed, analyzed and checkpointed, so the next timed step (another floor,
        # the single-series recompute) does not pay for this one's writes.
        vacuum("indicators_indicatorstatus")
        return {"floor_seconds": floor_seconds, "bare_seconds": bare_seconds}

    def incremental(self, plan: Plan, runs: int = 7) -> dict[str, Any]:
        """What approving one entry queues: the recompute of its series (and its lag flag), timed per run."""
        entry = (
            IndicatorValue.objects.filter(indicator__plan=plan, approved_value__isnull=False).order_by("-pk").first()
        )
        assert entry is not None and entry.approved_value is not None
        original = approved = entry.approved_value
        samples = []
        try:
            for run in range(runs):
                # Alternate the approved value, as a revision approved and approved back would.
                approved += Decimal("0.5") if run % 2 == 0 else Decimal("-0.5")
                IndicatorValue.objects.filter(pk=entry.pk).update(approved_value=approved)
                clock = time.perf_counter()
                status_recompute_series(indicator_id=entry.indicator_id, region_id=entry.region_id)
                samples.append((time.perf_counter() - clock) * 1000)
        finally:
            # Leave the synthetic data as generated, so the next run starts from the same values.
            IndicatorValue.objects.filter(pk=entry.pk).update(approved_value=original)
            status_recompute_series(indicator_id=entry.indicator_id, region_id=entry.region_id)
        return {"median_ms": statistics.median(samples), "max_ms": max(samples), "runs": runs}

    # --- pages and API -------------------------------------------------------------------------------------

    def leader(self) -> Any:
        user, _ = User.objects.get_or_create(username="bench-leader", defaults={"first_name": "基准测试领导"})
        user.groups.set(Group.objects.filter(name="领导"))
        UserScope.objects.get_or_create(user=user)
        return user

    def pages(self, plan: Plan, small: Plan, leader: Any, requests: int) -> list[dict[str, Any]]:
        """Server time of the pages on `plan`, and their query counts there and on `small`: the smallest synthetic
        plan, the same shape of data (values, statuses, open flags) with a tenth of the regions or fewer."""
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(leader)

        def urls(of: Plan) -> dict[str, str]:
            first = Indicator.objects.filter(plan=of).order_by("number").first()
            assert first is not None
            query = f"?plan={of.pk}&year={of.period_end_year}"
            return {
                "总览": "/dashboard/" + query,
                "指标详情": f"/dashboard/indicators/{first.pk}/" + query,
                "区域矩阵": "/dashboard/regions/" + query,
            }

        def count(url: str) -> int:
            client.get(url)
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            if response.status_code != 200:
                raise CommandError(f"{url} → {response.status_code}")
            return len(captured.captured_queries)

        results = []
        small_urls = urls(small)
        for name, url in urls(plan).items():
            queries, queries_small = count(url), count(small_urls[name])
            samples = []
            for _ in range(requests):
                clock = time.perf_counter()
                client.get(url)
                samples.append((time.perf_counter() - clock) * 1000)
            results.append(
                {
                    "name": name,
                    "p50": percentile(samples, 50),
                    "p95": percentile(samples, 95),
                    "queries": queries,
                    "queries_small": queries_small,
                }
            )
        return results

    def api_load(self, plan: Plan, leader: Any, seconds: int, connections: int) -> list[dict[str, Any]]:
        wrk = shutil.which("wrk")
        assert wrk is not None  # handle() reports a missing wrk in the table instead of calling this
        instance, token = AuthToken.objects.create(user=leader)
        results = []
        try:
            # With the answer cache (as deployed with Redis) and without it (every call computed).
            for mode, cache_seconds in (("缓存", "30"), ("不缓存", "0")):
                results += self.wrk(wrk, plan, token, seconds, connections, mode, cache_seconds)
        finally:
            instance.delete()  # the benchmark's token does not outlive it
        return results

    def wrk(
        self, wrk: str, plan: Plan, token: str, seconds: int, connections: int, mode: str, cache_seconds: str
    ) -> list[dict[str, Any]]:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": this_database_url(),
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "API_CACHE_SECONDS": cache_seconds,
        }
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        args = [gunicorn, "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "3"]
        results = []
        with tempfile.TemporaryDirectory() as tmp, process(args, env):
            script = Path(tmp) / "report.lua"
            script.write_text(
                f'wrk.headers["Authorization"] = "Token {token}"\n'
                "done = function(summary, latency, requests)\n"
                '  io.write(string.format("BENCH %d %d %d %d\\n", summary.requests, summary.duration,\n'
                "    latency:percentile(95), summary.errors.status + summary.errors.connect + summary.errors.timeout))\n"
                "end\n"
            )
            base = f"http://127.0.0.1:{port}"

            def up() -> bool:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    return True
                except OSError:
                    return False

            if not wait_until(up, 60):
                raise CommandError("gunicorn 未能启动")
            paths = [f"/api/v1/indicators/?plan={plan.pk}&status=lagging", f"/api/v1/status/?plan={plan.pk}"]
            if cache_seconds == "0":
                # The ceiling of this machine for any answer: token check and one row, nothing of the plan's.
                paths.append(f"/api/v1/regions/{plan.region_id}/")
            for path in paths:
                subprocess.run(
                    [wrk, "-t2", "-c4", "-d2s", "-s", str(script), base + path], capture_output=True, check=True
                )
                done = subprocess.run(
                    [
                        wrk,
                        "-t2",
                        f"-c{connections}",
                        f"-d{seconds}s",
                        "--timeout",
                        "10s",
                        "-s",
                        str(script),
                        base + path,
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
                count, duration_us, p95_us, errors = (int(x) for x in line.split()[1:])
                results.append(
                    {
                        "path": path,
                        "mode": mode,
                        "reference": path.startswith("/api/v1/regions/"),
                        "rps": count / (duration_us / 1e6),
                        "p95_ms": p95_us / 1000,
                        "errors": errors,
                    }
                )
        return results

    # --- the chord ----------------------------------------------------------------------------------------------

    def chord(self, plan: Plan) -> dict[int, float]:
        if not os.environ.get("REDIS_URL"):
            raise CommandError("分片并行需要 Redis：请设置 REDIS_URL，或用 --skip chord 跳过。")
        celery = str(Path(sys.executable).with_name("celery"))
        figures: dict[int, float] = {}
        for workers in (1, 2):
            # Each run starts from nothing, so both write every status and raise every flag.
            clear_flags(plan)
            clear_statuses(plan)
            app.control.purge()
            args = [celery, "-A", "config", "worker", "--concurrency", str(workers), "--loglevel", "WARNING"]
            with process(args, {**os.environ, "DATABASE_URL": this_database_url()}):
                self.progress(f"每日全量任务：{workers} 个 worker 进程……")
                time.sleep(3)  # let the worker connect before the pieces are sent
                clock = time.perf_counter()
                recompute_in_chunks(plan_ids=[plan.pk]).get(timeout=1800, propagate=True)
                figures[workers] = time.perf_counter() - clock
        return figures

    # --- the report ------------------------------------------------------------------------------------------

    def report(
        self,
        rows: list[Row],
        points: list[ScalePoint],
        plan: Plan,
        values: int,
        options: dict[str, Any],
        main: int,
        sizes: tuple[int, ...],
    ) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = cursor.fetchone()[0]
            cursor.execute("SHOW shared_buffers")
            buffers = cursor.fetchone()[0]
            cursor.execute("SHOW autovacuum")
            autovacuum = cursor.fetchone()[0]
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if "model name" in line
            ),
            platform.processor(),
        )
        machine = (
            f"{os.cpu_count()} 核（{cpu}），内存 {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.1f} GiB；"
            f"PostgreSQL {server}（shared_buffers {buffers}，autovacuum {autovacuum}），Python {platform.python_version()}"
        )
        scaling_head = [
            "已审核数值",
            "区域",
            "全量（秒）",
            "全量 秒/百万条",
            "无变化（秒）",
            "增量（秒，中位 / 最慢）",
            "增量 − 无变化（秒）",
            "重算区域（全量 / 无变化 / 增量）",
            "峰值 RSS",
        ]

        def scaling_cells(p: ScalePoint) -> list[str]:
            def known(count: int | None) -> str:
                return "—" if count is None else f"{count:,}"

            return [
                f"{p.values:,}",
                f"{p.regions:,}",
                seconds_label(p.full_seconds),
                f"{p.full_seconds / p.millions:.1f}",
                f"{seconds_label(p.noop_seconds)}（写入 {p.noop_rows} 行）",
                f"{seconds_label(p.incremental_seconds)} / {seconds_label(p.incremental_max_seconds)}"
                f"（写入 {p.incremental_rows:,} 行）",
                seconds_label(max(p.incremental_seconds - p.noop_seconds, 0)),
                f"{known(p.regions_total)} / {known(p.noop_regions)} / {known(p.incremental_regions)}",
                f"{p.peak_rss_mb:.0f} MB",
            ]

        width = max(len(r.what) for r in rows)
        self.stdout.write("")
        for r in rows:
            self.stdout.write(f"{r.what.ljust(width)}  {r.figure}  {r.goal}  {r.verdict if r.goal else ''}")
        self.stdout.write("\n随规模的变化：" + "  ".join(scaling_head))
        for p in points:
            self.stdout.write("  " + "  ".join(scaling_cells(p)))

        output = ROOT / options["output"]
        output.parent.mkdir(parents=True, exist_ok=True)
        chart = output.with_name(f"{output.stem}-scaling.png")
        font = find_cjk_font()
        draw_chart(
            points,
            chart,
            font_file=font,
            series=min(INCREMENTAL_SERIES, min(sizes)),
            note=f"每个规模为一份合成规划：区域数 × {options['indicators']} 项指标 × {options['years']} 年。",
        )
        if font is None:
            self.stdout.write("未找到中文字体（apt-get install fonts-noto-cjk）：图中只有数字，图例见 Markdown。")
        minutes = (timezone.localtime() - self.started).seconds // 60
        reproduce = (
            f"make bench  # = manage.py bench --sizes {','.join(str(s) for s in sizes)} --regions {main} "
            f"--indicators {options['indicators']} --years {options['years']}"
        )
        lines = [
            "# 规模与性能基准",
            "",
            f"由 `make bench` 生成（北京时间 {self.started:%Y-%m-%d %H:%M}，用时 {minutes} 分钟）。"
            f"主规模合成规划 `{plan.code}`：{values:,} 条已审核数值；重算另在 {len(points)} 个规模上测量"
            f"（{' / '.join(f'{p.values:,}' for p in points)} 条数值，见下文“随规模的变化”）。"
            "均为合成数据，非规划事实。",
            "",
            f"- 机器：{machine}",
            f"- 复现：`{reproduce}`（需 PostgreSQL 与 Redis；各规模的数据生成一次后复用）",
            "",
            "| 测量 | 结果 | 目标 | 结论 |",
            "|---|---|---|---|",
            *[f"| {r.what} | {r.figure} | {r.goal or '—'} | {r.verdict} |" for r in rows],
            "",
            "## 随规模的变化",
            "",
            f"每个规模是一份合成规划（区域数 × {options['indicators']} 项指标 × {options['years']} 年，含上级区域本身）。"
            "全量：清空判定、输入指纹与状态计数后重算；无变化：随后再重算（"
            f"{NOOP_RUNS} 次取中位）；增量：{INCREMENTAL_SERIES} 个不同区域中各一条数值的已审核值在 SQL 中直接 +1 后"
            f"整份规划重算，再 −1 后重算（共 {2 * INCREMENTAL_CYCLES} 次，取中位与最慢）。"
            "“增量 − 无变化”是重算改动区域本身的耗时（两者都先比较整份规划的输入指纹）。全量应随数值线性增长"
            "（“秒/百万条”大致不变），无变化与增量应与规模无关。",
            "",
            "| " + " | ".join(scaling_head) + " |",
            "|" + "---|" * len(scaling_head),
            *["| " + " | ".join(scaling_cells(p)) + " |" for p in points],
            "",
            f"![重算耗时随规模的变化（合成数据）]({chart.name})",
            "",
            "图：横轴为已审核数值（百万条），纵轴为耗时（秒），两轴均为对数刻度——耗时跨越三个数量级，线性刻度下"
            "无变化与增量两条线会贴在零上；对数坐标下线性增长是斜率为 1 的直线（与灰色虚线平行），与规模无关是水平线。"
            "红色圆点为全量重算，蓝色方块为无变化重算（蓝色点线为其 1 秒目标），绿色三角为增量重算，"
            "灰色虚线为按最小规模的全量外推的线性增长参考。",
            "",
        ]
        notes = ROOT / "docs" / "benchmarks-notes.md"
        if notes.exists():
            lines += [notes.read_text(encoding="utf-8").rstrip(), ""]
        output.write_text("\n".join(lines), encoding="utf-8")
        self.stdout.write(f"\n已写入 {output} 与 {chart}（用时 {minutes} 分钟）")
