"""Which of a watchlist's jobs a view shows: states and a search, read from the URL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.http import QueryDict

from jobsite.upstream import states
from jobsite.watchlists.models import WatchlistJob
from jobsite.watchlists.selectors import SUMMARY_STATES

_CHECKED = Q(status__checked_at__isnull=False)
# Each display state as a condition on the store row (see statuses.models.display_state).
_STATE_Q: dict[str, Q] = {
    **{state: _CHECKED & Q(status__state=state) for state in states.STATES},
    states.PENDING: Q(status__checked_at__isnull=True),
    states.NOT_FOUND: _CHECKED & Q(status__state=""),
    states.UNKNOWN: _CHECKED & ~Q(status__state="") & ~Q(status__state__in=states.STATES),
}


PAGE_SIZE = 250
# Deeper than any watchlist goes (JOBSITE_MAX_JOBS_PER_WATCHLIST / PAGE_SIZE), and an OFFSET every
# database takes; a page past the last shows the last (live.py).
MAX_PAGE = 10_000
MAX_QUERY = 100  # a search is cut to this: a job ID has 36 characters, a label at most 80
# Dropped from a search: PostgreSQL refuses NUL in a string, and no job ID or label needs them.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
SORTS = {
    "added": "Order added",
    "state": "State (worst first)",
    "changed": "Last change (newest first)",
}
# Sort by state: the order of the summary, which puts failures before successes.
_STATE_RANK = Case(
    *[When(status__state=state, then=Value(rank)) for rank, state in enumerate(states.STATES)],
    default=Value(len(states.STATES)),
    output_field=IntegerField(),
)


def _page(value: str | None) -> int:
    """A page number: 1 for anything but a whole number, at most MAX_PAGE."""
    try:
        page = int(value or 1)
    except ValueError:  # not a number, or one of thousands of digits
        return 1
    return min(max(page, 1), MAX_PAGE)


def _query(value: str) -> str:
    return _CONTROL_CHARACTERS.sub("", value).strip()[:MAX_QUERY]


@dataclass(frozen=True)
class JobFilter:
    """What the URL asks for: `state` (repeatable), `q`, `sort`, `page`.

    `from_params` reads any URL: unknown states and sorts are ignored, the page is clamped and
    the search cleaned, so no value a user can type reaches the database as it is.
    """

    states: tuple[str, ...] = ()  # display states, in SUMMARY_STATES order; empty: all
    query: str = ""  # matched against job ID and label, case-insensitively
    sort: str = "added"
    page: int = 1

    @classmethod
    def from_params(cls, params: QueryDict) -> JobFilter:
        wanted = set(params.getlist("state"))
        sort = params.get("sort", "added")
        return cls(
            states=tuple(state for state in SUMMARY_STATES if state in wanted),
            query=_query(params.get("q", "")),
            sort=sort if sort in SORTS else "added",
            page=_page(params.get("page")),
        )

    @property
    def reorders(self) -> bool:
        """Whether a revised row may enter, leave or move: then a refresh re-renders the list."""
        return bool(self.states) or self.sort != "added"

    def ordered(self, jobs: QuerySet[WatchlistJob]) -> QuerySet[WatchlistJob]:
        jobs = self.apply(jobs)
        if self.sort == "state":
            return jobs.order_by(_STATE_RANK, "id")
        if self.sort == "changed":
            return jobs.order_by(F("status__changed_at").desc(nulls_last=True), "id")
        return jobs.order_by("id")

    def with_state(self, state: str) -> str:
        """The query string that toggles one state chip (and goes back to page 1)."""
        chosen = set(self.states) ^ {state}
        return JobFilter(
            states=tuple(s for s in SUMMARY_STATES if s in chosen), query=self.query, sort=self.sort
        ).as_query_string()

    def at_page(self, page: int) -> str:
        return JobFilter(states=self.states, query=self.query, sort=self.sort, page=page).as_query_string()

    @property
    def active(self) -> bool:
        """Whether the view narrows the rows: some state chips, or a search."""
        return bool(self.states or self.query)

    @property
    def is_default(self) -> bool:
        """The plain view: every row, in the order added (so there is nothing to clear)."""
        return not self.active and self.sort == "added"

    def apply(self, jobs: QuerySet[WatchlistJob]) -> QuerySet[WatchlistJob]:
        if self.states:
            condition = Q()
            for state in self.states:
                condition |= _STATE_Q[state]
            jobs = jobs.filter(condition)
        if self.query:
            jobs = jobs.filter(Q(status__job_id__icontains=self.query) | Q(label__icontains=self.query))
        return jobs

    def as_query_string(self) -> str:
        pairs = [("state", state) for state in self.states]
        if self.query:
            pairs.append(("q", self.query))
        if self.sort != "added":
            pairs.append(("sort", self.sort))
        if self.page != 1:
            pairs.append(("page", str(self.page)))
        return urlencode(pairs)

    def slug(self) -> str:
        """A file-name part saying what the filter kept, e.g. 'failed-active'."""
        return "-".join(self.states) + ("-search" if self.query else "")
