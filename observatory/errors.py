"""Errors that services raise and every interface turns into the same answer: a conflict with the
record's current state (HTTP 409) or input the service refuses, naming the field (HTTP 422).
Records that do not exist or are out of the caller's scope raise Django's ``ObjectDoesNotExist`` (404)."""

from __future__ import annotations


class Conflict(Exception):
    """The write does not apply to the record's current state (someone else acted first, a deadline
    passed, the record was amended or locked)."""


class InvalidInput(ValueError):
    """Input the service refuses; names the field and why."""

    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        self.message = message
        super().__init__(f"{field_name}: {message}")
