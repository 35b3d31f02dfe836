from django.apps import AppConfig


class PrecursorsConfig(AppConfig):
    name = "observatory.precursors"
