"""Writes to reference data made by people (through the admin): policy-checked and audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.forms.models import model_to_dict

from observatory.access import audit, policy

if TYPE_CHECKING:
    from observatory.access.policy import Actor


def _state(instance: models.Model) -> dict[str, Any]:
    return {
        key: value for key, value in model_to_dict(instance).items() if not isinstance(value, list | tuple)
    }


def save_reference_object(
    actor: Actor, instance: models.Model, *, created: bool, before: dict[str, Any] | None
) -> None:
    policy.require(actor, "reference.manage")
    with transaction.atomic():
        instance.save()
        audit.record(
            actor,
            f"reference.{instance._meta.model_name}.{'create' if created else 'update'}",
            instance._meta.model_name or "",
            instance.pk,
            before=before,
            after=_state(instance),
        )


def delete_reference_object(actor: Actor, instance: models.Model) -> None:
    policy.require(actor, "reference.manage")
    with transaction.atomic():
        before = _state(instance)
        object_id = instance.pk
        instance.delete()
        audit.record(
            actor,
            f"reference.{instance._meta.model_name}.delete",
            instance._meta.model_name or "",
            object_id,
            before=before,
        )


def current_state(instance: models.Model) -> dict[str, Any] | None:
    if instance.pk is None:
        return None
    fresh = type(instance)._default_manager.filter(pk=instance.pk).first()
    return _state(fresh) if fresh is not None else None
