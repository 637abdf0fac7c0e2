"""Polling that respects the browser, in real Chromium: the job page refreshes in place, and a
hidden tab holds its polls until it is shown again."""

import pytest
from playwright.sync_api import expect

from jobsite.watchlists.services import watchlist_create

pytestmark = pytest.mark.browser

# The tab starts hidden: document.hidden and visibilityState answer from window.__hidden, which
# the test flips before dispatching visibilitychange as the browser would. Every htmx request
# notes why live.js asked for it.
HIDDEN_TAB = """
window.__hidden = true;
Object.defineProperty(document, "hidden", { configurable: true, get: () => window.__hidden });
Object.defineProperty(document, "visibilityState", {
  configurable: true, get: () => (window.__hidden ? "hidden" : "visible"),
});
window.__triggers = [];
document.addEventListener("htmx:configRequest", (event) => {
  window.__triggers.push(event.detail.triggeringEvent?.detail?.reason || "other");
});
"""
SHOW_TAB = 'window.__hidden = false; document.dispatchEvent(new Event("visibilitychange"));'


@pytest.fixture
def active_job(owner, connection, simulator):
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    watchlist = watchlist_create(
        owner=owner, name="Nightly loads", connection=connection, poll_interval=1, job_ids=[job]
    )
    return watchlist, job


def live_requests(page) -> list[str]:
    """The refreshes the page asks for from now on (watchlist and job pages alike)."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if "/live/" in request.url else None)
    return seen


def test_it_updates_the_job_page_in_place_until_the_job_finishes(page, sign_in, active_job, simulator):
    watchlist, job = active_job
    sign_in("owner", "owner-pass-123")
    page.goto(watchlist.job_url("watchlist_job", job))
    state = page.locator("#job-state")
    expect(state).to_have_attribute("data-job-state", "active")  # the first refresh checked it

    page.evaluate("window.__sameDocument = true")  # a reload would lose the mark
    refreshes = live_requests(page)
    simulator.set_state(job, "completed", output="done")

    expect(state.locator(".badge")).to_have_text("Completed")
    expect(page.locator("pre.output-full")).to_have_text("done")
    expect(page.locator("#announcer")).to_have_text(f"Job {job[:8]} is now Completed.")
    assert page.evaluate("window.__sameDocument") is True
    assert refreshes, "the page should have refreshed through htmx"

    # The answer that brought "completed" was a 286: polling stopped.
    expect(page.locator("#job-live")).to_have_attribute("data-poll-stopped", "true")
    stopped_at = len(refreshes)
    page.evaluate('document.dispatchEvent(new Event("visibilitychange"))')  # shown again: no wake-up
    page.wait_for_timeout(2500)  # more than two pollIntervals: a live poll would have fired
    assert len(refreshes) == stopped_at


@pytest.mark.parametrize("where", ["job", "watchlist"])
def test_a_hidden_tab_holds_its_polls_and_refreshes_once_shown(page, sign_in, active_job, where):
    watchlist, job = active_job
    page.add_init_script(HIDDEN_TAB)
    sign_in("owner", "owner-pass-123")
    refreshes = live_requests(page)
    page.goto(watchlist.job_url("watchlist_job", job) if where == "job" else watchlist.get_absolute_url())
    expect(page.locator("[hx-sync]")).to_have_attribute("hx-sync", "this:drop")

    page.wait_for_timeout(3500)  # three pollIntervals and more, hidden: at most one poll a minute
    assert refreshes == []

    with page.expect_request(lambda request: "/live/" in request.url):
        page.evaluate(SHOW_TAB)
    # Asked for by the tab being shown, not by the next tick of the poll.
    assert page.evaluate("window.__triggers")[0] == "shown"
