"""Quick look: paste IDs on the home page, see their states at once, save them if wanted."""

from django.urls import reverse

from jobsite.watchlists.models import Watchlist

from .conftest import new_ids


def test_it_shows_pasted_jobs_states_without_saving(owner_client, connection, simulator):
    done = simulator.submit(lifecycle="instant", count=1)[0]
    missing = new_ids(1)[0]
    response = owner_client.post(
        reverse("quick_look"), {"connection": connection.pk, "job_ids": f"{done} and {missing}"}
    )
    page = response.content.decode()
    assert f'data-job-id="{done}" data-state="completed"' in page
    assert f'data-job-id="{missing}" data-state="not_found"' in page
    assert "Found 2 job IDs" in page
    assert not Watchlist.objects.exists()


def test_it_saves_the_quick_look_as_a_watchlist(owner_client, owner, connection, simulator):
    done = simulator.submit(lifecycle="instant", count=1)[0]
    page = owner_client.post(reverse("quick_look"), {"connection": connection.pk, "job_ids": done}).content.decode()
    assert "Save as watchlist" in page
    owner_client.post(
        reverse("watchlist_new"),
        {"name": "From a look", "connection": connection.pk, "poll_interval": "", "job_ids": done},
    )
    watchlist = Watchlist.objects.get(owner=owner)
    assert watchlist.name == "From a look"
    assert list(watchlist.jobs.values_list("status__job_id", flat=True)) == [done]


def test_it_explains_a_paste_without_ids(owner_client, connection):
    response = owner_client.post(reverse("quick_look"), {"connection": connection.pk, "job_ids": "nothing"})
    assert response.status_code == 400
    assert "No job ID found" in response.content.decode()


def test_it_explains_an_upstream_fault(owner_client, connection, simulator):
    simulator.set_fault("error_500")
    page = owner_client.post(
        reverse("quick_look"), {"connection": connection.pk, "job_ids": new_ids(1)[0]}
    ).content.decode()
    assert 'role="alert"' in page and "answered with an error" in page


def test_it_is_for_signed_in_users_only(anon_client, connection):
    response = anon_client.post(reverse("quick_look"), {"connection": connection.pk, "job_ids": new_ids(1)[0]})
    assert response.status_code == 302


def test_home_offers_the_quick_look_below_the_watchlists(owner_client, connection):
    page = owner_client.get(reverse("home")).content.decode()
    assert "<title>Watchlists · jobsite</title>" in page
    assert page.count('action="/quick-look/"') == 1
