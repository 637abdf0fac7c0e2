"""A share outlives its owner's group membership until the owner ends it on the Manage page.

Leaving a group does not end the share (sharing is the owner's choice about the list, and group
membership is often managed elsewhere); the Manage page keeps showing the group, says the owner
has left it, and lets the owner untick it, but never lets them share with it anew.
"""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from jobsite.watchlists.models import Visibility

JOB = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def team(db):
    return Group.objects.create(name="Data platform")


@pytest.fixture
def reader_client(django_user_model, team):
    reader = django_user_model.objects.create_user("reader", password="reader-pass-123")
    reader.groups.add(team)
    client = Client()
    client.force_login(reader)
    return client


@pytest.fixture
def shared_then_left(make_watchlist, owner, team):
    """Shared with the team; then the owner left the team."""
    owner.groups.add(team)
    watchlist = make_watchlist([JOB])
    watchlist.visibility = Visibility.GROUPS
    watchlist.save()
    watchlist.shared_groups.set([team])
    owner.groups.remove(team)
    return watchlist


def edit(client, watchlist, **data):
    return client.post(
        reverse("watchlist_edit", args=[watchlist.pk]), {"name": "Nightly loads", "poll_interval": "5", **data}
    )


def test_the_share_stays_after_the_owner_leaves_the_group(reader_client, other_client, shared_then_left):
    assert reader_client.get(shared_then_left.get_absolute_url()).status_code == 200
    assert other_client.get(shared_then_left.get_absolute_url()).status_code == 404


def test_the_manage_page_shows_the_group_ticked_and_says_the_owner_left_it(owner_client, shared_then_left, team):
    page = owner_client.get(reverse("watchlist_edit", args=[shared_then_left.pk])).content.decode()
    ticked = rf'name="shared_groups" value="{team.pk}"[^>]* checked>\s*Data platform \(you have left this group\)'
    assert re.search(ticked, page)
    assert "Leaving a group does not end the share" in page


def test_the_owner_ends_the_share_by_unticking_the_group(
    owner_client, owner, reader_client, other_client, shared_then_left, team
):
    mine = Group.objects.create(name="Still mine")
    owner.groups.add(mine)
    assert edit(owner_client, shared_then_left, visibility="groups", shared_groups=[mine.pk]).status_code == 302
    assert list(shared_then_left.shared_groups.all()) == [mine]
    assert reader_client.get(shared_then_left.get_absolute_url()).status_code == 404
    assert other_client.get(shared_then_left.get_absolute_url()).status_code == 404
    page = owner_client.get(reverse("watchlist_edit", args=[shared_then_left.pk])).content.decode()
    assert "Data platform" not in page  # gone from the choices once unticked


def test_the_owner_may_keep_the_share_on_saving_other_settings(owner_client, reader_client, shared_then_left, team):
    assert edit(owner_client, shared_then_left, visibility="groups", shared_groups=[team.pk]).status_code == 302
    assert reader_client.get(shared_then_left.get_absolute_url()).status_code == 200


def test_the_owner_cannot_share_anew_with_a_group_they_left(owner_client, reader_client, shared_then_left, team):
    edit(owner_client, shared_then_left, visibility="private")
    assert edit(owner_client, shared_then_left, visibility="groups", shared_groups=[team.pk]).status_code == 400
    assert reader_client.get(shared_then_left.get_absolute_url()).status_code == 404


def test_those_it_is_shared_with_cannot_open_the_manage_page(reader_client, other_client, shared_then_left):
    assert reader_client.get(reverse("watchlist_edit", args=[shared_then_left.pk])).status_code == 403
    assert other_client.get(reverse("watchlist_edit", args=[shared_then_left.pk])).status_code == 404
