"""An analyst signs in, saves a watchlist by pasting IDs and watches it finish, in real Chromium."""

import pytest
from playwright.sync_api import expect

from .conftest import SCREENSHOTS

pytestmark = pytest.mark.browser


def test_it_updates_states_in_place_until_every_job_is_done(page, sign_in, owner, connection, simulator):
    watched = simulator.submit(lifecycle="stay_active", count=1)[0]
    others = [
        *simulator.submit(lifecycle="instant", count=1, output={"dataSource": "snowflake.sales", "rowsSynced": 48213}),
        *simulator.submit(lifecycle="fail", count=1),
        *simulator.submit(lifecycle="expire", count=1),
        *simulator.submit(lifecycle="cancel", count=1),
    ]
    sign_in("owner", "owner-pass-123")

    page.get_by_role("link", name="New watchlist").first.click()
    page.get_by_label("Name").fill("Nightly loads")
    page.get_by_label("pollInterval").fill("1")
    pasted = f"2026-11-29 02:00 INFO started job {watched}\n" + "\n".join(others) + "\nno id on this line"
    page.get_by_label("Job IDs").fill(pasted)
    page.get_by_role("button", name="Save watchlist").click()

    expect(page.get_by_text("Found 5 job IDs; 1 line without an ID ignored")).to_be_visible()
    row = page.locator(f'tr[data-job-id="{watched}"]')
    expect(row).to_have_attribute("data-state", "active")

    # Mark this document: a reload would lose the mark.
    page.evaluate("window.__sameDocument = true")
    refreshes = []
    page.on("request", lambda request: refreshes.append(request.url) if "/live/" in request.url else None)

    simulator.set_state(watched, "completed", output={"rowsSynced": 1200})
    expect(row).to_have_attribute("data-state", "completed")
    expect(page.get_by_text("Every job has finished")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    assert refreshes, "the page should have refreshed through htmx"

    stopped_at = len(refreshes)
    page.wait_for_timeout(2500)  # more than two pollIntervals: a live poll would have fired
    assert len(refreshes) == stopped_at

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "watchlist.png", full_page=True)
