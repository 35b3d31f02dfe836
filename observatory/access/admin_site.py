from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest

from observatory.access import policy


class ObservatoryAdminSite(admin.AdminSite):
    site_header = "Drug Observatory — reference data"
    site_title = "Drug Observatory admin"

    def has_permission(self, request: HttpRequest) -> bool:
        # The policy, not Django's is_staff flag, decides who manages reference data.
        return policy.allows(request.user, "reference.manage")


class ObservatoryAdminConfig(AdminConfig):
    """The admin, for reference data only, open to holders of ``reference.manage``."""

    default_site = "observatory.access.admin_site.ObservatoryAdminSite"
