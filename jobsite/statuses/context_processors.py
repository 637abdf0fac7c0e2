"""What every page may need to tell staff about the status engine."""

from __future__ import annotations

from django.http import HttpRequest

from jobsite.statuses import watchers


def watcher(request: HttpRequest) -> dict:
    """For staff only: whether pages are falling back to asking upstream themselves."""
    user = getattr(request, "user", None)
    if user is None or not user.is_staff:
        return {}
    if watchers.watchers_alive():
        return {"watcher_missing": False}
    return {"watcher_missing": True, "watcher_last_seen": watchers.watcher_last_seen()}
