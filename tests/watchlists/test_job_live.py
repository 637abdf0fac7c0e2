"""The job page refreshes live: one partial for the first render and every htmx refresh."""

import re
from datetime import UTC, datetime

from django.urls import reverse

from jobsite.statuses.models import JobStatus

from .conftest import new_ids, polls_every


def age_store():
    """Make every stored state older than any pollInterval, so the next refresh asks upstream."""
    JobStatus.objects.update(checked_at=datetime(2000, 1, 1, tzinfo=UTC))


def job_page(client, watchlist, job):
    return client.get(reverse("watchlist_job", args=[watchlist.pk, job]))


def job_live(client, watchlist, job):
    return client.get(reverse("watchlist_job_live", args=[watchlist.pk, job]), HTTP_HX_REQUEST="true")


def steady(html: str) -> str:
    """The markup without what moves by itself between two renders: clock times and "so far"."""
    html = re.sub(r"<time [^>]*>[^<]*</time>", "<time>", html)
    return re.sub(r"for [^<]*? so far", "for … so far", html)


def test_it_shows_the_owner_the_partial(owner_client, watched):
    watchlist, job = watched
    response = job_live(owner_client, watchlist, job)
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="job-state" data-job-id="{job}" data-job-state="active"' in body
    assert "Observed timeline" in body and "No output." in body
    assert "<html" not in body


def test_it_answers_404_to_another_user(other_client, watched):
    watchlist, job = watched
    assert job_live(other_client, watchlist, job).status_code == 404


def test_it_answers_404_for_a_job_not_in_the_watchlist(owner_client, watched):
    watchlist, _ = watched
    assert job_live(owner_client, watchlist, new_ids(1)[0]).status_code == 404


def test_it_sends_anonymous_visitors_to_sign_in(anon_client, watched):
    watchlist, job = watched
    response = job_live(anon_client, watchlist, job)  # htmx: told to load the login page, then back
    assert response.status_code == 204 and response["HX-Redirect"].startswith(reverse("login") + "?next=")


def test_it_refuses_a_post(owner_client, watched):
    watchlist, job = watched
    assert owner_client.post(reverse("watchlist_job_live", args=[watchlist.pk, job])).status_code == 405


def test_it_keeps_polling_while_the_job_runs(owner_client, watched):
    watchlist, job = watched
    assert job_live(owner_client, watchlist, job).status_code == 200
    page = job_page(owner_client, watchlist, job).content.decode()
    assert f'hx-get="{reverse("watchlist_job_live", args=[watchlist.pk, job])}"' in page
    assert polls_every(1) in page


def test_it_answers_286_once_the_job_has_finished(owner_client, watched, simulator):
    watchlist, job = watched
    simulator.set_state(job, "completed", output="done")
    age_store()
    response = job_live(owner_client, watchlist, job)
    body = response.content.decode()
    assert response.status_code == 286  # htmx: stop polling, after swapping in this last answer
    assert 'data-job-state="completed"' in body
    assert "done" in body


def test_it_renders_a_finished_job_without_polling(owner_client, make_watchlist, simulator):
    job = simulator.submit(lifecycle="instant", count=1, output="done")[0]
    watchlist = make_watchlist([job])
    owner_client.get(reverse("watchlist", args=[watchlist.pk]))
    page = job_page(owner_client, watchlist, job).content.decode()
    assert 'data-job-state="completed"' in page
    assert "hx-get" not in page and "data-poll-every" not in page


def test_it_renders_the_first_page_and_the_refresh_with_the_same_partial(owner_client, watched, simulator):
    watchlist, job = watched
    simulator.set_state(job, "completed", output={"rows": 7})
    age_store()
    partial = job_live(owner_client, watchlist, job).content.decode()  # observes "completed"
    page = job_page(owner_client, watchlist, job).content.decode()
    assert 'data-job-state="completed"' in partial and "&quot;rows&quot;: 7" in partial
    assert steady(partial).strip() in steady(page)


def test_it_says_the_state_is_stale_while_upstream_fails(owner_client, watched, simulator):
    watchlist, job = watched
    age_store()
    simulator.set_fault("error_500")
    response = job_live(owner_client, watchlist, job)
    body = response.content.decode()
    assert response.status_code == 200  # still unsettled: polling goes on
    assert 'data-job-state="active"' in body
    assert "stale:" in body and "answered with an error" in body
    assert simulator.token not in body


def test_it_answers_a_refresh_in_bounded_queries(owner_client, watched, django_assert_max_num_queries):
    watchlist, job = watched
    job_live(owner_client, watchlist, job)
    age_store()  # the measured refresh asks upstream and writes the answer back
    # session, user, watchlist, the refresh (the statuses service's own share), job, timeline
    with django_assert_max_num_queries(20):
        assert job_live(owner_client, watchlist, job).status_code == 200
