"""Factories for people and their roles: users are made through the same services the system uses."""

from __future__ import annotations

import itertools

from observatory.access import services
from observatory.access.models import User
from observatory.reference.models import Country, Region

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def make_user(role: str | None = None, *, country: str | None = None, region: str | None = None) -> User:
    """A user holding ``role`` on a country (ISO3), a WDR region (name), or globally."""
    user = services.create_user(None, f"user{next(_counter)}", PASSWORD, system=True)
    if role is not None:
        services.assign_role(
            None,
            user,
            role,
            country=Country.objects.get(iso3=country) if country else None,
            region=Region.objects.get(name=region, kind=Region.Kind.WDR_REGION) if region else None,
            system=True,
        )
    return user
