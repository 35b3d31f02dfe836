from django.contrib import admin
from django.urls import include, path

from observatory import views
from observatory.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("observatory.access.urls")),
    path("jobs/", include("observatory.jobs.urls")),
]
