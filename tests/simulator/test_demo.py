"""The demo's jobs: stable IDs, two watchlists, every state seen within a few minutes."""

from __future__ import annotations

import uuid

from jobsite.simulator.demo import DEMO_JOBS, DEMO_WATCHLISTS
from jobsite.simulator.engine import STATES, TERMINAL_STATES, JobStore

DEMO_SPEED = 6.0  # `manage.py demo`'s default seconds per tick


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def load_demo(clock: FakeClock) -> JobStore:
    store = JobStore(speed=DEMO_SPEED, clock=clock)
    for job in DEMO_JOBS:
        store.add(job.id, job.lifecycle, output=job.output, delay=job.delay, name=job.name)
    return store


def test_it_offers_two_watchlists_of_eight_to_twelve_jobs():
    assert [name for name, _jobs in DEMO_WATCHLISTS] == ["Nightly loads", "Policy rebuilds"]
    assert all(8 <= len(jobs) <= 12 for _name, jobs in DEMO_WATCHLISTS)


def test_its_ids_are_fixed_distinct_lowercase_uuids():
    ids = [job_id for _name, jobs in DEMO_WATCHLISTS for job_id, _lifecycle in jobs]
    assert len(set(ids)) == len(ids) == len(DEMO_JOBS)
    assert all(job_id == str(uuid.UUID(job_id)) for job_id in ids)
    assert ids[0] == "e77ef2f5-0501-5199-9a17-e5be790e15b4"  # a changed ID would orphan saved watchlists


def test_its_jobs_pass_through_all_seven_states_and_all_end_within_four_minutes():
    clock = FakeClock()
    store = load_demo(clock)
    ids = [job.id for job in DEMO_JOBS]
    seen: set[str] = set()
    while clock.now <= 4 * 60:
        seen |= {job.state for job in store.read(ids).values()}
        clock.now += DEMO_SPEED / 2
    assert seen == set(STATES)
    assert all(job.state in TERMINAL_STATES for job in store.read(ids).values())


def test_its_completed_jobs_report_realistic_results_and_one_failure_reports_its_error():
    clock = FakeClock()
    store = load_demo(clock)
    clock.now = 60 * 60
    jobs = store.read(job.id for job in DEMO_JOBS).values()
    failed = [job for job in jobs if job.state == "failed"]
    assert len(failed) == 1
    assert failed[0].output["message"].startswith("Permission denied")
    assert {"dataSource": "snowflake.sales", "rowsSynced": 48213} in [job.output for job in jobs]
