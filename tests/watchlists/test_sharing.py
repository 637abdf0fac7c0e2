"""Sharing: private by default; read-only to every signed-in user or to chosen groups.

The matrix runs every URL of a watchlist for the owner, a group member, another signed-in
user and an anonymous visitor, under each kind of sharing.
"""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from jobsite.watchlists.models import Visibility, Watchlist

JOB = "11111111-2222-3333-4444-555555555555"
READS = [
    ("watchlist", {}),
    ("watchlist_live", {}),
    ("watchlist_job", {"job_id": JOB}),
    ("watchlist_job_output", {"job_id": JOB}),
    ("watchlist_export_csv", {}),
    ("watchlist_export_json", {}),
]
WRITES = [
    ("watchlist_edit", {}, {"name": "Mine now", "poll_interval": "5", "visibility": "private"}),
    ("watchlist_add_jobs", {}, {"job_ids": "22222222-2222-3333-4444-555555555555"}),
    ("watchlist_remove_jobs", {}, {"job_ids": JOB}),
    ("watchlist_job_label", {"job_id": JOB}, {"label": "mine"}),
    ("watchlist_delete", {}, {}),
]


def url(name, watchlist, extra):
    return reverse(name, kwargs={"pk": watchlist.pk, **extra})


@pytest.fixture
def team(db):
    return Group.objects.create(name="Data platform")


@pytest.fixture
def member(django_user_model, team):
    user = django_user_model.objects.create_user("member", password="member-pass-123")
    user.groups.add(team)
    return user


@pytest.fixture
def member_client(member):
    client = Client()
    client.force_login(member)
    return client


def share(watchlist, visibility, groups=()):
    watchlist.visibility = visibility
    watchlist.save()
    watchlist.shared_groups.set(groups)
    return watchlist


@pytest.fixture
def shared_with_team(make_watchlist, owner, team):
    owner.groups.add(team)
    return share(make_watchlist([JOB]), Visibility.GROUPS, [team])


@pytest.mark.parametrize(("name", "extra"), READS)
def test_a_private_watchlist_is_404_to_everyone_but_its_owner(
    owner_client, member_client, other_client, make_watchlist, name, extra
):
    watchlist = make_watchlist([JOB])
    assert owner_client.get(url(name, watchlist, extra)).status_code in (200, 286)
    assert member_client.get(url(name, watchlist, extra)).status_code == 404
    assert other_client.get(url(name, watchlist, extra)).status_code == 404


@pytest.mark.parametrize(("name", "extra"), READS)
def test_a_watchlist_shared_with_everyone_is_readable_by_any_signed_in_user(
    other_client, anon_client, make_watchlist, name, extra
):
    watchlist = share(make_watchlist([JOB]), Visibility.SIGNED_IN)
    assert other_client.get(url(name, watchlist, extra)).status_code in (200, 286)
    assert anon_client.get(url(name, watchlist, extra)).status_code == 302


@pytest.mark.parametrize(("name", "extra"), READS)
def test_a_watchlist_shared_with_a_group_is_readable_by_its_members_only(
    member_client, other_client, shared_with_team, name, extra
):
    assert member_client.get(url(name, shared_with_team, extra)).status_code in (200, 286)
    assert other_client.get(url(name, shared_with_team, extra)).status_code == 404


@pytest.mark.parametrize(("name", "extra", "data"), WRITES)
def test_those_it_is_shared_with_get_403_for_every_write(
    member_client, other_client, shared_with_team, name, extra, data
):
    assert member_client.post(url(name, shared_with_team, extra), data).status_code == 403
    assert other_client.post(url(name, shared_with_team, extra), data).status_code == 404
    watchlist = Watchlist.objects.get(pk=shared_with_team.pk)
    assert (watchlist.name, watchlist.jobs.count(), watchlist.jobs.get().label) == ("Nightly loads", 1, "")


@pytest.mark.parametrize("name", ["watchlist_edit", "watchlist_delete"])
def test_those_it_is_shared_with_cannot_open_the_owner_pages(member_client, shared_with_team, name):
    assert member_client.get(url(name, shared_with_team, {})).status_code == 403


def test_a_reader_sees_no_controls_to_change_it(member_client, shared_with_team):
    page = member_client.get(url("watchlist", shared_with_team, {})).content.decode()
    assert "read-only" in page
    assert "Manage" not in page and "Add job IDs" not in page and "Remove selected" not in page
    assert 'form="bulk-form"' not in page
    assert 'name="label"' not in page
    assert "Copy link" in page


def test_home_lists_what_is_shared_with_me(member_client, shared_with_team):
    page = member_client.get(reverse("home")).content.decode()
    assert "Shared with me" in page
    assert "shared by owner" in page and "Nightly loads" in page


def test_the_owner_shares_with_their_own_groups_only(owner_client, owner, make_watchlist, team):
    owner.groups.add(team)
    strangers = Group.objects.create(name="Strangers")
    watchlist = make_watchlist([JOB])
    edit = reverse("watchlist_edit", args=[watchlist.pk])
    refused = owner_client.post(
        edit, {"name": "x", "poll_interval": "2", "visibility": "groups", "shared_groups": [strangers.pk]}
    )
    assert refused.status_code == 400
    assert not watchlist.shared_groups.exists()
    none_chosen = owner_client.post(edit, {"name": "x", "poll_interval": "2", "visibility": "groups"})
    assert "Choose at least one group" in none_chosen.content.decode()
    owner_client.post(edit, {"name": "x", "poll_interval": "2", "visibility": "groups", "shared_groups": [team.pk]})
    assert list(Watchlist.objects.get(pk=watchlist.pk).shared_groups.all()) == [team]


def test_making_it_private_again_forgets_the_groups(owner_client, shared_with_team):
    owner_client.post(
        reverse("watchlist_edit", args=[shared_with_team.pk]),
        {"name": "x", "poll_interval": "2", "visibility": "private"},
    )
    assert not shared_with_team.shared_groups.exists()


def test_staff_see_every_watchlist_in_admin(client, admin_user, make_watchlist, other_user):
    make_watchlist(name="Owner's private list")
    make_watchlist(name="Someone else's list", user=other_user)
    client.force_login(admin_user)
    page = client.get(reverse("admin:watchlists_watchlist_changelist")).content.decode()
    assert "Owner&#x27;s private list" in page and "Someone else&#x27;s list" in page
