"""Honest freshness, in real Chromium against the simulator's faults: "updated N s ago" counts
from the last data upstream gave, not from the last request that went through; an outage says
since when it fails, counts down to the next try and marks the tab title."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from jobsite.watchlists.services import watchlist_create
from tests.helpers import end_back_off

pytestmark = pytest.mark.browser

AGE = """() => {
  const match = (document.getElementById("updated-ago")?.textContent || "").match(/^updated (\\d+) s ago$/);
  return match ? Number(match[1]) : null;
}"""
RETRY = """() => {
  const match = (document.querySelector("#live [data-retry-in]")?.textContent || "").match(/^in (\\d+) s$/);
  return match ? Number(match[1]) : null;
}"""


@pytest.fixture
def watched(page, sign_in, owner, connection, simulator):
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    watchlist = watchlist_create(
        owner=owner, name="Nightly loads", connection=connection, poll_interval=1, job_ids=[job]
    )
    sign_in("owner", "owner-pass-123")
    page.goto(watchlist.get_absolute_url())
    expect(page.locator("#updated-ago")).to_have_text(re.compile(r"^updated [0-3] s ago$"))
    return watchlist


def answered(page) -> list[int]:
    """The status of every refresh answered from now on."""
    statuses: list[int] = []
    page.on("response", lambda response: statuses.append(response.status) if "/live/" in response.url else None)
    return statuses


def test_updated_ago_keeps_counting_while_upstream_fails(page, watched, simulator):
    simulator.set_fault("error_500")
    expect(page.locator("#live [data-error-kind]")).to_be_visible()
    statuses = answered(page)
    # The refreshes themselves go through (200, 204) every second; the data they bring does not
    # get any younger, so neither does "updated".
    page.wait_for_function(f"() => ({AGE})() >= 5", timeout=15_000)
    assert len([status for status in statuses if status in (200, 204)]) >= 2, statuses

    simulator.clear_fault()
    end_back_off()
    expect(page.locator("#live [data-error-kind]")).to_have_count(0)
    page.wait_for_function(f"() => ({AGE})() !== null && ({AGE})() <= 3")


def test_an_outage_says_since_when_counts_down_to_the_next_try_and_marks_the_title(page, watched, simulator):
    expect(page).not_to_have_title(re.compile("^⚠"))
    simulator.set_fault("error_500")
    banner = page.locator("#live [data-error-kind]")
    expect(banner).to_contain_text(re.compile(r"Live updates are failing since \d\d:\d\d\."))
    expect(banner.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    expect(page).to_have_title(re.compile(r"^⚠ \(1 active\) Nightly loads · jobsite$"))

    # Backing off, jobsite waits longer between tries; the banner counts the wait down, second by second.
    page.wait_for_function(f"() => ({RETRY})() >= 3", timeout=20_000)
    start = page.evaluate(RETRY)
    page.wait_for_function(f"() => ({RETRY})() === {start - 1}")
    assert page.locator("#live .retry-in").get_attribute("aria-hidden") == "true"  # not read out each second

    simulator.clear_fault()
    end_back_off()
    expect(banner).to_have_count(0)
    expect(page).to_have_title("(1 active) Nightly loads · jobsite")
