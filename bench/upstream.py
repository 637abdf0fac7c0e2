"""Upstream for the bench: jobsite's Immuta simulator in a process of its own, driven over a pipe.

The simulator runs apart from the bench so that its threads do not compete with the load
generator's event loop for the bench process's interpreter. `python -m bench.upstream` starts it
(the token comes from $BENCH_UPSTREAM_TOKEN, never the command line), prints its URL as one JSON
line, then answers one JSON command per line on stdin until stdin closes:

    {"op": "submit", "lifecycle": "stay_active", "count": 1000}   -> {"job_ids": [...]}
    {"op": "set_state", "job_id": ..., "state": ..., "output": ...}
    {"op": "slow", "seconds": 4}     every statuses answer takes that long (the `slow` fault)
    {"op": "fast"}                   clears it
    {"op": "asks", "start": t0, "end": t1, "job_ids": [...], "window": 1}
                                     what upstream was asked about those jobs between two wall
                                     clock times (see `AskLog.summary`)

Besides the simulator's own counters, this process notes when each job ID was asked about (by
wrapping the simulator's payload check, which every valid statuses request goes through), so that
the bench can tell "once per window" from "twice in one window".
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

TOKEN_VARIABLE = "BENCH_UPSTREAM_TOKEN"
ARGV = [sys.executable, "-m", "bench.upstream"]
_MAX_SUBMIT = 1000  # the simulator's per-request limit, kept here for callers that ask for more


class AskLog:
    """Wall-clock times at which each job ID was sent upstream."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._asks: dict[str, list[float]] = defaultdict(list)
        self._requests: list[float] = []

    def record(self, job_ids: Iterable[str], at: float | None = None) -> None:
        at = time.time() if at is None else at
        with self._lock:
            self._requests.append(at)
            for job_id in job_ids:
                self._asks[job_id.lower()].append(at)

    def summary(self, *, start: float, end: float, job_ids: Iterable[str], window: float) -> dict[str, Any]:
        """Asks about `job_ids` in [start, end): how many, per job and window, and how close.

        Windows are `window` seconds long and aligned to whole multiples of it, as the site's
        freshness windows are. `close_reasks` counts asks less than half a window after the
        previous ask of the same job: a job asked twice in one window whatever the alignment.
        """
        with self._lock:
            asks = {job_id: list(self._asks.get(job_id.lower(), ())) for job_id in job_ids}
            requests = sum(start <= at < end for at in self._requests)
        ids_asked = 0
        never = 0
        most_in_a_window = 0
        close_reasks = 0
        for times in asks.values():
            times.sort()
            counted = times[bisect_left(times, start) : bisect_left(times, end)]
            ids_asked += len(counted)
            never += not counted
            per_window: dict[int, int] = defaultdict(int)
            for at in counted:
                per_window[math.floor(at / window)] += 1
            most_in_a_window = max(most_in_a_window, *per_window.values(), 0)
            sequence = times[max(0, bisect_left(times, start) - 1) : bisect_left(times, end)]
            close_reasks += sum(later - earlier < window / 2 for earlier, later in pairwise(sequence))
        windows = (end - start) / window
        return {
            "requests": requests,
            "job_ids": ids_asked,
            "jobs": len(asks),
            "windows": windows,
            "per_job_per_window": ids_asked / (len(asks) * windows) if asks and windows else 0.0,
            "most_in_a_window": most_in_a_window,
            "close_reasks": close_reasks,
            "never_asked": never,
        }


# The process side.


def serve() -> None:
    """`python -m bench.upstream`: the simulator, and the command loop on stdin/stdout."""
    # Imported here: the bench process that starts this one never loads the simulator.
    from jobsite.simulator import Simulator
    from jobsite.simulator import server as simulator_server

    token = os.environ.get(TOKEN_VARIABLE, "")
    if not token:
        sys.exit(f"set {TOKEN_VARIABLE}")
    log = AskLog()
    check_payload = simulator_server._statuses_payload

    def noted_payload(payload: dict[str, Any]) -> tuple[list[str], int, int]:
        job_ids, wait, poll_interval = check_payload(payload)
        log.record(job_ids)
        return job_ids, wait, poll_interval

    simulator_server._statuses_payload = noted_payload
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    simulator = Simulator(token=token, host="127.0.0.1", port=0, speed=1.0)
    simulator.start()
    out = sys.stdout
    try:
        out.write(json.dumps({"url": simulator.url}) + "\n")
        out.flush()
        for line in sys.stdin:
            try:
                answer = _command(simulator, log, json.loads(line))
            except (KeyError, ValueError, TypeError) as error:
                answer = {"error": f"{type(error).__name__}: {error}"}
            out.write(json.dumps(answer) + "\n")
            out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()


def _command(simulator: Any, log: AskLog, command: dict[str, Any]) -> dict[str, Any]:
    op = command["op"]
    if op == "submit":
        return {"job_ids": simulator.submit(command["lifecycle"], count=command["count"])}
    if op == "set_state":
        simulator.set_state(command["job_id"], command["state"], output=command.get("output"))
        return {}
    if op == "slow":
        simulator.slow_seconds = float(command["seconds"])
        simulator.set_fault("slow")
        return {}
    if op == "fast":
        simulator.clear_fault()
        return {}
    if op == "stats":
        return simulator.stats()
    if op == "asks":
        return log.summary(
            start=command["start"], end=command["end"], job_ids=command["job_ids"], window=command["window"]
        )
    raise ValueError(f"unknown op {op!r}")


# The bench side.


@dataclass
class Upstream:
    """The running simulator process, as the bench drives it."""

    url: str
    token: str
    _popen: subprocess.Popen[bytes]
    _lock: threading.Lock

    @classmethod
    def attach(cls, popen: subprocess.Popen[bytes], token: str) -> Upstream:
        assert popen.stdout is not None
        line = popen.stdout.readline()
        if not line:
            raise RuntimeError("the upstream simulator exited before it listened")
        return cls(url=json.loads(line)["url"], token=token, _popen=popen, _lock=threading.Lock())

    def call(self, op: str, **arguments: Any) -> dict[str, Any]:
        assert self._popen.stdin is not None and self._popen.stdout is not None
        with self._lock:
            self._popen.stdin.write((json.dumps({"op": op, **arguments}) + "\n").encode())
            self._popen.stdin.flush()
            line = self._popen.stdout.readline()
        if not line:
            raise RuntimeError("the upstream simulator exited")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"upstream simulator: {answer['error']}")
        return answer

    def submit(self, lifecycle: str, count: int) -> list[str]:
        job_ids: list[str] = []
        while len(job_ids) < count:
            batch = min(_MAX_SUBMIT, count - len(job_ids))
            job_ids += self.call("submit", lifecycle=lifecycle, count=batch)["job_ids"]
        return job_ids

    def set_state(self, job_id: str, state: str, output: Any = None) -> None:
        self.call("set_state", job_id=job_id, state=state, output=output)

    def slow(self, seconds: float) -> None:
        self.call("slow", seconds=seconds)

    def fast(self) -> None:
        self.call("fast")

    def asks(self, *, start: float, end: float, job_ids: list[str], window: float) -> dict[str, Any]:
        return self.call("asks", start=start, end=end, job_ids=job_ids, window=window)


if __name__ == "__main__":
    serve()
