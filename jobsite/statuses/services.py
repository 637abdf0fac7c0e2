"""Writes to the status store: bring job states up to date from upstream, record each change.

The cost follows the number of unfinished jobs, not the number of viewers. Normally a watcher
process (`manage.py watch`) keeps the store fresh and pages only read it
(`job_statuses_for_page`). Without a live watcher, a page refresh asks upstream itself, only about
jobs whose stored state predates the caller's current freshness window, and first *claims* them
in the database: concurrent refreshes (threads, worker processes, servers sharing one database)
that want the same jobs find them claimed and wait briefly for that answer instead of asking
again. Watchers claim the same way but skip what others hold, so several split the work. A
claim is a short transaction: on PostgreSQL rows are taken with SELECT … FOR UPDATE in
primary-key order; on SQLite the transaction is IMMEDIATE, which serializes writers. A claim
expires by itself, so a worker that died never blocks the others for long.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from jobsite.statuses import health, watchers
from jobsite.statuses.models import JobStatus, StateChange
from jobsite.upstream import states
from jobsite.upstream.client import client_for
from jobsite.upstream.errors import UpstreamError
from jobsite.upstream.models import Connection

logger = logging.getLogger(__name__)

# Waiters look again at jobs another worker is fetching at least this often (seconds). Those
# waiting on a claim made in their own process are woken as soon as it is answered instead, so
# a hundred viewers of one list do not query the database twenty times a second each.
WAIT_STEP = 0.1
_claims_answered = threading.Condition()


@dataclass(frozen=True)
class RefreshOutcome:
    asked: int  # job IDs this call sent upstream
    problem: health.Problem | None = None  # set while upstream fails and some jobs could not be refreshed
    revised: frozenset[int] = frozenset()  # store rows whose shown content this call changed
    changed: int = 0  # of those, jobs whose state moved


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the freshness window `now` falls in. Windows sit on one grid for everyone
    (multiples of the window since the epoch), so all viewers of a job agree on when its state
    goes stale: one upstream call per job per window, whether one viewer polls or a hundred."""
    seconds = window.total_seconds()
    return datetime.fromtimestamp(now.timestamp() // seconds * seconds, tz=now.tzinfo)


def due_q(*, now: datetime, max_age: timedelta, terminal_recheck: timedelta) -> Q:
    """Jobs whose stored state is too old: never checked, live and checked before the current
    freshness window began, or settled (finished, or unknown to upstream) and last checked
    `terminal_recheck` ago or more.

    The long re-check counts from each job's own check, so settled jobs are re-checked spread
    out over time, not all at once on a shared boundary.
    """
    settled = Q(state__in=states.TERMINAL_STATES) | Q(reported=False)
    return (
        Q(checked_at__isnull=True)
        | (~settled & Q(checked_at__lt=window_start(now, max_age)))
        | (settled & Q(checked_at__lte=now - terminal_recheck))
    )


def is_due(status: JobStatus, *, now: datetime, max_age: timedelta, terminal_recheck: timedelta) -> bool:
    """The same rule as `due_q`, for rows already in memory."""
    if status.checked_at is None:
        return True
    if status.is_settled:
        return now - status.checked_at >= terminal_recheck
    return status.checked_at < window_start(now, max_age)


def job_statuses_ensure(
    *, connection: Connection, job_ids: list[str], wanted_until: datetime | None = None
) -> list[JobStatus]:
    """The store rows for these jobs, created empty ("not checked yet") where missing, and wanted
    until `wanted_until` if given.

    Inside a transaction the rows stay locked until it ends (on PostgreSQL), so the watcher's
    prune, which skips locked rows, cannot delete one before the caller links it to a watchlist;
    a row the prune deleted just before is created again.
    """
    job_ids = list(dict.fromkeys(job_ids))
    by_id: dict[str, JobStatus] = {}
    for _pass in range(2):
        missing = [job_id for job_id in job_ids if job_id not in by_id]
        JobStatus.objects.bulk_create(
            [JobStatus(connection=connection, job_id=job_id, wanted_until=wanted_until) for job_id in missing],
            ignore_conflicts=True,
            batch_size=500,
        )
        rows = JobStatus.objects.filter(connection=connection, job_id__in=missing)
        if db_connection.in_atomic_block and db_connection.features.has_select_for_update:
            rows = rows.select_for_update(of=("self",))
        by_id |= {status.job_id: status for status in rows}
        if len(by_id) == len(job_ids):
            break
    return [by_id[job_id] for job_id in job_ids]


def job_statuses_want(*, connection: Connection, job_ids: list[str], until: datetime) -> None:
    """Ask the watcher to keep these jobs fresh until then, though no watchlist holds them."""
    JobStatus.objects.filter(connection=connection, job_id__in=job_ids).filter(
        Q(wanted_until__isnull=True) | Q(wanted_until__lt=until)
    ).update(wanted_until=until)


def _due(connection: Connection, scope: QuerySet[JobStatus], max_age: timedelta) -> QuerySet[JobStatus]:
    terminal_recheck = timedelta(seconds=connection.terminal_recheck)
    return scope.filter(connection=connection).filter(
        due_q(now=timezone.now(), max_age=max_age, terminal_recheck=terminal_recheck)
    )


def job_statuses_for_page(*, connection: Connection, scope: QuerySet[JobStatus], max_age: timedelta) -> RefreshOutcome:
    """What a page does before it reads `scope`: nothing but a look at upstream's health while a
    watcher keeps the store fresh; without one, the in-request refresh below (the fallback)."""
    if not watchers.watchers_alive():
        return job_statuses_refresh(connection=connection, scope=scope, max_age=max_age)
    problem = health.problem_of(connection)
    if problem is not None and not _due(connection, scope, max_age).exists():
        problem = None  # everything in scope is fresh: nothing on this page is stale
    return RefreshOutcome(asked=0, problem=problem)


def job_statuses_refresh(*, connection: Connection, scope: QuerySet[JobStatus], max_age: timedelta) -> RefreshOutcome:
    """Make every job in `scope` no older than `max_age`, asking upstream only where needed.

    Never raises for upstream trouble: the stored states stay, and the outcome carries the
    problem while some jobs in scope are stale because of it.
    """
    due = _due(connection, scope, max_age)
    problem = health.problem_get(connection.pk)
    outcome = RefreshOutcome(asked=0, problem=problem)
    # A plain read first: most refreshes find nothing due.
    if not health.backing_off(problem) and due.exists():
        claimed = _claim(due, lease=timedelta(seconds=connection.timeout + 5))
        if claimed:
            try:
                outcome = job_statuses_ask_upstream(connection=connection, claimed=claimed)
            finally:
                with _claims_answered:
                    _claims_answered.notify_all()
        _wait_for_others(due, deadline=time.monotonic() + connection.timeout + 1)
    if outcome.problem is not None and not due.exists():
        outcome = replace(outcome, problem=None)  # everything in scope is fresh: nothing on this page is stale
    return outcome


def job_statuses_claim(*, due: QuerySet[JobStatus], limit: int, lease: timedelta) -> list[JobStatus]:
    """A watcher's claim: up to `limit` due jobs nobody holds, never-checked and oldest first.

    Watchers split the work rather than queue: on PostgreSQL rows another watcher is claiming
    right now are skipped (SKIP LOCKED), and rows already claimed are left to their holder.
    """
    with transaction.atomic():
        now = timezone.now()
        free = due.filter(_unclaimed(now)).order_by(F("checked_at").asc(nulls_first=True), "pk")
        if db_connection.features.has_select_for_update_skip_locked:
            free = free.select_for_update(skip_locked=True, of=("self",))
        keys = list(free.values_list("pk", flat=True)[:limit])
        JobStatus.objects.filter(pk__in=keys).update(claimed_until=now + lease)
    return list(JobStatus.objects.filter(pk__in=keys).order_by("pk"))


def _unclaimed(now: datetime) -> Q:
    """Rows no worker is asking upstream about: never claimed, or the claim has lapsed."""
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def _claim(due: QuerySet[JobStatus], *, lease: timedelta) -> list[JobStatus]:
    """Mark the due jobs nobody is fetching as ours for `lease`, and return them."""
    # A plain read before the write transaction: in a new window every viewer finds the jobs
    # due, but all except the first find them claimed already, and a transaction each (on
    # SQLite, a queue on the one write lock) would be for nothing.
    if not due.filter(_unclaimed(timezone.now())).exists():
        return []
    with transaction.atomic():
        now = timezone.now()
        free = due.filter(_unclaimed(now)).order_by("pk")
        if db_connection.features.has_select_for_update:
            # Block (briefly) on rows another claim holds; once it commits they are claimed, no
            # longer free. Skipping them instead would make them look free to the waiting check.
            free = free.select_for_update(of=("self",))
        # Keys only while the lock is held: decoding a thousand outputs inside the transaction
        # kept every other writer queued for a large part of a second.
        keys = list(free.values_list("pk", flat=True))
        JobStatus.objects.filter(pk__in=keys).update(claimed_until=now + lease)
    return list(JobStatus.objects.filter(pk__in=keys).order_by("pk"))


def _wait_for_others(due: QuerySet[JobStatus], *, deadline: float) -> None:
    """Wait, briefly and never forever, for jobs another worker is asking upstream about."""
    in_flight = due.filter(claimed_until__gt=timezone.now())
    while in_flight.exists():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        with _claims_answered:
            _claims_answered.wait(min(WAIT_STEP, left))


def job_statuses_release(claimed: list[JobStatus]) -> None:
    JobStatus.objects.filter(pk__in=[status.pk for status in claimed]).update(claimed_until=None)


class AnswerNotStored(UpstreamError):
    """Upstream answered, but the answer could not be stored (the database failed, say). Shown and
    backed off like an upstream failure, so that nobody asks again and again about jobs whose
    answer cannot be kept."""

    kind = "not_stored"


def job_statuses_ask_upstream(*, connection: Connection, claimed: list[JobStatus]) -> RefreshOutcome:
    """Ask upstream about claimed jobs, store the answer and release the claims. Never raises:
    upstream trouble is recorded and returned, and so is any other failure (storing the answer,
    say), which is logged too; the claims are released whatever happens."""
    revised: list[int] = []
    changed = 0
    try:
        answer = client_for(connection).fetch([status.job_id for status in claimed])
        revised, changed = _store_answer(connection=connection, due=claimed, reported=answer.jobs, now=timezone.now())
        health.problem_clear(connection.pk)
        if answer.from_simulator and not connection.is_simulator:
            Connection.objects.filter(pk=connection.pk).update(is_simulator=True)
            connection.is_simulator = True
    except Exception as error:
        problem = _record_failure(connection=connection, claimed=claimed, error=error)
        return RefreshOutcome(asked=len(claimed), problem=problem, revised=frozenset(revised), changed=changed)
    return RefreshOutcome(asked=len(claimed), revised=frozenset(revised), changed=changed)


def _record_failure(*, connection: Connection, claimed: list[JobStatus], error: Exception) -> health.Problem:
    """Record the problem, then release the claims: whoever claims these jobs next sees the
    back-off. Never raises: should the database fail here too, the problem is returned
    unrecorded and the claims lapse by themselves."""
    if not isinstance(error, UpstreamError):
        what = f"ask “{connection.name}” about {len(claimed)} jobs and store the answer"
        logger.error("Could not %s", what, exc_info=error)
        error = AnswerNotStored(f"jobsite could not store what “{connection.name}” answered; the log says why.")
    try:
        problem = health.problem_record(connection.pk, error)
    except Exception:
        logger.exception("Could not record a failure of “%s”", connection.name)
        now = timezone.now()
        retry_at = now + timedelta(seconds=health.BACKOFF_FIRST)
        problem = health.Problem(error.kind, error.message, failures=1, failing_since=now, retry_at=retry_at)
    try:
        job_statuses_release(claimed)
    except Exception:
        logger.exception("Could not release %d claims on “%s”; they lapse by themselves", len(claimed), connection.name)
    return problem


def _store_answer(*, connection: Connection, due: list[JobStatus], reported: dict, now) -> tuple[list[int], int]:
    """Write what upstream said in a handful of queries, however many jobs were asked about.

    Most refreshes change nothing but the check time: those rows get one UPDATE together; only
    rows whose state, output or presence moved are written one by one (in bulk). A re-checked
    finished job counts as revised, so pages show its new check time. Returns the revised rows'
    keys and how many jobs changed state.
    """
    unchanged, revised, history = [], [], []
    for status in due:
        job = reported.get(status.job_id)
        was_terminal = states.is_terminal(status.state)
        status.checked_at = now
        status.claimed_until = None
        if job is None:
            # Unknown or purged upstream: keep the last known state.
            new_state, output, present = status.state, status.output, False
        else:
            new_state, output, present = job.state or states.UNKNOWN, job.output, True
        if (new_state, output, present) == (status.state, status.output, status.reported) and not was_terminal:
            unchanged.append(status.pk)
            continue
        if new_state != status.state:
            status.changed_at = now
            history.append(StateChange(connection=connection, job_id=status.job_id, state=new_state, observed_at=now))
        status.state, status.output, status.reported, status.revised_at = new_state, output, present, now
        revised.append(status)
    with transaction.atomic():
        JobStatus.objects.filter(pk__in=unchanged).update(checked_at=now, claimed_until=None)
        JobStatus.objects.bulk_update(
            revised,
            ["state", "output", "reported", "checked_at", "changed_at", "revised_at", "claimed_until"],
            batch_size=500,
        )
        StateChange.objects.bulk_create(history, batch_size=500)
    return [status.pk for status in revised], len(history)
