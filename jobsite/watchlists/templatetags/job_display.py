"""How job states and outputs look on a page."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from jobsite.statuses.health import Problem, problem_get, problem_of
from jobsite.upstream import states

if TYPE_CHECKING:
    from jobsite.watchlists.models import Watchlist
    from jobsite.watchlists.selectors import Summary

register = template.Library()

# Outputs longer than this, or with more lines, start collapsed.
LONG_OUTPUT_CHARS = 160
LONG_OUTPUT_LINES = 3
# A collapsed output's one-line preview: as much as a wide output column shows (the cell cuts it
# with an ellipsis where it ends), so the key of an error is on screen.
PREVIEW_CHARS = 240
# The most of an output a row shows when expanded: a page of 250 rows stays small whatever
# upstream sends; the job page shows far more, the download all of it.
ROW_OUTPUT_CHARS = 4_000
ROW_OUTPUT_CUT = "\n… cut here: the job page shows more, its download all of it"
_PRETTY = json.JSONEncoder(indent=2, ensure_ascii=False, sort_keys=True)
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))
NO_OUTPUT = mark_safe('<span class="muted">—</span>')


@register.filter
def state_label(state: str) -> str:
    return states.LABELS.get(state, state)


def _encoded(encoder: json.JSONEncoder, output: Any, limit: int) -> str:
    """At most `limit` characters of `output` encoded, encoding no more than that: pretty-printed,
    a deep output (64 levels are stored) can be many times its stored megabyte."""
    chunks, size = [], 0
    for chunk in encoder.iterencode(output):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return "".join(chunks)[:limit]


@register.filter
def output_text(output: Any, limit: int = ROW_OUTPUT_CHARS) -> str:
    """A string as it is, any other JSON value pretty-printed: at most `limit` characters.
    Escaping is left to autoescape."""
    if output is None:
        return ""
    if isinstance(output, str):
        return output[:limit]
    return _encoded(_PRETTY, output, limit)


def output_size(output: Any) -> int:
    """Characters in the stored output: a string's, or its compact JSON's."""
    if output is None:
        return 0
    return len(output) if isinstance(output, str) else len(_COMPACT.encode(output))


def is_long(text: str) -> bool:
    return len(text) > LONG_OUTPUT_CHARS or text.count("\n") >= LONG_OUTPUT_LINES


def output_preview(output: Any, width: int = 80) -> str:
    """One line that hints at a collapsed output: compact JSON, or a text's first line."""
    if isinstance(output, str):
        line = output[: width * 4].strip().split("\n", 1)[0]
    else:
        line = _encoded(_COMPACT, output, width + 1)
    return line if len(line) <= width else line[: width - 1] + "…"


@register.simple_tag
def output_cell(output: Any) -> str:
    """A job's output as a table cell shows it: short ones whole, long ones collapsed behind a
    one-line preview, none as a dash; never more than ROW_OUTPUT_CHARS of it. Always escaped."""
    text = output_text(output, ROW_OUTPUT_CHARS + 1)
    if len(text) > ROW_OUTPUT_CHARS:
        text = text[:ROW_OUTPUT_CHARS] + ROW_OUTPUT_CUT
    if not text:
        return NO_OUTPUT
    if is_long(text):
        preview = output_preview(output, width=PREVIEW_CHARS)
        return format_html("<details><summary>{}</summary><pre>{}</pre></details>", preview, text)
    return format_html("<pre>{}</pre>", text)


@register.filter
def duration(value: timedelta) -> str:
    """A short human duration: '45 s', '3 min 5 s', '2 h 10 min'."""
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@register.filter
def with_state(job_filter, state: str) -> str:
    return job_filter.with_state(state)


@register.filter
def at_page(job_filter, page: int) -> str:
    return job_filter.at_page(page)


@register.simple_tag
def clock_time(moment: datetime, *, live: bool = False, minutes: bool = False) -> str:
    """`<time>` showing the time of day in the site's TIME_ZONE (to the minute with `minutes`),
    the full date and zone on hover; `data-live` lets the page's script keep it current.

    A page renders one per row. Three `date` filters converted the same time three times, and
    each conversion looks up the active time zone through a lock every thread shares (asgiref's
    Local): under a threaded server that lock, not the work, set the pace. jobsite activates no
    per-user zone, so the default one is the active one; it is looked up without the lock.
    """
    local = moment.astimezone(timezone.get_default_timezone())
    return format_html(
        '<time {}datetime="{}" title="{}">{}</time>',
        "data-live " if live else "",
        local.isoformat(),
        local.strftime("%Y-%m-%d %H:%M:%S %Z"),
        local.strftime("%H:%M" if minutes else "%H:%M:%S"),
    )


@register.simple_tag
def job_url(view_name: str, watchlist, job_id: str) -> str:
    return watchlist.job_url(view_name, job_id)


@register.filter
def json_attr(value: Any) -> str:
    """A value as JSON for an htmx attribute such as hx-vals; autoescaping then makes it safe there."""
    return json.dumps(value)


@dataclass(frozen=True)
class Segment:
    """One part of a watchlist's progress bar: the jobs that finished one way."""

    outcome: str  # "completed", "failed" or "other" (cancelled, expired, unknown to upstream)
    count: int
    words: str  # what the bar's accessible name calls them
    width: str  # share of all jobs, in percent, for a style attribute (never localized)


@register.simple_tag
def outcome_segments(summary: Summary) -> list[Segment]:
    """The bar split by outcome, finished jobs only: the rest of it stays empty."""
    counts = dict(summary.counts)
    completed = counts.get(states.COMPLETED, 0)
    failed = counts.get(states.FAILED, 0)
    parts = (
        ("completed", completed, "completed"),
        ("failed", failed, "failed"),
        ("other", summary.settled - completed - failed, "otherwise"),
    )
    total = summary.total or 1
    return [Segment(outcome, n, words, f"{100 * n / total:.3f}") for outcome, n, words in parts if n > 0]


@register.filter
def finish_outcome(summary: Summary) -> str:
    """How a finished watchlist ended: "failed" (some job did), "completed" (every job did) or
    "mixed" (cancelled, expired or unknown to upstream, none failed)."""
    if summary.failed:
        return "failed"
    return "completed" if dict(summary.counts).get(states.COMPLETED, 0) == summary.total else "mixed"


# Home shows the most urgent watchlists first: some job failed, then still running, then finished.
ATTENTION_FAILED, ATTENTION_RUNNING, ATTENTION_FINISHED = "failed", "running", "finished"


def attention(summary: Summary) -> str:
    if summary.failed:
        return ATTENTION_FAILED
    return ATTENTION_FINISHED if summary.done else ATTENTION_RUNNING


@register.filter
def attention_of(summary: Summary) -> str:
    return attention(summary)


Card = TypeVar("Card")


@register.filter
def by_attention(cards: Iterable[tuple[Card, Summary]]) -> list[tuple[Card, Summary]]:
    """(watchlist, summary) pairs, failed first, then running, then finished; in the order they
    came within each group (the sort is stable)."""
    rank = {ATTENTION_FAILED: 0, ATTENTION_RUNNING: 1, ATTENTION_FINISHED: 2}
    return sorted(cards, key=lambda card: rank[attention(card[1])])


@dataclass(frozen=True)
class Outage:
    problem: Problem
    affected: list[Watchlist]


@register.simple_tag
def outages(*card_lists: Iterable[tuple[Watchlist, Summary]]) -> list[Outage]:
    """The failing connections among the cards' and the watchlists each one affects, for home's
    banners. Home calls it only while some refresh met a problem. Free when the cards' connections
    come with their health (`select_related("connection__health")`); one read per connection
    otherwise."""
    by_connection: dict[int, list[Watchlist]] = {}
    for cards in card_lists:
        for watchlist, _summary in cards:
            by_connection.setdefault(watchlist.connection_id, []).append(watchlist)
    found = []
    for connection_id, watchlists in by_connection.items():
        connection = watchlists[0].connection
        loaded = type(connection).health.is_cached(connection)
        problem = problem_of(connection) if loaded else problem_get(connection_id)
        if problem:
            found.append(Outage(problem=problem, affected=sorted(watchlists, key=lambda w: w.name.casefold())))
    return found
