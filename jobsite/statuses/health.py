"""Per-connection health: the last upstream failure and when to try again (exponential back-off).

Kept in the cache, so with REDIS_URL every process and server shares it: a dead upstream is
asked at most a few times a minute in all, however many pages are open.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from django.core.cache import cache

from jobsite.upstream.errors import UpstreamError

BACKOFF_FIRST = 1.0  # seconds after the first failure
BACKOFF_MAX = 30.0  # at most this long between attempts: at most ~2 calls a minute when dead
KEY = "jobsite:upstream-health:{}"


@dataclass(frozen=True)
class Problem:
    """An upstream failure as the pages show it."""

    kind: str
    message: str
    failures: int = 1
    retry_at: float = 0.0  # epoch seconds

    @property
    def retry_in(self) -> int:
        return max(0, round(self.retry_at - time.time()))


def problem_get(connection_id: int) -> Problem | None:
    stored = cache.get(KEY.format(connection_id))
    return Problem(**stored) if stored else None


def problem_record(connection_id: int, error: UpstreamError) -> Problem:
    previous = problem_get(connection_id)
    failures = (previous.failures if previous else 0) + 1
    delay = min(BACKOFF_FIRST * 2 ** (failures - 1), BACKOFF_MAX)
    problem = Problem(kind=error.kind, message=error.message, failures=failures, retry_at=time.time() + delay)
    cache.set(KEY.format(connection_id), asdict(problem), timeout=3600)
    return problem


def problem_clear(connection_id: int) -> None:
    cache.delete(KEY.format(connection_id))


def backing_off(problem: Problem | None) -> bool:
    return problem is not None and problem.retry_at > time.time()
