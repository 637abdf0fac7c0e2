"""The status store: what goes upstream, what is kept, what is recorded."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobsite.statuses.models import JobStatus, StateChange
from jobsite.statuses.services import TERMINAL_RECHECK, job_statuses_ensure, job_statuses_refresh

FRESH = timedelta(seconds=1)
MISSING = "99999999-9999-4999-8999-999999999999"


@pytest.fixture
def refresh(connection):
    def refresh(job_ids, max_age=FRESH):
        statuses = job_statuses_ensure(connection=connection, job_ids=job_ids)
        return job_statuses_refresh(connection=connection, statuses=statuses, max_age=max_age), statuses

    return refresh


def age(by: timedelta) -> None:
    for status in JobStatus.objects.all():
        status.checked_at -= by
        status.save()


def test_it_stores_what_upstream_reports(refresh, simulator):
    job = simulator.submit(lifecycle="instant", count=1, output={"rows": 1})[0]
    outcome, [status] = refresh([job])
    assert (outcome.asked, outcome.error) == (1, None)
    stored = JobStatus.objects.get(job_id=job)
    assert (stored.state, stored.output, stored.reported) == ("completed", {"rows": 1}, True)
    assert stored.checked_at is not None and stored.changed_at is not None
    assert status.state == "completed"  # the caller's objects are updated in place


def test_it_asks_upstream_only_for_states_older_than_the_max_age(refresh, simulator):
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    refresh([job])
    simulator.reset_stats()
    outcome, _ = refresh([job], max_age=timedelta(minutes=1))
    assert outcome.asked == 0
    assert simulator.stats()["statuses_requests"] == 0
    age(timedelta(minutes=2))
    outcome, _ = refresh([job], max_age=timedelta(minutes=1))
    assert outcome.asked == 1
    assert simulator.stats()["statuses_requests"] == 1


def test_it_rechecks_terminal_jobs_only_after_the_recheck_window(refresh, simulator):
    job = simulator.submit(lifecycle="instant", count=1)[0]
    refresh([job])
    age(TERMINAL_RECHECK - timedelta(seconds=30))
    assert refresh([job])[0].asked == 0
    age(timedelta(seconds=60))
    assert refresh([job])[0].asked == 1


def test_it_records_each_observed_change_of_state(refresh, simulator):
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    refresh([job])
    age(timedelta(seconds=5))
    refresh([job])  # no change: no new history row
    simulator.set_state(job, "failed", output={"message": "boom"})
    age(timedelta(seconds=5))
    refresh([job])
    assert list(StateChange.objects.filter(job_id=job).values_list("state", flat=True)) == ["active", "failed"]


def test_it_marks_an_unknown_id_as_not_found(refresh, simulator):
    refresh([MISSING])
    stored = JobStatus.objects.get(job_id=MISSING)
    assert (stored.display_state, stored.reported, stored.is_settled) == ("not_found", False, True)


def test_it_keeps_the_last_known_state_of_a_job_no_longer_reported(refresh, simulator, connection):
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
    outcome, _ = refresh([job])
    assert outcome.error is not None and outcome.error.kind == "upstream_error"
    assert outcome.failed_job_ids == {job}
    assert JobStatus.objects.get(job_id=job).state == "active"


def test_it_makes_no_upstream_call_for_no_jobs(refresh, simulator):
    outcome, _ = refresh([])
    assert outcome.asked == 0
    assert simulator.stats()["statuses_requests"] == 0
