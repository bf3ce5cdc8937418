"""Cached answers of the read-only API calls that clients poll, keyed by a status version.

A recompute that changes stored statuses or flags moves the version on after its commit, so a cached answer
is never older than the last recompute; a short timeout (API_CACHE_SECONDS) bounds what other edits, such as
an indicator renamed in the admin, may leave behind. Keys include the user, so an answer never crosses scopes.
The cache is Redis when REDIS_URL is set (shared by every web process); without Redis nothing is cached.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from rest_framework.request import Request
from rest_framework.response import Response

STATUS_VERSION_KEY = "status-version"


def status_version() -> str:
    version = cache.get(STATUS_VERSION_KEY)
    if version is None:
        cache.add(STATUS_VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(STATUS_VERSION_KEY) or ""
    return str(version)


def status_changed() -> None:
    """Stored statuses or flags changed: answers cached before this transaction commits are stale after it."""
    transaction.on_commit(lambda: cache.set(STATUS_VERSION_KEY, uuid.uuid4().hex, None))


def cached_response(request: Request, compute: Callable[[], Response]) -> Response:
    seconds = settings.API_CACHE_SECONDS
    version = status_version() if seconds > 0 else ""
    if not version:
        return compute()
    raw = f"{version}|{request.user.pk}|{request.get_full_path()}|{request.accepted_renderer.format}"
    key = "api:" + hashlib.sha256(raw.encode()).hexdigest()
    data = cache.get(key)
    if data is not None:
        return Response(data)
    response = compute()
    if response.status_code == 200:
        cache.set(key, response.data, seconds)
    return response


# The public pages (published/public.py): the same for everyone, so one rendered body per plan.
PUBLIC_PAGE_SECONDS = getattr(settings, "PUBLIC_PAGE_CACHE_SECONDS", 60)


def cached_public_page(name: str, render: Callable[[], str]) -> str:
    """A public page's body, cached under the status version: a recompute that changes statuses or flags drops it,
    and the short timeout bounds other edits (a figure or an indicator corrected in the admin)."""
    key = f"public:{status_version()}:{name}"
    body = cache.get(key)
    if body is None:
        body = render()
        cache.set(key, body, PUBLIC_PAGE_SECONDS)
    return str(body)
