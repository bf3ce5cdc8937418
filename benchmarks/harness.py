"""What `manage.py bench` measures with: the table's rows, SQL on the stored statuses, and the processes it starts."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import DatabaseError, connection

from indicators.models import FlagCount, IndicatorValue, StatusCount, StatusFingerprint
from planning.models import Plan

ROOT = Path(settings.BASE_DIR)
STATUS_COLUMNS = (
    "indicator_id, region_id, as_of_year, status, latest_year, latest_value, baseline_value, target_value, gap, "
    "completion, expected_completion, ratio, forecast_value, forecast_meets_target, changed_at"
)


@dataclass
class Row:
    """One line of the table: what was measured, the figure, the goal and whether it was met."""

    what: str
    figure: str
    goal: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> str:
        return {True: "达到", False: "未达到", None: "—"}[self.met]


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def plan_statuses_sql(plan: Plan) -> tuple[str, list[Any]]:
    return "indicator_id IN (SELECT id FROM indicators_indicator WHERE plan_id = %s)", [plan.pk]


def execute(sql: str, args: list[Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, args or [])
        return cursor.rowcount


def vacuum(*tables: str) -> None:
    """What autovacuum would do after a batch, done now so the next step does not pay for it (PostgreSQL only, and
    not inside a transaction, where VACUUM cannot run: the benchmark runs in autocommit, tests in a transaction)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        for table in tables:
            execute(f"VACUUM ANALYZE {table}")
        # And write the dirty pages out now: a checkpoint falling inside the next timed step (the full recompute,
        # the floor) would be charged to whichever step it hit, not to either. Needs a superuser; else skipped.
        with suppress(DatabaseError):
            execute("CHECKPOINT")


def delete_status_rows(plan: Plan) -> None:
    """Delete the plan's status rows only: for putting the very same rows back (the floor), so the stored input
    fingerprints and counts stay true."""
    where, args = plan_statuses_sql(plan)
    execute(f"DELETE FROM indicators_indicatorstatus WHERE {where}", args)
    vacuum("indicators_indicatorstatus")


def clear_statuses(plan: Plan) -> None:
    """Empty the plan's stored statuses, their input fingerprints and counts, and let PostgreSQL reclaim them, so
    a 'full' recompute computes and writes every row (with a fingerprint left, it would skip the region)."""
    where, args = plan_statuses_sql(plan)
    execute(f"DELETE FROM indicators_indicatorstatus WHERE {where}", args)
    for model in (StatusFingerprint, StatusCount):
        execute(f"DELETE FROM {model._meta.db_table} WHERE plan_id = %s", [plan.pk])
    vacuum("indicators_indicatorstatus", StatusFingerprint._meta.db_table, StatusCount._meta.db_table)


def clear_flags(plan: Plan) -> None:
    """Delete the plan's flags and their stored counts together, so a flag sync starts from nothing consistently."""
    execute("DELETE FROM indicators_flag WHERE plan_id = %s", [plan.pk])
    execute(f"DELETE FROM {FlagCount._meta.db_table} WHERE plan_id = %s", [plan.pk])


def spread_values(plan: Plan, count: int) -> list[int]:
    """Ids of `count` approved values, one in each of `count` regions spread evenly over the plan's divisions, of
    different indicators and years: an edit that touches as many independent pieces as it has values."""
    regions = list(plan.area_divisions().values_list("pk", flat=True))
    count = min(count, len(regions))
    chosen = [regions[(i * len(regions)) // count] for i in range(count)]
    ids = []
    for i, region_id in enumerate(chosen):
        candidates = IndicatorValue.objects.filter(
            indicator__plan=plan, region_id=region_id, approved_value__isnull=False
        ).order_by("indicator__number", "year")
        total = candidates.count()
        if total:
            ids.append(candidates.values_list("pk", flat=True)[(i * 37) % total])
    return ids


def shift_approved(value_ids: list[int], delta: int) -> int:
    """Change approved values directly in SQL, as an edit outside the services (admin, a script) would."""
    if not value_ids:
        return 0
    marks = ", ".join(["%s"] * len(value_ids))
    return execute(
        f"UPDATE indicators_indicatorvalue SET approved_value = approved_value + %s WHERE id IN ({marks})",
        [delta, *value_ids],
    )


def this_database_url() -> str:
    """The database this process uses (under the test runner, the test database), for the processes it starts."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@contextmanager
def process(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, 9)
                    proc.wait()
