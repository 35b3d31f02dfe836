"""Shared test set-up: the shipped reference data and roles loaded once per test database, the audit
triggers lifted so transactional tests can flush (the trigger test installs them itself), factories."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from observatory.access import audit_triggers
from observatory.access.services import sync_roles
from observatory.reference.loading import load_reference
from observatory.reference.models import Country


def ensure_reference_data() -> None:
    if not Country.objects.exists():
        load_reference()
        sync_roles()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        for alias in connections:
            audit_triggers.remove(connections[alias])
        ensure_reference_data()
    yield


@pytest.fixture
def reference(db: Any) -> None:
    """Reference data present (transactional tests may have flushed it)."""
    ensure_reference_data()


@pytest.fixture
def transactional_reference(transactional_db: Any) -> None:
    ensure_reference_data()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Argon2 is slow by design; tests that are not about hashing use a fast hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
