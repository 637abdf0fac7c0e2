from django.contrib import admin

from jobsite.statuses.models import JobStatus, StateChange


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
