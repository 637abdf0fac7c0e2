"""Pruning the store: rows no watchlist holds and nobody wants go, with their history; others stay."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from jobsite.statuses.models import JobStatus, StateChange
from jobsite.statuses.services import job_statuses_ensure
from jobsite.upstream.models import Connection
from jobsite.watcher import loop, prune
from jobsite.watcher.prune import job_statuses_prune
from jobsite.watchlists.services import watchlist_create
from tests.upstream.fakes import job_id
from tests.watcher.test_command import await_condition

HOURS = timedelta(hours=1)


@pytest.fixture
def store(db, owner):
    """One row per case, named by what makes it stay or go; each with one state change."""
    now = timezone.now()
    upstream = Connection.objects.create(name="Production", base_url="https://immuta.example.com")
    cases = {
        "quick look lapsed two hours ago": {"wanted_until": now - 2 * HOURS, "checked_at": now - 2 * HOURS},
        "quick look never checked, lapsed two hours ago": {"wanted_until": now - 2 * HOURS},
        "left its lists, checked two hours ago": {"checked_at": now - 2 * HOURS},
        "quick look lapsed half an hour ago": {"wanted_until": now - HOURS / 2, "checked_at": now - 2 * HOURS},
        "quick look still wanted": {"wanted_until": now + HOURS, "checked_at": now},
        "left its lists, checked half an hour ago": {"checked_at": now - HOURS / 2},
        "never checked nor wanted": {},
        "claimed by a worker": {"checked_at": now - 2 * HOURS, "claimed_until": now + HOURS},
        "in a watchlist": {"checked_at": now - 2 * HOURS},
    }
    ids = {case: job_id(number) for number, case in enumerate(cases)}
    job_statuses_ensure(connection=upstream, job_ids=list(ids.values()))
    for case, fields in cases.items():
        JobStatus.objects.filter(job_id=ids[case]).update(**fields)
        StateChange.objects.create(connection=upstream, job_id=ids[case], state="active", observed_at=now)
    watchlist_create(owner=owner, name="Kept", connection=upstream, poll_interval=5, job_ids=[ids["in a watchlist"]])
    return ids


GONE = {
    "quick look lapsed two hours ago",
    "quick look never checked, lapsed two hours ago",
    "left its lists, checked two hours ago",
}


def cases_left(ids: dict[str, str]) -> set[str]:
    left = set(JobStatus.objects.values_list("job_id", flat=True))
    return {case for case, job in ids.items() if job in left}


def test_it_prunes_rows_nobody_watches_or_wants_and_their_history(store):
    assert job_statuses_prune(now=timezone.now()) == (3, 3)

    assert cases_left(store) == set(store) - GONE
    assert set(StateChange.objects.values_list("job_id", flat=True)) == {store[case] for case in set(store) - GONE}


def test_it_keeps_the_history_of_the_same_job_on_another_connection(store):
    other = Connection.objects.create(name="Staging", base_url="https://staging.example.com")
    job = store["left its lists, checked two hours ago"]
    StateChange.objects.create(connection=other, job_id=job, state="failed", observed_at=timezone.now())

    job_statuses_prune(now=timezone.now())

    assert list(StateChange.objects.filter(job_id=job).values_list("connection__name", flat=True)) == ["Staging"]


def test_it_prunes_a_batch_at_a_time(store, monkeypatch):
    monkeypatch.setattr(prune, "BATCH", 2)

    assert job_statuses_prune(now=timezone.now()) == (3, 3)
    assert cases_left(store) == set(store) - GONE


def test_its_command_says_what_it_pruned(store, capsys):
    call_command("prune_store")

    assert capsys.readouterr().out == "Pruned 3 job statuses and 3 state changes.\n"
    assert cases_left(store) == set(store) - GONE


@pytest.mark.django_db(transaction=True)  # the watcher works on its own database connections
def test_the_watcher_prunes_when_it_starts_and_every_so_often(monkeypatch):
    monkeypatch.setattr(loop, "PRUNE_EVERY", 0.5)  # once an hour in earnest
    upstream = Connection.objects.create(name="Production", base_url="https://immuta.example.com")
    lapsed = {"wanted_until": timezone.now() - 2 * HOURS}
    job_statuses_ensure(connection=upstream, job_ids=[job_id(1)])
    JobStatus.objects.update(**lapsed)
    watch = loop.Watch(name="pruner")
    thread = threading.Thread(target=watch.run)
    thread.start()
    try:
        await_condition(lambda: not JobStatus.objects.exists(), within=10, what="the first prune")
        job_statuses_ensure(connection=upstream, job_ids=[job_id(2)])
        JobStatus.objects.update(**lapsed)
        await_condition(lambda: not JobStatus.objects.exists(), within=10, what="the next prune")
    finally:
        watch.stop.set()
        thread.join(timeout=15)
