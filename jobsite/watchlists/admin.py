from django.contrib import admin

from jobsite.watchlists.models import Watchlist, WatchlistJob


class WatchlistJobInline(admin.TabularInline):
    model = WatchlistJob
    fields = ["status", "added_at"]
    readonly_fields = ["status", "added_at"]
    extra = 0
    can_delete = True
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # IDs are added through the paste box, which parses and de-duplicates


@admin.register(Watchlist)
class WatchlistAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "connection", "poll_interval", "updated_at"]
    list_filter = ["connection"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner", "connection"]
    raw_id_fields = ["owner"]
    inlines = [WatchlistJobInline]
