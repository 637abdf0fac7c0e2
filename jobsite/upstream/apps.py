from django.apps import AppConfig


class UpstreamConfig(AppConfig):
    name = "jobsite.upstream"
    verbose_name = "Upstream connections"

    def ready(self) -> None:
        from jobsite.upstream import checks  # noqa: F401  (registers the checks)
