"""Reads from the status store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from jobsite.statuses.models import StateChange
from jobsite.upstream.models import Connection


@dataclass(frozen=True)
class TimelineEntry:
    state: str
    observed_at: datetime  # when jobsite first saw this state; upstream gives no times
    lasted: timedelta  # until the next observed state, or until now for the current one
    current: bool


def job_timeline(*, connection: Connection, job_id: str) -> list[TimelineEntry]:
    changes = list(StateChange.objects.filter(connection=connection, job_id=job_id).order_by("observed_at", "id"))
    now = timezone.now()
    entries = []
    for index, change in enumerate(changes):
        following = changes[index + 1] if index + 1 < len(changes) else None
        ended = following.observed_at if following else now
        entries.append(
            TimelineEntry(
                state=change.state,
                observed_at=change.observed_at,
                lasted=ended - change.observed_at,
                current=following is None,
            )
        )
    return entries
