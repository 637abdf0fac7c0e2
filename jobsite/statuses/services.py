"""Writes to the status store: bring job states up to date from upstream, record each change."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from jobsite.statuses.models import JobStatus, StateChange
from jobsite.upstream import states
from jobsite.upstream.client import client_for
from jobsite.upstream.errors import UpstreamError
from jobsite.upstream.models import Connection

logger = logging.getLogger(__name__)

# Terminal jobs can in principle move again upstream (a failed job retried), so look rarely.
TERMINAL_RECHECK = timedelta(minutes=10)


@dataclass(frozen=True)
class RefreshOutcome:
    asked: int  # job IDs sent upstream
    error: UpstreamError | None = None
    # Jobs that were due but could not be refreshed: their shown state is stale.
    failed_job_ids: frozenset[str] = frozenset()


def job_statuses_ensure(*, connection: Connection, job_ids: Iterable[str]) -> list[JobStatus]:
    """The store rows for these jobs, created empty ("not checked yet") where missing."""
    job_ids = list(dict.fromkeys(job_ids))
    JobStatus.objects.bulk_create(
        [JobStatus(connection=connection, job_id=job_id) for job_id in job_ids],
        ignore_conflicts=True,
        batch_size=500,
    )
    by_id = {
        status.job_id: status
        for status in JobStatus.objects.filter(connection=connection, job_id__in=job_ids)
    }
    return [by_id[job_id] for job_id in job_ids]


def _is_due(status: JobStatus, *, now, max_age: timedelta) -> bool:
    if status.checked_at is None:
        return True
    age = now - status.checked_at
    if states.is_terminal(status.state):
        return age >= TERMINAL_RECHECK
    return age >= max_age


def job_statuses_refresh(
    *, connection: Connection, statuses: list[JobStatus], max_age: timedelta
) -> RefreshOutcome:
    """Ask upstream about the jobs whose stored state is older than `max_age`, and store the answer.

    `statuses` are updated in place, so the caller renders what was just learnt. An upstream
    failure is returned, not raised: the stored states stay as they were.
    """
    now = timezone.now()
    due = [status for status in statuses if _is_due(status, now=now, max_age=max_age)]
    if not due:
        return RefreshOutcome(asked=0)
    try:
        answer = client_for(connection).fetch([status.job_id for status in due])
    except UpstreamError as error:
        return RefreshOutcome(
            asked=len(due), error=error, failed_job_ids=frozenset(status.job_id for status in due)
        )
    _store_answer(connection=connection, due=due, reported=answer.jobs, now=timezone.now())
    if answer.from_simulator and not connection.is_simulator:
        Connection.objects.filter(pk=connection.pk).update(is_simulator=True)
        connection.is_simulator = True
    return RefreshOutcome(asked=len(due))


def _store_answer(*, connection: Connection, due: list[JobStatus], reported: dict, now) -> None:
    """Write what upstream said in a handful of queries, however many jobs were asked about.

    Most refreshes change nothing but the check time: those rows get one UPDATE together; only
    rows whose state or output moved are written one by one (in bulk).
    """
    unchanged, missing, changed, history = [], [], [], []
    for status in due:
        job = reported.get(status.job_id)
        status.checked_at = now
        status.reported = job is not None
        if job is None:
            missing.append(status.pk)  # unknown or purged upstream: keep the last known state
            continue
        new_state = job.state or states.UNKNOWN
        if new_state == status.state and job.output == status.output:
            unchanged.append(status.pk)
            continue
        if new_state != status.state:
            status.changed_at = now
            history.append(
                StateChange(connection=connection, job_id=status.job_id, state=new_state, observed_at=now)
            )
        status.state, status.output = new_state, job.output
        changed.append(status)
    with transaction.atomic():
        JobStatus.objects.filter(pk__in=unchanged).update(checked_at=now, reported=True)
        JobStatus.objects.filter(pk__in=missing).update(checked_at=now, reported=False)
        JobStatus.objects.bulk_update(
            changed, ["state", "output", "reported", "checked_at", "changed_at"], batch_size=500
        )
        StateChange.objects.bulk_create(history, batch_size=500)
