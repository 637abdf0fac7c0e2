"""The load generator: viewers that poll a watchlist as htmx does, all in one asyncio process.

A viewer is one browser tab with its own keep-alive connection. It opens the watchlist page once
(the first render, which carries the cursor), then on its own phase of a pollInterval grid asks
`/watchlists/<id>/live/?since=<cursor>` with `HX-Request: true`. A 200 carries a newer cursor
(the `live-since` input), which it keeps; 204 means nothing changed; 286 stops it, as htmx stops.
Polls never overlap: a tick that comes while the viewer's previous poll is still out is dropped
(hx-sync's default), and counts as unanswered. A poll is answered when a 200, 204 or 286 arrives
within the client timeout.

Counting happens in windows aligned to whole seconds of the wall clock, the site's freshness
windows; a tick belongs to the window it falls in, even if its answer comes after the window.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import aiohttp
from yarl import URL

from bench import pages
from bench.results import PollFigures, milliseconds, percentile

CLIENT_TIMEOUT = 5.0  # seconds a poll may take before it counts as unanswered
FIRST_RENDER_TIMEOUT = 60.0
LAG_SAMPLE_SECONDS = 0.05
ANSWERED = {200, 204, 286}


@dataclass
class Window:
    """The ticks of one counted stretch, in event-loop time [start, end)."""

    start: float
    end: float
    wall_start: float
    statuses: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # seconds; math.inf: no answer
    lags: list[float] = field(default_factory=list)
    ticks: int = 0
    answered: int = 0
    skipped: int = 0
    pending: int = 0  # polls of this window still out

    def holds(self, at: float) -> bool:
        return self.start <= at < self.end

    def figures(self, *, viewers: int) -> PollFigures:
        return PollFigures(
            viewers=viewers,
            seconds=self.end - self.start,
            ticks=self.ticks,
            answered=self.answered,
            skipped=self.skipped,
            statuses=dict(sorted(self.statuses.items())),
            failures=dict(self.failures.most_common()),
            p50_ms=milliseconds(percentile(self.latencies, 50)),
            p95_ms=milliseconds(percentile(self.latencies, 95)),
            p99_ms=milliseconds(percentile(self.latencies, 99)),
            max_ms=milliseconds(max(self.latencies, default=None)),
            loop_lag_p95_ms=milliseconds(percentile(self.lags, 95)),
        )


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (the failure says why)
    seconds: float
    cursor: str | None = None
    failure: str | None = None


class Crowd:
    """Viewers of one watchlist; grown step by step, counted window by window."""

    def __init__(self, *, page_url: str, live_url: str, session_cookie: str, poll_interval: float, seed: int = 1):
        self.page_url = page_url
        self.live_url = live_url
        self.cookie = f"sessionid={session_cookie}"
        self.interval = poll_interval
        self.random = random.Random(seed)
        self.tasks: list[asyncio.Task[None]] = []
        self.loaded_at: list[float | None] = []
        self.first_render_failures: Counter[str] = Counter()
        self.windows: list[Window] = []
        self._lag_task: asyncio.Task[None] | None = None

    @property
    def size(self) -> int:
        return len(self.tasks)

    @property
    def loaded(self) -> int:
        return sum(at is not None for at in self.loaded_at)

    def grow(self, count: int, *, spread: float) -> float:
        """Add `count` viewers whose first renders start uniformly within `spread` seconds; each
        polls on a phase of its own, uniform within the pollInterval. Returns the loop time."""
        loop = asyncio.get_running_loop()
        if self._lag_task is None:
            self._lag_task = loop.create_task(self._watch_lag())
        now = loop.time()
        for _ in range(count):
            index = len(self.tasks)
            self.loaded_at.append(None)
            self.tasks.append(
                loop.create_task(
                    self._view(
                        index,
                        start=now + self.random.uniform(0, spread),
                        phase=self.random.uniform(0, self.interval),
                    )
                )
            )
        return now

    async def wait_loaded(self, *, since: float, limit: float) -> float | None:
        """Seconds from `since` until every viewer had its first render; None if `limit` passed first."""
        loop = asyncio.get_running_loop()
        while self.loaded < self.size and loop.time() - since < limit:
            await asyncio.sleep(0.1)
        if self.loaded < self.size:
            return None
        return max(at for at in self.loaded_at if at is not None) - since

    async def count(
        self,
        seconds: float,
        *,
        on_start: Callable[[], None] | None = None,
        on_end: Callable[[], None] | None = None,
    ) -> Window:
        """Count the ticks of the next `seconds`, from the next whole wall-clock second on; then
        wait for the answers of the window's polls still out. `on_start`/`on_end` run (in a
        thread) at the window's edges."""
        loop = asyncio.get_running_loop()
        wall_start = math.floor(time.time()) + 1.0
        if wall_start - time.time() < 0.2:
            wall_start += 1.0
        start = loop.time() + (wall_start - time.time())
        window = Window(start=start, end=start + seconds, wall_start=wall_start)
        self.windows.append(window)
        await asyncio.sleep(max(0.0, start - loop.time()))
        if on_start:
            await asyncio.to_thread(on_start)
        await asyncio.sleep(max(0.0, window.end - loop.time()))
        if on_end:
            await asyncio.to_thread(on_end)
        deadline = loop.time() + CLIENT_TIMEOUT + 2
        while window.pending and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return window

    async def close(self) -> None:
        tasks = [*self.tasks, *([self._lag_task] if self._lag_task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # One viewer.

    def _window_at(self, at: float) -> Window | None:
        for window in reversed(self.windows):
            if window.holds(at):
                return window
        return None

    async def _view(self, index: int, *, start: float, phase: float) -> None:
        loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(limit=1, keepalive_timeout=30)  # one tab, one connection
        async with aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), headers={"Cookie": self.cookie}
        ) as session:
            await asyncio.sleep(max(0.0, start - loop.time()))
            cursor = None
            while cursor is None:
                answer = await self._get(session, URL(self.page_url), timeout=FIRST_RENDER_TIMEOUT, htmx=False)
                cursor = answer.cursor
                if cursor is None:
                    self.first_render_failures[answer.failure or f"HTTP {answer.status} without a cursor"] += 1
                    await asyncio.sleep(self.interval)
            now = loop.time()
            self.loaded_at[index] = now
            tick = phase + math.ceil((now - phase) / self.interval) * self.interval
            while True:
                await asyncio.sleep(max(0.0, tick - loop.time()))
                window = self._window_at(tick)
                if window:
                    window.ticks += 1
                    window.pending += 1
                query = urlencode({"since": cursor})
                answer = await self._get(session, URL(f"{self.live_url}?{query}", encoded=True), timeout=CLIENT_TIMEOUT)
                if window:
                    window.pending -= 1
                    self._record(window, answer)
                if answer.status == 200 and answer.cursor:
                    cursor = answer.cursor
                if answer.status == 286:
                    return  # htmx stops polling
                done = loop.time()
                tick += self.interval
                while tick <= done:  # these ticks came while the poll was out: dropped
                    dropped = self._window_at(tick)
                    if dropped:
                        dropped.ticks += 1
                        dropped.skipped += 1
                    tick += self.interval

    @staticmethod
    def _record(window: Window, answer: Answer) -> None:
        if answer.status in ANSWERED:
            window.answered += 1
            window.statuses[str(answer.status)] += 1
            window.latencies.append(answer.seconds)
        else:
            window.failures[answer.failure or f"HTTP {answer.status}"] += 1
            window.latencies.append(math.inf)

    async def _get(self, session: aiohttp.ClientSession, url: URL, *, timeout: float, htmx: bool = True) -> Answer:
        """One GET within `timeout` seconds; a kept-alive connection the server closed meanwhile
        is retried once on a new one, as browsers do."""
        started = time.perf_counter()
        headers = {"HX-Request": "true"} if htmx else {}
        try:
            async with asyncio.timeout(timeout):
                for attempt in (1, 2):
                    try:
                        async with session.get(url, headers=headers, allow_redirects=False) as response:
                            body = await response.read()
                            status = response.status
                        break
                    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                        if attempt == 2:
                            raise
        except TimeoutError:
            return Answer(status=None, seconds=math.inf, failure="timeout")
        except aiohttp.ClientError as error:
            return Answer(status=None, seconds=math.inf, failure=type(error).__name__)
        seconds = time.perf_counter() - started
        cursor = pages.live_cursor(body.decode("utf-8", "replace")) if status == 200 else None
        return Answer(
            status=status,
            seconds=seconds,
            cursor=cursor,
            failure=None if status in ANSWERED else f"HTTP {status}",
        )

    async def _watch_lag(self) -> None:
        """How late the event loop wakes up: when this grows, the load generator itself is short of CPU."""
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            await asyncio.sleep(LAG_SAMPLE_SECONDS)
            woke = loop.time()
            window = self._window_at(woke)
            if window:
                window.lags.append(woke - asked - LAG_SAMPLE_SECONDS)
