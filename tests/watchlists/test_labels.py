"""Labels: a short name per job, edited in place."""

import pytest
from django.urls import reverse

from jobsite.watchlists.models import WatchlistJob


@pytest.fixture
def job(make_watchlist):
    watchlist = make_watchlist()
    return watchlist, watchlist.jobs.first().status.job_id


def label_url(watchlist, job_id):
    return reverse("watchlist_job_label", args=[watchlist.pk, job_id])


def test_it_saves_a_label_in_place_and_answers_the_piece(owner_client, job):
    watchlist, job_id = job
    response = owner_client.post(label_url(watchlist, job_id), {"label": "  Snowflake sync "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'value="Snowflake sync"' in response.content.decode()
    assert "<html" not in response.content.decode()
    assert WatchlistJob.objects.get(status__job_id=job_id).label == "Snowflake sync"


def test_it_shows_the_label_on_the_page_escaped(owner_client, job):
    watchlist, job_id = job
    owner_client.post(label_url(watchlist, job_id), {"label": "<b>policy</b> rebuild"})
    page = owner_client.get(reverse("watchlist", args=[watchlist.pk])).content.decode()
    assert 'value="&lt;b&gt;policy&lt;/b&gt; rebuild"' in page


def test_it_refuses_a_label_too_long_and_keeps_the_old_one(owner_client, job):
    watchlist, job_id = job
    owner_client.post(label_url(watchlist, job_id), {"label": "kept"})
    response = owner_client.post(label_url(watchlist, job_id), {"label": "x" * 81}, HTTP_HX_REQUEST="true")
    assert 'role="alert"' in response.content.decode()
    assert "at most 80 characters" in response.content.decode()
    assert WatchlistJob.objects.get(status__job_id=job_id).label == "kept"


def test_it_lets_no_other_user_label(other_client, job):
    watchlist, job_id = job
    assert other_client.post(label_url(watchlist, job_id), {"label": "mine"}).status_code == 404
    assert WatchlistJob.objects.get(status__job_id=job_id).label == ""


def test_it_lets_no_anonymous_visitor_label(anon_client, job):
    watchlist, job_id = job
    assert anon_client.post(label_url(watchlist, job_id), {"label": "mine"}).status_code == 302
    assert WatchlistJob.objects.get(status__job_id=job_id).label == ""
