"""Refreshes leave alone what the analyst is doing, in real Chromium: a label half typed keeps its
text, caret and focus, an opened output stays open and a ticked row stays ticked, whether the
refresh sends one row (an out-of-band morph) or the whole list (a morph of #live)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jobsite.watchlists.services import watchlist_create
from tests.helpers import end_back_off

from .scenes import LONG_OUTPUT, age_store

pytestmark = pytest.mark.browser

FOCUS = "() => document.activeElement && document.activeElement.id"
CARET = "() => [document.activeElement.selectionStart, document.activeElement.selectionEnd]"


@pytest.fixture
def watching(page, sign_in, owner, connection, simulator):
    typed, opened, ticked = simulator.submit(lifecycle="stay_active", count=3)
    simulator.set_state(opened, "active", output=LONG_OUTPUT)
    watchlist = watchlist_create(
        owner=owner, name="Nightly loads", connection=connection, poll_interval=1, job_ids=[typed, opened, ticked]
    )
    sign_in("owner", "owner-pass-123")
    page.goto(watchlist.get_absolute_url())
    expect(page.locator(f'tr[data-job-id="{opened}"] details')).to_have_count(1)
    with page.expect_request("**/live/**"):
        pass  # polling is running
    return typed, opened, ticked


def row(page, job_id: str):
    return page.locator(f'tr[data-job-id="{job_id}"]')


def start_work(page, typed: str, opened: str, ticked: str) -> None:
    """Open an output, tick a row, and leave a label half typed, focused, caret mid-word."""
    row(page, opened).locator("summary").click()
    page.get_by_label(f"Select job {ticked}").check()
    field = page.get_by_label(f"Label for job {typed}")
    field.click()
    field.press_sequentially("Snowflake syn")
    field.press("ArrowLeft")


def assert_work_kept(page, typed: str, opened: str, ticked: str) -> None:
    assert page.evaluate(FOCUS) == f"label-text-{typed}"
    expect(page.get_by_label(f"Label for job {typed}")).to_have_value("Snowflake syn")
    assert page.evaluate(CARET) == [12, 12]
    assert row(page, opened).locator("details").evaluate("(details) => details.open") is True
    expect(page.get_by_label(f"Select job {ticked}")).to_be_checked()
    expect(page.locator("#bulk-count")).to_have_text("1 selected")


def test_a_row_refresh_keeps_the_typing_the_open_output_and_the_ticks(page, watching, simulator):
    typed, opened, ticked = watching
    start_work(page, typed, opened, ticked)

    simulator.set_state(typed, "retry", output="attempt 1 failed")  # the row being typed in moves
    simulator.set_state(opened, "completed", output=LONG_OUTPUT)  # and the one with its output open
    expect(row(page, typed)).to_have_attribute("data-state", "retry")
    expect(row(page, opened)).to_have_attribute("data-state", "completed")
    assert_work_kept(page, typed, opened, ticked)

    # Typing goes on where it was, and the label saves as before.
    page.keyboard.press("End")
    page.keyboard.type("c")
    with page.expect_response(lambda response: "/label/" in response.url):
        page.keyboard.press("Tab")
    page.reload()
    expect(page.get_by_label(f"Label for job {typed}")).to_have_value("Snowflake sync")


def test_a_whole_refresh_keeps_them_too(page, watching, simulator):
    typed, opened, ticked = watching
    start_work(page, typed, opened, ticked)

    # Upstream starts failing: every row turns stale, so the whole list comes again.
    simulator.set_fault("error_500")
    age_store()
    expect(page.locator("#live [data-error-kind]")).to_be_visible()
    expect(row(page, typed)).to_have_attribute("data-stale", "true")
    assert_work_kept(page, typed, opened, ticked)

    # And heals: the whole list again, the work still there.
    simulator.clear_fault()
    end_back_off()
    expect(page.locator("#live [data-error-kind]")).to_have_count(0)
    expect(row(page, typed)).not_to_have_attribute("data-stale", "true")
    assert_work_kept(page, typed, opened, ticked)
