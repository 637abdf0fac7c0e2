"""WCAG 2.2 AA on every page, light and dark, checked by axe-core in real Chromium.

axe-core (tests/browser/vendor/axe.min.js, test-only) is evaluated into each page through
Playwright, which the page's Content-Security-Policy does not govern; the site itself never
loads it. Violations of impact "serious" or "critical" fail the test, listed with their targets.
Beyond what axe measures, the tests check what it cannot: placeholder and focus-ring contrast,
stale rows that stay readable, and focus kept on the control used.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import SCREENSHOTS, log_in
from .scenes import every_state, upstream_failing

pytestmark = pytest.mark.browser

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
    rules: { "target-size": { enabled: true } },
  });
  return result.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id} (${violation.impact}): ` +
      violation.nodes.slice(0, 6).map((node) => node.target.join(" ") + " " +
        (node.any[0]?.message || node.all[0]?.message || "")).join(" | "));
}"""

# WCAG contrast of two CSS colours (rgb()/rgba() as getComputedStyle gives them), alpha
# composited over the second; shared by the checks below.
CONTRAST = """
window.__contrast = (fore, back) => {
  const parse = (text) => text.match(/[\\d.]+/g).map(Number);
  const [br, bg, bb] = parse(back);
  const [fr, fg, fb, fa = 1] = parse(fore);
  const mix = [fr * fa + br * (1 - fa), fg * fa + bg * (1 - fa), fb * fa + bb * (1 - fa)];
  const lum = (rgb) => rgb.map((c) => c / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const [a, b] = [lum(mix), lum([br, bg, bb])].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
};
// The colour an element's text sits on: the first ancestor with an opaque background.
window.__backdrop = (element) => {
  for (let el = element; el; el = el.parentElement) {
    const colour = getComputedStyle(el).backgroundColor;
    if (colour !== "rgba(0, 0, 0, 0)" && colour !== "transparent") return colour;
  }
  return "rgb(255, 255, 255)";
};
"""


def violations(page) -> list[str]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    return page.evaluate(AXE_RUN)


@pytest.fixture(params=["light", "dark"])
def scheme(request):
    return request.param


@pytest.fixture
def themed(browser, live_server, scheme):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}, color_scheme=scheme
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.add_init_script(CONTRAST)
    yield page
    context.close()


@pytest.fixture
def scene(owner, connection, simulator):
    return every_state(owner, connection, simulator)


def test_signing_in_breaks_no_rule(themed):
    themed.goto("/accounts/login/")
    assert violations(themed) == []


def look(page, name: str, scheme: str) -> None:
    """Keep a picture of what axe saw, for a person to look at (test-artifacts/, ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"a11y-{name.replace(' ', '-')}-{scheme}.png", full_page=True)


def test_the_signed_in_pages_break_no_rule(themed, scheme, scene, simulator):
    watchlist = scene.watchlist
    upstream_failing(simulator)
    log_in(themed, "owner", "owner-pass-123")
    pages = {
        "home": "/",
        "watchlist": watchlist.get_absolute_url(),
        "job": watchlist.job_url("watchlist_job", scene.by_state["active"]),
        "manage": f"/watchlists/{watchlist.pk}/edit/",
        "new watchlist": "/watchlists/new/",
    }
    found = {}
    for name, url in pages.items():
        themed.goto(url)
        if name == "watchlist":
            expect(themed.locator("[data-error-kind]").first).to_be_visible()
            expect(themed.locator('tr[data-state="unknown"]')).to_have_count(1)
            expect(themed.locator("tr[data-stale]").first).to_be_visible()
        if name == "job":
            expect(themed.locator("#job-live [data-error-kind]")).to_be_visible()  # after its first refresh
        found[name] = violations(themed)
        look(themed, name, scheme)
    simulator.clear_fault()
    themed.goto("/")
    themed.get_by_text("Quick look: paste IDs").click()
    themed.get_by_label("Job IDs").fill("\n".join(scene.by_state.values()))
    themed.get_by_role("button", name="Look").click()
    expect(themed.locator("tr[data-job-id]")).to_have_count(len(scene.by_state))
    found["quick look"] = violations(themed)
    look(themed, "quick look", scheme)
    assert {name: found_here for name, found_here in found.items() if found_here} == {}


def test_what_axe_cannot_measure_has_contrast_too(themed, scene, simulator):
    """Placeholders (axe skips them) at 4.5:1, the focus ring at 3:1 against the page, and stale
    rows' text at 4.5:1 (they used to fade to about 2.9:1)."""
    upstream_failing(simulator)
    log_in(themed, "owner", "owner-pass-123")
    themed.goto(scene.watchlist.get_absolute_url())
    expect(themed.locator("tr[data-stale]").first).to_be_visible()

    label = themed.get_by_label(f"Label for job {scene.by_state['active']}")
    placeholder = label.evaluate(
        "(input) => __contrast(getComputedStyle(input, '::placeholder').color, __backdrop(input))"
    )
    assert placeholder >= 4.5, f"the label's placeholder is at {placeholder:.1f}:1"

    themed.keyboard.press("Tab")  # the skip link: the first stop of the keyboard
    ring = themed.evaluate(
        "() => { const el = document.activeElement; return [el.className, getComputedStyle(el).outlineStyle, "
        "__contrast(getComputedStyle(el).outlineColor, getComputedStyle(document.body).backgroundColor)]; }"
    )
    assert ring[1] != "none" and ring[2] >= 3, f"focus ring on .{ring[0]}: {ring[1]} at {ring[2]:.1f}:1"

    stale = themed.locator("tr[data-stale] td.checked").first.evaluate(
        "(cell) => __contrast(getComputedStyle(cell).color, __backdrop(cell))"
        " * Number(getComputedStyle(cell.closest('tr')).opacity)"
    )
    assert stale >= 4.5, f"stale rows' text is at {stale:.1f}:1"


def choose(page, url: str) -> None:
    """Press Enter on the focused chip, and wait until the page it brings is ready for the next press
    (htmx has boosted the new chips)."""
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(url))
    page.wait_for_function("() => document.getElementById('chip-failed')?.['htmx-internal-data']?.boosted === true")


def test_choosing_a_state_keeps_focus_on_its_chip(page, sign_in, scene):
    """The chips are boosted links: the page is swapped under them, and focus comes back to the
    chip used, not to <body>."""
    sign_in("owner", "owner-pass-123")
    page.goto(scene.watchlist.get_absolute_url())
    page.locator('a[data-count-state="failed"]').focus()
    choose(page, r"\?state=failed$")
    expect(page.locator('a[data-count-state="failed"]')).to_have_attribute("aria-current", "true")
    assert page.evaluate("document.activeElement.id") == "chip-failed"
    choose(page, r"/watchlists/\d+/$")  # again: every state
    expect(page.locator('a[data-count-state="failed"]')).not_to_have_attribute("aria-current", "true")
    assert page.evaluate("document.activeElement.id") == "chip-failed"
