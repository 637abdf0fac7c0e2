"""Requests per second with `wrk` (apt-get install wrk), a signed-in client on kept-alive connections."""

from __future__ import annotations

import re
import shutil
import subprocess

from bench.results import WrkRun

_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_PERCENTILE = re.compile(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


class WrkMissing(Exception):
    """wrk is not installed."""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(url: str, *, seconds: float, connections: int, headers: dict[str, str], threads: int = 1) -> WrkRun:
    if not wrk_available():
        raise WrkMissing("wrk is not installed (apt-get install -y wrk)")
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        "5s",
    ]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    done = subprocess.run([*argv, url], capture_output=True, text=True, timeout=seconds + 30, check=True)
    return parse_wrk(done.stdout, url=url, seconds=seconds, connections=connections)


def parse_wrk(output: str, *, url: str, seconds: float, connections: int) -> WrkRun:
    rps = _RPS.search(output)
    if rps is None:
        raise ValueError(f"no Requests/sec in wrk's output:\n{output}")
    total = _TOTAL.search(output)
    percentiles = {int(share): float(value) * _UNIT_MS[unit] for share, value, unit in _PERCENTILE.findall(output)}
    socket_errors = _SOCKET_ERRORS.search(output)
    non_2xx = _NON_2XX.search(output)
    return WrkRun(
        url=url,
        seconds=seconds,
        connections=connections,
        requests_per_second=float(rps.group(1)),
        requests=int(total.group(1)) if total else 0,
        p50_ms=percentiles.get(50),
        p99_ms=percentiles.get(99),
        socket_errors=sum(map(int, socket_errors.groups())) if socket_errors else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )
