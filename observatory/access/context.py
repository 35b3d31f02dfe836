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


CORE_NAV_ITEMS: list[NavItem] = [NavItem("Dashboard", "dashboard", None)]
TOOLS_NAV_ITEMS: list[NavItem] = [
    NavItem("Jobs", "jobs:list", None),
    NavItem("Audit trail", "audit", "audit.view"),
    NavItem("Reference admin", "admin:index", "reference.manage"),
]
# The header shows one entry per app: a link, or a menu when the user may use several of its pages.
APP_TITLES = {
    "reporting": "Questionnaire",
    "seizures": "Seizures",
    "analysis": "Analysis",
    "earlywarning": "NPS",
    "precursors": "Precursors",
    "publication": "Publication",
}


def nav_groups() -> list[tuple[str, list[NavItem]]]:
    """(title, items) per header entry: the core, each domain app's ``NAV_ITEMS``, then the tools."""
    groups = [("Dashboard", CORE_NAV_ITEMS)]
    for app in settings.DOMAIN_APPS:
        if importlib.util.find_spec(f"observatory.{app}.navigation") is not None:
            groups.append(
                (APP_TITLES.get(app, app), importlib.import_module(f"observatory.{app}.navigation").NAV_ITEMS)
            )
    groups.append(("Tools", TOOLS_NAV_ITEMS))
    return groups


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_groups": []}
    held = policy.verbs_held(user)
    entries = []
    for title, items in nav_groups():
        links = []
        for item in items:
            if item.verb is not None and item.verb not in held:
                continue
            try:
                links.append({"label": item.label, "url": reverse(item.url_name)})
            except NoReverseMatch:
                continue
        if links:
            entries.append(
                {
                    "title": title,
                    "links": links,
                    "current": any(request.path == link["url"] for link in links),
                }
            )
    return {"nav_groups": entries}
