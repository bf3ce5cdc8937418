"""Shared test set-up.

The plan fixtures are loaded once per test database (session scope); every test then runs inside a
transaction that is rolled back, so tests may change plan rows freely.

Tests marked `postgres`, `redis` or `browser` need those services. Locally they are skipped with the
reason; with REQUIRE_SERVICES=1 (as .ci/run sets) a missing service fails the run instead.
"""

from __future__ import annotations

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"


def _using_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def _redis_reachable() -> bool:
    url = settings.REDIS_URL
    if not url:
        return False
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _missing_services() -> dict[str, str]:
    missing = {}
    if not _using_postgres():
        missing["postgres"] = "需要 PostgreSQL：设置 DATABASE_URL=postgres://…（当前为 SQLite）"
    if not _redis_reachable():
        missing["redis"] = f"需要可连接的 Redis：设置 REDIS_URL=redis://…（当前为 {settings.REDIS_URL or '未设置'}）"
    if not shutil.which(CHROMIUM):
        missing["browser"] = f"需要 {CHROMIUM}（apt-get install chromium fonts-noto-cjk）"
    return missing


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = _missing_services()
    needed = {name for item in items for name in missing if name in item.keywords}
    if REQUIRE_SERVICES and needed:
        raise pytest.UsageError("REQUIRE_SERVICES=1 但以下服务不可用：\n" + "\n".join(missing[n] for n in needed))
    for item in items:
        for name, reason in missing.items():
            if name in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    from indicators.management.commands.load_plan import load_all

    with django_db_blocker.unblock():
        load_all(settings.PLAN_FIXTURES_DIR)


# --- people in and out of scope for every role (as healthchecks' alice/bob/charlie) -------------------

import datetime  # noqa: E402


def make_user(username: str, *roles: str, units: tuple[str, ...] = (), regions: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Group, User

    from planning.models import Unit, UserScope
    from regions.models import Region

    user = User.objects.create_user(username=username, password="pw-" + username, first_name=username.title())
    user.groups.set(Group.objects.filter(name__in=roles))
    scope = UserScope.objects.create(user=user)
    scope.units.set(Unit.objects.filter(name__in=units))
    scope.regions.set(Region.objects.filter(name__in=regions))
    assert scope.units.count() == len(units)
    assert scope.regions.count() == len(regions)
    return user


def api_token(user) -> str:  # type: ignore[no-untyped-def]
    """A new API token for `user` (as POST /api/v1/auth/token/ would issue): the key to send as `Token <key>`."""
    from knox.models import AuthToken

    return AuthToken.objects.create(user)[1]


@pytest.fixture
def alice(db):  # type: ignore[no-untyped-def]
    """填报员 of 市教育局: every 市教育局-led indicator in every region, and its tasks."""
    return make_user("alice", "填报员", units=("市教育局",))


@pytest.fixture
def bob(db):  # type: ignore[no-untyped-def]
    """填报员 of 沐川县: every indicator, only for 沐川县."""
    return make_user("bob", "填报员", regions=("沐川县",))


@pytest.fixture
def frank(db):  # type: ignore[no-untyped-def]
    """填报员 of 市财政局: leads no indicator; co-operates on some tasks."""
    return make_user("frank", "填报员", units=("市财政局",))


@pytest.fixture
def carol(db):  # type: ignore[no-untyped-def]
    """审核员 of 市教育局."""
    return make_user("carol", "审核员", units=("市教育局",))


@pytest.fixture
def dave(db):  # type: ignore[no-untyped-def]
    """审核员 of 夹江县: out of scope for 沐川县 and city entries."""
    return make_user("dave", "审核员", regions=("夹江县",))


@pytest.fixture
def erin(db):  # type: ignore[no-untyped-def]
    """Both 填报员 and 审核员 of 市教育局: may never approve her own entries."""
    return make_user("erin", "填报员", "审核员", units=("市教育局",))


@pytest.fixture
def leo(db):  # type: ignore[no-untyped-def]
    """领导: reads everything, edits nothing."""
    return make_user("leo", "领导")


@pytest.fixture
def ada(db):  # type: ignore[no-untyped-def]
    """管理员 (not a superuser): manages plan data and decomposition."""
    user = make_user("ada", "管理员")
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def nobody(db):  # type: ignore[no-untyped-def]
    return make_user("nobody")


@pytest.fixture
def plan(db):  # type: ignore[no-untyped-def]
    from planning.models import Plan

    return Plan.objects.get(code="leshan-edu-14fyp")


@pytest.fixture
def rate(plan):  # type: ignore[no-untyped-def]
    """学前教育毛入园率: %, 95 → 96, not additive."""
    return plan.indicators.get(number=2)


@pytest.fixture
def headcount(plan):  # type: ignore[no-untyped-def]
    """学前教育幼儿数: 万人, 9.4 → 9.6, additive."""
    return plan.indicators.get(number=1)


@pytest.fixture
def city(db):  # type: ignore[no-untyped-def]
    from regions.models import Region

    return Region.objects.get(code="511100")


@pytest.fixture
def muchuan(db):  # type: ignore[no-untyped-def]
    from regions.models import Region

    return Region.objects.get(name="沐川县")


@pytest.fixture
def jiajiang(db):  # type: ignore[no-untyped-def]
    from regions.models import Region

    return Region.objects.get(name="夹江县")


@pytest.fixture
def today_2026(monkeypatch):  # type: ignore[no-untyped-def]
    """Pin 'today' so year rules do not depend on when the tests run."""
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: datetime.date(2026, 3, 15))
    return datetime.date(2026, 3, 15)


@pytest.fixture
def live_plan(transactional_db):  # type: ignore[no-untyped-def]
    """For tests against the live server (transactional): the plan loaded in this test's own data."""
    from indicators.management.commands.load_plan import load_all
    from planning.roles import ensure_role_groups

    ensure_role_groups()
    load_all(settings.PLAN_FIXTURES_DIR)


# --- figures for `make reliability` -------------------------------------------------------------------

import json  # noqa: E402


@pytest.fixture
def figure(request):  # type: ignore[no-untyped-def]
    """Record what a fault or security test measured; `make reliability` prints and files them.

    With RELIABILITY_FIGURES=path each call appends one JSON line (xdist workers append to the same file).
    """

    def record(check: str, **figures: object) -> None:
        path = os.environ.get("RELIABILITY_FIGURES")
        if path:
            line = json.dumps({"check": check, "test": request.node.nodeid, **figures}, ensure_ascii=False)
            with open(path, "a", encoding="utf-8") as out:
                out.write(line + "\n")

    return record
