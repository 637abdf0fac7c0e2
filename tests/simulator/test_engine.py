"""The job store: lifecycles stepped through with a fake clock, so no test sleeps."""

from __future__ import annotations

import uuid

import pytest

from jobsite.simulator.engine import (
    ATTEMPT_ERROR,
    DEFAULT_ERROR,
    DEFAULT_RESULT,
    LIFECYCLES,
    STATES,
    TERMINAL_STATES,
    JobStore,
)

SPEED = 10.0  # seconds per tick: a fake clock makes any speed instant


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, ticks: float) -> None:
        self.now += ticks * SPEED


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock) -> JobStore:
    return JobStore(speed=SPEED, clock=clock)


def states_over(store: JobStore, clock: FakeClock, job_id: str, ticks: int) -> list[str]:
    """The job's state at the middle of each of the next `ticks` ticks."""
    clock.advance(0.5)
    seen = []
    for _ in range(ticks):
        seen.append(store.read([job_id])[job_id].state)
        clock.advance(1)
    return seen


@pytest.mark.parametrize(
    ("lifecycle", "expected"),
    [
        ("succeed", ["created", "active", "active", "completed", "completed"]),
        ("fail", ["created", "active", "retry", "active", "failed", "failed"]),
        ("expire", ["created", "created", "expired", "expired"]),
        ("cancel", ["created", "active", "active", "cancelled", "cancelled"]),
        ("stay_active", ["active", "active", "active", "active", "active", "active"]),
        ("instant", ["completed", "completed"]),
        ("retry_succeed", ["created", "active", "retry", "retry", "active", "active", "completed"]),
    ],
)
def test_it_moves_each_lifecycle_through_its_states_tick_by_tick(store, clock, lifecycle, expected):
    [job_id] = store.submit(lifecycle)
    assert states_over(store, clock, job_id, len(expected)) == expected


def test_every_lifecycle_but_stay_active_ends_in_a_terminal_state_it_keeps(store, clock):
    jobs = {lifecycle: store.submit(lifecycle)[0] for lifecycle in LIFECYCLES}
    clock.advance(1000)
    final = {lifecycle: store.read([job_id])[job_id].state for lifecycle, job_id in jobs.items()}
    running = {lifecycle for lifecycle, state in final.items() if state not in TERMINAL_STATES}
    assert running == {"stay_active"}


def test_it_times_ticks_by_its_speed(clock):
    store = JobStore(speed=2 * SPEED, clock=clock)
    [job_id] = store.submit("succeed")
    clock.advance(1.5)
    assert store.read([job_id])[job_id].state == "created"
    clock.advance(1)
    assert store.read([job_id])[job_id].state == "active"


def test_a_completed_job_reports_the_default_result_or_the_output_given(store, clock):
    [default] = store.submit("succeed")
    [given] = store.submit("succeed", output={"rows": 3})
    clock.advance(10)
    jobs = store.read([default, given])
    assert jobs[default].output == DEFAULT_RESULT
    assert jobs[given].output == {"rows": 3}


def test_a_failing_job_reports_its_attempt_error_in_retry_and_a_serialized_error_at_the_end(store, clock):
    [job_id] = store.submit("fail")
    clock.advance(2.5)
    retrying = store.read([job_id])[job_id]
    assert (retrying.state, retrying.output, retrying.retry_count) == ("retry", ATTEMPT_ERROR, 1)
    clock.advance(10)
    failed = store.read([job_id])[job_id]
    assert (failed.state, failed.output, failed.retry_count) == ("failed", DEFAULT_ERROR, 1)
    assert set(failed.output) == {"name", "message", "stack"}


def test_running_expired_and_cancelled_jobs_have_no_output(store, clock):
    jobs = [*store.submit("stay_active"), *store.submit("expire"), *store.submit("cancel")]
    clock.advance(1.5)
    assert [job.output for job in store.read(jobs).values()] == [None, None, None]
    clock.advance(10)
    assert [job.output for job in store.read(jobs).values()] == [None, None, None]


def test_a_delay_keeps_a_job_created_before_its_lifecycle_starts(store, clock):
    job_id = store.add(str(uuid.uuid4()), "instant", delay=3)
    assert states_over(store, clock, job_id, 4) == ["created", "created", "created", "completed"]


def test_set_state_forces_a_state_and_output_and_pins_it_there(store, clock):
    [job_id] = store.submit("succeed")
    store.set_state(job_id, "failed", output={"message": "boom"})
    clock.advance(100)
    job = store.read([job_id])[job_id]
    assert (job.state, job.output) == ("failed", {"message": "boom"})


def test_set_state_accepts_only_the_seven_states_and_known_jobs(store):
    [job_id] = store.submit("succeed")
    with pytest.raises(ValueError, match="state must be one of"):
        store.set_state(job_id, "paused")
    with pytest.raises(KeyError):
        store.set_state(str(uuid.uuid4()), "completed")
    assert set(STATES) == {"created", "retry", "active", "completed", "cancelled", "expired", "failed"}


def test_submit_makes_distinct_lowercase_uuids(store):
    job_ids = store.submit("succeed", count=5)
    assert len(set(job_ids)) == 5
    assert all(job_id == str(uuid.UUID(job_id)) for job_id in job_ids)


@pytest.mark.parametrize(("lifecycle", "count"), [("explode", 1), ("succeed", 0)])
def test_submit_refuses_an_unknown_lifecycle_or_no_jobs(store, lifecycle, count):
    with pytest.raises(ValueError):
        store.submit(lifecycle, count=count)


def test_read_leaves_out_unknown_ids_and_matches_ids_in_any_case(store):
    [job_id] = store.submit("succeed")
    jobs = store.read([job_id.upper(), str(uuid.uuid4()), "not-a-uuid"])
    assert list(jobs) == [job_id]
    assert jobs[job_id].id == job_id


def test_add_refuses_an_id_it_already_has(store):
    job_id = str(uuid.uuid4())
    store.add(job_id, "succeed")
    with pytest.raises(ValueError, match="already exists"):
        store.add(job_id, "fail")


def test_it_refuses_a_speed_that_is_not_positive():
    with pytest.raises(ValueError):
        JobStore(speed=0)
