"""`manage.py watch` as operators run it: real processes on the test database, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from jobsite.statuses.models import JobStatus, Watcher
from jobsite.watcher.loop import Watch
from jobsite.watchlists.services import watchlist_create

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)  # other processes see committed rows only


def database_url() -> str:
    """The URL of the database this test runs on, for processes it starts."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def await_condition(condition: Callable[[], bool], *, within: float, what: str) -> float:
    """Wait for `condition`; returns how long it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s: {what}")
        time.sleep(0.05)
    return time.monotonic() - started


@contextmanager
def watcher_process(name: str) -> Iterator[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": database_url(), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "watch", "--name", name],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        await_condition(lambda: Watcher.objects.filter(name=name).exists(), within=30, what=f"{name} beats")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_it_beats_logs_its_rounds_and_stops_cleanly_on_sigterm(owner, connection, simulator):
    jobs = simulator.submit(lifecycle="stay_active", count=3)
    watchlist_create(owner=owner, name="Nightly", connection=connection, poll_interval=1, job_ids=jobs)
    with watcher_process("sigterm-test") as process:
        await_condition(lambda: not JobStatus.objects.filter(checked_at=None).exists(), within=10, what="jobs checked")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        output = process.stdout.read()
    assert "Watcher sigterm-test started" in output
    assert "Round on “Test simulator”: asked 3 jobs in 1 requests, 3 changed" in output
    assert "Watcher sigterm-test stopped" in output
    assert Watcher.objects.get(name="sigterm-test").stopped_at is not None
    assert simulator.token not in output


def test_two_watchers_ask_upstream_once_per_window_between_them(owner, connection, simulator):
    connection.batch_size = 50
    connection.save()
    jobs = simulator.submit(lifecycle="stay_active", count=400)
    watchlist_create(owner=owner, name="Big", connection=connection, poll_interval=1, job_ids=jobs)
    with watcher_process("watcher-a"), watcher_process("watcher-b"):
        await_condition(lambda: not JobStatus.objects.filter(checked_at=None).exists(), within=20, what="first round")
        time.sleep(1)  # let both settle into the grid
        simulator.reset_stats()
        started = time.time()
        time.sleep(5)  # counted: five to six freshness windows
        stats = simulator.stats()
        windows_touched = int(time.time()) - int(started) + 1
    # Each window asks about every job once whoever asks; never twice.
    assert stats["job_ids_requested"] <= 400 * windows_touched
    assert stats["job_ids_requested"] >= 400 * (windows_touched - 2)  # and the store stays fresh
    assert Watcher.objects.filter(name__in=["watcher-a", "watcher-b"], rounds__gt=0).count() == 2


def test_a_killed_watchers_jobs_are_picked_up_within_the_connections_timeout(owner, connection, simulator):
    connection.timeout = 2.0
    connection.save()
    jobs = simulator.submit(lifecycle="stay_active", count=5)
    watchlist_create(owner=owner, name="Nightly", connection=connection, poll_interval=1, job_ids=jobs)
    simulator.set_fault("slow")  # upstream holds every answer: the watcher sits on its claims
    with watcher_process("doomed") as process:
        await_condition(
            lambda: JobStatus.objects.exclude(claimed_until=None).count() == 5, within=10, what="claims held"
        )
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        killed_at = time.monotonic()
    simulator.clear_fault()
    assert Watcher.objects.get(name="doomed").stopped_at is None  # it never said goodbye

    successor = Watch(name="successor")

    thread = threading.Thread(target=successor.run)
    thread.start()
    try:
        await_condition(
            lambda: not JobStatus.objects.filter(checked_at=None).exists(), within=15, what="jobs picked up"
        )
    finally:
        successor.stop.set()
        thread.join(timeout=15)
    took = time.monotonic() - killed_at
    # The lapsed claims free the jobs after the connection's timeout plus a second; the next
    # tick (half a second) and the answer follow.
    assert took <= connection.timeout + 1 + 2
    assert JobStatus.objects.filter(claimed_until__gt=timezone.now()).count() == 0
