"""The watch loop: one thread per connection, so a slow upstream never delays another's jobs.

Each connection's loop wakes on a half-second grid (freshness windows start on whole seconds),
claims due jobs a batch at a time, asks upstream about a few batches at once, writes each answer
as it lands and tells open pages which watchlists moved. The main thread keeps the set of loops
in step with the configured connections, beats the heartbeat and prunes the store once an hour.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.db import close_old_connections, connections
from django.utils import timezone

from jobsite.statuses import health, watchers
from jobsite.statuses.models import Watcher as Heartbeat
from jobsite.statuses.services import job_statuses_ask_upstream, job_statuses_claim, job_statuses_release
from jobsite.upstream.models import Connection
from jobsite.watcher.interest import due_for_watcher
from jobsite.watcher.prune import job_statuses_prune
from jobsite.watchlists.services import watchlists_revise

logger = logging.getLogger("jobsite.watcher")

TICK = 0.5  # seconds between looks for due jobs
TICK_OFFSET = 0.02  # just past the grid, so a window that starts on the tick is already open
CONCURRENT_BATCHES = 4  # upstream requests one connection's round has in flight at once
PRUNE_EVERY = 3600.0  # seconds between prunes of the store, the first at start


def default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class RoundResult:
    connection: str
    asked: int = 0  # job IDs sent upstream
    requests: int = 0  # batches
    changed: int = 0  # jobs whose state moved
    problem: health.Problem | None = None
    took_ms: int = 0


def watch_round(connection: Connection) -> RoundResult:
    """Bring every due job of `connection` up to date, a few batches at a time; never raises for
    upstream trouble (the problem is recorded, and the next round waits out the back-off)."""
    started = time.perf_counter()
    if health.backing_off(health.problem_get(connection.pk)):
        return RoundResult(connection=connection.name)
    lease = timedelta(seconds=connection.timeout + 1)
    due = due_for_watcher(connection=connection, now=timezone.now())
    results: list[RoundResult] = []
    failed = threading.Event()

    def drain() -> None:
        # Claims and writes happen in this worker thread, on its own database connection.
        try:
            while not failed.is_set():
                claimed = job_statuses_claim(due=due, limit=connection.batch_size, lease=lease)
                if not claimed:
                    return
                if health.backing_off(health.problem_get(connection.pk)):
                    job_statuses_release(claimed)  # another batch of this round just failed
                    return
                outcome = job_statuses_ask_upstream(connection=connection, claimed=claimed)
                watchlists_revise(status_ids=outcome.revised)
                results.append(RoundResult(connection.name, outcome.asked, 1, outcome.changed, outcome.problem))
                if outcome.problem:
                    failed.set()  # no more batches this round: the back-off decides the next try
        finally:
            connections.close_all()

    if due.exists():
        with ThreadPoolExecutor(CONCURRENT_BATCHES, thread_name_prefix="watch-batch") as pool:
            for future in [pool.submit(drain) for _ in range(CONCURRENT_BATCHES)]:
                future.result()
    return RoundResult(
        connection=connection.name,
        asked=sum(result.asked for result in results),
        requests=len(results),
        changed=sum(result.changed for result in results),
        problem=next((result.problem for result in results if result.problem), None),
        took_ms=round((time.perf_counter() - started) * 1000),
    )


def _sleep_until_next_tick(stop: threading.Event) -> None:
    stop.wait(TICK - (time.time() % TICK) + TICK_OFFSET)


class ConnectionLoop(threading.Thread):
    def __init__(self, *, connection_id: int, stop: threading.Event, rounds: list[RoundResult]) -> None:
        super().__init__(name=f"watch-connection-{connection_id}", daemon=True)
        self.connection_id = connection_id
        self.stop = stop
        self.rounds = rounds  # finished rounds that asked upstream, for the heartbeat

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                close_old_connections()
                connection = Connection.objects.filter(pk=self.connection_id).first()
                if connection is None:
                    return  # deleted in admin
                try:
                    result = watch_round(connection)
                except Exception:
                    # The database went away, say: log it and try again next tick.
                    logger.exception("Watch round for “%s” failed", connection.name)
                    connections.close_all()
                else:
                    self._report(result)
                _sleep_until_next_tick(self.stop)
        finally:
            connections.close_all()

    def _report(self, result: RoundResult) -> None:
        if not result.requests:
            return
        self.rounds.append(result)
        if result.problem:
            logger.warning(
                "Round on “%s”: asked %d jobs in %d requests, upstream failed (%s), took %d ms",
                result.connection,
                result.asked,
                result.requests,
                result.problem.kind,
                result.took_ms,
            )
        else:
            logger.info(
                "Round on “%s”: asked %d jobs in %d requests, %d changed, took %d ms",
                result.connection,
                result.asked,
                result.requests,
                result.changed,
                result.took_ms,
            )


class Watch:
    """A watcher process's work, started by `manage.py watch` (or in a thread by the demo)."""

    def __init__(self, *, name: str | None = None) -> None:
        self.name = name or default_name()
        self.stop = threading.Event()
        self._loops: dict[int, ConnectionLoop] = {}
        self._rounds: list[RoundResult] = []
        self._next_prune = time.monotonic()

    def run(self) -> None:
        heartbeat = watchers.watcher_start(name=self.name)
        watchers.forget()
        logger.info("Watcher %s started", self.name)
        try:
            while not self.stop.is_set():
                close_old_connections()
                try:
                    self._keep_loops_in_step()
                    self._beat(heartbeat)
                except Exception:
                    logger.exception("Watcher %s could not reach the database; trying again", self.name)
                    connections.close_all()
                self._prune_when_due()
                self.stop.wait(watchers.BEAT_EVERY.total_seconds() / 2)
        finally:
            for loop in self._loops.values():
                loop.join(timeout=30)
            try:
                watchers.watcher_stop(watcher=heartbeat)
            finally:
                connections.close_all()
            logger.info("Watcher %s stopped", self.name)

    def _keep_loops_in_step(self) -> None:
        for connection_id in Connection.objects.values_list("pk", flat=True):
            loop = self._loops.get(connection_id)
            if loop is None or not loop.is_alive():
                loop = self._loops[connection_id] = ConnectionLoop(
                    connection_id=connection_id, stop=self.stop, rounds=self._rounds
                )
                loop.start()

    def _prune_when_due(self) -> None:
        if time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + PRUNE_EVERY  # after a failure too: it can wait an hour
        try:
            statuses, changes = job_statuses_prune(now=timezone.now())
        except Exception:
            logger.exception("Watcher %s could not prune the store; trying again in an hour", self.name)
            connections.close_all()
            return
        if statuses:
            logger.info("Pruned %d job statuses nobody watches or wants, and %d state changes", statuses, changes)

    def _beat(self, heartbeat: Heartbeat) -> None:
        finished = []
        while self._rounds:  # loops append while we read: pop, which the GIL keeps whole
            finished.append(self._rounds.pop(0))
        if not finished:
            watchers.watcher_beat(watcher=heartbeat)
            return
        last = finished[-1]
        watchers.watcher_beat(watcher=heartbeat, asked=last.asked, changed=last.changed, took_ms=last.took_ms)
