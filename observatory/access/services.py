"""Every write of the access app: a function taking the acting user, checked by the policy, in one
transaction, with an audit row."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from observatory.access import audit, policy
from observatory.access.models import ApiToken, Assignment, LoginFailure, Role, Scope, User
from observatory.access.roles import ROLE_DEFINITIONS

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from observatory.reference.models import Country, Region

TOKEN_PREFIX = "obs"  # noqa: S105 - a public marker, not a secret


def sync_roles() -> int:
    """Create or update the shipped roles from their definitions (idempotent, run by setup)."""
    changed = 0
    with transaction.atomic():
        for definition in ROLE_DEFINITIONS:
            values = {
                "name": definition.name,
                "description": definition.description,
                "verbs": list(definition.verbs),
                "allowed_scopes": list(definition.allowed_scopes),
            }
            role, created = Role.objects.get_or_create(code=definition.code, defaults=values)
            if created:
                audit.record(None, "role.create", "role", role.code, after=values)
                changed += 1
            elif any(getattr(role, key) != value for key, value in values.items()):
                before = {key: getattr(role, key) for key in values}
                for key, value in values.items():
                    setattr(role, key, value)
                role.save()
                audit.record(None, "role.update", "role", role.code, before=before, after=values)
                changed += 1
    return changed


def create_user(
    actor: User | AnonymousUser | None,
    username: str,
    password: str,
    *,
    email: str = "",
    display_name: str = "",
    organisation: str = "",
    system: bool = False,
) -> User:
    """Create a user. ``system=True`` is for the set-up commands run from the shell, not for requests."""
    if not system:
        policy.require(actor, "access.manage")
    with transaction.atomic():
        user = User.objects.create_user(
            username=username,
            password=password,
            email=email,
            display_name=display_name,
            organisation=organisation,
        )
        audit.record(
            actor,
            "user.create",
            "user",
            user.pk,
            after={
                "username": username,
                "email": email,
                "display_name": display_name,
                "organisation": organisation,
            },
        )
    return user


class InvalidAssignment(ValueError):
    pass


def assign_role(
    actor: User | AnonymousUser | None,
    user: User,
    role_code: str,
    *,
    country: Country | None = None,
    region: Region | None = None,
    system: bool = False,
) -> Assignment:
    """Give ``user`` the role on a country, a region, or (neither) globally. Idempotent."""
    if not system:
        policy.require(actor, "access.manage")
    role = Role.objects.get(code=role_code)
    scope = Scope.COUNTRY if country else Scope.REGION if region else Scope.GLOBAL
    if country and region:
        raise InvalidAssignment("an assignment is on a country or a region, not both")
    if scope.value not in role.allowed_scopes:
        raise InvalidAssignment(f"the role {role.name!r} cannot be held on a {scope.value} scope")
    with transaction.atomic():
        assignment, created = Assignment.objects.get_or_create(
            user=user, role=role, scope=scope.value, country=country, region=region
        )
        if created:
            audit.record(
                actor,
                "assignment.create",
                "assignment",
                assignment.pk,
                country_iso3=country.iso3 if country else "",
                after={
                    "user": user.username,
                    "role": role.code,
                    "scope": scope.value,
                    "country": country.iso3 if country else None,
                    "region": region.code if region else None,
                },
            )
    return assignment


def revoke_assignment(actor: User | AnonymousUser | None, assignment: Assignment) -> None:
    policy.require(actor, "access.manage")
    with transaction.atomic():
        before = {"user": assignment.user.username, "role": assignment.role.code, "scope": assignment.scope}
        audit.record(actor, "assignment.revoke", "assignment", assignment.pk, before=before)
        assignment.delete()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once; only its digest is stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_api_token(
    actor: User | AnonymousUser | None, owner: User, name: str, *, valid_days: int | None = 365
) -> IssuedToken:
    """Issue a bearer token for ``owner``. Users issue their own; managers may issue for others."""
    if actor is None or not actor.is_authenticated:
        raise policy.PermissionDenied("access.manage")
    if actor.pk != owner.pk:
        policy.require(actor, "access.manage")
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=owner,
            name=name,
            prefix=prefix,
            digest=_digest(secret),
            expires_at=timezone.now() + timedelta(days=valid_days) if valid_days else None,
        )
        audit.record(
            actor, "token.issue", "api_token", token.pk, after={"owner": owner.username, "name": name}
        )
    return IssuedToken(token, secret)


def revoke_api_token(actor: User | AnonymousUser | None, token: ApiToken) -> None:
    if actor is None or not actor.is_authenticated:
        raise policy.PermissionDenied("access.manage")
    if actor.pk != token.user_id:
        policy.require(actor, "access.manage")
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor, "token.revoke", "api_token", token.pk, before={"name": token.name})


def authenticate_token(secret: str) -> User | None:
    """The active user behind a bearer token, or None. Comparison is by constant-time digest check."""
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1], revoked_at__isnull=True).first()
    if token is None or not secrets.compare_digest(token.digest, _digest(secret)):
        return None
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    # Touch at most once a minute: a busy client must not turn every read into a write.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def login_locked_until(username: str, client_address: str, now: datetime | None = None) -> datetime | None:
    """When too many recent failures exist for this username or address, the time the lock ends."""
    now = now or timezone.now()
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    limit = settings.LOGIN_FAILURE_LIMIT
    recent = LoginFailure.objects.filter(at__gt=now - window)
    for failures in (recent.filter(username=username.lower()), recent.filter(client_address=client_address)):
        times = list(failures.order_by("-at").values_list("at", flat=True)[:limit])
        if len(times) >= limit:
            return times[-1] + window
    return None


def note_login_failure(username: str, client_address: str) -> None:
    LoginFailure.objects.create(username=username.lower(), client_address=client_address, at=timezone.now())


def note_login_success(username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()).delete()
