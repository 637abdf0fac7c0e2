"""Reads for watchlists: what a page shows, in a bounded number of queries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Count, ExpressionWrapper, Min, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from jobsite.statuses.models import JobStatus, display_state, is_settled
from jobsite.upstream import states
from jobsite.watchlists.models import Visibility, Watchlist, WatchlistJob

if TYPE_CHECKING:
    from jobsite.watchlists.filters import JobFilter  # filters reads SUMMARY_STATES from here

# Summary order: the seven states, then jobsite's own pseudo-states.
SUMMARY_STATES = (*states.STATES, states.UNKNOWN, states.NOT_FOUND, states.PENDING)
WORST_FIRST = (
    states.FAILED,
    states.EXPIRED,
    states.CANCELLED,
    states.RETRY,
    states.ACTIVE,
    states.CREATED,
    states.COMPLETED,
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
    def failed(self) -> int:
        return dict(self.counts).get(states.FAILED, 0)

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


def watchlists_visible_to(user) -> QuerySet[Watchlist]:
    """Owned, shared with every signed-in user, or shared with one of the user's groups."""
    shared = Q(visibility=Visibility.SIGNED_IN) | Q(visibility=Visibility.GROUPS, shared_groups__in=user.groups.all())
    return Watchlist.objects.filter(Q(owner=user) | shared).distinct()


def watchlist_get_for_viewer(*, user, pk: int) -> Watchlist:
    """The watchlist if `user` may see it; 404 for everyone else, so outsiders learn nothing.

    Every poll of every viewer comes through here: one query by key, and the visibility rule of
    `watchlists_visible_to` applied in Python (its OR and group join cost more to build than to
    run), with a second query only for a list shared with groups.
    """
    watchlist = Watchlist.objects.select_related("connection", "connection__health", "owner").filter(pk=pk).first()
    if watchlist is None or not _visible(watchlist, user):
        raise Http404("No watchlist matches the given query.")
    return watchlist


def _visible(watchlist: Watchlist, user) -> bool:
    if watchlist.is_owned_by(user) or watchlist.visibility == Visibility.SIGNED_IN:
        return True
    return (
        watchlist.visibility == Visibility.GROUPS
        and watchlist.shared_groups.filter(pk__in=user.groups.values("pk")).exists()
    )


def watchlist_get_for_owner(*, user, pk: int) -> Watchlist:
    """The watchlist if `user` owns it; 403 to those it is shared with (read-only), 404 to others."""
    watchlist = watchlist_get_for_viewer(user=user, pk=pk)
    if not watchlist.is_owned_by(user):
        raise PermissionDenied("Only the owner of this watchlist can change it.")
    return watchlist


def watchlist_name_taken(*, owner, name: str, other_than: Watchlist | None = None) -> bool:
    """Whether the owner already has a watchlist of that name, whatever its case."""
    same = Watchlist.objects.filter(owner=owner, name__iexact=name.strip())
    return (same.exclude(pk=other_than.pk) if other_than else same).exists()


def watchlist_jobs_listed(*, watchlist: Watchlist, job_filter: JobFilter) -> QuerySet[WatchlistJob]:
    """The jobs a view of the watchlist lists, with their store rows, in the view's order."""
    return job_filter.ordered(watchlist.jobs.select_related("status"))


def watchlist_job_get(*, watchlist: Watchlist, job_id: str) -> WatchlistJob:
    return get_object_or_404(watchlist.jobs.select_related("status"), status__job_id=job_id)


def watchlist_statuses(*, watchlist: Watchlist) -> QuerySet[JobStatus]:
    """The store rows of the watchlist's jobs, as a query (nothing loaded)."""
    return JobStatus.objects.filter(pk__in=watchlist.jobs.values("status_id"))


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
        settled = is_settled(state=state, reported=reported, checked=checked)
        groups.setdefault(watchlist_id, []).append((display_state(state=state, checked=checked), settled, n))
    return {watchlist_id: summarize(group) for watchlist_id, group in groups.items()}


EMPTY = summarize([])


def watchlist_summary(*, watchlist: Watchlist) -> Summary:
    return _summaries(watchlist.jobs.all()).get(watchlist.pk, EMPTY)


def watchlists_for_home(*, user) -> tuple[list[tuple[Watchlist, Summary]], list[tuple[Watchlist, Summary]]]:
    """(the user's own, those shared with them), each with per-state counts, in three queries."""
    watchlists = list(watchlists_visible_to(user).select_related("connection", "connection__health", "owner"))
    summaries = _summaries(WatchlistJob.objects.filter(watchlist__in=[w.pk for w in watchlists]))
    own: list[tuple[Watchlist, Summary]] = []
    shared: list[tuple[Watchlist, Summary]] = []
    for watchlist in watchlists:
        (own if watchlist.is_owned_by(user) else shared).append((watchlist, summaries.get(watchlist.pk, EMPTY)))
    return own, shared


def watchlist_live_checked_at(*, watchlist: Watchlist) -> datetime | None:
    """The oldest check among unfinished jobs: every live row was checked at or after it."""
    return (
        watchlist_statuses(watchlist=watchlist)
        .exclude(state__in=states.TERMINAL_STATES)
        .filter(reported=True)
        .aggregate(oldest=Min("checked_at"))["oldest"]
    )
