from django.apps import AppConfig


class ReferenceConfig(AppConfig):
    name = "observatory.reference"
    verbose_name = "Reference data"
