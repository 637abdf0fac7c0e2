"""CSV downloads keep spreadsheet formulas inert; JSON downloads stay exact.

A list's owner types its labels and upstream sends its states and outputs, but anyone the list is
shared with may open the CSV in a spreadsheet: a cell that starts like a formula goes out with a
leading quote (OWASP's advice against CSV injection).
"""

import csv
import io

import pytest
from django.urls import reverse

from jobsite.watchlists.export import spreadsheet_text
from jobsite.watchlists.models import Visibility

HYPERLINK = '=HYPERLINK("http://evil","x")'
PLUS = "+cmd|' /C calc'!A0"
AT = "@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.fixture
def planted(make_watchlist, simulator, owner_client):
    """A list shared with everyone signed in, whose owner planted a formula in a label, and whose
    jobs' outputs from upstream start with + and @."""
    plus, at = simulator.submit(lifecycle="stay_active", count=2)
    simulator.set_state(plus, "failed", output=PLUS)
    simulator.set_state(at, "completed", output=AT)
    watchlist = make_watchlist([plus, at])
    watchlist.visibility = Visibility.SIGNED_IN
    watchlist.save()
    watchlist.jobs.filter(status__job_id=plus).update(label=HYPERLINK)
    watchlist.jobs.filter(status__job_id=at).update(label=" -2+3")
    owner_client.get(reverse("watchlist", args=[watchlist.pk]))  # observe the outputs
    return watchlist, plus, at


def test_a_readers_csv_keeps_planted_formulas_as_text(other_client, planted):
    watchlist, plus, at = planted
    response = other_client.get(reverse("watchlist_export_csv", args=[watchlist.pk]))
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))}
    assert rows[plus]["label"] == "'" + HYPERLINK
    assert rows[plus]["output"] == "'" + PLUS
    assert rows[at]["output"] == "'" + AT
    assert rows[at]["label"] == "' -2+3"
    assert rows[plus]["state"] == "failed" and rows[plus]["id"] == plus  # plain cells as they are


def test_a_readers_json_is_exact(other_client, planted):
    watchlist, plus, at = planted
    jobs = {
        job["id"]: job for job in other_client.get(reverse("watchlist_export_json", args=[watchlist.pk])).json()["jobs"]
    }
    assert (jobs[plus]["label"], jobs[plus]["output"]) == (HYPERLINK, PLUS)
    assert (jobs[at]["label"], jobs[at]["output"]) == (" -2+3", AT)


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@A1", "\t=1", "\rx", "\tplain", "  =1", "\n@x", "\u00a0=1"])
def test_it_quotes_every_cell_a_spreadsheet_would_run(cell):
    assert spreadsheet_text(cell) == "'" + cell


@pytest.mark.parametrize(
    "cell", ["", "Snowflake sync", "a=b", "3-2", "x@y.z", "'=already quoted", "2025-01-01T00:00:00"]
)
def test_it_leaves_other_cells_as_they_are(cell):
    assert spreadsheet_text(cell) == cell
