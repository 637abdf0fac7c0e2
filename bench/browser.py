"""Change upstream, see the row change in a real browser: headless Chromium through Playwright.

One tab signs in through the form and opens a watchlist page; then, one job at a time, the bench
sets the job's state in the simulator and times how long the page takes to show the row in that
state (`tr[data-job-id=…][data-state=…]`). Each change waits a random part of a pollInterval
first, so the changes fall at every phase of the page's and the watcher's timers.

The page notes the time itself: a MutationObserver, armed before the change, stamps `Date.now()`
in the first animation frame after the row shows the new state (when it can be painted). The
bench compares that with the wall-clock time just before it changed the job; both clocks are
this machine's. Playwright's own waiting would add its polling interval (up to 500 ms) instead.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from playwright.sync_api import Page, sync_playwright

from tests.machine import CHROMIUM, CHROMIUM_ARGS

# Every state a job can move to from `active`, in turn; each change goes to a job not changed before.
NEW_STATES = ("completed", "failed", "retry", "cancelled", "expired", "created")
LOOK_EVERY_MS = 20
# Stamps window.benchSeenAt (ms since the epoch) in the first frame after `selector` matches.
_ARM = """selector => {
  window.benchSeenAt = null;
  const seen = () => {
    if (!document.querySelector(selector)) return false;
    observer.disconnect();
    requestAnimationFrame(() => { window.benchSeenAt = Date.now(); });
    return true;
  };
  const observer = new MutationObserver(seen);
  observer.observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"]});
  seen();
}"""
# What the page looked like when a change never showed.
_LOOK = """jobId => {
  const live = document.getElementById("live");
  return {
    row: document.querySelector(`tr[data-job-id="${jobId}"]`)?.dataset.state ?? null,
    visibility: document.visibilityState,
    paused: window.jobsitePaused,
    pollStopped: live?.dataset.pollStopped ?? null,
    polling: Boolean(live?.getAttribute("hx-get")),
    url: location.pathname,
  };
}"""


@dataclass
class Watched:
    latencies: list[float] = field(default_factory=list)  # seconds; math.inf: never shown
    answers: Counter[str] = field(default_factory=Counter)  # the page's polls while measuring, by outcome
    misses: list[str] = field(default_factory=list)  # what the page looked like when a change never showed


def watch_changes(
    *,
    site_url: str,
    page_url: str,
    username: str,
    password: str,
    job_ids: list[str],
    samples: int,
    poll_interval: float,
    set_state: Callable[[str, str], None],
    timeout: float,
    on_start: Callable[[], None] = lambda: None,
    on_stop: Callable[[], None] = lambda: None,
) -> Watched:
    """Time `samples` changes, each from the change upstream to the row showing it. `on_start` and
    `on_stop` run around the changes, while the page is open."""
    if samples > len(job_ids):
        raise ValueError(f"{samples} changes need as many jobs; the watchlist has {len(job_ids)}")
    rng = random.Random(7)
    watched = Watched()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(timeout * 1000)
            page.goto(f"{site_url}/accounts/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", password)
            with page.expect_navigation():
                page.click("button[type=submit]")
            page.goto(page_url)
            page.wait_for_selector(f'tr[data-job-id="{job_ids[0]}"][data-state="active"]')
            page.on("response", lambda response: _note(watched, response.url, str(response.status)))
            page.on("requestfailed", lambda request: _note(watched, request.url, request.failure or "failed"))
            on_start()
            for number, job_id in enumerate(job_ids[:samples]):
                state = NEW_STATES[number % len(NEW_STATES)]
                time.sleep(rng.uniform(0, poll_interval))
                page.evaluate(_ARM, f'tr[data-job-id="{job_id}"][data-state="{state}"]')
                started = time.time()
                set_state(job_id, state)
                seen_at = _seen_at(page, deadline=time.monotonic() + timeout)
                if seen_at is None:
                    watched.latencies.append(math.inf)
                    watched.misses.append(f"{job_id} → {state}: " + json.dumps(page.evaluate(_LOOK, job_id)))
                else:
                    watched.latencies.append(seen_at - started)
            on_stop()
        finally:
            browser.close()
    return watched


def _seen_at(page: Page, *, deadline: float) -> float | None:
    """When the page saw the change (wall clock, seconds), read every few milliseconds: the page
    stamps the time itself, so how often we look does not matter. (Playwright's wait_for_function
    would compile its predicate with eval, which the site's Content-Security-Policy forbids.)"""
    while time.monotonic() < deadline:
        seen = page.evaluate("window.benchSeenAt")
        if seen is not None:
            return float(seen) / 1000
        page.wait_for_timeout(LOOK_EVERY_MS)
    return None


def _note(watched: Watched, url: str, outcome: str) -> None:
    if "/live/" in url:
        watched.answers[outcome] += 1
