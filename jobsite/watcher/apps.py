from django.apps import AppConfig


class WatcherConfig(AppConfig):
    name = "jobsite.watcher"
    verbose_name = "Watcher"
