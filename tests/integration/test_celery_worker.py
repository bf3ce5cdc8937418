"""A real Celery worker on Redis recomputes status and flags after an approval (PostgreSQL + Redis)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(transactional_db):  # type: ignore[no-untyped-def]
    """A worker process on its own queue, using this test database; tasks from this process go to Redis."""
    from config.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue, "--loglevel=INFO"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        yield process
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(check, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.3)
    return None


def test_a_worker_recomputes_after_an_approval(worker) -> None:  # type: ignore[no-untyped-def]
    from indicators.management.commands.load_plan import load_all
    from indicators.models import Flag, IndicatorStatus, PendingSeriesRecompute
    from indicators.services import (
        IndicatorValueInput,
        indicator_value_approve,
        indicator_value_create,
        indicator_value_submit,
    )
    from planning.models import Plan
    from planning.roles import ensure_role_groups
    from regions.models import Region
    from tests.conftest import make_user

    ensure_role_groups()
    load_all(settings.PLAN_FIXTURES_DIR)
    alice = make_user("alice", "填报员", units=("市教育局",))
    carol = make_user("carol", "审核员", units=("市教育局",))
    binding = Plan.objects.get(code="leshan-edu-14fyp").indicators.get(number=7)
    city = Region.objects.get(code="511100")
    assert connection.vendor == "postgresql"

    entry = indicator_value_create(
        indicator=binding, region=city, year=2023, user=alice, data=IndicatorValueInput(value="95.3", source="统计年报")
    )
    entry = indicator_value_submit(value=entry, user=alice)
    indicator_value_approve(value=entry, user=carol)  # commits; the task goes to Redis

    status = wait_for(
        lambda: IndicatorStatus.objects.filter(
            indicator=binding, region=city, as_of_year=2025, status="lagging"
        ).first()
    )
    if status is None:
        worker.terminate()
        output = worker.communicate(timeout=20)[0]
        pytest.fail(f"the worker did not recompute in time; its log:\n{output[-4000:]}")
    flag = wait_for(lambda: Flag.objects.filter(indicator=binding, region=city, state="open").first())
    assert flag is not None
    assert flag.reason.startswith("约束性指标滞后")
    assert wait_for(lambda: not PendingSeriesRecompute.objects.exists())
