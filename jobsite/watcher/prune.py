"""Pruning the status store: rows no watchlist holds and nobody has wanted for an hour go, with
their history. A quick look leaves such rows behind, and so does a job removed from its lists."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q, QuerySet

from jobsite.statuses.models import JobStatus, StateChange
from jobsite.watchlists.models import WatchlistJob

IDLE_FOR = timedelta(hours=1)  # unwanted this long, a row goes: an analyst coming back soon finds it
BATCH = 500  # rows per transaction, so no write lock is held for long


def idle_statuses(*, now: datetime) -> QuerySet[JobStatus]:
    """Rows no watchlist holds, that no worker is asking about, and that were last wanted (a quick
    look) or, never wanted, last checked `IDLE_FOR` ago or more. A row never checked nor wanted
    stays: a page may have just created it and not yet linked it to a watchlist."""
    since = now - IDLE_FOR
    return (
        JobStatus.objects.exclude(pk__in=WatchlistJob.objects.values("status_id"))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(Q(wanted_until__lt=since) | Q(wanted_until__isnull=True, checked_at__lt=since))
    )


def job_statuses_prune(*, now: datetime) -> tuple[int, int]:
    """Delete the idle rows and their state changes, a batch at a time; returns how many of each."""
    statuses = changes = 0
    while True:
        with transaction.atomic():
            idle = idle_statuses(now=now)
            if db_connection.features.has_select_for_update_skip_locked:
                # A row another transaction holds is left for the next prune rather than waited for.
                idle = idle.select_for_update(skip_locked=True, of=("self",))
            rows = list(idle.order_by("pk").values_list("pk", "connection_id", "job_id")[:BATCH])
            if not rows:
                return statuses, changes
            job_ids = defaultdict(list)
            for _pk, connection_id, job_id in rows:
                job_ids[connection_id].append(job_id)
            for connection_id, ids in job_ids.items():
                changes += StateChange.objects.filter(connection_id=connection_id, job_id__in=ids).delete()[0]
            statuses += JobStatus.objects.filter(pk__in=[pk for pk, _connection_id, _job_id in rows]).delete()[0]
