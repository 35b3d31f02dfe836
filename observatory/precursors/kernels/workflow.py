"""Pre-export notification state machine (1988 Convention art. 12) as pure data and functions.

Who may do what is data (TRANSITIONS); `apply` is deterministic given the clock value passed in.
Deadline = sent time + the importing country's reply period; a sent notification is expired from
the deadline itself on (now >= deadline), so an answer arriving at the deadline is too late.
A sent notification is never edited: `amend` makes a new version, sent at once, which restarts
the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum


class State(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    ANSWERED_NO_OBJECTION = "answered_no_objection"
    ANSWERED_OBJECTION = "answered_objection"
    INFORMATION_REQUESTED = "information_requested"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Actor(StrEnum):
    EXPORTING_AUTHORITY = "exporting_authority"
    IMPORTING_AUTHORITY = "importing_authority"
    SYSTEM = "system"  # the scheduled expiry job


class Action(StrEnum):
    SEND = "send"
    ANSWER_NO_OBJECTION = "answer_no_objection"
    ANSWER_OBJECTION = "answer_objection"
    REQUEST_INFORMATION = "request_information"
    RECORD_SHIPMENT = "record_shipment"
    CANCEL = "cancel"
    EXPIRE = "expire"
    AMEND = "amend"


@dataclass(frozen=True, slots=True)
class Transition:
    action: Action
    sources: frozenset[State]
    target: State
    actor: Actor


_AWAITING_ANSWER = frozenset({State.SENT, State.INFORMATION_REQUESTED})
_OPEN = frozenset(
    {State.SENT, State.INFORMATION_REQUESTED, State.ANSWERED_NO_OBJECTION, State.ANSWERED_OBJECTION}
)

TRANSITIONS: Mapping[Action, Transition] = {
    t.action: t
    for t in (
        Transition(Action.SEND, frozenset({State.DRAFT}), State.SENT, Actor.EXPORTING_AUTHORITY),
        # The importing authority answers a sent notification, or answers again after asking for information.
        Transition(
            Action.ANSWER_NO_OBJECTION,
            _AWAITING_ANSWER,
            State.ANSWERED_NO_OBJECTION,
            Actor.IMPORTING_AUTHORITY,
        ),
        Transition(
            Action.ANSWER_OBJECTION, _AWAITING_ANSWER, State.ANSWERED_OBJECTION, Actor.IMPORTING_AUTHORITY
        ),
        Transition(
            Action.REQUEST_INFORMATION,
            frozenset({State.SENT}),
            State.INFORMATION_REQUESTED,
            Actor.IMPORTING_AUTHORITY,
        ),
        # Only a shipment the importing country did not object to may leave.
        Transition(
            Action.RECORD_SHIPMENT,
            frozenset({State.ANSWERED_NO_OBJECTION}),
            State.SHIPPED,
            Actor.EXPORTING_AUTHORITY,
        ),
        Transition(
            Action.CANCEL, frozenset({State.DRAFT}) | _OPEN, State.CANCELLED, Actor.EXPORTING_AUTHORITY
        ),
        Transition(Action.EXPIRE, frozenset({State.SENT}), State.EXPIRED, Actor.SYSTEM),
        # Amending replaces the notification by a new version in state SENT (see `amend`).
        Transition(Action.AMEND, _OPEN, State.SENT, Actor.EXPORTING_AUTHORITY),
    )
}
FINAL_STATES = frozenset({State.SHIPPED, State.CANCELLED, State.EXPIRED})


class TransitionError(ValueError):
    """The action is not allowed: wrong state, wrong actor, or the deadline rule forbids it."""


@dataclass(frozen=True, slots=True)
class Event:
    version: int
    action: Action
    actor: Actor
    at: dt.datetime
    from_state: State
    to_state: State


@dataclass(frozen=True, slots=True)
class Notification:
    reference: str
    version: int
    state: State
    reply_period: dt.timedelta  # set by the importing country
    sent_at: dt.datetime | None
    history: tuple[Event, ...] = ()
    supersedes_version: int | None = None

    @property
    def deadline(self) -> dt.datetime | None:
        return None if self.sent_at is None else self.sent_at + self.reply_period


def new_notification(reference: str, reply_period: dt.timedelta) -> Notification:
    if reply_period <= dt.timedelta(0):
        raise ValueError("the reply period must be positive")
    return Notification(
        reference=reference, version=1, state=State.DRAFT, reply_period=reply_period, sent_at=None
    )


def is_past_deadline(notification: Notification, now: dt.datetime) -> bool:
    """True from the deadline itself on (>=): the reply period is half-open."""
    _require_aware(now)
    deadline = notification.deadline
    return deadline is not None and now >= deadline


def is_due_for_expiry(notification: Notification, now: dt.datetime) -> bool:
    return notification.state is State.SENT and is_past_deadline(notification, now)


def allowed_actions(notification: Notification, actor: Actor, now: dt.datetime) -> tuple[Action, ...]:
    return tuple(action for action in TRANSITIONS if _refusal(notification, action, actor, now) is None)


def apply(notification: Notification, action: Action, actor: Actor, now: dt.datetime) -> Notification:
    """Take one transition; returns the new value (the input is unchanged). AMEND goes through `amend`."""
    if action is Action.AMEND:
        return amend(notification, actor, now)
    refusal = _refusal(notification, action, actor, now)
    if refusal is not None:
        raise TransitionError(refusal)
    transition = TRANSITIONS[action]
    event = Event(notification.version, action, actor, now, notification.state, transition.target)
    return replace(
        notification,
        state=transition.target,
        sent_at=now if action is Action.SEND else notification.sent_at,
        history=(*notification.history, event),
    )


def amend(notification: Notification, actor: Actor, now: dt.datetime) -> Notification:
    """New version, sent now (the clock restarts); the previous version stays as it was."""
    refusal = _refusal(notification, Action.AMEND, actor, now)
    if refusal is not None:
        raise TransitionError(refusal)
    event = Event(notification.version + 1, Action.AMEND, actor, now, notification.state, State.SENT)
    return Notification(
        reference=notification.reference,
        version=notification.version + 1,
        state=State.SENT,
        reply_period=notification.reply_period,
        sent_at=now,
        history=(*notification.history, event),
        supersedes_version=notification.version,
    )


def expire_due(notifications: Iterable[Notification], now: dt.datetime) -> list[Notification]:
    """The expiry job: expire every sent notification whose deadline has come. Idempotent — running it
    again at the same or a later time expires nothing more."""
    return [apply(n, Action.EXPIRE, Actor.SYSTEM, now) for n in notifications if is_due_for_expiry(n, now)]


def _refusal(notification: Notification, action: Action, actor: Actor, now: dt.datetime) -> str | None:
    _require_aware(now)
    transition = TRANSITIONS[action]
    if actor is not transition.actor:
        return f"{action} is for the {transition.actor}, not the {actor}"
    if notification.state not in transition.sources:
        return f"cannot {action} a notification in state {notification.state}"
    past_deadline = is_past_deadline(notification, now)
    if action is Action.EXPIRE and not past_deadline:
        return f"deadline {notification.deadline} not reached at {now}"
    if notification.state is State.SENT and past_deadline and action is not Action.EXPIRE:
        return f"the reply deadline {notification.deadline} has passed: the notification has expired"
    return None


def _require_aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("clock values must be timezone-aware")
