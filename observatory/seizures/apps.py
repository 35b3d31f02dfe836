from django.apps import AppConfig


class SeizuresConfig(AppConfig):
    name = "observatory.seizures"
