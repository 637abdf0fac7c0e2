"""Headless Chromium (Debian's package) driven by Playwright; never a downloaded browser.

Without Chromium the browser tests skip with one line of reason, unless JOBSITE_E2E=required
(as in CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.machine import CHROMIUM, CHROMIUM_ARGS

# Tests never write tracked files: screenshots land in an ignored folder unless asked for
# elsewhere (CONTRIBUTING.md: JOBSITE_SCREENSHOTS_DIR=docs/screenshots refreshes the README's).
SCREENSHOTS = Path(
    os.environ.get("JOBSITE_SCREENSHOTS_DIR") or Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
)


def _unavailable(reason: str):
    if os.environ.get("JOBSITE_E2E") == "required":
        pytest.fail(f"JOBSITE_E2E=required but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are ordinary synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import expect

    # As patient as the pages' own default timeout: CI shares two cores with the servers.
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, username: str, password: str) -> None:
    """Sign in through the login form, as a person would; lands on the home page."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


@pytest.fixture
def sign_in(page):
    return lambda username, password: log_in(page, username, password)
