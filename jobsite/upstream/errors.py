"""Typed upstream failures: values the UI can show as they are, never crashes.

Each error carries a machine code (`kind`) for the UI and tests, a `message` in plain words an
analyst can read (never containing the token), and the HTTP status when there was one.
"""

from __future__ import annotations


class UpstreamError(Exception):
    kind: str = "upstream_error"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r}, status={self.status!r}, message={self.message!r})"


class TokenRejected(UpstreamError):
    """Upstream answered 401 or 403, or the API key exchange was refused."""

    kind = "token_rejected"


class Unreachable(UpstreamError):
    """No HTTP answer at all: refused, unknown host, reset, TLS failure."""

    kind = "unreachable"


class TimedOut(UpstreamError):
    """Connecting or reading took longer than the connection's timeout."""

    kind = "timed_out"


class UpstreamHTTPError(UpstreamError):
    """Any other non-2xx answer."""

    kind = "upstream_error"


class BadResponse(UpstreamError):
    """A 2xx answer that does not follow the contract (not JSON, not an object, odd entries)."""

    kind = "bad_response"
