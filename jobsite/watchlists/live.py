"""What a live watchlist page needs on each refresh: everything, only what changed, or nothing.

The page sends back a cursor from its last render: a fingerprint of what affects every row
(the watchlist itself, the upstream problem if any), the watchlist's revision and the time it
was rendered. Same fingerprint and revision: 204 and no body, without reading a job row. Same
fingerprint, newer revision: only rows revised since the render are sent, as out-of-band swaps
with the summary. Different fingerprint, or no cursor: the whole partial again.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
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
# Sent with every refresh while upstream fails, 204s included: seconds to the next try, which
# the banner counts down (most answers during an outage are 204s that re-render nothing).
RETRY_HEADER = "X-Jobsite-Retry-In"
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
    job_filter: JobFilter  # as asked, except a page past the last becomes the last
    outcome: RefreshOutcome
    rendered_at: datetime
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
    def fingerprint(self) -> str:
        """What affects every row: the watchlist itself, the upstream problem if any, the filter."""
        problem = self.problem.kind if self.problem else "ok"
        return f"{self.watchlist.updated_at.timestamp():.6f}:{problem}:{self.job_filter.as_query_string()}"

    @property
    def cursor(self) -> str:
        """What the page sends back on its next refresh."""
        return str(Cursor(self.fingerprint, self.watchlist.revision, self.rendered_at))

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


# The oldest render time a cursor may carry: earlier ones were never rendered here, and near
# datetime's own limits the arithmetic on them would overflow.
EARLIEST_RENDER = datetime(2000, 1, 1, tzinfo=UTC)
_REVISION = re.compile(r"[0-9]{1,20}")  # a PositiveBigIntegerField, in ASCII digits


@dataclass(frozen=True)
class Cursor:
    fingerprint: str
    revision: int
    rendered_at: datetime

    def __str__(self) -> str:
        return f"{self.fingerprint}|{self.revision}|{self.rendered_at.isoformat()}"

    @classmethod
    def parse(cls, value: str | None) -> Cursor | None:
        """The cursor a page sent back; None for anything else (the page then renders whole)."""
        fingerprint, revision, rendered = ([*(value or "").rsplit("|", 2), "", "", ""])[:3]
        if not fingerprint or not _REVISION.fullmatch(revision):
            return None
        try:
            rendered_at = parse_datetime(rendered)
            if rendered_at is None or rendered_at.tzinfo is None:
                return None
            rendered_at = rendered_at.astimezone(UTC)
        except (ValueError, OverflowError):  # a date that does not exist, or beyond datetime's range
            return None
        if rendered_at < EARLIEST_RENDER:
            return None
        return cls(fingerprint, int(revision), rendered_at)


def live_view(*, watchlist: Watchlist, job_filter: JobFilter, since: Cursor | None = None) -> LiveView:
    """What a render or a refresh of the watchlist shows; `since`: the cursor of the last render."""
    outcome = services.watchlist_refresh(watchlist=watchlist)
    if outcome.revised:
        watchlist.refresh_from_db(fields=["revision"])  # this request revised rows itself
    rendered_at = timezone.now()  # before reading rows: a later revision is sent next time
    view = LiveView(watchlist=watchlist, job_filter=job_filter, outcome=outcome, rendered_at=rendered_at)
    if since and since.fingerprint == view.fingerprint:
        if since.revision == watchlist.revision:
            view.answer = Answer.NOTHING
        else:
            _fill_revisions(view, revised_after=since.rendered_at - COMMIT_MARGIN)
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
    if view.job_filter.page > view.pages:  # an old link, or an edited URL
        view.job_filter = replace(view.job_filter, page=view.pages)
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
