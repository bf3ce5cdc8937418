"""Reads of the plan's data from a PostgreSQL read replica, for the pages and API calls that only read.

With DATABASE_REPLICA_URL set, a GET or HEAD to the dashboards or the API reads the plan's tables (regions,
planning, indicators) from the replica; everything else — forms, the review workflow, every write, the
tasks, and the users and sessions (so a fresh login is never missing on a lagging replica) — stays on the
primary. Stored statuses are recomputed in the background anyway, so a replica a second behind shows what
a leader would have seen a second earlier.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
REPLICATED_APPS = frozenset({"regions", "planning", "indicators"})
READ_ONLY_PATHS = ("/dashboard/", "/api/v1/")
# A person's own notifications: read back right after marking them read, so never from a lagging replica.
PRIMARY_ONLY_PATHS = ("/api/v1/auth/", "/api/v1/notifications/")

_reading_from_replica: ContextVar[bool] = ContextVar("reading_from_replica", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Within this block, reads of the plan's data may go to the replica (when one is configured)."""
    token = _reading_from_replica.set(True)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


class ReadReplicaRouter:
    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if _reading_from_replica.get() and REPLICA in settings.DATABASES and model._meta.app_label in REPLICATED_APPS:
            return REPLICA
        return None

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db != REPLICA


class ReplicaReadsMiddleware:
    """Marks the read-only requests whose plan data may come from the replica."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD") and is_read_only_path(request.path):
            with replica_reads():
                return self.get_response(request)
        return self.get_response(request)


def is_read_only_path(path: str) -> bool:
    return path.startswith(READ_ONLY_PATHS) and not path.startswith(PRIMARY_ONLY_PATHS)
