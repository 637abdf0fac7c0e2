"""One watcher round against the simulator over real HTTP: what it asks, what it writes."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from jobsite.statuses.models import ConnectionHealth, JobStatus, StateChange
from jobsite.statuses.services import job_statuses_ensure, job_statuses_want
from jobsite.watcher.loop import watch_round
from jobsite.watchlists.models import Watchlist
from jobsite.watchlists.services import watchlist_create
from tests.helpers import end_back_off

# A round asks upstream from worker threads with database connections of their own: they see
# only committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


def age_store() -> None:
    JobStatus.objects.update(checked_at=datetime(2000, 1, 1, tzinfo=UTC))


def test_it_keeps_every_watched_job_fresh_with_no_page_open(owner, connection, simulator):
    jobs = simulator.submit(lifecycle="stay_active", count=3)
    watchlist = watchlist_create(owner=owner, name="Nightly", connection=connection, poll_interval=1, job_ids=jobs)
    result = watch_round(connection)
    assert (result.asked, result.requests, result.problem) == (3, 1, None)
    assert set(JobStatus.objects.values_list("state", flat=True)) == {"active"}
    revision = Watchlist.objects.get(pk=watchlist.pk).revision
    assert revision > 0  # open pages learn that rows moved

    simulator.set_state(jobs[1], "failed", output="boom")
    age_store()
    result = watch_round(connection)
    assert result.changed == 1
    assert JobStatus.objects.get(job_id=jobs[1]).state == "failed"
    assert list(StateChange.objects.filter(job_id=jobs[1]).values_list("state", flat=True)) == ["active", "failed"]
    assert Watchlist.objects.get(pk=watchlist.pk).revision > revision


def test_it_leaves_the_revision_alone_when_nothing_moved(owner, connection, simulator):
    jobs = simulator.submit(lifecycle="stay_active", count=2)
    watchlist = watchlist_create(owner=owner, name="Nightly", connection=connection, poll_interval=1, job_ids=jobs)
    watch_round(connection)
    revision = Watchlist.objects.get(pk=watchlist.pk).revision
    age_store()
    assert watch_round(connection).asked == 2
    assert Watchlist.objects.get(pk=watchlist.pk).revision == revision


@time_machine.travel(datetime.now(UTC).replace(minute=30, second=0, microsecond=0), tick=True)
def test_it_asks_only_about_jobs_due_at_the_smallest_poll_interval_holding_them(owner, connection, simulator):
    # Half past: two minutes back is another minute's window, but the same hour's.
    fast, slow = simulator.submit(lifecycle="stay_active", count=2)
    watchlist_create(owner=owner, name="Fast", connection=connection, poll_interval=60, job_ids=[fast])
    watchlist_create(owner=owner, name="Slow", connection=connection, poll_interval=3600, job_ids=[fast, slow])
    assert watch_round(connection).asked == 2  # first observation
    JobStatus.objects.update(checked_at=timezone.now() - timedelta(minutes=2))
    simulator.reset_stats()
    assert watch_round(connection).asked == 1  # only the job a 60 s list holds is due again
    assert simulator.stats()["job_ids_requested"] == 1
    assert watch_round(connection).asked == 0  # and only once in its window


def test_it_splits_a_round_into_the_connections_batches(owner, connection, simulator):
    connection.batch_size = 10
    connection.save()
    jobs = simulator.submit(lifecycle="stay_active", count=35)
    watchlist_create(owner=owner, name="Big", connection=connection, poll_interval=1, job_ids=jobs)
    result = watch_round(connection)
    assert (result.asked, result.requests) == (35, 4)
    assert simulator.stats()["statuses_requests"] == 4
    assert not JobStatus.objects.filter(checked_at=None).exists()


def test_it_rechecks_settled_jobs_only_after_the_connections_recheck(hour_ahead, owner, connection, simulator):
    done = simulator.submit(lifecycle="instant", count=1)
    missing = ["99999999-9999-4999-8999-999999999999"]
    watchlist_create(owner=owner, name="Done", connection=connection, poll_interval=1, job_ids=done + missing)
    assert watch_round(connection).asked == 2
    JobStatus.objects.update(checked_at=timezone.now() - timedelta(seconds=connection.terminal_recheck - 5))
    assert watch_round(connection).asked == 0  # finished and not-found jobs wait for the long re-check
    JobStatus.objects.update(checked_at=timezone.now() - timedelta(seconds=connection.terminal_recheck))
    assert watch_round(connection).asked == 2


def test_it_keeps_quick_look_jobs_fresh_while_they_are_wanted(connection, simulator):
    job = simulator.submit(lifecycle="stay_active", count=1)
    job_statuses_ensure(connection=connection, job_ids=job)
    assert watch_round(connection).asked == 0  # nobody wants it
    job_statuses_want(connection=connection, job_ids=job, until=timezone.now() + timedelta(minutes=1))
    assert watch_round(connection).asked == 1
    age_store()
    JobStatus.objects.update(wanted_until=timezone.now() - timedelta(seconds=1))
    assert watch_round(connection).asked == 0  # interest lapsed


def test_it_records_an_upstream_failure_releases_its_claims_and_backs_off(owner, connection, simulator):
    jobs = simulator.submit(lifecycle="stay_active", count=3)
    watchlist_create(owner=owner, name="Nightly", connection=connection, poll_interval=1, job_ids=jobs)
    simulator.set_fault("error_500")
    result = watch_round(connection)
    assert result.problem is not None and result.problem.kind == "upstream_error"
    assert not JobStatus.objects.exclude(claimed_until=None).exists()
    health = ConnectionHealth.objects.get(pk=connection.pk)
    assert (health.kind, health.failures) == ("upstream_error", 1)
    assert watch_round(connection).requests == 0  # inside the back-off
    simulator.clear_fault()
    end_back_off()
    assert watch_round(connection).asked == 3
    assert ConnectionHealth.objects.get(pk=connection.pk).kind == ""


def test_a_round_that_cannot_store_an_answer_stops_and_backs_off(owner, connection, simulator, monkeypatch):
    from django.db import DatabaseError

    from jobsite.statuses import services

    def failing_store(**kwargs):
        raise DatabaseError("disk full")

    connection.batch_size = 2
    connection.save()
    jobs = simulator.submit(lifecycle="stay_active", count=6)
    watchlist_create(owner=owner, name="Nightly", connection=connection, poll_interval=1, job_ids=jobs)
    monkeypatch.setattr(services, "_store_answer", failing_store)
    result = watch_round(connection)
    # Not again and again about the jobs it just released: the round ends and the back-off holds.
    assert result.problem is not None and result.problem.kind == "not_stored"
    assert result.requests <= 4  # the batches already in flight, no more
    assert not JobStatus.objects.exclude(claimed_until=None).exists()
    assert watch_round(connection).requests == 0
