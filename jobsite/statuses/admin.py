from django.contrib import admin

from jobsite.statuses.models import JobStatus, StateChange


@admin.register(JobStatus)
class JobStatusAdmin(admin.ModelAdmin):
    """Read-only: the store mirrors upstream and is written only by the status service."""

    list_display = ["job_id", "connection", "state", "reported", "checked_at", "changed_at"]
    list_filter = ["connection", "state", "reported"]
    search_fields = ["job_id"]
    list_select_related = ["connection"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StateChange)
class StateChangeAdmin(admin.ModelAdmin):
    list_display = ["job_id", "state", "observed_at", "connection"]
    list_filter = ["connection", "state"]
    search_fields = ["job_id"]
    list_select_related = ["connection"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
