"""A Celery worker is SIGKILLed in the middle of a full recompute (PostgreSQL + a private Redis).

The task is acknowledged late, so it stays in Redis: a pool child's death is noticed by its parent and the task
is rejected back to the queue (task_reject_on_worker_lost); a whole worker's death is noticed by no one, and the
message comes back after the visibility timeout (set short here, with a sweep every second). Either way a new worker finishes the recompute
and what is stored equals a clean recompute.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from typing import Any

import pytest
from celery import Celery
from django.db import connection

from .harness import Worker, output_of, private_redis, process_env, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

VISIBILITY_TIMEOUT = 5


def stored_statuses(plan: Any) -> list[tuple[Any, ...]]:
    """The plan's stored statuses (the database also holds the seed plans, which the piece does not touch)."""
    from indicators.models import IndicatorStatus

    fields = [
        f.attname
        for f in IndicatorStatus._meta.concrete_fields
        if f.name != "id" and f.get_internal_type() != "DateTimeField"  # when it was computed differs, of course
    ]
    rows = IndicatorStatus.objects.filter(indicator__plan=plan)
    return list(rows.order_by("indicator_id", "region_id", "as_of_year").values_list(*fields))


def open_flags(plan: Any) -> set[tuple[Any, ...]]:
    from indicators.models import Flag

    return set(
        Flag.objects.filter(plan=plan, state="open").values_list(
            "kind", "indicator_id", "region_id", "task_id", "reason"
        )
    )


def recompute_statement_running() -> bool:
    """Is another connection to this database writing statuses right now?"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND state = 'active' AND query ILIKE %s",
            ["%indicators_indicatorstatus%"],
        )
        return bool(cursor.fetchone()[0])


def database_quiet() -> bool:
    """No statement of a killed worker still running (PostgreSQL finishes or cancels it on its own)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND state = 'active'"
        )
        return cursor.fetchone()[0] == 0


@pytest.mark.parametrize("victim", ["whole worker", "pool child"])
def test_a_recompute_survives_its_worker_being_killed(transactional_db, victim: str, figure) -> None:  # type: ignore[no-untyped-def]
    from benchmarks.scale import generate
    from indicators.models import IndicatorStatus
    from indicators.services import status_nightly

    plan, _, _ = generate(regions=300, indicators=20, years=5)  # 30,000 values: a recompute of about a second
    regions = list(plan.area_regions().values_list("pk", flat=True))
    assert not IndicatorStatus.objects.exists()

    with private_redis() as redis:
        env = process_env(
            REDIS_URL=redis.url,
            CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
            CELERY_UNACKED_RESTORE_INTERVAL="1",
        )
        queue = f"kill-{uuid.uuid4().hex[:8]}"
        pool = "solo" if victim == "whole worker" else "prefork"
        client = Celery(broker=redis.url, backend=redis.url, set_as_current=False)
        first = Worker(env, queue, pool=pool)
        try:
            # The whole plan as one piece of the nightly chord, so the kill lands inside its one statement.
            result = client.send_task("indicators.tasks.recompute_chunk", args=[plan.pk, regions], queue=queue)
            caught = wait_for(recompute_statement_running, timeout=90, interval=0.01)
            assert caught, f"the recompute never started:\n{output_of(first.process)}"
            killed_at = time.monotonic()
            if victim == "whole worker":
                first.kill()
            else:
                children = first.children()
                assert len(children) == 1
                os.kill(children[0], signal.SIGKILL)
            assert wait_for(database_quiet, timeout=60)
            second = first if victim == "pool child" else Worker(env, queue, pool=pool)
            try:
                outcome = result.get(timeout=120)
            finally:
                log = second.stop()
            recovered_after = time.monotonic() - killed_at
        finally:
            if first.process.poll() is None:
                first.stop()
        assert "WorkerLostError" in log or victim == "whole worker", log
        assert outcome["indicator_rows_written"] + outcome["indicator_rows_deleted"] >= 0

    after_redelivery, flags = stored_statuses(plan), open_flags(plan)
    assert len(after_redelivery) > 30_000
    IndicatorStatus.objects.all().delete()
    status_nightly()
    assert stored_statuses(plan) == after_redelivery
    assert open_flags(plan) == flags
    figure(
        f"全量重算中 SIGKILL（{'整个 worker' if victim == 'whole worker' else '进程池子进程'}）",
        status_rows=len(after_redelivery),
        rows_differing_from_clean_recompute=0,
        seconds_until_completed=round(recovered_after, 1),
        visibility_timeout_seconds=VISIBILITY_TIMEOUT,
    )
