"""The one permission policy: "may this user do this verb on this object?".

Pages, the API, exports and background jobs all ask here. Grants come only from role assignments
on a scope; a country-scoped grant covers that country, a region-scoped grant covers every country of
the region (WDR region or subregion), a global grant covers every country.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from observatory.access.roles import VERBS

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from observatory.access.models import User
    from observatory.reference.models import Country

    Actor = User | AnonymousUser


class Classification(StrEnum):
    """Who may read a country-owned record (DESIGN.md, security model)."""

    PUBLIC = "public"  # published: anyone
    RESTRICTED = "restricted"  # governments and the office with the verb on a country involved
    CONFIDENTIAL = "confidential"  # the parties named on the record and the global office only


class PermissionDenied(Exception):
    """Raised by services when the policy refuses; views and the API turn it into 403."""

    def __init__(self, verb: str, detail: str = "") -> None:
        self.verb = verb
        super().__init__(detail or f"not allowed: {verb}")


@dataclass(frozen=True)
class CountryReach:
    """The countries on which a user holds a verb, split by how the grant was made."""

    everywhere: bool
    by_country: frozenset[int]  # country ids from country-scoped assignments
    by_region: frozenset[int]  # country ids reached through region-scoped assignments

    @property
    def country_ids(self) -> frozenset[int]:
        return self.by_country | self.by_region

    @property
    def is_empty(self) -> bool:
        return not self.everywhere and not self.by_country and not self.by_region

    def covers(self, country_id: int | None) -> bool:
        return self.everywhere or (country_id is not None and country_id in self.country_ids)


NOWHERE = CountryReach(False, frozenset(), frozenset())


def _check_verb(verb: str) -> None:
    if verb not in VERBS:
        raise ValueError(f"unknown verb {verb!r}")


def reach(user: Actor | None, verb: str) -> CountryReach:
    """Where ``user`` may do ``verb``. Anonymous and inactive users reach nowhere."""
    from observatory.access.models import Assignment
    from observatory.reference.models import Country

    _check_verb(verb)
    if user is None or not user.is_authenticated or not user.is_active:
        return NOWHERE
    # A user holds a handful of assignments: read them all and match the verb here, which works the same
    # on SQLite (no JSON containment lookup) and PostgreSQL.
    assignments = Assignment.objects.filter(user_id=user.pk)
    everywhere = False
    countries: set[int] = set()
    region_ids: set[int] = set()
    for assignment in assignments.select_related("role"):
        if verb not in assignment.role.verbs:
            continue
        if assignment.scope == "global":
            everywhere = True
        elif assignment.scope == "country" and assignment.country_id is not None:
            countries.add(assignment.country_id)
        elif assignment.region_id is not None:
            region_ids.add(assignment.region_id)
    by_region: set[int] = set()
    if region_ids:
        by_region = set(
            Country.objects.filter(
                Q(wdr_region_id__in=region_ids)
                | Q(wdr_subregion_id__in=region_ids)
                | Q(m49_region_id__in=region_ids)
                | Q(m49_subregion_id__in=region_ids)
                | Q(m49_intermediate_region_id__in=region_ids)
            ).values_list("id", flat=True)
        )
    return CountryReach(everywhere, frozenset(countries), frozenset(by_region))


def verbs_held(user: Actor | None) -> frozenset[str]:
    """Every verb the user holds on some scope (one query), e.g. to decide which links to show."""
    from observatory.access.models import Role

    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    roles = Role.objects.filter(assignments__user_id=user.pk).values_list("verbs", flat=True)
    return frozenset(verb for verbs in roles for verb in verbs)


def allows(user: Actor | None, verb: str, country: Country | int | None = None) -> bool:
    """May ``user`` do ``verb`` on something owned by ``country``? With no country: anywhere at all."""
    granted = reach(user, verb)
    if country is None:
        return not granted.is_empty
    country_id = country if isinstance(country, int) else country.pk
    return granted.covers(country_id)


def allows_globally(user: Actor | None, verb: str) -> bool:
    return reach(user, verb).everywhere


def require(user: Actor | None, verb: str, country: Country | int | None = None) -> None:
    if not allows(user, verb, country):
        raise PermissionDenied(verb)


def may_read(
    user: Actor | None,
    verb: str,
    classification: Classification | str,
    countries_involved: list[int],
) -> bool:
    """May ``user`` read a record of this classification involving these countries (owner first)?"""
    if Classification(classification) is Classification.PUBLIC:
        return True
    granted = reach(user, verb)
    if granted.everywhere:
        return True
    if Classification(classification) is Classification.CONFIDENTIAL:
        return any(country_id in granted.by_country for country_id in countries_involved)
    return any(country_id in granted.country_ids for country_id in countries_involved)


def scope_filter(
    user: Actor | None,
    verb: str,
    country_lookups: tuple[str, ...] = ("country",),
    classification_field: str | None = None,
) -> Q:
    """A filter selecting the rows ``user`` may see with ``verb``; apply it before any count or sum.

    ``country_lookups`` are the paths to the countries a row involves (owner first, then parties);
    ``classification_field`` adds the public/restricted/confidential rule.
    """
    granted = reach(user, verb)
    if granted.everywhere:
        return Q()
    if classification_field is None:
        return _any_country_in(country_lookups, granted.country_ids)
    public = Q(**{classification_field: Classification.PUBLIC.value})
    restricted = Q(**{classification_field: Classification.RESTRICTED.value}) & _any_country_in(
        country_lookups, granted.country_ids
    )
    confidential = Q(**{classification_field: Classification.CONFIDENTIAL.value}) & _any_country_in(
        country_lookups, granted.by_country
    )
    return public | restricted | confidential


def _any_country_in(country_lookups: tuple[str, ...], country_ids: frozenset[int]) -> Q:
    if not country_ids:
        return Q(pk__in=[])
    condition = Q()
    for lookup in country_lookups:
        condition |= Q(**{f"{lookup}__in": sorted(country_ids)})
    return condition


def scoped(
    queryset: QuerySet[Any],
    user: Actor | None,
    verb: str,
    country_lookups: tuple[str, ...] = ("country",),
    classification_field: str | None = None,
) -> QuerySet[Any]:
    """``queryset`` narrowed to what ``user`` may see with ``verb`` (distinct when parties are joined)."""
    narrowed = queryset.filter(scope_filter(user, verb, country_lookups, classification_field))
    return narrowed.distinct() if len(country_lookups) > 1 else narrowed
