"""CSV and JSON downloads of a watchlist's current states, filter applied."""

import csv
import io
import json

import pytest
from django.urls import reverse

from .conftest import new_ids


@pytest.fixture
def exported(make_watchlist, simulator, owner_client):
    done = simulator.submit(lifecycle="instant", count=1, output={"rows": 3})[0]
    failed = simulator.submit(lifecycle="stay_active", count=1)[0]
    simulator.set_state(failed, "failed", output='disk full, "quoted"\nsecond line')
    missing = new_ids(1)[0]
    watchlist = make_watchlist([done, failed, missing], name="Nightly loads: EU")
    watchlist.jobs.filter(status__job_id=done).update(label="Snowflake sync")
    owner_client.get(reverse("watchlist", args=[watchlist.pk]))  # observe
    return watchlist, done, failed, missing


def download(client, watchlist, fmt, **params):
    return client.get(reverse(f"watchlist_export_{fmt}", args=[watchlist.pk]), params)


def test_it_exports_csv_with_every_column(owner_client, exported):
    watchlist, done, failed, missing = exported
    response = download(owner_client, watchlist, "csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="nightly-loads-eu-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["id"] for row in rows] == [done, failed, missing]
    assert rows[0]["label"] == "Snowflake sync"
    assert (rows[0]["state"], json.loads(rows[0]["output"])) == ("completed", {"rows": 3})
    assert rows[1]["output"] == 'disk full, "quoted"\nsecond line'
    assert rows[2]["state"] == "not_found"
    assert rows[0]["last_checked"] and rows[0]["last_changed"]


def test_it_exports_json_with_the_filter_applied(owner_client, exported):
    watchlist, _done, failed, _missing = exported
    response = download(owner_client, watchlist, "json", state="failed")
    assert 'filename="nightly-loads-eu-failed-' in response["Content-Disposition"]
    payload = response.json()
    assert [job["id"] for job in payload["jobs"]] == [failed]
    assert payload["jobs"][0]["state"] == "failed"


def test_it_exports_what_a_search_keeps(owner_client, exported):
    watchlist, done, *_ = exported
    payload = download(owner_client, watchlist, "json", q="snowflake").json()
    assert [job["id"] for job in payload["jobs"]] == [done]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_it_exports_nothing_to_another_user(other_client, exported, fmt):
    assert download(other_client, exported[0], fmt).status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_it_sends_anonymous_visitors_to_sign_in(anon_client, exported, fmt):
    assert download(anon_client, exported[0], fmt).status_code == 302
