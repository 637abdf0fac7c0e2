"""The status store: what goes upstream, what is kept, what is recorded."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from jobsite.statuses.models import JobStatus, StateChange
from jobsite.statuses.services import job_statuses_ensure, job_statuses_refresh
from tests.helpers import end_back_off

FRESH = timedelta(seconds=1)
MISSING = "99999999-9999-4999-8999-999999999999"


@pytest.fixture
def refresh(connection):
    def refresh(job_ids, max_age=FRESH):
        job_statuses_ensure(connection=connection, job_ids=job_ids)
        scope = JobStatus.objects.filter(job_id__in=job_ids)
        return job_statuses_refresh(connection=connection, scope=scope, max_age=max_age)

    return refresh


def age(by: timedelta) -> None:
    JobStatus.objects.exclude(checked_at=None).update(checked_at=F("checked_at") - by)


def test_it_stores_what_upstream_reports(refresh, simulator):
    job = simulator.submit(lifecycle="instant", count=1, output={"rows": 1})[0]
    outcome = refresh([job])
    assert (outcome.asked, outcome.problem) == (1, None)
    stored = JobStatus.objects.get(job_id=job)
    assert (stored.state, stored.output, stored.reported) == ("completed", {"rows": 1}, True)
    assert stored.checked_at and stored.changed_at and stored.revised_at
    assert stored.claimed_until is None


def test_it_asks_upstream_only_for_states_older_than_the_max_age(hour_ahead, refresh, simulator):
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    refresh([job])
    simulator.reset_stats()
    assert refresh([job], max_age=timedelta(minutes=1)).asked == 0
    assert simulator.stats()["statuses_requests"] == 0
    age(timedelta(minutes=2))
    assert refresh([job], max_age=timedelta(minutes=1)).asked == 1
    assert simulator.stats()["statuses_requests"] == 1


def test_it_opens_no_write_transaction_when_another_worker_holds_every_due_job(
    refresh, simulator, connection, monkeypatch
):
    from jobsite.statuses import services

    connection.timeout = 0.1  # bounds the wait for the other worker's answer to 1.1 s
    connection.save()
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    refresh([job])
    age(timedelta(minutes=1))
    JobStatus.objects.update(claimed_until=timezone.now() + timedelta(minutes=1))  # another worker's claim
    simulator.reset_stats()

    def no_transaction(*args, **kwargs):
        raise AssertionError("opened a write transaction although nothing was free")

    monkeypatch.setattr(services.transaction, "atomic", no_transaction)
    scope = JobStatus.objects.filter(job_id=job)
    assert job_statuses_refresh(connection=connection, scope=scope, max_age=FRESH).asked == 0
    assert simulator.stats()["statuses_requests"] == 0


def test_it_rechecks_terminal_jobs_only_after_the_connections_window(refresh, simulator, connection):
    connection.terminal_recheck = 600
    connection.save()
    job = simulator.submit(lifecycle="instant", count=1)[0]
    refresh([job])
    age(timedelta(seconds=570))
    assert refresh([job]).asked == 0  # counted from its own check, not from a shared boundary
    age(timedelta(seconds=60))
    assert refresh([job]).asked == 1


def test_all_viewers_share_one_grid_of_freshness_windows():
    from datetime import UTC, datetime

    from jobsite.statuses.services import window_start

    second = timedelta(seconds=1)
    assert window_start(datetime(2026, 1, 1, 0, 0, 7, 400_000, tzinfo=UTC), second) == datetime(
        2026, 1, 1, 0, 0, 7, tzinfo=UTC
    )
    assert window_start(datetime(2026, 1, 1, 0, 7, 59, tzinfo=UTC), timedelta(minutes=10)) == datetime(
        2026, 1, 1, 0, 0, tzinfo=UTC
    )


def test_it_records_each_observed_change_of_state(refresh, simulator):
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    refresh([job])
    revised = JobStatus.objects.get(job_id=job).revised_at
    age(timedelta(seconds=5))
    refresh([job])  # no change: no history row, no new revision
    assert JobStatus.objects.get(job_id=job).revised_at == revised
    simulator.set_state(job, "failed", output={"message": "boom"})
    age(timedelta(seconds=5))
    refresh([job])
    assert list(StateChange.objects.filter(job_id=job).values_list("state", flat=True)) == ["active", "failed"]
    assert JobStatus.objects.get(job_id=job).revised_at > revised


def test_it_marks_an_unknown_id_as_not_found(refresh, simulator):
    refresh([MISSING])
    stored = JobStatus.objects.get(job_id=MISSING)
    assert (stored.display_state, stored.reported, stored.is_settled) == ("not_found", False, True)


def test_it_keeps_the_last_known_state_of_a_job_no_longer_reported(refresh, simulator):
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    refresh([job])
    JobStatus.objects.filter(job_id=job).update(job_id=MISSING, checked_at=timezone.now() - timedelta(hours=1))
    refresh([MISSING])
    stored = JobStatus.objects.get(job_id=MISSING)
    assert (stored.display_state, stored.no_longer_reported) == ("active", True)


def test_it_keeps_states_when_upstream_fails(refresh, simulator):
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    refresh([job])
    age(timedelta(seconds=5))
    simulator.set_fault("error_500")
    outcome = refresh([job])
    assert outcome.problem is not None and outcome.problem.kind == "upstream_error"
    stored = JobStatus.objects.get(job_id=job)
    assert (stored.state, stored.claimed_until) == ("active", None)


def test_it_backs_off_while_upstream_is_down(refresh, simulator, monkeypatch):
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    simulator.set_fault("error_500")
    for _ in range(20):
        outcome = refresh([job])
    assert outcome.problem.kind == "upstream_error"
    assert simulator.stats()["statuses_requests"] == 1  # the rest fell inside the back-off
    assert outcome.problem.retry_in >= 0


def test_it_waits_longer_after_each_failure_up_to_a_bound(connection):
    from jobsite.statuses import health
    from jobsite.upstream.errors import UpstreamHTTPError

    delays = []
    for _ in range(8):
        problem = health.problem_record(connection.pk, UpstreamHTTPError("down", status=500))
        delays.append(round((problem.retry_at - timezone.now()).total_seconds()))
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]
    assert problem.failures == 8
    health.problem_clear(connection.pk)
    assert health.problem_get(connection.pk) is None


def test_it_tries_again_once_the_back_off_has_passed_and_clears_the_problem(refresh, simulator):
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    simulator.set_fault("error_500", count=1)
    assert refresh([job]).problem is not None
    end_back_off()
    outcome = refresh([job])
    assert (outcome.asked, outcome.problem) == (1, None)


def test_it_makes_no_upstream_call_for_no_jobs(refresh, simulator):
    assert refresh([]).asked == 0
    assert simulator.stats()["statuses_requests"] == 0
