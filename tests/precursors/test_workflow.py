"""Pre-export notification workflow, from the authorities' side, with a frozen clock value."""

import datetime as dt
from dataclasses import replace

import pytest

from observatory.precursors.kernels.workflow import (
    TRANSITIONS,
    Action,
    Actor,
    State,
    TransitionError,
    allowed_actions,
    amend,
    apply,
    expire_due,
    new_notification,
)

T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
FIFTEEN_DAYS = dt.timedelta(days=15)
EXP, IMP, SYS = Actor.EXPORTING_AUTHORITY, Actor.IMPORTING_AUTHORITY, Actor.SYSTEM


def sent():
    return apply(new_notification("PEN-1", FIFTEEN_DAYS), Action.SEND, EXP, T0)


def test_given_a_draft_when_the_exporter_sends_it_then_the_clock_starts():
    notification = sent()
    assert notification.state is State.SENT
    assert notification.deadline == dt.datetime(2025, 3, 16, 9, 0, tzinfo=dt.UTC)
    assert [(e.action, e.from_state, e.to_state) for e in notification.history] == [
        (Action.SEND, State.DRAFT, State.SENT)
    ]


def test_only_the_importing_authority_answers():
    with pytest.raises(TransitionError, match="importing_authority"):
        apply(sent(), Action.ANSWER_NO_OBJECTION, EXP, T0)
    answered = apply(sent(), Action.ANSWER_NO_OBJECTION, IMP, T0 + dt.timedelta(days=1))
    assert answered.state is State.ANSWERED_NO_OBJECTION


def test_information_request_then_answered_again():
    asked = apply(sent(), Action.REQUEST_INFORMATION, IMP, T0 + dt.timedelta(days=2))
    objected = apply(asked, Action.ANSWER_OBJECTION, IMP, T0 + dt.timedelta(days=20))
    assert objected.state is State.ANSWERED_OBJECTION
    with pytest.raises(TransitionError):  # an objected shipment must not go
        apply(objected, Action.RECORD_SHIPMENT, EXP, T0 + dt.timedelta(days=21))


def test_expiry_exactly_at_the_deadline():
    notification = sent()
    just_before = notification.deadline - dt.timedelta(microseconds=1)
    assert expire_due([notification], just_before) == []
    assert (
        apply(notification, Action.ANSWER_NO_OBJECTION, IMP, just_before).state is State.ANSWERED_NO_OBJECTION
    )
    (expired,) = expire_due([notification], notification.deadline)
    assert expired.state is State.EXPIRED
    with pytest.raises(TransitionError, match="has passed"):
        apply(notification, Action.ANSWER_NO_OBJECTION, IMP, notification.deadline)


def test_the_expiry_job_is_idempotent():
    (expired,) = expire_due([sent()], T0 + dt.timedelta(days=30))
    assert expire_due([expired], T0 + dt.timedelta(days=31)) == []


def test_amendment_is_a_new_version_that_restarts_the_clock():
    original = sent()
    later = T0 + dt.timedelta(days=10)
    amended = amend(original, EXP, later)
    assert (amended.version, amended.supersedes_version, amended.state) == (2, 1, State.SENT)
    assert amended.deadline == later + FIFTEEN_DAYS
    assert original.version == 1 and original.sent_at == T0  # the sent version is unchanged
    with pytest.raises(TransitionError):
        amend(
            apply(apply(original, Action.ANSWER_NO_OBJECTION, IMP, T0), Action.RECORD_SHIPMENT, EXP, T0),
            EXP,
            later,
        )


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", [a for a in Action if a is not Action.AMEND])
def test_every_transition_is_allowed_exactly_as_the_table_says(state, action):
    notification = replace(
        new_notification("PEN-2", FIFTEEN_DAYS), state=state, sent_at=None if state is State.DRAFT else T0
    )
    transition = TRANSITIONS[action]
    now = T0 + (FIFTEEN_DAYS if action is Action.EXPIRE else dt.timedelta(days=1))
    allowed = state in transition.sources
    if allowed:
        assert apply(notification, action, transition.actor, now).state is transition.target
    else:
        with pytest.raises(TransitionError):
            apply(notification, action, transition.actor, now)
    for actor in Actor:
        if actor is not transition.actor:
            with pytest.raises(TransitionError):
                apply(notification, action, actor, now)


def test_allowed_actions_per_actor():
    assert allowed_actions(sent(), IMP, T0) == (
        Action.ANSWER_NO_OBJECTION,
        Action.ANSWER_OBJECTION,
        Action.REQUEST_INFORMATION,
    )
    assert allowed_actions(sent(), EXP, T0) == (Action.CANCEL, Action.AMEND)


def test_naive_clock_values_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        apply(new_notification("PEN-3", FIFTEEN_DAYS), Action.SEND, EXP, dt.datetime(2025, 1, 1))
