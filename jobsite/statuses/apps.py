from django.apps import AppConfig


class StatusesConfig(AppConfig):
    name = "jobsite.statuses"
    verbose_name = "Job statuses"
