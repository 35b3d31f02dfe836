from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "observatory.access"
    verbose_name = "Access and audit"
