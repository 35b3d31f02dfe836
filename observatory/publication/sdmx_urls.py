"""SDMX-REST 2.1 routes; mounted by the project at /sdmx/."""

from django.urls import re_path

from observatory.publication import sdmx_views

_ID = r"[A-Za-z0-9_@$\-]+"
_VERSION = r"[A-Za-z0-9_.~+\-]+"
_FLOW = r"[A-Za-z0-9_@$\-,.]+"
_KEY = r"[A-Za-z0-9_@$\-+.]*"

app_name = "sdmx"
urlpatterns = [
    re_path(rf"^data/(?P<flow>{_FLOW})/?$", sdmx_views.data, name="data"),
    re_path(rf"^data/(?P<flow>{_FLOW})/(?P<key>{_KEY})/?$", sdmx_views.data, name="data_key"),
    re_path(
        rf"^data/(?P<flow>{_FLOW})/(?P<key>{_KEY})/(?P<provider>[A-Za-z0-9_@$\-,.]+)/?$",
        sdmx_views.data,
        name="data_key_provider",
    ),
    re_path(r"^(?P<resource>[a-z]+)/?$", sdmx_views.structure, name="structure_all"),
    re_path(rf"^(?P<resource>[a-z]+)/(?P<agency>{_ID})/?$", sdmx_views.structure, name="structure_agency"),
    re_path(
        rf"^(?P<resource>[a-z]+)/(?P<agency>{_ID})/(?P<resource_id>{_ID})/?$",
        sdmx_views.structure,
        name="structure_id",
    ),
    re_path(
        rf"^(?P<resource>[a-z]+)/(?P<agency>{_ID})/(?P<resource_id>{_ID})/(?P<version>{_VERSION})/?$",
        sdmx_views.structure,
        name="structure",
    ),
    re_path(r"^(?P<resource>[a-z]+)/(?P<rest>.+)$", sdmx_views.not_provided, name="not_provided"),
]
