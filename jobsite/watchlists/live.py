"""What a live watchlist page needs on each refresh: everything, only what changed, or nothing.

The page sends back a cursor from its last render: a fingerprint of what affects every row
(the watchlist itself, the upstream problem if any) and the time it was rendered. Same
fingerprint: only rows revised since then are sent, as out-of-band swaps with the summary; none
revised: 204 and no body. Different fingerprint, or no cursor: the whole partial again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from jobsite.statuses.services import RefreshOutcome, is_due
from jobsite.watchlists import selectors, services
from jobsite.watchlists.filters import PAGE_SIZE, JobFilter
from jobsite.watchlists.models import Watchlist, WatchlistJob

# A row's revision time is taken just before its write commits; rows revised this close to a
# cursor are sent again, so a write that committed after a render is never missed.
COMMIT_MARGIN = timedelta(seconds=2)
# Sent with every refresh, 204s included: the oldest check among unfinished jobs (Unix seconds).
CHECKED_HEADER = "X-Jobsite-Checked"


@dataclass
class LiveView:
    watchlist: Watchlist
    job_filter: JobFilter
    outcome: RefreshOutcome
    cursor: str
    jobs: list[WatchlistJob] = field(default_factory=list)
    whole: bool = True  # False: `jobs` holds only the revised rows of this page
    shown: int = 0  # jobs the filter keeps, over all pages
    stale_ids: frozenset[str] = frozenset()
    checked_at: datetime | None = None

    @cached_property
    def summary(self) -> selectors.Summary:
        """Counted only when something is rendered: a 204 needs no counts."""
        return selectors.watchlist_summary(watchlist=self.watchlist)

    @property
    def problem(self):
        return self.outcome.problem

    @property
    def unchanged(self) -> bool:
        return not self.whole and not self.jobs

    @property
    def pages(self) -> int:
        return max(1, -(-self.shown // PAGE_SIZE))

    @property
    def page_numbers(self) -> range:
        return range(1, self.pages + 1)


def _fingerprint(watchlist: Watchlist, job_filter: JobFilter, outcome: RefreshOutcome) -> str:
    problem = outcome.problem.kind if outcome.problem else "ok"
    return f"{watchlist.updated_at.timestamp():.6f}:{problem}:{job_filter.as_query_string()}"


def _parse_cursor(value: str | None) -> tuple[str, datetime] | None:
    fingerprint, _, rendered = (value or "").rpartition("|")
    rendered_at = parse_datetime(rendered) if rendered else None
    return (fingerprint, rendered_at) if fingerprint and rendered_at else None


def live_view(*, watchlist: Watchlist, job_filter: JobFilter = JobFilter(), since: str | None = None) -> LiveView:
    outcome = services.watchlist_refresh(watchlist=watchlist)
    rendered_at = timezone.now()  # before reading rows: a later revision is sent next time
    fingerprint = _fingerprint(watchlist, job_filter, outcome)
    view = LiveView(
        watchlist=watchlist,
        job_filter=job_filter,
        outcome=outcome,
        cursor=f"{fingerprint}|{rendered_at.isoformat()}",
    )
    previous = _parse_cursor(since)
    if previous and previous[0] == fingerprint:
        _fill_revisions(view, revised_after=previous[1] - COMMIT_MARGIN)
    else:
        _fill_page(view)
    if outcome.problem:
        view.stale_ids = _stale_ids(watchlist, view.jobs, rendered_at)
    view.checked_at = selectors.watchlist_live_checked_at(watchlist=watchlist)
    return view


def _page_slice(job_filter: JobFilter) -> slice:
    start = (job_filter.page - 1) * PAGE_SIZE
    return slice(start, start + PAGE_SIZE)


def _fill_page(view: LiveView) -> None:
    listed = view.job_filter.ordered(view.watchlist.jobs.select_related("status"))
    view.shown = view.summary.total if not view.job_filter.states and not view.job_filter.query else listed.count()
    view.jobs = list(listed[_page_slice(view.job_filter)])


def _fill_revisions(view: LiveView, *, revised_after: datetime) -> None:
    """Only the rows of this page revised since the last render, or everything if rows may move."""
    revised = view.watchlist.jobs.filter(status__revised_at__gt=revised_after)
    if not revised.exists():
        view.whole = False  # unchanged: 204
        return
    if view.job_filter.reorders:
        _fill_page(view)
        return
    page_ids = list(view.job_filter.ordered(view.watchlist.jobs.all()).values_list("id", flat=True)[_page_slice(view.job_filter)])
    view.whole = False
    view.jobs = list(
        revised.filter(id__in=page_ids).select_related("status").order_by("id")
    ) if page_ids else []
def _stale_ids(watchlist: Watchlist, jobs: list[WatchlistJob], now: datetime) -> frozenset[str]:
    """Rows older than the watchlist wants: upstream could not be asked about them."""
    max_age = timedelta(seconds=watchlist.poll_interval)
    recheck = timedelta(seconds=watchlist.connection.terminal_recheck)
    return frozenset(
        job.status.job_id
        for job in jobs
        if is_due(job.status, now=now, max_age=max_age, terminal_recheck=recheck)
    )
