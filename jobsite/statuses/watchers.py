"""Watcher heartbeats: whether a `manage.py watch` process keeps the store fresh right now.

While one is alive, pages only read the store; without one (plain `runserver`, or the watcher
died) they fall back to asking upstream themselves. Pages ask on every request, so the answer is
remembered in each process for a second.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from django.utils import timezone

from jobsite.statuses.models import Watcher

# A watcher beats at least this often, and is taken for dead after STALE_AFTER without a beat.
BEAT_EVERY = timedelta(seconds=2)
STALE_AFTER = timedelta(seconds=10)
REMEMBER_FOR = 1.0  # seconds a process trusts its last answer to "is a watcher alive?"

_remembered: tuple[float, bool] = (0.0, False)
_remembered_lock = threading.Lock()


def watcher_start(*, name: str) -> Watcher:
    now = timezone.now()
    watcher, _created = Watcher.objects.update_or_create(
        name=name,
        defaults={"started_at": now, "seen_at": now, "stopped_at": None, "rounds": 0},
    )
    return watcher


def watcher_beat(*, watcher: Watcher, asked: int | None = None, changed: int = 0, took_ms: int = 0) -> None:
    """Say the watcher is alive; with `asked`, also record the round it just finished."""
    fields: dict[str, object] = {"seen_at": timezone.now()}
    if asked is not None:
        watcher.rounds += 1
        fields |= {"rounds": watcher.rounds, "last_asked": asked, "last_changed": changed, "last_took_ms": took_ms}
    Watcher.objects.filter(pk=watcher.pk).update(**fields)


def watcher_stop(*, watcher: Watcher) -> None:
    """A clean stop: pages fall back at once instead of after STALE_AFTER."""
    Watcher.objects.filter(pk=watcher.pk).update(stopped_at=timezone.now())
    forget()


def watchers_alive() -> bool:
    global _remembered
    now = time.monotonic()
    remembered_at, alive = _remembered
    if now - remembered_at < REMEMBER_FOR:
        return alive
    alive = Watcher.objects.filter(stopped_at=None, seen_at__gte=timezone.now() - STALE_AFTER).exists()
    with _remembered_lock:
        _remembered = (now, alive)
    return alive


def watcher_last_seen() -> datetime | None:
    """When any watcher last beat; None if none ever ran."""
    return Watcher.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()


def forget() -> None:
    """Drop this process's remembered answer (a watcher started or stopped here; tests)."""
    global _remembered
    with _remembered_lock:
        _remembered = (0.0, False)
