"""A watchlist's current states as CSV or JSON downloads.

JSON carries every value exactly. CSV is opened in spreadsheets, which run a cell that starts
like a formula; labels (typed by a list's owner, read by everyone it is shared with), states and
outputs (from upstream) are anyone's text, so such a cell goes out with a leading quote, as OWASP
advises against CSV injection: `=HYPERLINK(…)` is written `'=HYPERLINK(…)` and shows as text.
"""

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
# What starts a formula, in Excel, LibreOffice or Google Sheets; some skip leading spaces first.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


def spreadsheet_text(cell: str) -> str:
    """The cell, quoted to stay text if a spreadsheet would take it for a formula."""
    if cell.startswith(FORMULA_STARTS) or cell.lstrip().startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for row in rows:
        output = row["output"]
        if output is not None and not isinstance(output, str):
            output = json.dumps(output, ensure_ascii=False, sort_keys=True)
        cells = [row["id"], row["label"], row["state"], output, row["last_checked"], row["last_changed"]]
        yield writer.writerow([spreadsheet_text(cell or "") for cell in cells])
