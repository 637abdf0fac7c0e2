"""Writes for watchlists. Views call these; they never touch models directly."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone

from jobsite.statuses.models import JobStatus
from jobsite.statuses.services import (
    RefreshOutcome,
    job_statuses_ensure,
    job_statuses_for_page,
    job_statuses_want,
)
from jobsite.upstream.models import Connection
from jobsite.watchlists.models import Visibility, Watchlist, WatchlistJob
from jobsite.watchlists.selectors import watchlist_statuses, watchlists_visible_to


class CapacityExceeded(Exception):
    """A write would take more jobs than JOBSITE_MAX_JOBS_PER_WATCHLIST, or a quick look more than
    JOBSITE_MAX_JOBS_PER_QUICK_LOOK; nothing was done."""


@transaction.atomic
def watchlist_create(
    *, owner, name: str, connection: Connection, poll_interval: int | None, job_ids: list[str]
) -> Watchlist:
    watchlist = Watchlist.objects.create(
        owner=owner,
        name=name,
        connection=connection,
        poll_interval=poll_interval or connection.poll_interval,
    )
    watchlist_add_jobs(watchlist=watchlist, job_ids=job_ids)
    return watchlist


@transaction.atomic
def watchlist_update(
    *, watchlist: Watchlist, name: str, poll_interval: int, visibility: str, shared_groups
) -> Watchlist:
    watchlist.name = name
    watchlist.poll_interval = poll_interval
    watchlist.visibility = visibility
    watchlist.save(update_fields=["name", "poll_interval", "visibility", "updated_at"])
    watchlist.shared_groups.set(shared_groups if visibility == Visibility.GROUPS else [])
    return watchlist


@transaction.atomic
def watchlist_add_jobs(*, watchlist: Watchlist, job_ids: list[str]) -> int:
    """Add the IDs not already held; returns how many were new. All or nothing."""
    # Lock the watchlist row so two concurrent adds cannot both pass the capacity check.
    Watchlist.objects.select_for_update().filter(pk=watchlist.pk).first()
    held = set(watchlist.jobs.values_list("status__job_id", flat=True))
    new_ids = [job_id for job_id in dict.fromkeys(job_ids) if job_id not in held]
    limit, total = settings.JOBSITE_MAX_JOBS_PER_WATCHLIST, len(held) + len(new_ids)
    if total > limit:
        raise CapacityExceeded(
            f"A watchlist holds at most {limit:,} jobs; this would make {total:,}. "
            "Nothing was saved: split the IDs over several watchlists."
        )
    statuses = job_statuses_ensure(connection=watchlist.connection, job_ids=new_ids)
    WatchlistJob.objects.bulk_create(
        [WatchlistJob(watchlist=watchlist, status=status) for status in statuses], batch_size=500
    )
    _touch(watchlist)
    return len(new_ids)


def watchlist_remove_jobs(*, watchlist: Watchlist, job_ids: list[str]) -> int:
    removed, _ = watchlist.jobs.filter(status__job_id__in=job_ids).delete()
    if removed:
        _touch(watchlist)
    return removed


def _touch(watchlist: Watchlist) -> None:
    """Mark the watchlist changed, so open pages render it whole on their next refresh."""
    watchlist.save(update_fields=["updated_at"])


class JobNotInWatchlist(Exception):
    """The job was removed from the watchlist (by another tab, or its owner elsewhere) meanwhile."""


def watchlist_job_label_set(*, job: WatchlistJob, label: str) -> WatchlistJob:
    # Removed meanwhile: the update changes no row (save(update_fields=…) would raise DatabaseError).
    if not WatchlistJob.objects.filter(pk=job.pk).update(label=label):
        raise JobNotInWatchlist("That job is no longer in this watchlist.")
    job.label = label
    return job


def watchlist_delete(*, watchlist: Watchlist) -> None:
    watchlist.delete()


def watchlists_revise(*, status_ids: frozenset[int]) -> None:
    """Tell open pages that these store rows changed: every watchlist holding one moves on.

    Called after the rows' write has committed, never before: a page that reads the new
    revision then always finds the new rows."""
    if status_ids:
        holders = WatchlistJob.objects.filter(status_id__in=status_ids).values("watchlist_id")
        Watchlist.objects.filter(pk__in=holders).update(revision=F("revision") + 1)


def _for_page(*, connection: Connection, scope, max_age: timedelta) -> RefreshOutcome:
    outcome = job_statuses_for_page(connection=connection, scope=scope, max_age=max_age)
    watchlists_revise(status_ids=outcome.revised)
    return outcome


def watchlists_refresh_for_viewer(*, user) -> list[RefreshOutcome]:
    """Bring every job the user can see up to date: one upstream round per connection (none
    while a watcher keeps the store fresh).

    A job in several watchlists is asked about once, at the shortest pollInterval that holds it.
    """
    outcomes = []
    visible = watchlists_visible_to(user).values("pk")
    per_connection = (
        Watchlist.objects.filter(pk__in=visible)
        .values("connection_id")
        .annotate(shortest=Min("poll_interval"))
        .order_by()
    )
    connections = Connection.objects.in_bulk([row["connection_id"] for row in per_connection])
    for row in per_connection:
        scope = JobStatus.objects.filter(
            pk__in=WatchlistJob.objects.filter(
                watchlist__in=visible, watchlist__connection_id=row["connection_id"]
            ).values("status_id")
        )
        outcomes.append(
            _for_page(
                connection=connections[row["connection_id"]],
                scope=scope,
                max_age=timedelta(seconds=row["shortest"]),
            )
        )
    return outcomes


def watchlist_refresh(*, watchlist: Watchlist) -> RefreshOutcome:
    """Bring the watchlist's job states up to date: no older than its pollInterval (a read only,
    while a watcher keeps the store fresh)."""
    return _for_page(
        connection=watchlist.connection,
        scope=watchlist_statuses(watchlist=watchlist),
        max_age=timedelta(seconds=watchlist.poll_interval),
    )


# How long the watcher keeps a quick look's jobs fresh after the paste was last looked at.
QUICK_LOOK_INTEREST = timedelta(minutes=5)
# Looks per user per minute (a clock minute); the same paste looked at again within a minute,
# as the results page does until the watcher has checked every job, is not counted again.
QUICK_LOOKS_PER_MINUTE = 10
_QUICK_LOOKS_KEY = "jobsite:quick-looks:{user}:{minute}"
_QUICK_LOOK_SEEN_KEY = "jobsite:quick-look-seen:{user}:{paste}"


class TooManyLooks(Exception):
    """The user has had their quick looks for this minute; nothing was looked up."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after  # seconds until the next minute
        super().__init__(
            f"You have had {QUICK_LOOKS_PER_MINUTE} quick looks this minute, the most jobsite allows. "
            f"Try again in {retry_after} second{'' if retry_after == 1 else 's'}, "
            "or save the jobs as a watchlist to follow them."
        )


def _quick_look_count(*, user, connection: Connection, job_ids: list[str]) -> None:
    """Count a look against the user's minute; TooManyLooks past QUICK_LOOKS_PER_MINUTE.

    Counted in the cache: across processes with Redis, per process with the in-process cache,
    and not at all while Redis is down (jobsite/cache.py)."""
    paste = hashlib.sha256(f"{connection.pk}:{','.join(sorted(job_ids))}".encode()).hexdigest()
    seen_key = _QUICK_LOOK_SEEN_KEY.format(user=user.pk, paste=paste)
    if cache.get(seen_key):
        return
    now = time.time()
    count_key = _QUICK_LOOKS_KEY.format(user=user.pk, minute=int(now // 60))
    cache.add(count_key, 0, timeout=120)  # incr needs the key (locmem raises ValueError without it)
    if cache.incr(count_key) > QUICK_LOOKS_PER_MINUTE:
        raise TooManyLooks(retry_after=60 - int(now % 60))
    cache.set(seen_key, True, timeout=60)


def jobs_look_up(*, user, connection: Connection, job_ids: list[str]) -> tuple[list[JobStatus], RefreshOutcome]:
    """States of pasted jobs, without saving a watchlist: fresh from upstream where needed
    without a watcher, else as the store knows them, and the watcher is asked to check them.

    CapacityExceeded for a paste of more than JOBSITE_MAX_JOBS_PER_QUICK_LOOK jobs, TooManyLooks
    past the user's looks per minute; either way nothing is looked up."""
    limit = settings.JOBSITE_MAX_JOBS_PER_QUICK_LOOK
    if len(job_ids) > limit:
        raise CapacityExceeded(
            f"A quick look takes at most {limit:,} jobs; this paste has {len(job_ids):,}. "
            "Save them as a watchlist to follow more."
        )
    _quick_look_count(user=user, connection=connection, job_ids=job_ids)
    # Wanted first, then created (wanted) where missing: the prune never takes a wanted row away.
    wanted_until = timezone.now() + QUICK_LOOK_INTEREST
    job_statuses_want(connection=connection, job_ids=job_ids, until=wanted_until)
    job_statuses_ensure(connection=connection, job_ids=job_ids, wanted_until=wanted_until)
    scope = JobStatus.objects.filter(connection=connection, job_id__in=job_ids)
    outcome = _for_page(connection=connection, scope=scope, max_age=timedelta(seconds=connection.poll_interval))
    by_id = {status.job_id: status for status in scope}
    return [by_id[job_id] for job_id in job_ids], outcome
