"""What a live watchlist page needs on each refresh: everything, only what changed, or nothing.

The page sends back a cursor from its last render: a fingerprint of what affects every row
(the watchlist itself, the upstream problem if any), the watchlist's revision and the time it
was rendered. Same fingerprint and revision: 204 and no body, without reading a job row. Same
fingerprint, newer revision: only rows revised since the render are sent, as out-of-band swaps
with the summary. Different fingerprint, or no cursor: the whole partial again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from django.core.cache import cache
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
# Every viewer of a list polls for that figure; it is worked out once a second per list.
CHECKED_KEY = "jobsite:watchlist-checked:{}"
CHECKED_REMEMBERED = 1


class Answer(enum.Enum):
    WHOLE = "whole"  # the whole partial: `jobs` is the page
    ROWS = "rows"  # the summary, the cursor and the revised rows of the page (maybe none)
    NOTHING = "nothing"  # 204: nothing moved since the render the cursor came from


@dataclass
class LiveView:
    watchlist: Watchlist
    job_filter: JobFilter
    outcome: RefreshOutcome
    cursor: str
    answer: Answer = Answer.WHOLE
    jobs: list[WatchlistJob] = field(default_factory=list)
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
    def keeps_polling(self) -> bool:
        """Whether the page polls again: some job is unsettled, or upstream is failing."""
        return not self.summary.done or self.problem is not None

    @property
    def pages(self) -> int:
        return max(1, -(-self.shown // PAGE_SIZE))

    @property
    def page_numbers(self) -> range:
        return range(1, self.pages + 1)


def _fingerprint(watchlist: Watchlist, job_filter: JobFilter, outcome: RefreshOutcome) -> str:
    problem = outcome.problem.kind if outcome.problem else "ok"
    return f"{watchlist.updated_at.timestamp():.6f}:{problem}:{job_filter.as_query_string()}"


@dataclass(frozen=True)
class Cursor:
    fingerprint: str
    revision: int
    rendered_at: datetime

    def __str__(self) -> str:
        return f"{self.fingerprint}|{self.revision}|{self.rendered_at.isoformat()}"

    @classmethod
    def parse(cls, value: str | None) -> Cursor | None:
        """The cursor a page sent back; None for anything malformed (the page then renders whole)."""
        fingerprint, revision, rendered = ([*(value or "").rsplit("|", 2), "", "", ""])[:3]
        rendered_at = parse_datetime(rendered) if rendered else None
        if not fingerprint or not revision.isdigit() or rendered_at is None or rendered_at.tzinfo is None:
            return None
        return cls(fingerprint, int(revision), rendered_at)


def live_view(*, watchlist: Watchlist, job_filter: JobFilter, since: str | None = None) -> LiveView:
    outcome = services.watchlist_refresh(watchlist=watchlist)
    if outcome.revised:
        watchlist.refresh_from_db(fields=["revision"])  # this request revised rows itself
    rendered_at = timezone.now()  # before reading rows: a later revision is sent next time
    cursor = Cursor(_fingerprint(watchlist, job_filter, outcome), watchlist.revision, rendered_at)
    view = LiveView(watchlist=watchlist, job_filter=job_filter, outcome=outcome, cursor=str(cursor))
    previous = Cursor.parse(since)
    if previous and previous.fingerprint == cursor.fingerprint:
        if previous.revision == cursor.revision:
            view.answer = Answer.NOTHING
        else:
            _fill_revisions(view, revised_after=previous.rendered_at - COMMIT_MARGIN)
    else:
        _fill_page(view)
    if outcome.problem:
        view.stale_ids = _stale_ids(watchlist, view.jobs, rendered_at)
    view.checked_at = _live_checked_at(watchlist)
    return view


def _live_checked_at(watchlist: Watchlist) -> datetime | None:
    key = CHECKED_KEY.format(watchlist.pk)
    checked_at = cache.get(key)
    if checked_at is None:
        checked_at = selectors.watchlist_live_checked_at(watchlist=watchlist) or ""
        cache.set(key, checked_at, CHECKED_REMEMBERED)
    return checked_at or None


def _page_slice(job_filter: JobFilter) -> slice:
    start = (job_filter.page - 1) * PAGE_SIZE
    return slice(start, start + PAGE_SIZE)


def _fill_page(view: LiveView) -> None:
    listed = selectors.watchlist_jobs_listed(watchlist=view.watchlist, job_filter=view.job_filter)
    view.shown = listed.count() if view.job_filter.active else view.summary.total
    view.jobs = list(listed[_page_slice(view.job_filter)])


def _fill_revisions(view: LiveView, *, revised_after: datetime) -> None:
    """The rows of this page revised since the last render (maybe none: the summary and cursor
    still go), or everything if rows may move."""
    revised = view.watchlist.jobs.filter(status__revised_at__gt=revised_after)
    if view.job_filter.reorders:
        _fill_page(view)
        return
    page_ids = list(
        view.job_filter.ordered(view.watchlist.jobs.all()).values_list("id", flat=True)[_page_slice(view.job_filter)]
    )
    view.answer = Answer.ROWS
    view.jobs = list(revised.filter(id__in=page_ids).select_related("status").order_by("id")) if page_ids else []


def _stale_ids(watchlist: Watchlist, jobs: list[WatchlistJob], now: datetime) -> frozenset[str]:
    """Rows older than the watchlist wants: upstream could not be asked about them."""
    max_age = timedelta(seconds=watchlist.poll_interval)
    recheck = timedelta(seconds=watchlist.connection.terminal_recheck)
    return frozenset(
        job.status.job_id for job in jobs if is_due(job.status, now=now, max_age=max_age, terminal_recheck=recheck)
    )
