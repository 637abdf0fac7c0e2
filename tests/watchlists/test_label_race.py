"""Labelling a job that is being removed: the label finds no job, and says so instead of failing."""

import pytest
from django.urls import reverse

from jobsite.watchlists import selectors, services
from jobsite.watchlists.models import WatchlistJob

GONE = "That job is no longer in this watchlist."


@pytest.fixture
def job(make_watchlist):
    watchlist = make_watchlist()
    return watchlist, watchlist.jobs.first().status.job_id


@pytest.fixture
def removed_while_labelling(monkeypatch):
    """The job is found, then removed (in another tab, say) before its label is written."""
    find = selectors.watchlist_job_get

    def find_then_remove(*, watchlist, job_id):
        found = find(watchlist=watchlist, job_id=job_id)
        services.watchlist_remove_jobs(watchlist=watchlist, job_ids=[job_id])
        return found

    monkeypatch.setattr(selectors, "watchlist_job_get", find_then_remove)


def label_url(watchlist, job_id):
    return reverse("watchlist_job_label", args=[watchlist.pk, job_id])


def test_it_answers_404_for_a_job_removed_before_the_label_was_sent(owner_client, job):
    watchlist, job_id = job
    services.watchlist_remove_jobs(watchlist=watchlist, job_ids=[job_id])
    assert owner_client.post(label_url(watchlist, job_id), {"label": "late"}).status_code == 404


def test_it_says_in_place_that_the_job_was_removed_while_labelling(owner_client, job, removed_while_labelling):
    watchlist, job_id = job
    response = owner_client.post(label_url(watchlist, job_id), {"label": "late"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx swaps the piece, which carries the message
    assert 'role="alert"' in response.content.decode() and GONE in response.content.decode()
    assert not WatchlistJob.objects.filter(status__job_id=job_id).exists()


def test_it_says_on_the_page_that_the_job_was_removed_while_labelling(owner_client, job, removed_while_labelling):
    watchlist, job_id = job
    response = owner_client.post(label_url(watchlist, job_id), {"label": "late"}, follow=True)
    assert response.redirect_chain == [(watchlist.get_absolute_url(), 302)]
    assert GONE in response.content.decode()


def test_it_still_labels_the_jobs_that_remain(owner_client, job):
    watchlist, job_id = job
    owner_client.post(label_url(watchlist, job_id), {"label": "kept"})
    assert WatchlistJob.objects.get(status__job_id=job_id).label == "kept"
