"""Watchlist names are unique per owner (any case); with several connections none is chosen silently."""

from django.urls import reverse

from jobsite.upstream.models import Connection

from .conftest import new_ids


def create(client, connection, name: str):
    return client.post(reverse("watchlist_new"), {"name": name, "connection": connection.pk, "job_ids": new_ids(1)[0]})


def test_it_refuses_a_second_watchlist_of_the_same_name_in_any_case(owner_client, connection, other_client):
    assert create(owner_client, connection, "Nightly loads").status_code == 302
    response = create(owner_client, connection, "nightly LOADS")
    assert response.status_code == 200
    assert "You already have a watchlist named “nightly LOADS”." in response.content.decode()
    assert create(other_client, connection, "Nightly loads").status_code == 302  # another owner may


def test_it_refuses_a_rename_onto_another_watchlists_name(owner_client, make_watchlist):
    make_watchlist(name="Nightly loads")
    renamed = make_watchlist(name="Weekly loads")
    data = {"name": "NIGHTLY loads", "poll_interval": 1, "visibility": "private"}
    response = owner_client.post(reverse("watchlist_edit", args=[renamed.pk]), data)
    assert "You already have a watchlist named" in response.content.decode()
    data["name"] = "weekly LOADS"  # its own name in another case: fine
    assert owner_client.post(reverse("watchlist_edit", args=[renamed.pk]), data).status_code == 302


def test_it_preselects_the_only_connection_and_none_among_several(owner_client, connection):
    page = owner_client.get(reverse("watchlist_new")).content.decode()
    assert "Choose a connection" not in page
    other = Connection(name="Another", base_url="https://immuta.example.com")
    other.token = "t"
    other.save()
    page = owner_client.get(reverse("watchlist_new")).content.decode()
    assert '<option value="" selected>Choose a connection</option>' in page
    response = owner_client.post(reverse("watchlist_new"), {"name": "x", "connection": "", "job_ids": new_ids(1)[0]})
    assert "This field is required." in response.content.decode()
