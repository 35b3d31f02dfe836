from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operating the system: demo set-up, serving the web process and the worker."""

    name = "observatory.ops"
    verbose_name = "Operations"
