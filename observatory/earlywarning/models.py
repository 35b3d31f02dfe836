"""Early-warning tables: the NPS registry (versioned, retractable), forensic identifications as reported,
national control rules and alerts with per-user read state. Tables only: rules live in ``services``."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from observatory.earlywarning.chemistry.classes import SubstanceGroup
from observatory.reference.models import Country

SUBSTANCE_GROUP_CHOICES = [(group.value, group.label) for group in SubstanceGroup]


class EffectGroup(models.TextChoices):
    """UNODC Early Warning Advisory effect groups."""

    STIMULANTS = "stimulants", "Stimulants"
    SYNTHETIC_CANNABINOIDS = (
        "synthetic_cannabinoid_receptor_agonists",
        "Synthetic cannabinoid receptor agonists",
    )
    CLASSIC_HALLUCINOGENS = "classic_hallucinogens", "Classic hallucinogens"
    DISSOCIATIVES = "dissociatives", "Dissociatives"
    OPIOIDS = "opioids", "Opioids"
    SEDATIVES_HYPNOTICS = "sedatives_hypnotics", "Sedatives/hypnotics"
    NOT_ASSIGNED = "not_assigned", "Not yet assigned"


class Substance(models.Model):
    """One chemical identity in the registry: the InChIKey of the standardised parent structure."""

    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        RETRACTED = "retracted", "retracted"

    inchikey = models.CharField(max_length=27, unique=True)
    connectivity_key = models.CharField(max_length=14, db_index=True)
    canonical_smiles = models.TextField()
    inchi = models.TextField()
    formula = models.CharField(max_length=120)
    exact_mass = models.FloatField()
    average_mass = models.FloatField()
    fingerprint = models.BinaryField(help_text="Morgan r=2, 2048 bits, packed little-endian (search index)")
    name = models.CharField(max_length=200, help_text="preferred name (the first name reported)")
    synonyms = models.JSONField(default=list, blank=True)
    cas = models.CharField("CAS number", max_length=20, blank=True)
    substance_group = models.CharField(max_length=60, choices=SUBSTANCE_GROUP_CHOICES)
    class_rule = models.CharField(max_length=80, help_text="the class rule that assigned the group")
    class_reason = models.CharField(max_length=400)
    effect_group = models.CharField(
        max_length=60, choices=EffectGroup.choices, default=EffectGroup.NOT_ASSIGNED
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["status", "substance_group"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.inchikey})"

    @property
    def names(self) -> list[str]:
        return [self.name, *[s for s in self.synonyms if s != self.name]]


class SubstanceVersion(models.Model):
    """Every state a substance record has had (append-only; version 1 is the creation)."""

    substance = models.ForeignKey(Substance, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    change = models.CharField(max_length=40)
    data = models.JSONField()
    reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["substance", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["substance", "version"], name="earlywarning_substance_version_once"
            )
        ]


class Identification(models.Model):
    """A forensic identification as the country reported it (structure text kept verbatim)."""

    class Matrix(models.TextChoices):
        SEIZED_MATERIAL = "seized_material", "seized material"
        BIOLOGICAL_SAMPLE = "biological_sample", "biological sample"

    class Classification(models.TextChoices):
        PUBLIC = "public", "public"
        RESTRICTED = "restricted", "restricted"
        CONFIDENTIAL = "confidential", "confidential"

    substance = models.ForeignKey(Substance, on_delete=models.PROTECT, related_name="identifications")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    structure_text = models.TextField(help_text="SMILES or molfile exactly as reported")
    structure_format = models.CharField(max_length=10)
    standardisation_notes = models.JSONField(default=list, blank=True)
    names_reported = models.JSONField(default=list, blank=True)
    date_found = models.DateField()
    place = models.CharField(max_length=200, blank=True)
    matrix = models.CharField(max_length=20, choices=Matrix.choices)
    analytical_method = models.CharField(max_length=120)
    key_data = models.JSONField(default=dict, blank=True, help_text='e.g. {"mz": [214.1, 119.0]}')
    classification = models.CharField(
        max_length=12, choices=Classification.choices, default=Classification.RESTRICTED
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField()

    class Meta:
        ordering = ["-date_found", "-pk"]
        indexes = [
            models.Index(fields=["substance", "date_found"]),
            models.Index(fields=["country", "date_found"]),
        ]


class CountryRule(models.Model):
    """National control of a named substance, or a pointer to a generic definition (by its data id)."""

    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    substance = models.ForeignKey(
        Substance, null=True, blank=True, on_delete=models.PROTECT, related_name="country_rules"
    )
    generic_definition_id = models.CharField(max_length=80, blank=True)
    law = models.CharField(max_length=200)
    article = models.CharField(max_length=300, blank=True)
    control = models.CharField(max_length=120, blank=True)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="exclusive")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["country", "effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(substance__isnull=False) | ~models.Q(generic_definition_id=""),
                name="earlywarning_rule_substance_or_definition",
            )
        ]


class Alert(models.Model):
    """Risk communication about a substance to the countries concerned; a public part once published."""

    class Severity(models.TextChoices):
        INFORMATION = "information", "information"
        WARNING = "warning", "warning"
        URGENT = "urgent", "urgent"

    substance = models.ForeignKey(Substance, on_delete=models.PROTECT, related_name="alerts")
    severity = models.CharField(max_length=12, choices=Severity.choices)
    countries = models.ManyToManyField(Country, related_name="+")
    title = models.CharField(max_length=300)
    message = models.TextField()
    evidence = models.TextField(blank=True)
    published = models.BooleanField(default=False)
    public_summary = models.TextField(blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(published=False) | ~models.Q(public_summary=""),
                name="earlywarning_published_alert_has_summary",
            )
        ]


class AlertRecipient(models.Model):
    """A user whose scope covered the alert's countries when it was issued; read state per user."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emailed = models.BooleanField(default=False)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "user"], name="earlywarning_alert_recipient_once")
        ]
