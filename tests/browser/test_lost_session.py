"""An open page whose session ends (signed out elsewhere, expired) goes to sign in, then back."""

import re

import pytest
from playwright.sync_api import expect

from jobsite.watchlists.services import watchlist_create

pytestmark = pytest.mark.browser


def test_an_open_page_that_loses_its_session_goes_to_sign_in_and_comes_back(
    page, sign_in, owner, connection, simulator
):
    watchlist = watchlist_create(
        owner=owner,
        name="Nightly loads",
        connection=connection,
        poll_interval=1,
        job_ids=simulator.submit(lifecycle="stay_active", count=1),
    )
    sign_in("owner", "owner-pass-123")
    page.goto(watchlist.get_absolute_url() + "?state=active")
    expect(page.locator("tr[data-state=active]")).to_have_count(1)

    page.context.clear_cookies()  # the session is gone; the page keeps polling

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=%2Fwatchlists%2F\d+%2F%3Fstate%3Dactive$"))
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill("owner-pass-123")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/watchlists/{watchlist.pk}/\?state=active$"))
