"""Workflow: every transition from every state, by the role that holds its verb and by those that do not."""

from __future__ import annotations

import pytest

from observatory.access import policy
from observatory.access.models import AuditEvent
from observatory.reporting import services
from observatory.reporting.models import Submission
from tests.factories import make_user
from tests.reporting.factories import draft, in_status, prevalence

pytestmark = pytest.mark.usefixtures("reference")

STATUSES = ["draft", "submitted", "under_review", "validated", "approved"]
ALLOWED = {
    ("draft", "submit"): "submitted",
    ("submitted", "start_review"): "under_review",
    ("submitted", "send_back"): "draft",
    ("under_review", "send_back"): "draft",
    ("validated", "send_back"): "draft",
    ("under_review", "validate"): "validated",
    ("validated", "approve"): "approved",
    ("approved", "reopen"): "under_review",
}
HOLDER = {"submit": "focal_point", "start_review": "analyst", "send_back": "analyst", "validate": "analyst",
          "approve": "reviewer", "reopen": "reviewer"}  # fmt: skip


def actor_for(name: str):
    role = HOLDER[name]
    return make_user(role, country="COL") if role == "focal_point" else make_user(role)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("name", list(services.TRANSITIONS))
def test_given_a_state_when_the_verb_holder_moves_then_only_the_table_allows_it(
    status: str, name: str
) -> None:
    submission = in_status(status)
    actor = actor_for(name)
    events = AuditEvent.objects.count()
    reason = "figures to check" if services.TRANSITIONS[name].needs_reason else ""
    if (status, name) in ALLOWED:
        services.transition(actor, submission, name, reason)
        submission.refresh_from_db()
        assert submission.status == ALLOWED[(status, name)]
        assert AuditEvent.objects.count() == events + 1
        event = AuditEvent.objects.order_by("-sequence").first()
        assert event is not None and event.action == f"reporting.submission.{name}"
        assert event.before is not None and event.after is not None
        assert event.before["status"] == status and event.after["status"] == ALLOWED[(status, name)]
        assert event.reason == reason
    else:
        with pytest.raises(services.WorkflowError):
            services.transition(actor, submission, name, reason)
        submission.refresh_from_db()
        assert submission.status == status
        assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("status", "name", "role"),
    [
        ("draft", "submit", "analyst"),
        ("draft", "submit", "reviewer"),
        ("submitted", "start_review", "focal_point"),
        ("under_review", "validate", "focal_point"),
        ("under_review", "validate", "reviewer"),
        ("validated", "approve", "analyst"),
        ("validated", "approve", "focal_point"),
        ("approved", "reopen", "analyst"),
        ("approved", "reopen", "focal_point"),
    ],
)
def test_given_a_role_without_the_verb_when_it_moves_then_refused_and_nothing_changes(
    status: str, name: str, role: str
) -> None:
    submission = in_status(status)
    actor = make_user(role, country="COL") if role == "focal_point" else make_user(role)
    events = AuditEvent.objects.count()
    with pytest.raises(policy.PermissionDenied):
        services.transition(actor, submission, name, "reason")
    submission.refresh_from_db()
    assert submission.status == status
    assert AuditEvent.objects.count() == events


def test_given_a_focal_point_who_is_also_reviewer_when_approving_own_country_then_refused() -> None:
    submission = in_status("validated")
    both = make_user("focal_point", country="COL")
    from observatory.access import services as access_services

    access_services.assign_role(None, both, "reviewer", system=True)
    assert "approve" not in [t.name for t in services.allowed_transitions(both, submission)]
    with pytest.raises(policy.PermissionDenied):
        services.transition(both, submission, "approve")
    submission.refresh_from_db()
    assert submission.status == "validated"
    # The same person may approve another country's submission.
    other = in_status("validated", iso3="NLD")
    services.transition(both, other, "approve")
    other.refresh_from_db()
    assert other.status == "approved"


@pytest.mark.parametrize("name", ["send_back", "reopen"])
def test_given_a_back_transition_when_no_reason_then_refused(name: str) -> None:
    submission = in_status("approved" if name == "reopen" else "submitted")
    status = submission.status
    with pytest.raises(services.WorkflowError, match="needs a reason"):
        services.transition(actor_for(name), submission, name, "  ")
    submission.refresh_from_db()
    assert submission.status == status


@pytest.mark.parametrize("status", ["submitted", "under_review", "validated", "approved"])
def test_given_a_submission_past_draft_when_the_focal_point_edits_then_refused_and_values_stay(
    status: str,
) -> None:
    submission = in_status(status)
    focal = make_user("focal_point", country="COL")
    with pytest.raises(services.WorkflowError):
        services.save_values(focal, submission, [services.CellChange(prevalence("cannabis"), "3.1", 0)])
    assert submission.values.count() == 0


def test_given_validated_submissions_when_bulk_approved_then_each_is_approved_or_refused_with_reason() -> (
    None
):
    validated = [in_status("validated", iso3) for iso3 in ("COL", "NLD")]
    draft_one = in_status("draft", "DEU")
    reviewer = make_user("reviewer")
    outcomes = services.bulk_approve(reviewer, [s.pk for s in [*validated, draft_one]])
    assert [(o.submission_id, o.approved) for o in outcomes] == sorted(
        [(validated[0].pk, True), (validated[1].pk, True), (draft_one.pk, False)]
    )
    assert Submission.objects.get(pk=draft_one.pk).status == "draft"
    assert {Submission.objects.get(pk=s.pk).status for s in validated} == {"approved"}


def test_given_a_draft_when_values_are_saved_then_history_keeps_who_when_and_previous() -> None:
    submission, focal = draft()
    key = prevalence("cannabis")
    (first,) = services.save_values(focal, submission, [services.CellChange(key, "3.1", 0)])
    (second,) = services.save_values(
        focal, submission, [services.CellChange(key, "3.4", first.version, comment="revised survey weights")]
    )
    value = submission.values.get()
    assert (first.version, second.version) == (1, 2)
    assert (value.value, value.previous, value.comment, value.updated_by_id) == (
        3.4,
        3.1,
        "revised survey weights",
        focal.pk,
    )
    event = AuditEvent.objects.filter(action="reporting.values.save").order_by("-sequence").first()
    assert event is not None
    cell = "gp_prevalence|age_group=total;drug=cannabis;estimate=best;period=past_year;sex=total"
    assert (event.before, event.after, event.actor_id) == ({cell: 3.1}, {cell: 3.4}, focal.pk)


def test_given_an_invitation_when_the_provider_fills_another_module_then_refused() -> None:
    submission, focal = draft()
    provider = make_user("focal_point", country="COL")
    services.invite_provider(focal, submission, provider, ["treatment"])
    with pytest.raises(services.InvalidValues, match="invited to fill treatment only"):
        services.save_values(provider, submission, [services.CellChange(prevalence("cannabis"), "3", 0)])
    assert submission.values.count() == 0


def test_given_a_user_of_another_country_when_invited_then_refused() -> None:
    submission, focal = draft()
    stranger = make_user("focal_point", country="NLD")
    with pytest.raises(services.WorkflowError, match="not a data provider"):
        services.invite_provider(focal, submission, stranger, ["treatment"])
    assert submission.invitations.count() == 0


def test_given_a_query_when_provider_answers_and_analyst_closes_then_thread_and_status_follow() -> None:
    submission = in_status("under_review")
    analyst = make_user("analyst")
    focal = make_user("focal_point", country="COL")
    query = services.raise_query(analyst, submission, prevalence("cannabis"), "Please check.")
    services.reply_to_query(focal, query, "Checked: correct.")
    assert query.status == "answered"
    services.close_query(analyst, query)
    assert query.status == "closed"
    assert [m.text for m in query.messages.all()] == ["Please check.", "Checked: correct."]
    with pytest.raises(policy.PermissionDenied):
        services.raise_query(focal, submission, prevalence("cannabis"), "self query")
