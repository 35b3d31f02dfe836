from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "observatory.jobs"
    verbose_name = "Background jobs"
