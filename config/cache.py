"""A Redis cache that degrades instead of failing when Redis is unreachable.

The cache only holds throttle counters; a Redis outage must not turn API requests into errors, so reads
miss and writes are dropped (with a warning) until Redis is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _guarded(name: str, fallback: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(super(ResilientRedisCache, self), name)(*args, **kwargs)
        except UNAVAILABLE:
            logger.warning("Redis cache unavailable for %s; carrying on without it", name)
            return fallback(*args, **kwargs)

    method.__name__ = name
    return method


class ResilientRedisCache(RedisCache):
    get = _guarded("get", lambda key, default=None, **kw: default)
    set = _guarded("set", lambda *a, **kw: None)
    add = _guarded("add", lambda *a, **kw: False)
    delete = _guarded("delete", lambda *a, **kw: False)
    incr = _guarded("incr", lambda key, delta=1, **kw: delta)
    get_many = _guarded("get_many", lambda *a, **kw: {})
    set_many = _guarded("set_many", lambda *a, **kw: [])
    has_key = _guarded("has_key", lambda *a, **kw: False)
    touch = _guarded("touch", lambda *a, **kw: False)
