"""Creating and changing watchlists through their forms."""

import pytest
from django.urls import reverse

from jobsite.watchlists.models import Watchlist

from .conftest import new_ids

A = "cefb58a0-cd71-11ec-8e29-81c20d280994"
B = "0b0e6b7e-3f5c-4d47-9a51-2f7d1c1b9e10"


def job_ids_of(watchlist) -> list[str]:
    return list(watchlist.jobs.order_by("id").values_list("status__job_id", flat=True))


def test_it_creates_a_watchlist_from_pasted_text(owner_client, owner, connection):
    response = owner_client.post(
        reverse("watchlist_new"),
        {
            "name": "Nightly loads",
            "connection": connection.pk,
            "poll_interval": "3",
            "job_ids": f"job {A.upper()} started\nnoise\n{B}\n{A}",
        },
        follow=True,
    )
    watchlist = Watchlist.objects.get(owner=owner)
    assert (watchlist.name, watchlist.poll_interval) == ("Nightly loads", 3)
    assert job_ids_of(watchlist) == [A, B]
    page = response.content.decode()
    assert "Found 2 job IDs; 1 repeat dropped; 1 line without an ID ignored (“noise”)." in page


def test_it_takes_the_connections_poll_interval_when_none_is_given(owner_client, owner, connection):
    connection.poll_interval = 7
    connection.save()
    owner_client.post(
        reverse("watchlist_new"),
        {"name": "x", "connection": connection.pk, "poll_interval": "", "job_ids": A},
    )
    assert Watchlist.objects.get(owner=owner).poll_interval == 7


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("job_ids", "no ids in here", "No job ID found"),
        ("poll_interval", "0", "greater than or equal to 1"),
        ("poll_interval", "1.5", "Enter a whole number"),
        ("name", "", "This field is required"),
    ],
)
def test_it_explains_bad_input_and_saves_nothing(owner_client, connection, field, value, message):
    data = {"name": "x", "connection": connection.pk, "poll_interval": "2", "job_ids": A, field: value}
    response = owner_client.post(reverse("watchlist_new"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Watchlist.objects.exists()


def test_it_refuses_a_paste_over_the_limit_whole(owner_client, connection, settings):
    settings.JOBSITE_MAX_JOBS_PER_WATCHLIST = 3
    response = owner_client.post(
        reverse("watchlist_new"),
        {"name": "x", "connection": connection.pk, "poll_interval": "2", "job_ids": "\n".join(new_ids(4))},
    )
    assert "A watchlist holds at most 3 jobs; this would make 4. Nothing was saved" in response.content.decode()
    assert not Watchlist.objects.exists()


def test_it_holds_the_documented_5000_jobs(owner, connection):
    from jobsite.watchlists.services import watchlist_create

    watchlist = watchlist_create(owner=owner, name="big", connection=connection, poll_interval=5, job_ids=new_ids(5000))
    assert watchlist.jobs.count() == 5000


def test_it_adds_only_new_ids(owner_client, make_watchlist):
    watchlist = make_watchlist([A])
    response = owner_client.post(
        reverse("watchlist_add_jobs", args=[watchlist.pk]), {"job_ids": f"{A}\n{B}"}, follow=True
    )
    assert job_ids_of(watchlist) == [A, B]
    assert "Added 1 job. Found 2 job IDs. 1 already in the list." in response.content.decode()


def test_it_refuses_an_add_over_the_limit_and_keeps_the_list(owner_client, make_watchlist, settings):
    settings.JOBSITE_MAX_JOBS_PER_WATCHLIST = 2
    watchlist = make_watchlist([A])
    response = owner_client.post(reverse("watchlist_add_jobs", args=[watchlist.pk]), {"job_ids": "\n".join(new_ids(2))})
    assert response.status_code == 400
    assert "at most 2 jobs" in response.content.decode()
    assert job_ids_of(watchlist) == [A]


def test_it_shows_an_error_for_an_add_without_ids(owner_client, make_watchlist):
    watchlist = make_watchlist([A])
    response = owner_client.post(reverse("watchlist_add_jobs", args=[watchlist.pk]), {"job_ids": "hello"})
    assert response.status_code == 400
    assert "No job ID found" in response.content.decode()


def test_it_removes_one_or_several_ids(owner_client, make_watchlist):
    ids = new_ids(3)
    watchlist = make_watchlist(ids)
    owner_client.post(reverse("watchlist_remove_jobs", args=[watchlist.pk]), {"job_ids": ids[0]})
    assert job_ids_of(watchlist) == ids[1:]
    response = owner_client.post(
        reverse("watchlist_remove_jobs", args=[watchlist.pk]), {"job_ids": f"{ids[1]}, {ids[2]}"}, follow=True
    )
    assert job_ids_of(watchlist) == []
    assert "Removed 2 jobs." in response.content.decode()


def test_it_renames_and_changes_the_poll_interval(owner_client, make_watchlist):
    watchlist = make_watchlist()
    owner_client.post(
        reverse("watchlist_edit", args=[watchlist.pk]),
        {"name": "Morning", "poll_interval": "9", "visibility": "private"},
    )
    watchlist.refresh_from_db()
    assert (watchlist.name, watchlist.poll_interval) == ("Morning", 9)


def test_it_refuses_a_poll_interval_below_one(owner_client, make_watchlist):
    watchlist = make_watchlist(poll_interval=4)
    response = owner_client.post(
        reverse("watchlist_edit", args=[watchlist.pk]), {"name": "x", "poll_interval": "0", "visibility": "private"}
    )
    assert response.status_code == 400
    watchlist.refresh_from_db()
    assert watchlist.poll_interval == 4


def test_it_asks_before_deleting_and_deletes_on_post(owner_client, make_watchlist):
    watchlist = make_watchlist()
    confirm = owner_client.get(reverse("watchlist_delete", args=[watchlist.pk]))
    assert "Delete “Nightly loads”?" in confirm.content.decode()
    assert Watchlist.objects.filter(pk=watchlist.pk).exists()
    response = owner_client.post(reverse("watchlist_delete", args=[watchlist.pk]))
    assert response["Location"] == reverse("home")
    assert not Watchlist.objects.filter(pk=watchlist.pk).exists()


def test_it_rejects_writes_without_a_csrf_token(owner, make_watchlist):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    watchlist = make_watchlist()
    response = client.post(reverse("watchlist_delete", args=[watchlist.pk]))
    assert response.status_code == 403
    assert Watchlist.objects.filter(pk=watchlist.pk).exists()


def test_it_lists_per_state_counts_on_home_fresh_from_upstream(
    owner_client, make_watchlist, simulator, django_assert_max_num_queries
):
    make_watchlist(simulator.submit(lifecycle="instant", count=2) + new_ids(1), name="First")
    make_watchlist(simulator.submit(lifecycle="stay_active", count=3), name="Second")
    with django_assert_max_num_queries(24):  # per connection, for any number of watchlists
        page = owner_client.get(reverse("home")).content.decode()
    assert simulator.stats()["statuses_requests"] == 1  # one round for the connection
    assert 'data-count-state="completed">Completed <b>2</b>' in page
    assert 'data-count-state="not_found">Not found <b>1</b>' in page
    assert 'data-count-state="active">Active <b>3</b>' in page
    assert "3 of 3 finished" in page and "0 of 3 finished" in page


def test_home_costs_the_same_queries_for_two_watchlists_or_ten(hour_ahead, owner_client, make_watchlist):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from jobsite.statuses import watchers

    def home_queries() -> int:
        watchers.forget()  # each measurement reads the watcher heartbeat, as once a second in production
        with CaptureQueriesContext(db) as context:
            owner_client.get(reverse("home"))
        return len(context)

    def add_watchlists(count: int) -> None:
        for _ in range(count):
            make_watchlist(poll_interval=3600)

    add_watchlists(2)
    asking_upstream = home_queries()  # the first observation of the jobs
    from_the_store = home_queries()
    add_watchlists(8)
    assert home_queries() == asking_upstream
    assert home_queries() == from_the_store


def test_it_explains_an_upstream_fault_on_home(owner_client, make_watchlist, simulator):
    make_watchlist()
    simulator.set_fault("error_500")
    page = owner_client.get(reverse("home")).content.decode()
    assert 'role="alert"' in page
    assert "answered with an error" in page
