"""What the bench reads out of the site's HTML."""

from bench.pages import csrf_token, live_cursor


def test_it_reads_the_cursor_of_a_first_render():
    page = (
        '<div id="live"><input type="hidden" id="live-since" name="since" '
        'value="1.5:ok:|2026-11-29T16:00:00+00:00"></div>'
    )

    assert live_cursor(page) == "1.5:ok:|2026-11-29T16:00:00+00:00"


def test_it_unescapes_the_cursor():
    page = '<input type="hidden" id="live-since" name="since" value="1.5:ok:state=failed&amp;q=x|2026">'

    assert live_cursor(page) == "1.5:ok:state=failed&q=x|2026"


def test_it_takes_the_last_cursor_of_an_out_of_band_refresh():
    body = (
        '<input type="hidden" id="live-since" name="since" value="old">'
        '<input type="hidden" id="live-since" name="since" value="new" hx-swap-oob="true">'
    )

    assert live_cursor(body) == "new"


def test_it_finds_no_cursor_in_a_page_without_one():
    assert live_cursor('<input type="hidden" name="since" value="x">') is None


def test_it_reads_the_csrf_token():
    form = '<input type="hidden" name="csrfmiddlewaretoken" value="abc123">'

    assert csrf_token(form) == "abc123"
    assert csrf_token("<form></form>") is None
