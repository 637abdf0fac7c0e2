"""How job states and outputs look on a page."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from jobsite.upstream import states

register = template.Library()

# Outputs longer than this, or with more lines, start collapsed.
LONG_OUTPUT_CHARS = 160
LONG_OUTPUT_LINES = 3
NO_OUTPUT = mark_safe('<span class="muted">—</span>')


@register.filter
def state_label(state: str) -> str:
    return states.LABELS.get(state, state)


@register.filter
def output_text(output: Any) -> str:
    """A string as it is; any other JSON value pretty-printed. Escaping is left to autoescape."""
    if output is None:
        return ""
    if isinstance(output, str):
        return output
    return json.dumps(output, indent=2, ensure_ascii=False, sort_keys=True)


def is_long(text: str) -> bool:
    return len(text) > LONG_OUTPUT_CHARS or text.count("\n") >= LONG_OUTPUT_LINES


def output_preview(output: Any, width: int = 80) -> str:
    """One line that hints at a collapsed output: compact JSON, or a text's first line."""
    if isinstance(output, str):
        line = output.strip().split("\n", 1)[0]
    else:
        line = json.dumps(output, ensure_ascii=False, separators=(", ", ": "))
    return line if len(line) <= width else line[: width - 1] + "…"


@register.simple_tag
def output_cell(output: Any) -> str:
    """A job's output as a table cell shows it: short ones whole, long ones collapsed behind a
    one-line preview, none as a dash. Always escaped."""
    text = output_text(output)
    if not text:
        return NO_OUTPUT
    if is_long(text):
        return format_html("<details><summary>{}</summary><pre>{}</pre></details>", output_preview(output), text)
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
def clock_time(moment: datetime, *, live: bool = False) -> str:
    """`<time>` showing the time of day in the site's TIME_ZONE, the full date and zone on hover;
    `data-live` lets the page's script count "updated N s ago" from it.

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
        local.strftime("%H:%M:%S"),
    )


@register.simple_tag
def job_url(view_name: str, watchlist, job_id: str) -> str:
    return watchlist.job_url(view_name, job_id)


@register.filter
def json_attr(value: Any) -> str:
    """A value as JSON for an htmx attribute such as hx-vals; autoescaping then makes it safe there."""
    return json.dumps(value)
