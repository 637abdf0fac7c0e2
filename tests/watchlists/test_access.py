"""Every watchlist URL, for its owner, another signed-in user and an anonymous visitor."""

import pytest
from django.urls import reverse

from jobsite.watchlists.models import Watchlist

from .conftest import new_ids

READ_URLS = ["watchlist", "watchlist_live", "watchlist_edit", "watchlist_delete"]
WRITES = [
    ("watchlist_edit", {"name": "Renamed", "poll_interval": "5", "visibility": "signed_in"}),
    ("watchlist_add_jobs", {"job_ids": "11111111-2222-3333-4444-555555555555"}),
    ("watchlist_remove_jobs", {"job_ids": "11111111-2222-3333-4444-555555555555"}),
    ("watchlist_delete", {}),
]


@pytest.mark.parametrize("name", READ_URLS)
def test_it_shows_every_page_to_the_owner(owner_client, make_watchlist, name):
    watchlist = make_watchlist()
    assert owner_client.get(reverse(name, args=[watchlist.pk])).status_code in (200, 286)


@pytest.mark.parametrize("name", READ_URLS)
def test_it_answers_404_to_another_user_for_every_page(other_client, make_watchlist, name):
    watchlist = make_watchlist()
    response = other_client.get(reverse(name, args=[watchlist.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 404
    assert watchlist.name not in response.content.decode()


@pytest.mark.parametrize("name", READ_URLS)
def test_it_sends_anonymous_visitors_to_sign_in(anon_client, make_watchlist, name):
    watchlist = make_watchlist()
    url = reverse(name, args=[watchlist.pk])
    response = anon_client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(("name", "data"), WRITES)
def test_it_lets_no_other_user_write(other_client, make_watchlist, name, data):
    watchlist = make_watchlist([*new_ids(1), "11111111-2222-3333-4444-555555555555"])
    response = other_client.post(reverse(name, args=[watchlist.pk]), data)
    assert response.status_code == 404
    watchlist.refresh_from_db()
    assert watchlist.name == "Nightly loads"
    assert watchlist.jobs.count() == 2


@pytest.mark.parametrize(("name", "data"), WRITES)
def test_it_lets_no_anonymous_visitor_write(anon_client, make_watchlist, name, data):
    watchlist = make_watchlist([*new_ids(1), "11111111-2222-3333-4444-555555555555"])
    response = anon_client.post(reverse(name, args=[watchlist.pk]), data)
    assert response.status_code == 302
    assert Watchlist.objects.get(pk=watchlist.pk).jobs.count() == 2


@pytest.mark.parametrize("name", ["watchlist_add_jobs", "watchlist_remove_jobs"])
def test_it_refuses_get_on_write_urls(owner_client, make_watchlist, name):
    watchlist = make_watchlist()
    assert owner_client.get(reverse(name, args=[watchlist.pk])).status_code == 405


def test_it_lists_only_the_users_own_watchlists_on_home(owner_client, other_user, make_watchlist):
    make_watchlist(name="Mine")
    make_watchlist(name="Theirs", user=other_user)
    page = owner_client.get(reverse("home")).content.decode()
    assert "Mine" in page
    assert "Theirs" not in page


def test_it_sends_anonymous_visitors_from_home_to_sign_in(anon_client):
    response = anon_client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
