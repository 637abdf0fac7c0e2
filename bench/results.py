"""The figures each scenario produces, and the small statistics they are summarized with.

Plain dataclasses, so that the report can print them and `--json` can dump them as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (`share` from 0 to 100); None for no values. Values may be
    infinite (a poll that never got an answer), and then so may the percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[rank - 1]


def milliseconds(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


@dataclass
class PollFigures:
    """What N viewers got during one counted window."""

    viewers: int
    seconds: float
    ticks: int = 0  # times a viewer's poll was due (viewers × seconds / pollInterval, about)
    answered: int = 0  # 200, 204 or 286 within the client timeout
    skipped: int = 0  # ticks dropped because the viewer's previous poll was still out
    statuses: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)  # timeouts, resets, other statuses
    p50_ms: float | None = None  # over every poll sent; one that got no answer counts as infinite
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    loop_lag_p95_ms: float | None = None  # the load generator's own delay: high means it is the bottleneck
    ramp_up_seconds: float | None = None  # until the last viewer had its first render
    loaded: int = 0  # viewers that had their first render before counting began
    first_render_failures: dict[str, int] = field(default_factory=dict)  # so far, all viewers together
    upstream: dict[str, float] = field(default_factory=dict)  # bench.upstream.AskLog.summary
    cpu_cores: dict[str, float] = field(default_factory=dict)  # cores used per part, on average
    worker_cores: list[float] = field(default_factory=list)  # each gunicorn worker's, busiest first
    server_errors: dict[str, int] = field(default_factory=dict)
    profile: list[str] = field(default_factory=list)  # with --profile: bench.profiling.summarize lines

    @property
    def answered_share(self) -> float | None:
        return self.answered / self.ticks if self.ticks else None


@dataclass
class WrkRun:
    url: str
    seconds: float
    connections: int
    requests_per_second: float
    requests: int
    p50_ms: float | None
    p99_ms: float | None
    socket_errors: int
    non_2xx: int


@dataclass
class ThroughputFigures:
    plain: list[WrkRun]  # the sign-in page, a plain template page
    poll: list[WrkRun]  # an unchanged poll (204)
    poll_status_before: int
    poll_status_after: int
    plain_cpu_cores: dict[str, float] = field(default_factory=dict)
    poll_cpu_cores: dict[str, float] = field(default_factory=dict)
    plain_worker_cores: list[float] = field(default_factory=list)  # in the last run of each
    poll_worker_cores: list[float] = field(default_factory=list)
    profile: list[str] = field(default_factory=list)

    @property
    def plain_rps(self) -> float:
        return sum(run.requests_per_second for run in self.plain) / len(self.plain) if self.plain else 0.0

    @property
    def poll_rps(self) -> float:
        return sum(run.requests_per_second for run in self.poll) / len(self.poll) if self.poll else 0.0

    @property
    def ratio(self) -> float | None:
        return self.poll_rps / self.plain_rps if self.plain_rps else None

    @staticmethod
    def cpu_ms_per_request(cores: dict[str, float], rps: float) -> float | None:
        """What one request costs the site: gunicorn's and its database's CPU time."""
        used = cores.get("gunicorn", 0.0) + cores.get("postgres", 0.0)
        return 1000 * used / rps if rps and used else None


@dataclass
class BrowserFigures:
    samples: int
    latencies_ms: list[float] = field(default_factory=list)  # infinite: the row never showed the change
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    timeouts: int = 0
    page_polls: dict[str, int] = field(default_factory=dict)  # the page's refreshes meanwhile, by outcome
    misses: list[str] = field(default_factory=list)  # the page's state when a change never showed
    cpu_cores: dict[str, float] = field(default_factory=dict)
    worker_cores: list[float] = field(default_factory=list)
    profile: list[str] = field(default_factory=list)


@dataclass
class SetupFigures:
    """Every scenario run on one set-up: with the watcher, or the pages' own refresh (fallback)."""

    setup: str
    viewers: list[PollFigures] = field(default_factory=list)
    throughput: ThroughputFigures | None = None
    slow_upstream: PollFigures | None = None
    slow_upstream_seconds: float | None = None
    browser: BrowserFigures | None = None
    skipped: str | None = None  # why this set-up was not measured
    failed: str | None = None  # the error that cut the run short
