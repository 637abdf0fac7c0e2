"""The watchlist page and its htmx refresh, against the simulator over real HTTP."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from jobsite.statuses.models import JobStatus
from tests.helpers import end_back_off

from .conftest import new_ids, polls_every


def age_store():
    """Make every stored state older than any pollInterval, so the next refresh asks upstream."""
    JobStatus.objects.update(checked_at=datetime(2000, 1, 1, tzinfo=UTC))


def live(client, watchlist, since=None):
    params = {"since": since} if since else {}
    return client.get(reverse("watchlist_live", args=[watchlist.pk]), params, HTTP_HX_REQUEST="true")


def cursor_of(html: str) -> str:
    return re.search(r'id="live-since" name="since" value="([^"]+)"', html).group(1)


def row_of(page: str, job_id: str) -> str:
    start = page.index(f'data-job-id="{job_id}"')
    row = page[start : page.index("</tr>", start)]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", row)  # masked anew each render


def page_of(client, watchlist) -> str:
    return client.get(reverse("watchlist", args=[watchlist.pk])).content.decode()


def test_it_renders_one_row_per_job_with_its_state(owner_client, make_watchlist, simulator):
    active = simulator.submit(lifecycle="stay_active", count=1)[0]
    done = simulator.submit(lifecycle="instant", count=1, output={"rows": 3})[0]
    missing = new_ids(1)[0]
    page = page_of(owner_client, make_watchlist([active, done, missing]))
    assert f'<tr id="job-{done}" data-job-id="{done}" data-state="completed">' in " ".join(page.split())
    assert "&quot;rows&quot;: 3" in row_of(page, done)
    assert 'data-state="not_found"' in row_of(page, missing)
    assert polls_every(1) in page  # one job is still active


def test_it_renders_the_refresh_with_the_same_partials_as_the_page(owner_client, make_watchlist, simulator):
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    watchlist = make_watchlist([job])
    page = page_of(owner_client, watchlist)
    partial = live(owner_client, watchlist).content.decode()
    # Identical but for the check time, which the refresh has just renewed.
    assert row_of(partial, job).split("<time")[0] == row_of(page, job).split("<time")[0]
    assert "<html" not in partial


def test_it_answers_204_with_no_body_when_nothing_changed(owner_client, make_watchlist, simulator):
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    watchlist = make_watchlist([job])
    since = cursor_of(page_of(owner_client, watchlist))
    JobStatus.objects.update(revised_at=datetime(2000, 1, 1, tzinfo=UTC))  # long since revised
    age_store()
    response = live(owner_client, watchlist, since)
    assert response.status_code == 204
    assert response.content == b""
    assert response["X-Jobsite-Checked"].isdigit()  # the rows were checked again all the same
    assert "Content-Type" not in response


def test_it_sends_only_the_changed_rows_and_the_summary(owner_client, make_watchlist, simulator):
    jobs = simulator.submit(lifecycle="stay_active", count=50)
    watchlist = make_watchlist(jobs)
    since = cursor_of(page_of(owner_client, watchlist))
    JobStatus.objects.update(revised_at=datetime(2000, 1, 1, tzinfo=UTC))
    simulator.set_state(jobs[7], "completed", output="done")
    age_store()
    response = live(owner_client, watchlist, since)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<tr ") == 1  # one of fifty
    assert f'<template><tr id="job-{jobs[7]}"' in body and 'data-state="completed"' in body
    assert re.search(r'<div class="summary" id="live-summary"[^>]* hx-swap-oob="true">', " ".join(body.split()))
    assert 'id="live-since" name="since"' in body and 'hx-swap-oob="true"' in body
    assert "HX-Reswap" not in response


def test_it_sends_the_whole_partial_without_a_usable_cursor(owner_client, make_watchlist, simulator):
    watchlist = make_watchlist(simulator.submit(lifecycle="stay_active", count=3))
    for since in (None, "garbage", "x|not-a-date"):
        response = live(owner_client, watchlist, since)
        assert response["HX-Reswap"] == "morph:innerHTML"
        assert response.content.decode().count('<tr id="job-') == 3


def test_it_sends_the_whole_partial_after_the_watchlist_changed(owner_client, make_watchlist, simulator):
    watchlist = make_watchlist(simulator.submit(lifecycle="stay_active", count=2))
    since = cursor_of(page_of(owner_client, watchlist))
    owner_client.post(reverse("watchlist_add_jobs", args=[watchlist.pk]), {"job_ids": new_ids(1)[0]})
    response = live(owner_client, watchlist, since)
    assert response["HX-Reswap"] == "morph:innerHTML"
    assert response.content.decode().count('<tr id="job-') == 3


def test_it_shows_a_state_change_on_the_next_refresh(owner_client, make_watchlist, simulator):
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    watchlist = make_watchlist([job])
    assert 'data-state="active"' in live(owner_client, watchlist).content.decode()
    simulator.set_state(job, "completed", output="done")
    age_store()
    assert 'data-state="completed"' in live(owner_client, watchlist).content.decode()


def test_it_stops_polling_when_all_jobs_are_terminal(owner_client, make_watchlist, simulator):
    watchlist = make_watchlist(simulator.submit(lifecycle="instant", count=3))
    assert live(owner_client, watchlist).status_code == 286
    page = page_of(owner_client, watchlist)
    assert "data-poll-every" not in page
    assert "Every job has finished" in page


def test_it_starts_polling_again_when_ids_are_added(owner_client, make_watchlist, simulator):
    watchlist = make_watchlist(simulator.submit(lifecycle="instant", count=1))
    assert live(owner_client, watchlist).status_code == 286
    owner_client.post(
        reverse("watchlist_add_jobs", args=[watchlist.pk]),
        {"job_ids": simulator.submit(lifecycle="stay_active", count=1)[0]},
    )
    assert live(owner_client, watchlist).status_code == 200
    assert polls_every(1) in page_of(owner_client, watchlist)


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("error_500", "answered with an error"),
        ("bad_gateway_html", "HTTP 502"),
        ("unauthorized", "rejected the API token"),
        ("slow", "did not answer within"),
        ("reset", "Could not reach"),
        ("malformed_json", "could not read"),
    ],
)
def test_it_keeps_last_known_states_and_explains_an_upstream_fault(
    owner_client, make_watchlist, simulator, connection, fault, words
):
    connection.timeout = 1.0
    connection.save()
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    watchlist = make_watchlist([job])
    since = cursor_of(live(owner_client, watchlist).content.decode())
    age_store()
    simulator.set_fault(fault)
    response = live(owner_client, watchlist, since)
    page = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Reswap"] == "morph:innerHTML"  # the problem changes every row: all again
    assert 'role="alert"' in page
    assert words in page
    assert simulator.token not in page
    row = row_of(page, job)
    assert 'data-state="active"' in row
    assert 'data-stale="true"' in row
    simulator.clear_fault()
    end_back_off()
    healed = live(owner_client, watchlist, cursor_of(page)).content.decode()
    assert 'role="alert"' not in healed
    assert 'data-stale="true"' not in healed


def test_it_shows_an_unknown_state_as_such(owner_client, make_watchlist, simulator):
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    watchlist = make_watchlist([job])
    simulator.set_fault("unknown_state")
    row = row_of(live(owner_client, watchlist).content.decode(), job)
    assert 'data-state="unknown"' in row
    assert "“paused”" in row


def test_it_escapes_output(owner_client, make_watchlist, simulator):
    job = simulator.submit(lifecycle="instant", count=1, output="<script>alert(1)</script>")[0]
    page = page_of(owner_client, make_watchlist([job]))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_it_collapses_long_output(owner_client, make_watchlist, simulator):
    job = simulator.submit(lifecycle="instant", count=1, output={"lines": list(range(50))})[0]
    assert "<details>" in row_of(page_of(owner_client, make_watchlist([job])), job)


def test_it_labels_a_simulator_connection(owner_client, make_watchlist):
    assert "Simulated data." in page_of(owner_client, make_watchlist())


def test_it_renders_a_1000_job_watchlist_a_page_at_a_time_in_bounded_queries(
    owner_client, make_watchlist, simulator, django_assert_max_num_queries
):
    watchlist = make_watchlist(simulator.submit(lifecycle="stay_active", count=1000))
    live(owner_client, watchlist)
    age_store()  # the measured refresh asks upstream about all 1,000 and writes them back
    with django_assert_max_num_queries(20):  # constant: writes go in bulk
        response = live(owner_client, watchlist)
    assert response.content.decode().count('<tr id="job-') == 250  # the first page


def test_it_answers_an_unchanged_1000_job_refresh_in_bounded_queries(
    hour_ahead, owner_client, make_watchlist, simulator, django_assert_max_num_queries
):
    watchlist = make_watchlist(simulator.submit(lifecycle="stay_active", count=1000), poll_interval=60)
    since = cursor_of(live(owner_client, watchlist).content.decode())
    JobStatus.objects.update(revised_at=datetime(2000, 1, 1, tzinfo=UTC))
    with django_assert_max_num_queries(6):  # session, user, watchlist, due?, revised?, oldest check
        assert live(owner_client, watchlist, since).status_code == 204


def test_the_summary_tells_the_pages_script_the_counts_it_reports_on(owner_client, make_watchlist, simulator):
    jobs = simulator.submit(lifecycle="stay_active", count=3)
    simulator.set_state(jobs[0], "failed", output="boom")
    watchlist = make_watchlist(jobs)
    summary = page_of(owner_client, watchlist).split('id="live-summary"')[1].split(">")[0]
    assert f'data-watchlist="{watchlist.pk}"' in summary
    assert 'data-failed="1"' in summary
    assert 'data-title-counts="2 active, 1 failed"' in summary
    assert 'data-worst="failed"' in summary
