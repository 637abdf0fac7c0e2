"""Reads for watchlists: what a page shows, in a bounded number of queries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import BooleanField, Count, ExpressionWrapper, Min, Q, QuerySet
from django.shortcuts import get_object_or_404

from jobsite.statuses.models import JobStatus, display_state, is_settled
from jobsite.upstream import states
from jobsite.watchlists.models import Watchlist, WatchlistJob

# Summary order: the seven states, then jobsite's own pseudo-states.
SUMMARY_STATES = (*states.STATES, states.UNKNOWN, states.NOT_FOUND, states.PENDING)
WORST_FIRST = (
    states.FAILED, states.EXPIRED, states.CANCELLED, states.RETRY, states.ACTIVE, states.CREATED, states.COMPLETED,
)


@dataclass(frozen=True)
class Summary:
    counts: list[tuple[str, int]]  # (display state, count) for every state present, in SUMMARY_STATES order
    total: int
    settled: int  # terminal, or unknown to upstream

    @property
    def done(self) -> bool:
        return self.settled == self.total

    @property
    def percent(self) -> int:
        return round(100 * self.settled / self.total) if self.total else 100

    @property
    def title_counts(self) -> str:
        """What a tab title says: the jobs still moving and the failures, e.g. '3 active, 1 failed'."""
        shown = (states.ACTIVE, states.RETRY, states.CREATED, states.FAILED, states.UNKNOWN)
        return ", ".join(f"{count} {state}" for state, count in self.counts if state in shown)

    @property
    def worst(self) -> str:
        """The most alarming state present, for the tab icon."""
        present = {state for state, _count in self.counts}
        return next((state for state in WORST_FIRST if state in present), states.COMPLETED)


def watchlist_get_for_owner(*, user, pk: int) -> Watchlist:
    """The watchlist if `user` owns it; 404 for everyone else, so outsiders learn nothing."""
    return get_object_or_404(Watchlist.objects.select_related("connection"), pk=pk, owner=user)


def watchlist_job_get(*, watchlist: Watchlist, job_id: str) -> WatchlistJob:
    return get_object_or_404(watchlist.jobs.select_related("status"), status__job_id=job_id)


def watchlist_statuses(*, watchlist: Watchlist) -> QuerySet[JobStatus]:
    """The store rows of the watchlist's jobs, as a query (nothing loaded)."""
    return JobStatus.objects.filter(pk__in=watchlist.jobs.values("status_id"))


def watchlist_jobs(*, watchlist: Watchlist, revised_after: datetime | None = None) -> list[WatchlistJob]:
    jobs = watchlist.jobs.select_related("status").order_by("id")
    if revised_after is not None:
        jobs = jobs.filter(status__revised_at__gt=revised_after)
    return list(jobs)


def summarize(groups: Iterable[tuple[str, bool, int]]) -> Summary:
    """Counts from (display state, settled, how many) groups."""
    counts: Counter[str] = Counter()
    total = settled = 0
    for state, job_settled, n in groups:
        counts[state] += n
        total += n
        settled += n if job_settled else 0
    return Summary(
        counts=[(state, counts[state]) for state in SUMMARY_STATES if counts[state]],
        total=total,
        settled=settled,
    )


def _state_groups(jobs: QuerySet[WatchlistJob]) -> QuerySet:
    """(watchlist, state, reported, checked, count) rows: one GROUP BY, whatever the job count."""
    return (
        jobs.annotate(checked=ExpressionWrapper(Q(status__checked_at__isnull=False), BooleanField()))
        .values_list("watchlist_id", "status__state", "status__reported", "checked")
        .annotate(n=Count("id"))
        .order_by()
    )


def _summaries(jobs: QuerySet[WatchlistJob]) -> dict[int, Summary]:
    groups: dict[int, list[tuple[str, bool, int]]] = {}
    for watchlist_id, state, reported, checked, n in _state_groups(jobs):
        flags = {"state": state, "reported": reported, "checked": checked}
        groups.setdefault(watchlist_id, []).append((display_state(**flags), is_settled(**flags), n))
    return {watchlist_id: summarize(group) for watchlist_id, group in groups.items()}


EMPTY = summarize([])


def watchlist_summary(*, watchlist: Watchlist) -> Summary:
    return _summaries(watchlist.jobs.all()).get(watchlist.pk, EMPTY)


def watchlists_for_owner(*, user) -> list[tuple[Watchlist, Summary]]:
    """The user's watchlists with per-state counts: two queries however many lists and jobs."""
    watchlists = list(Watchlist.objects.filter(owner=user).select_related("connection"))
    summaries = _summaries(WatchlistJob.objects.filter(watchlist__owner=user))
    return [(watchlist, summaries.get(watchlist.pk, EMPTY)) for watchlist in watchlists]


def watchlist_live_checked_at(*, watchlist: Watchlist) -> datetime | None:
    """The oldest check among unfinished jobs: every live row was checked at or after it."""
    return (
        watchlist_statuses(watchlist=watchlist)
        .exclude(state__in=states.TERMINAL_STATES)
        .filter(reported=True)
        .aggregate(oldest=Min("checked_at"))["oldest"]
    )
