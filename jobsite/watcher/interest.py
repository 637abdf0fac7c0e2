"""What the watcher keeps fresh, and how fresh: the due jobs of one connection."""

from __future__ import annotations

import operator
from datetime import datetime, timedelta
from functools import reduce

from django.db.models import Q, QuerySet

from jobsite.statuses.models import JobStatus
from jobsite.statuses.services import due_q
from jobsite.upstream.models import Connection
from jobsite.watchlists.models import Watchlist, WatchlistJob


def due_for_watcher(*, connection: Connection, now: datetime) -> QuerySet[JobStatus]:
    """Jobs of `connection` too old for someone who wants them.

    A job held by watchlists with different pollIntervals is due at the smallest of them: it is
    due under that interval's rule first. Jobs wanted outside any watchlist (a quick look) are
    due at the connection's pollInterval until their interest lapses.
    """
    recheck = timedelta(seconds=connection.terminal_recheck)
    intervals = Watchlist.objects.filter(connection=connection).values_list("poll_interval", flat=True).distinct()
    wanted = [
        Q(
            pk__in=WatchlistJob.objects.filter(
                watchlist__connection=connection, watchlist__poll_interval=interval
            ).values("status_id")
        )
        & due_q(now=now, max_age=timedelta(seconds=interval), terminal_recheck=recheck)
        for interval in intervals.order_by()
    ]
    wanted.append(
        Q(wanted_until__gt=now)
        & due_q(now=now, max_age=timedelta(seconds=connection.poll_interval), terminal_recheck=recheck)
    )
    return JobStatus.objects.filter(connection=connection).filter(reduce(operator.or_, wanted))
