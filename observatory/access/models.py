"""Users, roles, scoped assignments, API tokens, login throttling and the hash-chained audit trail."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from observatory.reference.models import Country, Region


class User(AbstractUser):
    """A person using the system. What they may do comes only from their role assignments."""

    display_name = models.CharField(max_length=150, blank=True)
    organisation = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.username


class Role(models.Model):
    """A named set of verbs (see ``observatory.access.roles`` for the definitions shipped)."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    verbs = models.JSONField(default=list)
    # Which kinds of scope this role may be assigned on (a focal point is national, a reviewer global).
    allowed_scopes = models.JSONField(default=list)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Scope(models.TextChoices):
    COUNTRY = "country", "country"
    REGION = "region", "region"
    GLOBAL = "global", "global"


class Assignment(models.Model):
    """A user holds a role on a scope: one country, one region (all its countries), or the world."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    country = models.ForeignKey(Country, null=True, blank=True, on_delete=models.PROTECT)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope="country", country__isnull=False, region__isnull=True)
                    | models.Q(scope="region", country__isnull=True, region__isnull=False)
                    | models.Q(scope="global", country__isnull=True, region__isnull=True)
                ),
                name="assignment_scope_matches_target",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "scope", "country", "region"], name="assignment_unique"
            ),
        ]

    def __str__(self) -> str:
        target = self.country or self.region or "global"
        return f"{self.user} — {self.role} on {target}"


class ApiToken(models.Model):
    """A machine client's bearer token. Only a SHA-256 digest of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class LoginFailure(models.Model):
    """A failed login, kept for throttling by username and by client address."""

    username = models.CharField(max_length=150, db_index=True)
    client_address = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(db_index=True)


class AuditEvent(models.Model):
    """One row of the append-only audit trail. ``row_hash`` covers this row's content and the previous
    row's hash, so editing, deleting or reordering any row breaks the chain (``observatory audit verify``).
    Database triggers refuse UPDATE and DELETE on this table."""

    sequence = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=80)
    country_iso3 = models.CharField(max_length=3, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    previous_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["sequence"]
        indexes = [models.Index(fields=["object_type", "object_id"])]


class AuditChainHead(models.Model):
    """A single row locked while appending, so concurrent writers extend the chain one at a time."""

    last_sequence = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)
