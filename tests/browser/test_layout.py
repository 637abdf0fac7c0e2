"""Where things land on the watchlist page, measured (bounding boxes), not judged by eye: a phone
shows each job as a card with its state first; a wide screen gives the output the room; columns
stay put; the header sticks; sorting applies on change."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import log_in
from .scenes import LONG_OUTPUT, every_state

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1440, "height": 900}
BOX = """(element) => {
  const r = element.getBoundingClientRect();
  return {x: r.x, y: r.y, right: r.right, bottom: r.bottom, width: r.width};
}"""
COLUMNS = """() => [...document.querySelectorAll("table.jobs thead th")].map((th) => {
  const r = th.getBoundingClientRect();
  return [Math.round(r.x), Math.round(r.width)];
})"""


@pytest.fixture
def open_at(browser, live_server):
    contexts = []

    def open_at(viewport, url):
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        log_in(page, "owner", "owner-pass-123")
        page.goto(url)
        expect(page.locator("tr[data-job-id]").first).to_be_visible()
        return page

    yield open_at
    for context in contexts:
        context.close()


@pytest.fixture
def scene(owner, connection, simulator):
    return every_state(owner, connection, simulator)


def test_a_phone_shows_each_job_as_a_card_state_first_on_the_first_screen(open_at, scene):
    page = open_at(PHONE, scene.watchlist.get_absolute_url())
    first = page.locator("tr[data-job-id]").first
    badge = first.locator("td.state .badge").evaluate(BOX)
    job_id = first.locator("td.job-id a").evaluate(BOX)
    label = first.locator(".label-input").evaluate(BOX)
    card = first.evaluate(BOX)

    assert card["y"] < PHONE["height"], f"the first job starts at {card['y']:.0f} px, below the first screen"
    assert badge["x"] >= 0 and badge["right"] <= PHONE["width"], badge
    assert badge["bottom"] <= PHONE["height"], badge
    # State first, then the ID, then the label, each inside the card.
    assert badge["bottom"] <= job_id["y"] <= label["y"]
    for part in (badge, job_id, label):
        assert part["right"] <= card["right"] + 0.5, part
    # No sideways scrolling anywhere on the page, table included.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_phone_card_shows_a_preview_of_a_long_output(open_at, scene):
    page = open_at(PHONE, scene.watchlist.get_absolute_url())
    failed = page.locator(f'tr[data-job-id="{scene.by_state["failed"]}"]')
    preview = failed.locator("td.output summary").evaluate(BOX)
    assert preview["right"] <= PHONE["width"], preview
    assert preview["y"] > failed.locator("td.job-id a").evaluate(BOX)["y"]


def test_a_wide_screen_gives_the_output_the_room(open_at, scene):
    page = open_at(WIDE, scene.watchlist.get_absolute_url())
    table = page.locator("table.jobs").evaluate(BOX)
    assert table["width"] > 1300, f"the list is {table['width']:.0f} px wide on a 1,440 px screen"
    output = page.locator(f'tr[data-job-id="{scene.by_state["failed"]}"] td.output').evaluate(BOX)
    assert output["width"] > 28 * 15 * 1.25, f"the output column is {output['width']:.0f} px"


def test_columns_stay_put_when_an_output_appears(open_at, owner, connection, simulator):
    from jobsite.watchlists.services import watchlist_create

    jobs = simulator.submit(lifecycle="stay_active", count=3)
    watchlist = watchlist_create(owner=owner, name="Quiet", connection=connection, poll_interval=1, job_ids=jobs)
    page = open_at(WIDE, watchlist.get_absolute_url())
    before = page.evaluate(COLUMNS)
    simulator.set_state(jobs[0], "failed", output=LONG_OUTPUT)
    expect(page.locator(f'tr[data-job-id="{jobs[0]}"] td.output details')).to_have_count(1)
    assert page.evaluate(COLUMNS) == before


def test_the_header_row_sticks_to_the_top_while_the_list_scrolls(open_at, owner, connection, simulator):
    from jobsite.watchlists.services import watchlist_create

    jobs = simulator.submit(lifecycle="instant", count=80)
    watchlist = watchlist_create(owner=owner, name="Long", connection=connection, poll_interval=2, job_ids=jobs)
    page = open_at(WIDE, watchlist.get_absolute_url())
    page.mouse.wheel(0, 1500)
    page.wait_for_function("() => window.scrollY > 1000")
    header = page.locator("table.jobs thead th").first.evaluate(BOX)
    assert abs(header["y"]) <= 1, f"the header row is at {header['y']:.0f} px after scrolling"


def test_sorting_applies_on_change_and_keeps_focus_on_the_select(open_at, scene):
    page = open_at(WIDE, scene.watchlist.get_absolute_url())
    page.evaluate("window.__sameDocument = true")
    sort = page.get_by_label("Sort")
    sort.focus()  # as a click or Tab would
    sort.select_option("state")
    expect(page).to_have_url(re.compile(r"[?&]sort=state"))
    expect(page.locator("tr[data-job-id]").first).to_have_attribute("data-state", "created")
    assert page.evaluate("window.__sameDocument") is True  # boosted: no reload
    assert page.evaluate("document.activeElement.id") == "job-sort"
