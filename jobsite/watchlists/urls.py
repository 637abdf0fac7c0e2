from django.urls import path

from jobsite.watchlists import views

urlpatterns = [
    path("", views.home, name="home"),
    path("watchlists/new/", views.watchlist_new, name="watchlist_new"),
    path("quick-look/", views.quick_look, name="quick_look"),
    path("watchlists/<int:pk>/", views.watchlist_detail, name="watchlist"),
    path("watchlists/<int:pk>/live/", views.watchlist_live, name="watchlist_live"),
    path("watchlists/<int:pk>/jobs/<uuid:job_id>/", views.watchlist_job, name="watchlist_job"),
    path("watchlists/<int:pk>/jobs/<uuid:job_id>/live/", views.watchlist_job_live, name="watchlist_job_live"),
    path("watchlists/<int:pk>/jobs/<uuid:job_id>/output/", views.watchlist_job_output, name="watchlist_job_output"),
    path("watchlists/<int:pk>/jobs/<uuid:job_id>/label/", views.watchlist_job_label, name="watchlist_job_label"),
    path("watchlists/<int:pk>/export.csv", views.watchlist_export, {"fmt": "csv"}, name="watchlist_export_csv"),
    path("watchlists/<int:pk>/export.json", views.watchlist_export, {"fmt": "json"}, name="watchlist_export_json"),
    path("watchlists/<int:pk>/edit/", views.watchlist_edit, name="watchlist_edit"),
    path("watchlists/<int:pk>/jobs/add/", views.watchlist_add_jobs, name="watchlist_add_jobs"),
    path("watchlists/<int:pk>/jobs/remove/", views.watchlist_remove_jobs, name="watchlist_remove_jobs"),
    path("watchlists/<int:pk>/delete/", views.watchlist_delete, name="watchlist_delete"),
]
