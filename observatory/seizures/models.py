"""Individual drug seizure cases, their import batches and remembered column mappings. Tables only.

Routes and offender nationalities are stored denormalised on the case (ISO3 codes: origin, departure and
destination as country keys, transits and nationalities as `;`-separated lists, and the whole route as a
`>`-separated path): a million cases import and aggregate in seconds, and every read goes through
`queries.py`, which decides per row whether these restricted fields may be shown.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from observatory.access.policy import Classification


class ColumnMapping(models.Model):
    """A file layout mapped once (their column -> our field) and remembered for the uploader's country."""

    country = models.ForeignKey("reference.Country", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    mapping = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["country", "name"], name="seizures_mapping_country_name")
        ]
        ordering = ["country", "name"]

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    """One uploaded file: what was mapped, what came of it, and every bad row when it was rejected."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        IMPORTED = "imported", "imported"
        REJECTED = "rejected", "rejected"
        DUPLICATE = "duplicate", "already imported"
        FAILED = "failed", "failed"

    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=4, default="csv")
    file_size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    stored_path = models.CharField(max_length=500, blank=True)
    country = models.ForeignKey(
        "reference.Country", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    column_mapping = models.JSONField(default=dict)
    mapping_name = models.CharField(max_length=100, blank=True)
    classification = models.CharField(
        max_length=12, choices=[(c.value, c.value) for c in Classification], default="restricted"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_read = models.IntegerField(default=0)
    rows_imported = models.IntegerField(default=0)
    rows_already_present = models.IntegerField(default=0)
    errors = models.JSONField(default=list)
    errors_truncated = models.BooleanField(default=False)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"


class SeizureCase(models.Model):
    """One individual seizure, stored as reported, with its kilogram equivalent and the factor used."""

    class Precision(models.TextChoices):
        DAY = "day", "day"
        MONTH = "month", "month"
        YEAR = "year", "year"

    class Channel(models.TextChoices):
        NONE = "", "none"
        INTERNET = "internet", "Internet / darknet"
        POSTAL = "postal", "postal / courier"
        OTHER = "other", "other"

    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="cases", db_index=False)
    reporting_country = models.ForeignKey(
        "reference.Country", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    case_reference = models.CharField(max_length=200, blank=True)
    fingerprint = models.CharField(max_length=32)
    seizure_date = models.DateField()
    seizure_year = models.SmallIntegerField()
    date_precision = models.CharField(max_length=5, choices=Precision.choices)
    place = models.CharField(max_length=200, blank=True)
    admin_area = models.CharField(max_length=200, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    site_type = models.CharField(max_length=200, blank=True)
    transport_mode = models.CharField(max_length=200, blank=True)
    concealment = models.CharField(max_length=200, blank=True)
    drug = models.ForeignKey("reference.Drug", on_delete=models.PROTECT, related_name="+", db_index=False)
    drug_label = models.CharField("drug as reported", max_length=200)
    quantity = models.FloatField("quantity as reported")
    unit = models.ForeignKey("reference.Unit", on_delete=models.PROTECT, related_name="+", db_index=False)
    unit_label = models.CharField("unit as reported", max_length=60)
    purity_percent = models.FloatField(null=True, blank=True)
    kg_equivalent = models.FloatField(null=True, blank=True)
    conversion_factor = models.ForeignKey(
        "reference.ConversionFactor",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, blank=True)
    channel_label = models.CharField("trafficking channel as reported", max_length=200, blank=True)
    source = models.CharField(max_length=255, blank=True)
    classification = models.CharField(
        max_length=12, choices=[(c.value, c.value) for c in Classification], default="restricted"
    )
    # Restricted (or stricter) fields: shown only to holders of seizures.view on the reporting country.
    origin_country = models.ForeignKey(
        "reference.Country", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    departure_country = models.ForeignKey(
        "reference.Country", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    transit_countries = models.CharField(max_length=200, blank=True)  # ISO3;ISO3 in route order
    destination_country = models.ForeignKey(
        "reference.Country", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    route = models.CharField(max_length=300, blank=True)  # ISO3>ISO3>... including the seizing country
    offender_nationalities = models.CharField(max_length=200, blank=True)  # ISO3;ISO3
    seizing_agency = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            # Given as expressions so that it is a unique index on SQLite too (not part of the table
            # definition): a large import drops it and builds it again after the load.
            models.UniqueConstraint(
                models.F("reporting_country"),
                models.F("fingerprint"),
                name="seizures_case_country_fingerprint",
            )
        ]
        indexes = [
            models.Index(fields=["drug", "seizure_year"], name="seizures_case_drug_year"),
            models.Index(fields=["batch"], name="seizures_case_batch"),
        ]
        ordering = ["-seizure_date", "id"]

    def __str__(self) -> str:
        return f"{self.case_reference or self.pk} ({self.reporting_country_id})"

    @property
    def transit_list(self) -> list[str]:
        return [code for code in self.transit_countries.split(";") if code]

    @property
    def nationality_list(self) -> list[str]:
        return [code for code in self.offender_nationalities.split(";") if code]
