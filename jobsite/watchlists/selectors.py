"""Reads for watchlists: what a page shows, in a bounded number of queries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.shortcuts import get_object_or_404

from jobsite.statuses.models import display_state, is_settled
from jobsite.upstream import states
from jobsite.watchlists.models import Watchlist, WatchlistJob

# Summary order: the seven states, then jobsite's own pseudo-states.
SUMMARY_STATES = (*states.STATES, states.UNKNOWN, states.NOT_FOUND, states.PENDING)


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


def watchlist_get_for_owner(*, user, pk: int) -> Watchlist:
    """The watchlist if `user` owns it; 404 for everyone else, so outsiders learn nothing."""
    return get_object_or_404(Watchlist.objects.select_related("connection"), pk=pk, owner=user)


def watchlist_jobs(*, watchlist: Watchlist) -> list[WatchlistJob]:
    return list(watchlist.jobs.select_related("status").order_by("id"))


def summarize(groups: Iterable[tuple[str, bool, int]]) -> Summary:
    """Counts from (display state, settled, how many) groups."""
    counts: Counter[str] = Counter()
    total = settled = 0
    for state, is_settled, n in groups:
        counts[state] += n
        total += n
        settled += n if is_settled else 0
    return Summary(
        counts=[(state, counts[state]) for state in SUMMARY_STATES if counts[state]],
        total=total,
        settled=settled,
    )


def watchlist_summary(jobs: list[WatchlistJob]) -> Summary:
    return summarize((job.status.display_state, job.status.is_settled, 1) for job in jobs)


def watchlists_for_owner(*, user) -> list[tuple[Watchlist, Summary]]:
    """The user's watchlists with per-state counts: two queries however many lists and jobs."""
    watchlists = list(Watchlist.objects.filter(owner=user).select_related("connection"))
    groups: dict[int, list[tuple[str, bool, int]]] = {watchlist.pk: [] for watchlist in watchlists}
    rows = (
        WatchlistJob.objects.filter(watchlist__owner=user)
        .annotate(checked=ExpressionWrapper(Q(status__checked_at__isnull=False), BooleanField()))
        .values_list("watchlist_id", "status__state", "status__reported", "checked")
        .annotate(n=Count("id"))
        .order_by()
    )
    for watchlist_id, state, reported, checked, n in rows:
        flags = {"state": state, "reported": reported, "checked": checked}
        groups[watchlist_id].append((display_state(**flags), is_settled(**flags), n))
    return [(watchlist, summarize(groups[watchlist.pk])) for watchlist in watchlists]
