from django.contrib import admin
from django.utils import timezone

from jobsite.statuses import watchers
from jobsite.statuses.models import ConnectionHealth, JobStatus, StateChange, Watcher


class ReadOnlyAdmin(admin.ModelAdmin):
    """The store mirrors upstream and is written only by the status service."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(JobStatus)
class JobStatusAdmin(ReadOnlyAdmin):
    list_display = ["job_id", "connection", "state", "reported", "checked_at", "changed_at"]
    list_filter = ["connection", "state", "reported"]
    search_fields = ["job_id"]
    list_select_related = ["connection"]


@admin.register(StateChange)
class StateChangeAdmin(ReadOnlyAdmin):
    list_display = ["job_id", "state", "observed_at", "connection"]
    list_filter = ["connection", "state"]
    search_fields = ["job_id"]
    list_select_related = ["connection"]


@admin.register(Watcher)
class WatcherAdmin(ReadOnlyAdmin):
    """`manage.py watch` processes, by their heartbeats: pages only read the store while one is alive."""

    list_display = [
        "name",
        "alive",
        "seen_at",
        "started_at",
        "stopped_at",
        "rounds",
        "last_asked",
        "last_changed",
        "last_took_ms",
    ]

    @admin.display(boolean=True)
    def alive(self, watcher: Watcher) -> bool:
        return watcher.stopped_at is None and watcher.seen_at >= timezone.now() - watchers.STALE_AFTER


@admin.register(ConnectionHealth)
class ConnectionHealthAdmin(ReadOnlyAdmin):
    list_display = ["connection", "kind", "failures", "failing_since", "retry_at", "message"]
    list_select_related = ["connection"]
