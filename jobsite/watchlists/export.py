"""A watchlist's current states as CSV or JSON downloads."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.utils import timezone
from django.utils.text import slugify

from jobsite.watchlists.filters import JobFilter
from jobsite.watchlists.models import Watchlist, WatchlistJob

COLUMNS = ("id", "label", "state", "output", "last_checked", "last_changed")


def export_rows(jobs: Iterable[WatchlistJob]) -> Iterator[dict[str, Any]]:
    for job in jobs:
        status = job.status
        yield {
            "id": status.job_id,
            "label": job.label,
            "state": status.state if status.shows_unknown_state else status.display_state,
            "output": status.output,
            "last_checked": status.checked_at.isoformat() if status.checked_at else None,
            "last_changed": status.changed_at.isoformat() if status.changed_at else None,
        }


def export_filename(watchlist: Watchlist, job_filter: JobFilter, extension: str) -> str:
    parts = [
        slugify(watchlist.name) or f"watchlist-{watchlist.pk}",
        job_filter.slug(),
        timezone.now().strftime("%Y%m%d-%H%M"),
    ]
    return "-".join(part for part in parts if part) + f".{extension}"


class _Echo:
    """csv.writer wants a file; this one hands each line straight back for streaming."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for row in rows:
        output = row["output"]
        if output is not None and not isinstance(output, str):
            output = json.dumps(output, ensure_ascii=False, sort_keys=True)
        yield writer.writerow(
            [row["id"], row["label"], row["state"], output or "", row["last_checked"] or "", row["last_changed"] or ""]
        )
