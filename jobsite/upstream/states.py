"""The seven job states of the statuses contract (pg-boss's states) and how to read them."""

from __future__ import annotations

from typing import Any

CREATED = "created"
RETRY = "retry"
ACTIVE = "active"
COMPLETED = "completed"
CANCELLED = "cancelled"
EXPIRED = "expired"
FAILED = "failed"

# Display order: the journey of a job, then its endings, worst first.
STATES: tuple[str, ...] = (CREATED, RETRY, ACTIVE, FAILED, EXPIRED, CANCELLED, COMPLETED)
TERMINAL_STATES: frozenset[str] = frozenset({COMPLETED, CANCELLED, EXPIRED, FAILED})

# Pseudo-states that jobsite shows but upstream never sends.
NOT_FOUND = "not_found"
UNKNOWN = "unknown"
PENDING = "pending"  # never checked yet

MAX_STATE_LENGTH = 64  # characters a stored state holds (JobStatus.state, StateChange.state)
UNREADABLE_PREFIX = "unreadable entry: "

LABELS: dict[str, str] = {
    CREATED: "Created",
    RETRY: "Retry",
    ACTIVE: "Active",
    COMPLETED: "Completed",
    CANCELLED: "Cancelled",
    EXPIRED: "Expired",
    FAILED: "Failed",
    NOT_FOUND: "Not found",
    UNKNOWN: "Unknown",
    PENDING: "Not checked yet",
}


def is_terminal(state: str | None) -> bool:
    return state in TERMINAL_STATES


def normalize_state(raw: Any) -> str | None:
    """Return the state string upstream meant, cut to fit (`fit_state`), or None when it cannot be read.

    The contract types `state` as `array[string]` while its example sends a plain string:
    a string or a one-element list of a string are both that state; anything else is unreadable.
    """
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    if isinstance(raw, str) and raw:
        return fit_state(raw)
    return None


def fit_state(text: str) -> str:
    """`text` as the state column holds it: a longer one is cut and ends in "…". A cut text is
    never one of the seven, so pages show it as an unknown state, with the text."""
    return text if len(text) <= MAX_STATE_LENGTH else text[: MAX_STATE_LENGTH - 1] + "…"


def unreadable(why: str) -> str:
    """The state stored for a job whose entry jobsite could not read. It is not one of the seven,
    so pages show it as an unknown state with this text, which says why in a few words."""
    return fit_state(UNREADABLE_PREFIX + why)


def is_unreadable(state: str | None) -> bool:
    return state is not None and state.startswith(UNREADABLE_PREFIX)
