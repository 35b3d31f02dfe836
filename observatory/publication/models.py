"""Tables of the publication app: releases (immutable snapshots) and the observations they publish.

Tables only: every write goes through ``services.py``, every read through ``queries.py``. Whether a
release is public is decided in one place, ``queries.released_observations``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Release(models.Model):
    """A snapshot of published statistics: draft → scheduled (embargo) → released.

    ``public_from`` is the instant the release becomes public: the embargo time of a scheduled release,
    the moment of release otherwise; None while a draft. A correction is a new release that names the
    one it corrects, with change notes and the computed difference.
    """

    class State(models.TextChoices):
        DRAFT = "draft", "draft"
        SCHEDULED = "scheduled", "scheduled (embargoed)"
        RELEASED = "released", "released"

    label = models.CharField(max_length=40, unique=True, help_text="e.g. WDR2025 or WDR2025-c1")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    public_from = models.DateTimeField(null=True, blank=True, db_index=True)
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    change_notes = models.TextField(blank=True)
    diff = models.JSONField(
        default=dict, blank=True, help_text="computed difference to the corrected release"
    )
    datasets = models.JSONField(default=list, help_text="dataset codes the snapshot holds")
    sources = models.JSONField(default=dict, help_text="what each dataset was built from, with counts")
    observation_count = models.PositiveIntegerField(default=0)
    content_hash = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the snapshot rows")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-public_from", "-id"]

    def __str__(self) -> str:
        return self.label


class PublishedObservation(models.Model):
    """One published figure, copied whole into its release (never a pointer to live data)."""

    class AreaKind(models.TextChoices):
        COUNTRY = "country", "country"
        SUBREGION = "subregion", "subregion"
        REGION = "region", "region"
        WORLD = "world", "world"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="observations")
    dataset = models.CharField(max_length=30)
    indicator = models.CharField(max_length=60)
    area_kind = models.CharField(max_length=10, choices=AreaKind.choices)
    area_code = models.CharField(max_length=20, help_text="ISO3, WDR region code or WORLD")
    area_name = models.CharField(max_length=120)
    region = models.CharField(max_length=80, blank=True, help_text="WDR region of a country")
    subregion = models.CharField(max_length=80, blank=True)
    drug = models.CharField(max_length=120, help_text="drug group (or drug) code")
    drug_name = models.TextField()
    year = models.PositiveSmallIntegerField()
    value = models.FloatField(null=True, blank=True)
    low = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=20)
    # Free text carried over from the sources (estimate methods state every parameter): no length cap.
    source = models.TextField(blank=True)
    method = models.TextField(blank=True)
    coverage = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    series_rank = models.PositiveSmallIntegerField(
        default=0,
        help_text="0 for the headline figure of its key; 1, 2… for further reports of the same year",
    )
    extra = models.JSONField(default=dict, blank=True, help_text="male, female, age range, drug as reported…")

    class Meta:
        ordering = ["dataset", "indicator", "drug", "area_code", "year", "series_rank"]
        indexes = [
            models.Index(fields=["release", "dataset", "drug", "year"], name="pubobs_release_ds_drug_year"),
            models.Index(fields=["release", "area_code"], name="pubobs_release_area"),
            # The data explorer: one indicator, some countries, a span of years (drug optional).
            models.Index(
                fields=["release", "indicator", "area_code", "year"], name="pubobs_rel_ind_area_year"
            ),
            # Explorer by drug, and the open-data API's filter by indicator and drug.
            models.Index(
                fields=["release", "indicator", "drug", "area_code", "year"], name="pubobs_rel_ind_drug_area"
            ),
            # The open-data API's page order (dataset, indicator, drug, area, year, report rank).
            models.Index(
                fields=["release", "dataset", "indicator", "drug", "area_code", "year", "series_rank"],
                name="pubobs_rel_api_order",
            ),
        ]
