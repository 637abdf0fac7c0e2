"""The shared cache, as an optimisation only: with Redis unreachable, pages still answer.

jobsite keeps nothing in the cache that the database does not also hold (sessions are written
through to it, per-list figures are recomputed), so a cache that fails is a cache that misses.
After a failure the cache is skipped for a few seconds, so a dead Redis costs one short timeout
now and then instead of one per lookup; the failure is logged once per outage and staff see a
warning while it lasts.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

SKIP_FOR = 5.0  # seconds without trying Redis after a failure


class _Outage:
    """Shared by the cache instances of every thread (Django makes one per thread)."""

    def __init__(self) -> None:
        self.failed_at: float | None = None
        self.lock = threading.Lock()

    def failed(self, error: RedisError) -> None:
        with self.lock:
            if self.failed_at is None:
                logger.warning("The cache (Redis) is unreachable, running without it: %s", error)
            self.failed_at = time.monotonic()

    def recovered(self) -> None:
        with self.lock:
            if self.failed_at is not None:
                logger.warning("The cache (Redis) answers again")
            self.failed_at = None


_outage = _Outage()


class ResilientRedisCache(RedisCache):
    """Django's Redis cache, degraded to a miss (reads) or a no-op (writes) while Redis fails."""

    def _call(self, method: str, fallback: Any, *args: Any, **kwargs: Any) -> Any:
        failed_at = _outage.failed_at
        if failed_at is not None and time.monotonic() - failed_at < SKIP_FOR:
            return fallback
        try:
            result = getattr(super(), method)(*args, **kwargs)
        except RedisError as error:
            _outage.failed(error)
            return fallback
        if failed_at is not None:
            _outage.recovered()
        return result

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._call("get", default, key, default, version)

    def get_many(self, keys: Any, version: int | None = None) -> dict[str, Any]:
        return self._call("get_many", {}, keys, version)

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._call("has_key", False, key, version)

    def set(self, key: Any, value: Any, timeout: Any = 300, version: int | None = None) -> None:
        self._call("set", None, key, value, timeout, version)

    def add(self, key: Any, value: Any, timeout: Any = 300, version: int | None = None) -> bool:
        return self._call("add", False, key, value, timeout, version)

    def set_many(self, data: dict[Any, Any], timeout: Any = 300, version: int | None = None) -> list[Any]:
        return self._call("set_many", list(data), data, timeout, version)

    def touch(self, key: Any, timeout: Any = 300, version: int | None = None) -> bool:
        return self._call("touch", False, key, timeout, version)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._call("delete", False, key, version)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._call("delete_many", None, keys, version)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # A counter that cannot be read counts as nothing (rate limits then let requests through).
        return self._call("incr", delta, key, delta, version)

    def clear(self) -> None:
        self._call("clear", None)


def cache_degraded() -> bool:
    """Whether the cache is running without its server right now."""
    return _outage.failed_at is not None
