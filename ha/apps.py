from django.apps import AppConfig


class HaConfig(AppConfig):
    name = "ha"
    verbose_name = "High availability"

    def ready(self) -> None:
        from celery.signals import task_prerun
        from django.core.signals import request_started

        from ha import checks  # noqa: F401  (registers the system checks)
        from ha.role import connections_follow_role

        request_started.connect(connections_follow_role, dispatch_uid="ha-role-connections")
        task_prerun.connect(connections_follow_role, dispatch_uid="ha-role-connections")
