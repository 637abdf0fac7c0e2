"""Home keeps itself up to date, in real Chromium: the cards' counts refresh, the most urgent
watchlist comes first, and an outage banner names the watchlists it affects."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jobsite.watchlists.services import watchlist_create

pytestmark = pytest.mark.browser

CARDS_IN_ORDER = "() => [...document.querySelectorAll('#home-cards .card h2')].map((h) => h.textContent.trim())"
HOME_POLL = 15_000  # home polls every 5 s; room for two polls and a slow one


@pytest.fixture
def three(owner, connection, simulator):
    def make(name, jobs):
        return watchlist_create(owner=owner, name=name, connection=connection, poll_interval=1, job_ids=jobs)

    done = make("Archive", simulator.submit(lifecycle="instant", count=2))
    running_job = simulator.submit(lifecycle="stay_active", count=1)[0]
    running = make("Billing", [running_job])
    failing = simulator.submit(lifecycle="stay_active", count=2)
    simulator.set_state(failing[0], "failed", output="boom")
    broken = make("Customers", failing)
    return done, running, broken, running_job


def test_the_cards_refresh_and_the_most_urgent_comes_first(page, sign_in, three, simulator):
    _done, running, broken, running_job = three
    sign_in("owner", "owner-pass-123")
    expect(page.locator(f"#card-{broken.pk}")).to_have_attribute("data-attention", "failed")
    assert page.evaluate(CARDS_IN_ORDER) == ["Customers", "Billing", "Archive"]  # failed, running, finished
    page.evaluate("window.__sameDocument = true")

    simulator.set_state(running_job, "failed", output="boom")
    billing = page.locator(f"#card-{running.pk}")
    expect(billing.locator('[data-count-state="failed"]')).to_have_text("Failed 1", timeout=HOME_POLL)
    expect(billing).to_have_attribute("data-attention", "failed")
    expect(billing.locator(".card-status")).to_have_text("1 failed")
    assert page.evaluate(CARDS_IN_ORDER) == ["Billing", "Customers", "Archive"]
    assert page.evaluate("window.__sameDocument") is True  # refreshed in place, not reloaded


def test_an_outage_banner_names_the_watchlists_it_affects(page, sign_in, three, simulator):
    sign_in("owner", "owner-pass-123")
    expect(page.locator("[data-error-kind]")).to_have_count(0)
    simulator.set_fault("error_500")
    banner = page.locator("#home-cards [data-error-kind]")
    expect(banner).to_contain_text("Affects Archive, Billing, Customers.", timeout=HOME_POLL)
    expect(banner.get_by_role("link", name="Billing")).to_have_attribute("href", three[1].get_absolute_url())
    expect(page).to_have_title("⚠ Watchlists · jobsite")
