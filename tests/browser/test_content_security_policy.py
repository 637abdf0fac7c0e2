"""The pages work under their Content-Security-Policy: no violation, and live refreshes still run."""

import pytest
from playwright.sync_api import expect

from jobsite.watchlists.services import watchlist_create

pytestmark = pytest.mark.browser

COLLECT_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_the_live_pages_break_no_rule_of_their_policy(page, sign_in, owner, connection, simulator):
    active, finished = simulator.submit(lifecycle="stay_active", count=2)
    watchlist = watchlist_create(
        owner=owner, name="Nightly loads", connection=connection, poll_interval=1, job_ids=[active, finished]
    )
    page.add_init_script(COLLECT_VIOLATIONS)
    sign_in("owner", "owner-pass-123")
    for url in ("/", watchlist.get_absolute_url(), watchlist.job_url("watchlist_job", active)):
        with page.expect_response(lambda response: "/live/" in response.url or response.url.endswith("/")):
            page.goto(url)
        assert page.evaluate("window.__violations") == [], url
    page.goto(watchlist.get_absolute_url())
    simulator.set_state(finished, "completed", output="done")  # polling runs with no eval allowed
    expect(page.locator(f'tr[data-job-id="{finished}"]')).to_have_attribute("data-state", "completed")
    assert page.evaluate("window.__violations") == []


def test_every_page_carries_the_policy(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy and "frame-ancestors 'none'" in policy
