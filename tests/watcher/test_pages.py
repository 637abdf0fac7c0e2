"""With a live watcher, pages only read the store; without one they ask upstream themselves."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jobsite.statuses import services as status_services
from jobsite.statuses import watchers
from jobsite.statuses.models import JobStatus, Watcher
from jobsite.watcher.loop import watch_round
from jobsite.watchlists.models import Watchlist
from jobsite.watchlists.services import watchlist_create, watchlists_revise


@pytest.fixture
def no_upstream_calls(monkeypatch):
    """Fails the test if anything in a request reaches for the upstream client."""

    def refuse(connection):
        raise AssertionError(f"a page asked upstream ({connection.name}) while a watcher is alive")

    monkeypatch.setattr(status_services, "client_for", refuse)


@pytest.fixture
def watched(owner, connection, simulator):
    """A watchlist whose jobs the watcher has observed once."""
    jobs = simulator.submit(lifecycle="stay_active", count=3)
    watchlist = watchlist_create(owner=owner, name="Nightly", connection=connection, poll_interval=1, job_ids=jobs)
    long_ago = timezone.now() - timedelta(hours=1)  # revised well before any render of the test
    JobStatus.objects.update(state="active", reported=True, checked_at=timezone.now(), revised_at=long_ago)
    return watchlist, jobs


def cursor_of(html: str) -> str:
    return re.search(r'id="live-since" name="since" value="([^"]+)"', html).group(1).replace("&amp;", "&")


def live(client, watchlist, since=None):
    params = {"since": since} if since else {}
    return client.get(reverse("watchlist_live", args=[watchlist.pk]), params, HTTP_HX_REQUEST="true")


def test_no_page_asks_upstream_while_a_watcher_is_alive(
    live_watcher, no_upstream_calls, owner_client, watched, connection
):
    watchlist, jobs = watched
    JobStatus.objects.update(checked_at=None)  # everything is due: a fallback would ask at once
    job = jobs[0]
    for url in (
        reverse("home"),
        reverse("watchlist", args=[watchlist.pk]),
        reverse("watchlist_live", args=[watchlist.pk]),
        reverse("watchlist_job", args=[watchlist.pk, job]),
        reverse("watchlist_export_csv", args=[watchlist.pk]),
        reverse("watchlist_export_json", args=[watchlist.pk]),
    ):
        assert owner_client.get(url).status_code == 200, url
    response = owner_client.post(reverse("quick_look"), {"connection": connection.pk, "job_ids": "\n".join(jobs)})
    assert response.status_code == 200
    assert 'hx-trigger="load delay:1s"' in response.content.decode()  # looks again once the watcher has


def test_a_quick_look_asks_the_watcher_to_keep_its_jobs_fresh(
    live_watcher, no_upstream_calls, owner_client, connection, simulator
):
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    owner_client.post(reverse("quick_look"), {"connection": connection.pk, "job_ids": job})
    assert JobStatus.objects.get(job_id=job).wanted_until > timezone.now()


def test_an_unchanged_refresh_reads_no_job_rows(
    live_watcher, no_upstream_calls, owner_client, watched, django_assert_num_queries
):
    watchlist, _jobs = watched
    since = cursor_of(owner_client.get(reverse("watchlist", args=[watchlist.pk])).content.decode())
    assert live(owner_client, watchlist, since).status_code == 204  # warms the per-list figures
    with django_assert_num_queries(2):  # the user and the watchlist: the session comes from the cache
        response = live(owner_client, watchlist, since)
    assert response.status_code == 204
    assert response["X-Jobsite-Checked"].isdigit()


@pytest.mark.django_db(transaction=True)  # the round's workers see committed rows only
def test_a_refresh_sends_the_rows_the_watcher_revised(
    live_watcher, owner_client, watched, connection, simulator, django_assert_max_num_queries
):
    watchlist, jobs = watched
    watch_round(connection)
    since = cursor_of(owner_client.get(reverse("watchlist", args=[watchlist.pk])).content.decode())
    simulator.set_state(jobs[2], "failed", output="boom")
    JobStatus.objects.update(checked_at=None)
    watch_round(connection)
    response = live(owner_client, watchlist, since)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<tr ") == 1 and 'data-state="failed"' in body
    assert live(owner_client, watchlist, cursor_of(body)).status_code == 204


def test_a_refresh_sends_the_summary_when_only_rows_on_another_page_moved(
    live_watcher, owner_client, watched, connection
):
    watchlist, jobs = watched
    since = cursor_of(owner_client.get(reverse("watchlist", args=[watchlist.pk]) + "?q=nomatch").content.decode())
    JobStatus.objects.filter(job_id=jobs[0]).update(state="failed", revised_at=timezone.now())
    watchlists_revise(status_ids=frozenset(JobStatus.objects.filter(job_id=jobs[0]).values_list("pk", flat=True)))
    response = owner_client.get(
        reverse("watchlist_live", args=[watchlist.pk]), {"q": "nomatch", "since": since}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200  # no row to send, but the counts moved
    assert 'data-failed="1"' in body and "<tr " not in body


def test_without_a_watcher_a_page_asks_upstream_itself(owner_client, watched, simulator):
    watchlist, _jobs = watched
    JobStatus.objects.update(checked_at=None)
    simulator.reset_stats()
    assert live(owner_client, watchlist).status_code == 200
    assert simulator.stats()["job_ids_requested"] == 3


@pytest.mark.parametrize("how", ["stopped", "stale"])
def test_pages_fall_back_to_asking_upstream_when_the_watcher_is_gone(
    how, live_watcher, owner_client, watched, simulator
):
    watchlist, _jobs = watched
    if how == "stopped":
        watchers.watcher_stop(watcher=live_watcher)
    else:
        Watcher.objects.update(seen_at=timezone.now() - watchers.STALE_AFTER - timedelta(seconds=1))
    watchers.forget()
    JobStatus.objects.update(checked_at=None)
    simulator.reset_stats()
    live(owner_client, watchlist)
    assert simulator.stats()["job_ids_requested"] == 3


def test_staff_are_told_when_no_watcher_runs_and_when_it_was_last_seen(admin_client, live_watcher):
    assert 'data-watcher="missing"' not in admin_client.get(reverse("home")).content.decode()
    Watcher.objects.update(seen_at=timezone.now() - timedelta(minutes=5))
    watchers.forget()
    page = admin_client.get(reverse("home")).content.decode()
    assert 'data-watcher="missing"' in page
    assert "last seen 5\xa0minutes ago" in page
    Watcher.objects.all().delete()
    watchers.forget()
    assert "never seen" in admin_client.get(reverse("home")).content.decode()


def test_analysts_are_not_shown_the_watcher_notice(owner_client):
    assert 'data-watcher="missing"' not in owner_client.get(reverse("home")).content.decode()


def test_the_revision_moves_only_for_watchlists_holding_a_revised_job(owner, connection, watched):
    watchlist, jobs = watched
    other = watchlist_create(owner=owner, name="Other", connection=connection, poll_interval=1, job_ids=[])
    before = dict(Watchlist.objects.values_list("pk", "revision"))
    watchlists_revise(status_ids=frozenset(JobStatus.objects.filter(job_id=jobs[0]).values_list("pk", flat=True)))
    after = dict(Watchlist.objects.values_list("pk", "revision"))
    assert after[watchlist.pk] == before[watchlist.pk] + 1
    assert after[other.pk] == before[other.pk]
