"""The one policy: every role × scope × verb, granted and refused; refused writes change nothing."""

from __future__ import annotations

import pytest
from django.db.models import Q
from django.test import Client

from observatory.access import policy, services
from observatory.access.models import Assignment, AuditEvent, User
from observatory.access.roles import ROLE_DEFINITIONS, VERBS
from observatory.reference.models import Country
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.usefixtures("reference")

SCOPES = {"country": {"country": "COL"}, "region": {"region": "Americas"}, "global": {}}
CASES = [
    (role.code, scope, verb) for role in ROLE_DEFINITIONS for scope in role.allowed_scopes for verb in VERBS
]


@pytest.mark.parametrize(("role", "scope", "verb"), CASES)
def test_role_on_scope_grants_exactly_its_verbs_where_it_reaches(role: str, scope: str, verb: str) -> None:
    """Given a user holding one role on one scope, when the policy is asked about every verb on a
    country inside the scope (Colombia), one outside it (France) and with no country, then it grants
    exactly the role's verbs, and only where the scope reaches."""
    user = make_user(role, **SCOPES[scope])
    granted = verb in next(r.verbs for r in ROLE_DEFINITIONS if r.code == role)
    colombia = Country.objects.get(iso3="COL")
    france = Country.objects.get(iso3="FRA")

    assert policy.allows(user, verb, colombia) is granted
    assert policy.allows(user, verb, france) is (granted and scope == "global")
    assert policy.allows(user, verb) is granted
    assert policy.allows_globally(user, verb) is (granted and scope == "global")


def test_region_scope_reaches_every_country_of_the_region_and_no_other() -> None:
    """Given an analyst of the Americas, the reach of analysis.run is exactly the Americas' countries."""
    analyst = make_user("analyst", region="Americas")
    reach = policy.reach(analyst, "analysis.run")
    americas = set(Country.objects.filter(wdr_region__name="Americas").values_list("id", flat=True))
    assert reach.country_ids == americas
    assert len(americas) == 56
    assert not reach.everywhere


def test_anonymous_and_inactive_users_reach_nowhere() -> None:
    from django.contrib.auth.models import AnonymousUser

    inactive = make_user("reviewer")
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    inactive.refresh_from_db()
    for actor in (AnonymousUser(), inactive, None):
        assert all(not policy.allows(actor, verb) for verb in VERBS)


def test_unknown_verb_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown verb"):
        policy.allows(make_user("reviewer"), "reporting.delete_everything")


@pytest.mark.parametrize(
    ("classification", "reader", "expected"),
    [
        ("public", None, True),
        ("restricted", ("focal_point", {"country": "COL"}), True),
        ("restricted", ("focal_point", {"country": "PER"}), True),  # a party to the record
        ("restricted", ("focal_point", {"country": "FRA"}), False),
        ("restricted", ("analyst", {"region": "Americas"}), True),
        ("restricted", ("analyst", {"region": "Europe"}), False),
        ("confidential", ("focal_point", {"country": "PER"}), True),
        ("confidential", ("analyst", {"region": "Americas"}), False),
        ("confidential", ("analyst", {}), True),
        ("confidential", ("focal_point", {"country": "FRA"}), False),
    ],
)
def test_classification_decides_who_reads_a_record_of_colombia_naming_peru(
    classification: str, reader: tuple[str, dict[str, str]] | None, expected: bool
) -> None:
    """Given a record owned by Colombia that names Peru as a party, who may read it depends on its
    classification: public for all, restricted for the countries involved and the office covering them,
    confidential for the parties and the global office only."""
    user = make_user(reader[0], **reader[1]) if reader else None
    involved = list(
        Country.objects.filter(iso3__in=["COL", "PER"]).order_by("iso3").values_list("id", flat=True)
    )
    assert policy.may_read(user, "reporting.view", classification, involved) is expected


def test_scope_filter_applies_classification_in_the_query() -> None:
    """The same rules as a database filter, so counts and sums never include what may not be read."""
    france_focal = make_user("focal_point", country="FRA")
    condition = policy.scope_filter(france_focal, "reporting.view", ("country",), "classification")
    assert isinstance(condition, Q)
    reach = policy.reach(france_focal, "reporting.view")
    assert reach.country_ids == {Country.objects.get(iso3="FRA").pk}


def _write_counts() -> tuple[int, int, int]:
    return User.objects.count(), Assignment.objects.count(), AuditEvent.objects.count()


@pytest.mark.parametrize("role", [r.code for r in ROLE_DEFINITIONS if "access.manage" not in r.verbs])
def test_refused_role_assignment_changes_nothing(role: str) -> None:
    """Given a user without access.manage, when they try to create a user or assign a role, then they
    are refused and no user, assignment or audit row was written."""
    definition = next(r for r in ROLE_DEFINITIONS if r.code == role)
    actor = make_user(role, **({"country": "COL"} if "country" in definition.allowed_scopes else {}))
    target = make_user()
    before = _write_counts()
    with pytest.raises(policy.PermissionDenied):
        services.assign_role(actor, target, "reviewer")
    with pytest.raises(policy.PermissionDenied):
        services.create_user(actor, "intruder", PASSWORD)
    assert _write_counts() == before


def test_reviewer_assigns_a_role_and_it_is_audited() -> None:
    reviewer = make_user("reviewer")
    target = make_user()
    assignment = services.assign_role(
        reviewer, target, "focal_point", country=Country.objects.get(iso3="KEN")
    )
    event = AuditEvent.objects.get(action="assignment.create", object_id=str(assignment.pk))
    assert event.actor_label == reviewer.username
    assert event.country_iso3 == "KEN"
    assert event.after == {
        "user": target.username,
        "role": "focal_point",
        "scope": "country",
        "country": "KEN",
        "region": None,
    }


def test_role_cannot_be_held_on_a_scope_it_does_not_allow() -> None:
    reviewer = make_user("reviewer")
    with pytest.raises(services.InvalidAssignment, match="cannot be held on a country scope"):
        services.assign_role(reviewer, make_user(), "reviewer", country=Country.objects.get(iso3="KEN"))


@pytest.mark.parametrize("role", ["focal_point", "analyst", "board_officer", None])
def test_reference_admin_refuses_everyone_but_reference_managers_and_changes_nothing(
    client: Client, role: str | None
) -> None:
    """Given a signed-in user without reference.manage (or the public), when they post a change to a
    country in the admin, then they are refused and the country is unchanged."""
    if role is not None:
        user = make_user(role, **({"country": "COL"} if role == "focal_point" else {}))
        client.force_login(user)
    kenya = Country.objects.get(iso3="KEN")
    response = client.post(f"/admin/reference/country/{kenya.pk}/change/", {"iso3": "KEN", "name": "Hacked"})
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/admin/login/" in response["Location"]
    kenya.refresh_from_db()
    assert kenya.name == "Kenya"


def test_reviewer_edits_reference_data_in_the_admin_with_an_audit_row(client: Client) -> None:
    client.force_login(make_user("reviewer"))
    unit_page = client.get("/admin/reference/unit/")
    assert unit_page.status_code == 200
    from observatory.reference.models import Unit

    gram = Unit.objects.get(code="g")
    response = client.post(
        f"/admin/reference/unit/{gram.pk}/change/", {"code": "g", "name": "gramme", "dimension": "mass"}
    )
    assert response.status_code == 302
    gram.refresh_from_db()
    assert gram.name == "gramme"
    event = AuditEvent.objects.filter(action="reference.unit.update").latest("sequence")
    assert (event.before or {})["name"] == "gram"
    assert (event.after or {})["name"] == "gramme"


def test_verbs_held_are_the_union_of_the_users_roles() -> None:
    user = make_user("focal_point", country="COL")
    services.assign_role(
        None, user, "forensic_focal_point", country=Country.objects.get(iso3="COL"), system=True
    )
    expected = {
        v for r in ROLE_DEFINITIONS if r.code in {"focal_point", "forensic_focal_point"} for v in r.verbs
    }
    assert policy.verbs_held(user) == expected
