"""What the bench reads out of the site's HTML: the live cursor and the sign-in form's CSRF token."""

from __future__ import annotations

import html
import re

# `<input type="hidden" id="live-since" name="since" value="…">`, maybe with hx-swap-oob.
_SINCE = re.compile(r'<input\b[^>]*\bid="live-since"[^>]*>')
_VALUE = re.compile(r'\bvalue="([^"]*)"')
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def live_cursor(text: str) -> str | None:
    """The newest cursor in a page or a refresh (the last `live-since` input), unescaped."""
    found = None
    for tag in _SINCE.finditer(text):
        value = _VALUE.search(tag.group(0))
        if value:
            found = html.unescape(value.group(1))
    return found


def csrf_token(text: str) -> str | None:
    match = _CSRF.search(text)
    return match.group(1) if match else None
