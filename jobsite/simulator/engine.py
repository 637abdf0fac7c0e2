"""The simulator's job store: jobs that walk through pg-boss states on a clock.

Time is counted in ticks of `speed` seconds from an injectable clock, so tests can step a fake
clock through a lifecycle instead of sleeping. Safe to share between server threads.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

CREATED = "created"
RETRY = "retry"
ACTIVE = "active"
COMPLETED = "completed"
CANCELLED = "cancelled"
EXPIRED = "expired"
FAILED = "failed"

STATES: tuple[str, ...] = (CREATED, RETRY, ACTIVE, COMPLETED, CANCELLED, EXPIRED, FAILED)
TERMINAL_STATES: frozenset[str] = frozenset({COMPLETED, CANCELLED, EXPIRED, FAILED})

DEFAULT_JOB_NAME = "simulated-job"


@dataclass(frozen=True)
class Step:
    state: str
    ticks: int | None = None  # None: held for ever (the last step of every lifecycle)


# Each lifecycle is the path one job takes; the engine never moves a job past its last step.
LIFECYCLES: Mapping[str, tuple[Step, ...]] = MappingProxyType(
    {
        "succeed": (Step(CREATED, 1), Step(ACTIVE, 2), Step(COMPLETED)),
        "succeed_slowly": (Step(CREATED, 1), Step(ACTIVE, 8), Step(COMPLETED)),
        "retry_succeed": (
            Step(CREATED, 1),
            Step(ACTIVE, 1),
            Step(RETRY, 2),
            Step(ACTIVE, 2),
            Step(COMPLETED),
        ),
        "fail": (
            Step(CREATED, 1),
            Step(ACTIVE, 1),
            Step(RETRY, 1),
            Step(ACTIVE, 1),
            Step(FAILED),
        ),
        "expire": (Step(CREATED, 2), Step(EXPIRED)),
        "cancel": (Step(CREATED, 1), Step(ACTIVE, 2), Step(CANCELLED)),
        "stay_active": (Step(ACTIVE),),  # active from the start, so tests need not wait for it
        "instant": (Step(COMPLETED),),
    }
)

# pg-boss stores a completed job's return value and a failed job's serialized error as output.
DEFAULT_RESULT: dict[str, Any] = {"rowsProcessed": 1234, "durationSeconds": 42}
DEFAULT_ERROR: dict[str, Any] = {
    "name": "Error",
    "message": "Simulated failure: the job gave up after its last retry",
    "stack": "Error: Simulated failure: the job gave up after its last retry\n"
    "    at runJob (/opt/immuta/worker/jobs.js:118:11)",
}
# What a job in `retry` shows: the error of the attempt that failed.
ATTEMPT_ERROR: dict[str, Any] = {
    "name": "Error",
    "message": "Simulated failure: connection to the warehouse timed out",
    "stack": "Error: Simulated failure: connection to the warehouse timed out\n"
    "    at runJob (/opt/immuta/worker/jobs.js:118:11)",
}


@dataclass(frozen=True)
class JobSnapshot:
    """A job as it stands at one moment: what a statuses answer reports."""

    id: str
    state: str
    output: Any
    name: str
    retry_count: int
    created_on: datetime

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES


@dataclass
class _Job:
    id: str
    steps: tuple[Step, ...]
    output: Any  # shown once the job has completed or failed
    name: str
    born: float  # clock reading when its timeline starts
    delay: float  # extra ticks in `created` before the first step
    created_on: datetime
    pinned: JobSnapshot | None = None  # set_state froze it here


def _default_output(steps: tuple[Step, ...]) -> Any:
    final = steps[-1].state
    return DEFAULT_RESULT if final == COMPLETED else DEFAULT_ERROR if final == FAILED else None


class JobStore:
    """All simulated jobs. `speed` is the number of seconds in one lifecycle tick."""

    def __init__(self, *, speed: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not speed > 0:
            raise ValueError("speed must be above 0 seconds per tick")
        self.speed = float(speed)
        self._clock = clock
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()

    def add(
        self,
        job_id: str,
        lifecycle: str,
        *,
        output: Any = None,
        delay: float = 0,
        name: str = DEFAULT_JOB_NAME,
    ) -> str:
        """Start one job with a known ID now; `delay` ticks in `created` stagger it behind others."""
        steps = _steps(lifecycle)
        key = str(uuid.UUID(job_id))
        job = _Job(
            id=key,
            steps=steps,
            output=_default_output(steps) if output is None else output,
            name=name,
            born=self._clock(),
            delay=delay,
            created_on=datetime.now(UTC),
        )
        with self._lock:
            if key in self._jobs:
                raise ValueError(f"job {key} already exists")
            self._jobs[key] = job
        return key

    def submit(self, lifecycle: str, *, count: int = 1, output: Any = None) -> list[str]:
        """Start `count` new jobs with random IDs; `output` (if given) replaces the default result."""
        _steps(lifecycle)
        if count < 1:
            raise ValueError("count must be at least 1")
        return [self.add(str(uuid.uuid4()), lifecycle, output=output) for _ in range(count)]

    def set_state(self, job_id: str, state: str, *, output: Any = None) -> None:
        """Force a job into `state` with exactly `output`, and keep it there."""
        if state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}")
        key = _key(job_id)
        with self._lock:
            job = self._jobs.get(key) if key else None
            if job is None:
                raise KeyError(job_id)
            now = self._snapshot(job, self._clock())
            job.pinned = JobSnapshot(
                id=job.id,
                state=state,
                output=output,
                name=job.name,
                retry_count=now.retry_count,
                created_on=job.created_on,
            )

    def read(self, job_ids: Iterable[str]) -> dict[str, JobSnapshot]:
        """The known jobs among `job_ids`, keyed by lower-case ID; unknown IDs are left out."""
        with self._lock:
            now = self._clock()
            found = (self._jobs.get(key) for key in map(_key, job_ids) if key)
            return {job.id: self._snapshot(job, now) for job in found if job is not None}

    def _snapshot(self, job: _Job, now: float) -> JobSnapshot:
        if job.pinned is not None:
            return job.pinned
        state, retries = _position(job.steps, (now - job.born) / self.speed - job.delay)
        output = job.output if state in (COMPLETED, FAILED) else ATTEMPT_ERROR if state == RETRY else None
        return JobSnapshot(
            id=job.id,
            state=state,
            output=output,
            name=job.name,
            retry_count=retries,
            created_on=job.created_on,
        )


def _steps(lifecycle: str) -> tuple[Step, ...]:
    try:
        return LIFECYCLES[lifecycle]
    except KeyError:
        raise ValueError(f"lifecycle must be one of {', '.join(LIFECYCLES)}") from None


def _key(job_id: str) -> str | None:
    """The canonical (lower-case) form of a UUID, or None for anything that is not one."""
    try:
        return str(uuid.UUID(job_id))
    except ValueError:
        return None


def _position(steps: tuple[Step, ...], ticks: float) -> tuple[str, int]:
    """The state `ticks` into a lifecycle, and how many retries it has entered so far."""
    if ticks < 0:
        return CREATED, 0
    retries = 0
    for step in steps:
        retries += step.state == RETRY
        if step.ticks is None or ticks < step.ticks:
            return step.state, retries
        ticks -= step.ticks
    raise AssertionError("a lifecycle ends with a step held for ever")
