"""Access API: who am I, my tokens, the audit trail of my scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from observatory.access import policy, queries, services
from observatory.access.models import ApiToken, User
from observatory.api import AUTH

router = Router(tags=["access"], auth=AUTH)


class AssignmentOut(Schema):
    role: str
    scope: str
    country: str | None
    region: str | None


class MeOut(Schema):
    username: str
    display_name: str
    assignments: list[AssignmentOut]
    verbs: list[str]


class TokenIn(Schema):
    name: str
    valid_days: int = 365


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class IssuedTokenOut(TokenOut):
    secret: str


class AuditEventOut(Schema):
    sequence: int
    at: datetime
    actor_label: str
    action: str
    object_type: str
    object_id: str
    country_iso3: str
    before: Any
    after: Any
    reason: str


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@router.get("/me", response=MeOut, summary="The signed-in user, their assignments and verbs")
def me(request: HttpRequest) -> dict[str, Any]:
    user = _user(request)
    assignments = list(queries.assignments_of(user))
    return {
        "username": user.username,
        "display_name": user.display_name,
        "assignments": [
            {
                "role": a.role.code,
                "scope": a.scope,
                "country": a.country.iso3 if a.country else None,
                "region": a.region.name if a.region else None,
            }
            for a in assignments
        ],
        "verbs": sorted({verb for a in assignments for verb in a.role.verbs}),
    }


@router.get("/tokens", response=list[TokenOut])
def list_tokens(request: HttpRequest) -> Any:
    return ApiToken.objects.filter(user=_user(request)).order_by("-created_at")


@router.post(
    "/tokens", response={201: IssuedTokenOut}, summary="Issue a token; the secret is shown only once"
)
def issue_token(request: HttpRequest, payload: TokenIn) -> tuple[int, dict[str, Any]]:
    user = _user(request)
    issued = services.issue_api_token(user, user, payload.name, valid_days=payload.valid_days)
    token = issued.token
    return 201, {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "secret": issued.secret,
    }


@router.delete("/tokens/{token_id}", response={204: None})
def revoke_token(request: HttpRequest, token_id: int) -> tuple[int, None]:
    user = _user(request)
    services.revoke_api_token(user, get_object_or_404(ApiToken, pk=token_id, user=user))
    return 204, None


@router.get("/audit", response=list[AuditEventOut], summary="Audit trail of the caller's scope, newest first")
def audit_events(request: HttpRequest, limit: int = 100, action: str = "") -> Any:
    user = _user(request)
    policy.require(user, "audit.view")
    events = queries.audit_events(user)
    if action:
        events = events.filter(action__startswith=action)
    return events[: max(1, min(limit, 1000))]
