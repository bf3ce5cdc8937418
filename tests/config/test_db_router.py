"""The read replica: which reads may go there, and which requests may use it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import RequestFactory

from config import db_router
from config.db_router import ReadReplicaRouter, ReplicaReadsMiddleware, replica_reads
from indicators.models import IndicatorStatus, IndicatorValue
from planning.models import Plan
from regions.models import Region

from .test_settings import settings_in_subprocess


@pytest.fixture
def with_replica(settings) -> None:  # type: ignore[no-untyped-def]
    """A second alias for the same database: only the router's choice is under test here."""
    settings.DATABASES = {**settings.DATABASES, "replica": settings.DATABASES["default"]}


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_it_reads_plan_data_from_the_replica_only_when_asked(with_replica) -> None:  # type: ignore[no-untyped-def]
    router = ReadReplicaRouter()
    for model in (IndicatorStatus, IndicatorValue, Plan, Region):
        assert router.db_for_read(model) is None
        with replica_reads():
            assert router.db_for_read(model) == "replica"
    with replica_reads():
        # Users and sessions stay on the primary: a login that has not reached the replica yet still counts.
        assert router.db_for_read(User) is None
        assert router.db_for_read(Session) is None
        assert router.db_for_write(IndicatorValue) is None
    assert router.db_for_read(IndicatorStatus) is None
    assert router.allow_migrate("replica", "indicators") is False
    assert router.allow_migrate("default", "indicators") is True


def test_without_a_replica_everything_reads_from_the_primary() -> None:
    with replica_reads():
        assert ReadReplicaRouter().db_for_read(IndicatorStatus) is None


@pytest.mark.parametrize(
    ("method", "path", "replica"),
    [
        ("get", "/dashboard/", True),
        ("get", "/dashboard/regions/", True),
        ("head", "/api/v1/indicators/", True),
        ("get", "/api/v1/status/", True),
        ("post", "/api/v1/indicator-values/", False),
        ("post", "/api/v1/auth/token/", False),
        ("get", "/api/v1/auth/token/", False),
        ("get", "/my/", False),
        ("get", "/values/1/edit/", False),
        ("post", "/dashboard/", False),
    ],
)
def test_the_middleware_marks_read_only_requests(method: str, path: str, replica: bool) -> None:
    seen: dict[str, Any] = {}

    def view(request: Any) -> Any:
        seen["replica"] = db_router._reading_from_replica.get()
        return "response"

    request = getattr(RequestFactory(), method)(path)
    assert ReplicaReadsMiddleware(view)(request) == "response"
    assert seen["replica"] is replica
    assert db_router._reading_from_replica.get() is False


def test_a_replica_url_configures_the_alias_router_and_middleware() -> None:
    result = settings_in_subprocess(
        {
            "DATABASE_URL": "postgres://u@primary.example:5432/tracker",
            "DATABASE_REPLICA_URL": "postgres://reader@replica.example:5432/tracker",
        },
        "s.DATABASES['replica']['HOST'], s.DATABASES['replica']['TEST']['MIRROR'], s.DATABASE_ROUTERS,"
        " 'config.db_router.ReplicaReadsMiddleware' in s.MIDDLEWARE",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("replica.example default ['config.db_router.ReadReplicaRouter'] True")
    plain = settings_in_subprocess({}, "'replica' in s.DATABASES, s.DATABASE_ROUTERS")
    assert plain.stdout.strip() == "False []"


@pytest.mark.django_db
def test_roles_are_read_from_where_users_are_when_scopes_come_from_a_replica(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from planning import selectors
    from planning.roles import user_roles
    from tests.conftest import make_user

    leader = make_user("lily-leader", "领导")
    leader = User.objects.get(pk=leader.pk)  # nothing cached on it yet

    class ScopesElsewhere:
        def db_for_read(self, model: Any, **hints: Any) -> str | None:
            return "elsewhere" if model is User else None  # users on "their" database, scopes on the default

    monkeypatch.setattr(selectors, "router", ScopesElsewhere())
    with CaptureQueriesContext(connection) as captured:
        scope = selectors.user_scope(leader)
    scope_statement = next(q["sql"] for q in captured.captured_queries if "UNION ALL" in q["sql"])
    assert "auth_user_groups" not in scope_statement  # the groups were read on their own (prime_roles)
    assert scope.everything and [r.value for r in user_roles(leader)] == ["领导"]
