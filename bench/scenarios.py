"""The four measurements the issue asks for, each run on a `servers.Stack`.

- `viewers`: N viewers on the 1,000-job watchlist, N growing step by step (the viewers of one
  step stay for the next, so only the newcomers' first renders fall between two counts).
- `throughput`: an unchanged poll (204) next to the sign-in page, with wrk.
- `browser`: change upstream → row on screen in headless Chromium, on the 50-job watchlist.
- `slow`: viewers polling while every upstream answer takes 4 s.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench import browser as browser_tab
from bench import pages, servers
from bench.processes import OTHER, cpu_seconds, cpu_seconds_by_process, cpu_share
from bench.profiling import Profiler, summarize
from bench.results import BrowserFigures, PollFigures, ThroughputFigures, milliseconds, percentile
from bench.servers import SESSION_COOKIE, Stack, loopback_session
from bench.throughput import run_wrk
from bench.viewers import Crowd

BIG, SMALL = "watched", "browser"  # the 1,000-job watchlist, and the browser's 50 jobs
WATCHLISTS = {BIG: 1000, SMALL: 50}
POLL_INTERVAL = 1
FIRST_RENDERS_PER_SECOND = 25.0  # how fast newcomers open the page (spread, not a limit)
RAMP_UP_LIMIT = 120.0
SETTLE_LIMIT = 60.0  # the longest wait for a quiet machine before a measurement
QUIET_CORES = 0.15  # gunicorn busier than this has not finished what the last measurement left
QUIET_ELSEWHERE_CORES = 0.3  # other people's processes using more than this disturb a measurement
WRK_CONNECTIONS = 32  # as many as the server has threads (2 workers × 16)
SCENARIOS = ("viewers", "throughput", "browser", "slow")  # in the order they run


@dataclass(frozen=True)
class Plan:
    viewer_steps: tuple[int, ...] = (50, 100, 200, 500)
    seconds: float = 20.0
    throughput_seconds: float = 5.0
    throughput_rounds: int = 2
    browser_samples: int = 20
    browser_timeout: float = 5.0  # a change not shown by then counts as never shown
    slow_viewers: int = 100
    slow_answer_seconds: float = 4.0
    slow_seconds: float = 20.0
    profile_dir: Path | None = None  # py-spy profiles of the site during each measurement


QUICK = Plan(
    viewer_steps=(50,),
    seconds=5.0,
    throughput_seconds=2.0,
    throughput_rounds=1,
    browser_samples=5,
    slow_viewers=50,
    slow_seconds=5.0,
)


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def settle(site: Stack, *, site_idle: bool = True) -> None:
    """Until the machine is quiet enough to measure, or a time limit passes: gunicorn idle (unless
    `site_idle` is off: viewers that left can leave hundreds of requests queued behind them,
    which would otherwise be served during the next measurement), and other people's processes
    using little CPU (the machine is shared; the report shows how much they used anyway)."""
    groups = site.cpu_groups()
    deadline = time.monotonic() + SETTLE_LIMIT
    while time.monotonic() < deadline:
        before = cpu_seconds(groups)
        time.sleep(1.0)
        used = cpu_share(before, cpu_seconds(groups), 1.0)
        if (not site_idle or used["gunicorn"] < QUIET_CORES) and used[OTHER] < QUIET_ELSEWHERE_CORES:
            return
    progress(f"{site.setup}: the machine is still busy after {SETTLE_LIMIT:g} s; measuring anyway")


class Probe:
    """Between start() and stop(): the cores each part of the stack used and, with a profile
    directory, py-spy profiles of the site's processes."""

    def __init__(self, site: Stack, plan: Plan, label: str) -> None:
        self.groups = site.cpu_groups()
        self.gunicorn = site.children["gunicorn"]
        self.profiler = Profiler(plan.profile_dir, site, label)
        self.cores: dict[str, float] = {}
        self.worker_cores: list[float] = []  # each gunicorn worker's share: is the load spread?

    def start(self) -> None:
        self.profiler.start()
        self._started = time.monotonic()
        self._before = cpu_seconds(self.groups)
        self._workers_before = cpu_seconds_by_process(self.gunicorn.pgid)

    def stop(self) -> None:
        wall = time.monotonic() - self._started
        after = cpu_seconds(self.groups)
        workers_after = cpu_seconds_by_process(self.gunicorn.pgid)
        shares = cpu_share(self._before, after, wall)
        self.cores = {label: round(cores, 3) for label, cores in shares.items() if cores >= 0.005}
        self.worker_cores = sorted(
            (
                round((seconds - self._workers_before.get(pid, 0.0)) / wall, 3)
                for pid, seconds in workers_after.items()
                if pid != self.gunicorn.pgid  # the master only watches its workers
            ),
            reverse=True,
        )
        self.profiler.stop()

    def profile(self) -> list[str]:
        return [line for path in self.profiler.files for line in summarize(path)]


# Viewers.


def viewers(site: Stack, plan: Plan, results: list[PollFigures]) -> None:
    """Appends one PollFigures per step as it is measured."""
    asyncio.run(_viewers(site, plan, results))


async def _viewers(site: Stack, plan: Plan, results: list[PollFigures]) -> None:
    crowd = _crowd(site)
    try:
        for count in plan.viewer_steps:
            newcomers = count - crowd.size
            progress(f"{site.setup}: {count} viewers ({newcomers} opening the page), then {plan.seconds:g} s counted")
            since = crowd.grow(newcomers, spread=max(1.0, newcomers / FIRST_RENDERS_PER_SECOND))
            ramp_up = await crowd.wait_loaded(since=since, limit=RAMP_UP_LIMIT)
            figures = await _count(crowd, site, plan, seconds=plan.seconds, viewers=count, label=f"viewers-{count}")
            figures.ramp_up_seconds = ramp_up
            results.append(figures)
            progress(f"{site.setup}: {count} viewers: {_line(figures)}")
    finally:
        await crowd.close()


def _crowd(site: Stack) -> Crowd:
    return Crowd(
        page_url=site.page_url(BIG),
        live_url=site.live_url(BIG),
        session_cookie=site.session_cookie,
        poll_interval=site.poll_interval,
    )


async def _count(crowd: Crowd, site: Stack, plan: Plan, *, seconds: float, viewers: int, label: str) -> PollFigures:
    await asyncio.to_thread(settle, site, site_idle=False)
    probe = Probe(site, plan, label)
    errors_before = site.server_errors()
    window = await crowd.count(seconds, on_start=probe.start, on_end=probe.stop)
    figures = window.figures(viewers=viewers)
    figures.loaded = crowd.loaded
    figures.first_render_failures = dict(crowd.first_render_failures)
    figures.cpu_cores = probe.cores
    figures.worker_cores = probe.worker_cores
    figures.profile = probe.profile()
    figures.upstream = await asyncio.to_thread(
        site.upstream.asks,
        start=window.wall_start,
        end=window.wall_start + seconds,
        job_ids=site.watchlists[BIG].job_ids,
        window=site.poll_interval,
    )
    figures.server_errors = {
        error: count - errors_before.get(error, 0)
        for error, count in site.server_errors().items()
        if count > errors_before.get(error, 0)
    }
    site.check_alive()
    return figures


def _line(figures: PollFigures) -> str:
    share = figures.answered_share
    asks = figures.upstream.get("per_job_per_window", 0)
    return (
        f"answered {share:.1%}" if share is not None else "no ticks"
    ) + f", p50 {_ms(figures.p50_ms)}, p95 {_ms(figures.p95_ms)}, upstream {asks:.2f} per job and window"


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return "no answer" if math.isinf(value) else f"{value:.0f} ms"


# Throughput.


def throughput(site: Stack, plan: Plan) -> ThroughputFigures:
    progress(
        f"{site.setup}: wrk, unchanged poll vs sign-in page, "
        f"{plan.throughput_rounds} × {plan.throughput_seconds:g} s each"
    )
    # Each request on a new connection: on kept-alive ones, wrk's connections sometimes all land on
    # one of gunicorn's two workers, and the figure would measure one worker, or the other, by luck.
    cookie = {"Cookie": f"{SESSION_COOKIE}={site.session_cookie}", "Connection": "close"}
    htmx = {**cookie, "HX-Request": "true"}
    plain_url = f"{site.url}/accounts/login/"
    with loopback_session() as session:
        session.cookies.set(SESSION_COOKIE, site.session_cookie)
        first = session.get(site.page_url(BIG), timeout=60)
        cursor = pages.live_cursor(first.text)
        if cursor is None:
            raise RuntimeError(f"no cursor on {site.page_url(BIG)} (HTTP {first.status_code})")
        poll_url = f"{site.live_url(BIG)}?{urlencode({'since': cursor})}"
        before = session.get(poll_url, headers={"HX-Request": "true"}, timeout=60).status_code
        for url, headers in ((plain_url, cookie), (poll_url, htmx)):  # warm-up, not counted
            run_wrk(url, seconds=1, connections=WRK_CONNECTIONS, headers=headers)
        figures = ThroughputFigures(plain=[], poll=[], poll_status_before=before, poll_status_after=0)
        cores: dict[str, list[dict[str, float]]] = {"plain": [], "poll": []}
        workers: dict[str, list[list[float]]] = {"plain": [], "poll": []}
        for number in range(1, plan.throughput_rounds + 1):
            for kind, url, headers, runs in (
                ("plain", plain_url, cookie, figures.plain),
                ("poll", poll_url, htmx, figures.poll),
            ):
                probe = Probe(site, plan, f"wrk-{kind}-{number}")
                probe.start()
                runs.append(run_wrk(url, seconds=plan.throughput_seconds, connections=WRK_CONNECTIONS, headers=headers))
                probe.stop()
                cores[kind].append(probe.cores)
                workers[kind].append(probe.worker_cores)
                figures.profile += probe.profile()
        figures.poll_status_after = session.get(poll_url, headers={"HX-Request": "true"}, timeout=60).status_code
    figures.plain_cpu_cores = _mean(cores["plain"])
    figures.poll_cpu_cores = _mean(cores["poll"])
    figures.plain_worker_cores = workers["plain"][-1]
    figures.poll_worker_cores = workers["poll"][-1]
    progress(
        f"{site.setup}: sign-in page {figures.plain_rps:.0f} req/s, unchanged poll {figures.poll_rps:.0f} req/s "
        f"(HTTP {figures.poll_status_before} before, {figures.poll_status_after} after)"
    )
    site.check_alive()
    return figures


def _mean(readings: list[dict[str, float]]) -> dict[str, float]:
    parts = {part for reading in readings for part in reading}
    return {part: round(sum(reading.get(part, 0.0) for reading in readings) / len(readings), 3) for part in parts}


# Browser.


def browser(site: Stack, plan: Plan) -> BrowserFigures:
    progress(f"{site.setup}: {plan.browser_samples} changes upstream, each timed until Chromium shows it")
    probe = Probe(site, plan, "browser")
    watched = browser_tab.watch_changes(
        site_url=site.url,
        page_url=site.page_url(SMALL),
        username=servers.USERNAME,
        password=servers.PASSWORD,
        job_ids=site.watchlists[SMALL].job_ids,
        samples=plan.browser_samples,
        poll_interval=site.poll_interval,
        set_state=lambda job_id, state: site.upstream.set_state(job_id, state, output={"bench": state}),
        timeout=plan.browser_timeout,
        on_start=probe.start,
        on_stop=probe.stop,
    )
    latencies = watched.latencies
    figures = BrowserFigures(
        samples=len(latencies),
        latencies_ms=[round(1000 * seconds, 1) if math.isfinite(seconds) else math.inf for seconds in latencies],
        p50_ms=milliseconds(percentile(latencies, 50)),
        p95_ms=milliseconds(percentile(latencies, 95)),
        max_ms=milliseconds(max(latencies, default=None)),
        timeouts=sum(math.isinf(seconds) for seconds in latencies),
        page_polls=dict(watched.answers.most_common()),
        misses=watched.misses,
        cpu_cores=probe.cores,
        worker_cores=probe.worker_cores,
        profile=probe.profile(),
    )
    progress(f"{site.setup}: browser p50 {_ms(figures.p50_ms)}, p95 {_ms(figures.p95_ms)}")
    site.check_alive()
    return figures


# Slow upstream.


def slow_upstream(site: Stack, plan: Plan) -> PollFigures:
    return asyncio.run(_slow_upstream(site, plan))


async def _slow_upstream(site: Stack, plan: Plan) -> PollFigures:
    progress(
        f"{site.setup}: {plan.slow_viewers} viewers, upstream answering in {plan.slow_answer_seconds:g} s, "
        f"{plan.slow_seconds:g} s counted"
    )
    crowd = _crowd(site)
    try:
        since = crowd.grow(plan.slow_viewers, spread=max(1.0, plan.slow_viewers / FIRST_RENDERS_PER_SECOND))
        ramp_up = await crowd.wait_loaded(since=since, limit=RAMP_UP_LIMIT)
        await asyncio.to_thread(site.upstream.slow, plan.slow_answer_seconds)
        # Requests already out were answered at the old speed: from here on, every answer is slow.
        await asyncio.sleep(plan.slow_answer_seconds + 1)
        figures = await _count(
            crowd, site, plan, seconds=plan.slow_seconds, viewers=plan.slow_viewers, label="slow-upstream"
        )
        figures.ramp_up_seconds = ramp_up
    finally:
        await asyncio.to_thread(site.upstream.fast)
        await crowd.close()
    progress(f"{site.setup}: slow upstream: {_line(figures)}")
    return figures
