"""An analyst's day in real Chromium: filters in the URL, labels, export, being told, pausing."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from jobsite.watchlists.services import watchlist_create

from .conftest import SCREENSHOTS, log_in

pytestmark = pytest.mark.browser

# Elements that stick out past the right edge, outside any scrolling box of their own.
TOO_WIDE = """() => [...document.querySelectorAll("body *")]
  .filter((el) => !el.parentElement.closest(".table-wrap") && el.getBoundingClientRect().right > window.innerWidth + 1)
  .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`)"""

RECORD_NOTIFICATIONS = """
window.__notifications = [];
const RealNotification = window.Notification;
window.Notification = class {
  constructor(title, options) { window.__notifications.push([title, options && options.body]); }
  static get permission() { return RealNotification.permission; }
  static requestPermission() { return RealNotification.requestPermission(); }
};
"""


@pytest.fixture
def nightly(owner, connection, simulator):
    active = simulator.submit(lifecycle="stay_active", count=2)
    done = simulator.submit(lifecycle="instant", count=1)
    watchlist = watchlist_create(
        owner=owner, name="Nightly loads", connection=connection, poll_interval=1, job_ids=active + done
    )
    return watchlist, active, done[0]


@pytest.fixture
def open_watchlist(page, sign_in, nightly):
    sign_in("owner", "owner-pass-123")
    page.goto(nightly[0].get_absolute_url())
    return nightly


def rows(page):
    return page.locator("tr[data-job-id]")


def test_it_filters_through_the_url_and_the_back_button(page, open_watchlist):
    watchlist, active, _done = open_watchlist
    expect(rows(page)).to_have_count(3)
    page.locator('a[data-count-state="completed"]').click()
    expect(page).to_have_url(re.compile(rf"/watchlists/{watchlist.pk}/\?state=completed$"))
    expect(rows(page)).to_have_count(1)
    page.go_back()
    expect(rows(page)).to_have_count(3)
    page.goto(f"{watchlist.get_absolute_url()}?state=active")  # a shared link opens the same view
    expect(rows(page)).to_have_count(2)
    page.get_by_placeholder("Search job ID or label").fill(active[1][:8])
    page.get_by_role("button", name="Apply").click()
    expect(rows(page)).to_have_count(1)
    expect(page).to_have_url(re.compile(rf"\?state=active&q={active[1][:8]}&sort=added$"))


def test_it_saves_a_label_in_place(page, open_watchlist):
    _watchlist, _active, done = open_watchlist
    field = page.get_by_label(f"Label for job {done}")
    field.fill("Snowflake sync")
    with page.expect_response(lambda response: "/label/" in response.url):
        field.press("Tab")  # change event: htmx posts it
    page.reload()
    expect(page.get_by_label(f"Label for job {done}")).to_have_value("Snowflake sync")


def test_it_downloads_an_export_of_what_the_filter_shows(page, open_watchlist):
    watchlist, _active, done = open_watchlist
    page.goto(f"{watchlist.get_absolute_url()}?state=completed")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export JSON").click()
    download = download_info.value
    assert download.suggested_filename.startswith("nightly-loads-completed-")
    payload = json.loads(Path(download.path()).read_text())
    assert [job["id"] for job in payload["jobs"]] == [done]


@pytest.fixture
def notified_page(browser, live_server, owner):
    """The owner's browser with notifications granted, switched on, and recorded."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    context.grant_permissions(["notifications"], origin=live_server.url)
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = context.new_page()
    log_in(page, "owner", "owner-pass-123")

    def open_with_notifications(url: str):
        page.goto(url)
        page.get_by_role("button", name="Notify me").click()
        expect(page.get_by_role("button", name="Notifications on")).to_be_visible()
        return page

    yield open_with_notifications
    context.close()


def test_it_updates_the_title_and_notifies_on_a_failure(notified_page, nightly, simulator):
    watchlist, active, _done = nightly
    page = notified_page(watchlist.get_absolute_url())
    expect(page).to_have_title("(2 active) Nightly loads · jobsite")

    simulator.set_state(active[0], "failed", output="boom")
    expect(page).to_have_title("(1 active, 1 failed) Nightly loads · jobsite")
    # The tab icon takes the colour of the worst state present: failed.
    assert "b42318" in page.get_attribute("link[rel=icon]", "href")
    expect(page.locator("#updated-ago")).to_have_text(re.compile(r"^updated \d+ s ago$"))
    expect(page.locator("#announcer")).to_contain_text("is now Failed")
    page.wait_for_function("() => window.__notifications.length > 0")
    assert page.evaluate("window.__notifications") == [["A job failed", f"{active[0]} in Nightly loads"]]

    simulator.set_state(active[1], "completed")
    page.wait_for_function("() => window.__notifications.some(([title]) => title === 'Watchlist finished')")


def test_it_notifies_a_failure_whose_row_is_not_on_screen(notified_page, nightly, simulator):
    watchlist, active, _done = nightly
    page = notified_page(watchlist.get_absolute_url() + "?state=completed")  # only the finished job shows
    expect(rows(page)).to_have_count(1)

    simulator.set_state(active[0], "failed", output="boom")
    page.wait_for_function("() => window.__notifications.length > 0")
    assert page.evaluate("window.__notifications") == [["A job failed", "A job failed in Nightly loads."]]
    expect(page.locator("#announcer")).to_have_text("A job failed in Nightly loads.")
    expect(rows(page)).to_have_count(1)  # the failed row stays out of this view


def test_pausing_stops_the_requests_and_resuming_starts_them(page, open_watchlist):
    refreshes = []
    page.on("request", lambda request: refreshes.append(request.url) if "/live/" in request.url else None)
    with page.expect_request("**/live/**"):
        pass  # polling is running
    page.get_by_role("button", name="Pause live updates").click()
    expect(page.locator("#updated-ago")).to_have_text("paused")
    paused_at = len(refreshes)
    page.wait_for_timeout(2500)  # proving an absence takes a bounded wait: two pollIntervals and more
    assert len(refreshes) == paused_at
    with page.expect_request("**/live/**"):
        page.get_by_role("button", name="Resume live updates").click()


def test_it_copies_and_removes_the_selected_rows(page, open_watchlist):
    _watchlist, active, done = open_watchlist
    page.get_by_label(f"Select job {active[0]}").check()
    page.get_by_label(f"Select job {done}").check()
    expect(page.locator("#bulk-count")).to_have_text("2 selected")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy selected IDs").click()
    expect(page.get_by_role("button", name="Copied 2")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()").split("\n") == [active[0], done]
    page.get_by_role("button", name="Remove selected").click()
    expect(page.get_by_text("Removed 2 jobs.")).to_be_visible()
    expect(rows(page)).to_have_count(1)
    expect(page.locator(f'tr[data-job-id="{active[1]}"]')).to_have_count(1)


def test_it_takes_a_quick_look_then_saves_it(page, sign_in, owner, connection, simulator):
    done = simulator.submit(lifecycle="instant", count=1)[0]
    sign_in("owner", "owner-pass-123")
    page.get_by_label("Job IDs").fill(f"look at {done}")
    page.get_by_role("button", name="Look").click()
    expect(page.locator(f'tr[data-job-id="{done}"]')).to_have_attribute("data-state", "completed")
    page.get_by_label("Name").fill("Looked at")
    page.get_by_role("button", name="Save as watchlist").click()
    expect(page.get_by_role("heading", name="Looked at")).to_be_visible()
    expect(page.locator(f'tr[data-job-id="{done}"]')).to_have_attribute("data-state", "completed")


@pytest.mark.parametrize(
    ("name", "scheme", "viewport"),
    [
        ("desktop-light", "light", {"width": 1280, "height": 800}),
        ("desktop-dark", "dark", {"width": 1280, "height": 800}),
        ("phone-light", "light", {"width": 390, "height": 844}),
        ("phone-dark", "dark", {"width": 390, "height": 844}),
    ],
)
def test_it_reads_well_light_and_dark_on_desktop_and_phone(
    browser, live_server, owner, connection, simulator, name, scheme, viewport
):
    jobs = (
        simulator.submit(lifecycle="stay_active", count=2)
        + simulator.submit(lifecycle="instant", count=2, output={"dataSource": "snowflake.sales", "rowsSynced": 48213})
        + simulator.submit(lifecycle="fail", count=1)
        + simulator.submit(lifecycle="expire", count=1)
        + simulator.submit(lifecycle="cancel", count=1)
    )
    watchlist = watchlist_create(
        owner=owner, name="Nightly loads", connection=connection, poll_interval=2, job_ids=jobs
    )
    context = browser.new_context(base_url=live_server.url, viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    log_in(page, "owner", "owner-pass-123")
    page.goto(watchlist.get_absolute_url())
    for state in ("failed", "expired", "cancelled"):  # the short lifecycles have reached their ends
        expect(page.locator(f'tr[data-state="{state}"]')).to_have_count(1)
    # Readable on a phone: the page never needs sideways scrolling.
    too_wide = page.evaluate(TOO_WIDE)
    assert not too_wide, too_wide
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(20, 23, 28)") == (scheme == "dark")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")
    context.close()


def test_it_shares_a_watchlist_that_another_user_opens_read_only(
    page, sign_in, nightly, browser, live_server, other_user
):
    watchlist, _active, _done = nightly
    sign_in("owner", "owner-pass-123")
    page.goto(watchlist.get_absolute_url())
    page.get_by_role("link", name="Manage").click()
    page.get_by_label("Everyone signed in to jobsite (read-only)").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy link to this watchlist").click()
    link = page.evaluate("navigator.clipboard.readText()")

    other = browser.new_context(base_url=live_server.url).new_page()
    log_in(other, "other", "other-pass-123")
    expect(other.get_by_role("heading", name="Shared with me")).to_be_visible()
    other.goto(link)
    expect(other.get_by_role("heading", name="Nightly loads")).to_be_visible()
    expect(other.get_by_text("read-only")).to_be_visible()
    expect(other.get_by_role("link", name="Manage")).to_have_count(0)
    expect(rows(other)).to_have_count(3)
    other.context.close()


def test_it_opens_a_jobs_detail_with_pretty_json_output(page, open_watchlist, simulator):
    _watchlist, active, _done = open_watchlist
    simulator.set_state(active[0], "completed", output={"dataSource": "snowflake.sales", "rowsSynced": 48213})
    expect(page.locator(f'tr[data-job-id="{active[0]}"]')).to_have_attribute("data-state", "completed")
    page.get_by_role("link", name=active[0]).click()
    expect(page.get_by_role("heading", name="Observed timeline")).to_be_visible()
    expect(page.locator(".timeline li")).to_have_count(2)
    expect(page.locator("pre.output-full")).to_have_text(
        '{\n  "dataSource": "snowflake.sales",\n  "rowsSynced": 48213\n}'
    )


def test_it_fits_thirty_touchable_rows_on_a_laptop_screen(browser, live_server, owner, connection, simulator):
    """Dense, but every row is tall enough for 24 px targets (WCAG 2.2, 2.5.8): some 30 rows fit
    in 900 px, where 18 px rows once fitted 50 with targets too small to hit."""
    jobs = simulator.submit(
        lifecycle="instant", count=60, output={"dataSource": "snowflake.sales", "rowsSynced": 48213}
    )
    watchlist = watchlist_create(
        owner=owner, name="Nightly loads", connection=connection, poll_interval=2, job_ids=jobs
    )
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    log_in(page, "owner", "owner-pass-123")
    page.goto(watchlist.get_absolute_url())
    rows = page.locator("tr[data-job-id]")
    expect(rows).to_have_count(60)
    heights = page.evaluate(
        "[...document.querySelectorAll('tr[data-job-id]')].map((row) => row.getBoundingClientRect().height)"
    )
    assert min(heights) >= 24, f"rows are {min(heights):.0f} px: too short for 24 px targets"
    assert 30 * max(heights) <= 900, f"rows are {max(heights):.0f} px: fewer than 30 fit in 900 px"
    context.close()
