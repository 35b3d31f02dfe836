"""URL map. Each domain app that has a ``urls`` module is mounted at /<app>/ (its pages) — apps plug in
without editing this file."""

import importlib.util

from django.contrib import admin
from django.urls import include, path

from observatory import views
from observatory.api import api
from observatory.publication.views import portal_home
from observatory.settings import DOMAIN_APPS

urlpatterns = [
    path("", portal_home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("observatory.access.urls")),
    path("jobs/", include("observatory.jobs.urls")),
]

for app in DOMAIN_APPS:
    if importlib.util.find_spec(f"observatory.{app}.urls") is not None:
        urlpatterns.append(path(f"{app}/", include(f"observatory.{app}.urls")))

# SDMX-REST 2.1 for statistical clients.
urlpatterns.append(path("sdmx/", include("observatory.publication.sdmx_urls")))
