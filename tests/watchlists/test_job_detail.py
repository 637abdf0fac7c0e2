"""The job detail view: observed timeline and whole output, for the owner only."""

from datetime import timedelta

from django.urls import reverse

from jobsite.statuses.models import JobStatus, StateChange

from .conftest import new_ids


def detail(client, watchlist, job):
    return client.get(reverse("watchlist_job", args=[watchlist.pk, job]))


def test_it_shows_each_observed_state_with_when_and_how_long(owner_client, watched, simulator):
    watchlist, job = watched
    StateChange.objects.filter(job_id=job).update(
        observed_at=StateChange.objects.get(job_id=job).observed_at - timedelta(seconds=125)
    )
    simulator.set_state(job, "completed", output={"rows": 7, "note": "<b>bold</b>"})
    JobStatus.objects.update(checked_at=JobStatus.objects.get().checked_at - timedelta(seconds=5))
    owner_client.get(reverse("watchlist", args=[watchlist.pk]))  # observe "completed"
    page = detail(owner_client, watchlist, job).content.decode()
    assert page.index('data-state="active"') < page.index('data-state="completed"')
    assert "lasted 2 min" in page
    assert "so far" in page
    assert "observed" in page and "first <em>observed</em>" in page
    assert "&quot;rows&quot;: 7" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_it_links_each_row_to_its_detail(owner_client, watched):
    watchlist, job = watched
    page = owner_client.get(reverse("watchlist", args=[watchlist.pk])).content.decode()
    assert reverse("watchlist_job", args=[watchlist.pk, job]) in page


def test_it_answers_404_for_a_job_not_in_the_watchlist(owner_client, watched):
    watchlist, _ = watched
    assert detail(owner_client, watchlist, new_ids(1)[0]).status_code == 404


def test_it_answers_404_to_another_user(other_client, watched):
    watchlist, job = watched
    assert detail(other_client, watchlist, job).status_code == 404


def test_it_sends_anonymous_visitors_to_sign_in(anon_client, watched):
    watchlist, job = watched
    response = detail(anon_client, watchlist, job)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_cuts_a_huge_output_on_screen_and_downloads_it_whole(owner_client, make_watchlist, simulator):
    big = "line of output\n" * 10_000  # 150,000 characters
    job = simulator.submit(lifecycle="instant", count=1, output=big)[0]
    watchlist = make_watchlist([job])
    owner_client.get(reverse("watchlist", args=[watchlist.pk]))
    page = detail(owner_client, watchlist, job).content.decode()
    assert "the first 48.8\xa0KB are shown" in page
    assert page.count("line of output") < 4_000
    download = owner_client.get(reverse("watchlist_job_output", args=[watchlist.pk, job]))
    assert download["Content-Disposition"] == f'attachment; filename="job-{job}-output.txt"'
    assert download.content.decode() == big


def test_it_downloads_json_output_as_json(owner_client, watched, simulator):
    watchlist, job = watched
    simulator.set_state(job, "completed", output={"rows": 7})
    JobStatus.objects.update(checked_at=JobStatus.objects.get().checked_at - timedelta(seconds=5))
    owner_client.get(reverse("watchlist", args=[watchlist.pk]))
    download = owner_client.get(reverse("watchlist_job_output", args=[watchlist.pk, job]))
    assert download.json() == {"rows": 7}


def test_it_keeps_the_output_from_another_user(other_client, watched):
    watchlist, job = watched
    assert other_client.get(reverse("watchlist_job_output", args=[watchlist.pk, job])).status_code == 404
