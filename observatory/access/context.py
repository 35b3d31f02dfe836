"""Navigation shown in the page header, filtered by what the user may do."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from observatory.access import policy


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    verb: str | None  # None: every signed-in user


CORE_NAV_ITEMS: list[NavItem] = [
    NavItem("Dashboard", "dashboard", None),
]
TRAILING_NAV_ITEMS: list[NavItem] = [
    NavItem("Jobs", "jobs:list", None),
    NavItem("Audit trail", "audit", "audit.view"),
    NavItem("Reference admin", "admin:index", "reference.manage"),
]


def nav_items() -> list[NavItem]:
    """The core entries, then each domain app's ``NAV_ITEMS`` (from its ``navigation`` module)."""
    items = list(CORE_NAV_ITEMS)
    for app in settings.DOMAIN_APPS:
        if importlib.util.find_spec(f"observatory.{app}.navigation") is not None:
            items.extend(importlib.import_module(f"observatory.{app}.navigation").NAV_ITEMS)
    return items + TRAILING_NAV_ITEMS


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for item in nav_items():
        if item.verb is not None and not policy.allows(user, item.verb):
            continue
        try:
            items.append({"label": item.label, "url": reverse(item.url_name)})
        except NoReverseMatch:
            continue
    return {"nav_items": items}
