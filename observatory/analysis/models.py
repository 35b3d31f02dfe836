"""Tables of the analysis app: annex seizure statistics, their maintained trend aggregate, saved
country estimates of hidden populations, and stored runs of regional/global estimates.

Tables only: every write goes through ``services.py``, every read through ``queries.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from observatory.reference.models import Country, Drug, DrugGroup, Region


class SeizureStatistic(models.Model):
    """One (country, drug as reported, year) figure of an annex seizure table.

    Rows of the file that share the key are separate reports (one per originally reported unit) and
    are summed here (``rows_summed``); ``kilograms`` is None for plant/bush counts, which sit in
    ``count``. A "reported total" row is kept with ``is_reported_total`` and never added to components.
    """

    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="annex_seizures")
    drug = models.ForeignKey(Drug, on_delete=models.PROTECT, related_name="annex_seizures")
    drug_group = models.ForeignKey(DrugGroup, on_delete=models.PROTECT, related_name="annex_seizures")
    drug_group_label = models.CharField(max_length=200)
    drug_subgroup_label = models.CharField(max_length=300)
    drug_label = models.CharField("drug label as reported", max_length=300)
    year = models.PositiveSmallIntegerField()
    kilograms = models.FloatField(null=True, blank=True)
    count = models.FloatField(null=True, blank=True, help_text="plants or bushes, never kilograms")
    is_reported_total = models.BooleanField(default=False)
    rows_summed = models.PositiveIntegerField(default=1)
    blank_rows = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=200, help_text="publication the figure was taken from")
    provenance = models.JSONField(default=list, help_text="file, sheet and row of every summed row")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "source",
                    "country",
                    "drug_group_label",
                    "drug_subgroup_label",
                    "drug_label",
                    "year",
                ],
                name="seizure_statistic_key",
            )
        ]
        indexes = [models.Index(fields=["year", "drug_group"], name="seizure_stat_year_group")]
        ordering = ["country", "drug_group_label", "drug_subgroup_label", "drug_label", "year"]


class SeizureTrend(models.Model):
    """Maintained aggregate: kilograms and reports by drug group × WDR region × year and source kind.

    Rebuilt inside the transaction of every import that touches its keys, so reads of trends never
    scan row-level data (see benchmarks/estimates.py for why).
    """

    class Basis(models.TextChoices):
        ANNEX = "annex", "annex seizure statistics (components, reported totals excluded)"
        CASES = "cases", "individual seizure cases"

    basis = models.CharField(max_length=10, choices=Basis.choices)
    drug_group = models.ForeignKey(DrugGroup, on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    kilograms = models.FloatField(default=0.0)
    reports = models.PositiveIntegerField(default=0)
    cases = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["basis", "drug_group", "country", "year"], name="seizure_trend_key"
            )
        ]
        indexes = [models.Index(fields=["basis", "year"], name="seizure_trend_basis_year")]


class CountryEstimate(models.Model):
    """A hidden-population estimate a country (or the office for it) saved with its inputs."""

    class Method(models.TextChoices):
        CAPTURE_RECAPTURE = "capture_recapture", "two-source capture–recapture"
        LOGLINEAR = "loglinear", "multi-source log-linear capture–recapture"
        BENCHMARK_MULTIPLIER = "benchmark_multiplier", "treatment/benchmark multiplier"
        MORTALITY_MULTIPLIER = "mortality_multiplier", "mortality multiplier"

    class Population(models.TextChoices):
        PAST_YEAR_USERS = "past_year_users_15_64", "people who used the drug in the past year, 15–64"
        HIGH_RISK = "high_risk_users", "people with high-risk drug use"
        INJECTING = "people_who_inject", "people who inject drugs"

    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="analysis_estimates")
    drug_code = models.CharField(max_length=120, help_text="taxonomy code (drug, subgroup or group)")
    population = models.CharField(max_length=30, choices=Population.choices)
    year = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=30, choices=Method.choices)
    parameters = models.JSONField(default=dict)
    inputs = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    estimate = models.FloatField()
    low = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)
    assumptions = models.JSONField(default=list)
    notes = models.TextField(blank=True)
    provenance = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["drug_code", "year"], name="country_estimate_drug_year")]


class EstimateRun(models.Model):
    """One regional/global estimate for one drug and year, stored whole so every figure can be
    reproduced: parameters, inputs, per-country rows, aggregates, coverage and adjustment trail."""

    drug_code = models.CharField(max_length=120)
    year = models.PositiveSmallIntegerField()
    parameters = models.JSONField(default=dict)
    methods = models.JSONField(default=dict)
    inputs = models.JSONField(default=list)
    output = models.JSONField(default=dict)
    world_users_best = models.FloatField(null=True, blank=True)
    world_users_low = models.FloatField()
    world_users_high = models.FloatField()
    world_coverage = models.FloatField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["drug_code", "year"], name="estimate_run_drug_year")]
