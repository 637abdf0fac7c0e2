"""Per-connection health: the last upstream failure and when to try again (exponential back-off).

Kept in the database (`ConnectionHealth`), so every web process and every watcher shares it with
or without Redis: a dead upstream is asked at most a few times a minute in all, however many
pages and watchers there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from jobsite.statuses.models import ConnectionHealth
from jobsite.upstream.errors import UpstreamError
from jobsite.upstream.models import Connection

BACKOFF_FIRST = 1.0  # seconds after the first failure
BACKOFF_MAX = 30.0  # at most this long between attempts: at most ~2 calls a minute when dead


@dataclass(frozen=True)
class Problem:
    """An upstream failure as the pages show it."""

    kind: str
    message: str
    failures: int
    failing_since: datetime
    retry_at: datetime

    @property
    def retry_in(self) -> int:
        return max(0, round((self.retry_at - timezone.now()).total_seconds()))


def _problem(row: ConnectionHealth) -> Problem:
    return Problem(
        kind=row.kind,
        message=row.message,
        failures=row.failures,
        failing_since=row.failing_since or timezone.now(),
        retry_at=row.retry_at or timezone.now(),
    )


def problem_get(connection_id: int) -> Problem | None:
    row = ConnectionHealth.objects.filter(pk=connection_id).exclude(kind="").first()
    return _problem(row) if row else None


def problem_of(connection: Connection) -> Problem | None:
    """The problem of a connection loaded with `select_related("health")`: no query."""
    try:
        row = connection.health
    except ObjectDoesNotExist:
        return None
    return _problem(row) if row.kind else None


def problem_record(connection_id: int, error: UpstreamError) -> Problem:
    now = timezone.now()
    row, _created = ConnectionHealth.objects.get_or_create(pk=connection_id)
    row.failures = row.failures + 1 if row.kind else 1
    row.failing_since = row.failing_since if row.kind else now
    row.kind, row.message = error.kind, error.message
    row.retry_at = now + timedelta(seconds=min(BACKOFF_FIRST * 2 ** (row.failures - 1), BACKOFF_MAX))
    row.save()
    return _problem(row)


def problem_clear(connection_id: int) -> None:
    failing = ConnectionHealth.objects.filter(pk=connection_id).exclude(kind="")
    # A read first: a healthy connection is the rule, and on SQLite every UPDATE takes the write lock.
    if failing.exists():
        failing.update(kind="", message="", failures=0, failing_since=None, retry_at=None)


def backing_off(problem: Problem | None) -> bool:
    return problem is not None and problem.retry_at > timezone.now()
