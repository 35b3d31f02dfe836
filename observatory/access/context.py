"""Navigation shown in the page header, filtered by what the user may do."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from observatory.access import policy


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    verb: str | None  # None: every signed-in user


# Apps add their entry points here; the verb decides who sees them.
NAV_ITEMS: list[NavItem] = [
    NavItem("Dashboard", "dashboard", None),
    NavItem("Jobs", "jobs:list", None),
    NavItem("Audit trail", "audit", "audit.view"),
    NavItem("Reference admin", "admin:index", "reference.manage"),
]


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for item in NAV_ITEMS:
        if item.verb is not None and not policy.allows(user, item.verb):
            continue
        try:
            items.append({"label": item.label, "url": reverse(item.url_name)})
        except NoReverseMatch:
            continue
    return {"nav_items": items}
