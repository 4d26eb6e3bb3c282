from django.apps import AppConfig


class HaConfig(AppConfig):
    name = "ha"
    verbose_name = "High availability"

    def ready(self) -> None:
        from ha import checks  # noqa: F401  (registers the system checks)
