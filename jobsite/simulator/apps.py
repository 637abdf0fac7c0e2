from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "jobsite.simulator"
    label = "simulator"
    verbose_name = "Immuta simulator"
