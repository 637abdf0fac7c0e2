"""Filter chips, search, sort and pages: in the URL, and respected by the live refresh."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from jobsite.statuses.models import JobStatus


@pytest.fixture
def mixed(make_watchlist, simulator, owner_client):
    active = simulator.submit(lifecycle="stay_active", count=2)
    failed = simulator.submit(lifecycle="stay_active", count=1)
    simulator.set_state(failed[0], "failed", output="boom")
    done = simulator.submit(lifecycle="instant", count=1)
    watchlist = make_watchlist(active + failed + done)
    watchlist.jobs.filter(status__job_id=done[0]).update(label="Snowflake sync")
    owner_client.get(reverse("watchlist", args=[watchlist.pk]))
    return watchlist, active, failed[0], done[0]


def rows(html: str) -> int:
    return html.count('<tr id="job-')


def page(client, watchlist, **params):
    return client.get(reverse("watchlist", args=[watchlist.pk]), params).content.decode()


def test_it_shows_only_the_chosen_states(owner_client, mixed):
    watchlist, _active, failed, _done = mixed
    html = page(owner_client, watchlist, state="failed")
    assert rows(html) == 1 and f'id="job-{failed}"' in html
    assert rows(page(owner_client, watchlist, state=["failed", "completed"])) == 2


def test_its_chips_toggle_a_state_in_the_url_and_keep_their_counts(owner_client, mixed):
    watchlist, *_ = mixed
    html = page(owner_client, watchlist, state="failed")
    assert 'href="?" hx-boost="true" aria-current="true">Failed <b>1</b>' in " ".join(html.split())  # click again: all
    assert 'href="?state=active&amp;state=failed"' in html
    assert "Active <b>2</b>" in html  # counts are of the whole watchlist


def test_it_searches_job_ids_and_labels(owner_client, mixed):
    watchlist, active, _failed, done = mixed
    assert f'id="job-{done}"' in page(owner_client, watchlist, q="snowflake")
    assert rows(page(owner_client, watchlist, q="snowflake")) == 1
    assert rows(page(owner_client, watchlist, q=active[1][:8].upper())) == 1
    assert "No job matches this filter." in page(owner_client, watchlist, q="nothing-like-this")


def test_it_sorts_by_state_worst_first(owner_client, mixed):
    watchlist, active, failed, done = mixed
    html = page(owner_client, watchlist, sort="state")
    assert html.index(f'id="job-{active[0]}"') < html.index(f'id="job-{failed}"') < html.index(f'id="job-{done}"')


def test_it_ignores_unknown_filter_values(owner_client, mixed):
    watchlist, *_ = mixed
    assert rows(page(owner_client, watchlist, state="bogus", sort="nope", page="x")) == 4


def test_its_live_refresh_keeps_the_filter(owner_client, mixed, simulator):
    watchlist, active, _failed, _done = mixed
    html = page(owner_client, watchlist, state="active")
    assert f'hx-get="{reverse("watchlist_live", args=[watchlist.pk])}?state=active"' in html
    since = html.split('name="since" value="')[1].split('"')[0]
    simulator.set_state(active[0], "completed")
    JobStatus.objects.update(checked_at=datetime(2000, 1, 1, tzinfo=UTC))
    response = owner_client.get(reverse("watchlist_live", args=[watchlist.pk]), {"state": "active", "since": since})
    body = response.content.decode()
    # The finished job leaves a list filtered on "active": the whole list comes again.
    assert response["HX-Reswap"] == "morph:innerHTML"
    assert rows(body) == 1 and f'id="job-{active[1]}"' in body


def test_it_pages_a_long_watchlist(owner_client, make_watchlist, simulator):
    watchlist = make_watchlist(simulator.submit(lifecycle="instant", count=260))
    first = page(owner_client, watchlist)
    assert rows(first) == 250
    assert "260 jobs · page" in first and 'href="?page=2"' in first
    assert rows(page(owner_client, watchlist, page=2)) == 10


def test_a_5000_job_watchlist_opens_on_one_page_of_250_in_bounded_queries(
    owner_client, make_watchlist, simulator, django_assert_max_num_queries
):
    watchlist = make_watchlist(simulator.submit(lifecycle="stay_active", count=5000), poll_interval=3600)
    page(owner_client, watchlist)  # first observation: asks upstream about all 5,000
    with django_assert_max_num_queries(12):
        html = page(owner_client, watchlist)
    assert rows(html) == 250
    assert "5000 jobs · page" in html and 'href="?page=20"' in html
