"""Reference data: countries and regions, populations, controlled substances, drug taxonomy, units and
versioned conversion factors. Public facts, owned by no country; changed only by office reviewers."""

from __future__ import annotations

from django.db import models


class Region(models.Model):
    """A node of one regional grouping: the World Drug Report's regions and subregions, or UN M49's."""

    class Kind(models.TextChoices):
        WDR_REGION = "wdr_region", "WDR region"
        WDR_SUBREGION = "wdr_subregion", "WDR subregion"
        M49_REGION = "m49_region", "M49 region"
        M49_SUBREGION = "m49_subregion", "M49 subregion"
        M49_INTERMEDIATE = "m49_intermediate", "M49 intermediate region"

    code = models.CharField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class Country(models.Model):
    """A country or territory, identified by ISO 3166-1 alpha-3 (plus UN M49 where it has one)."""

    iso3 = models.CharField(max_length=3, unique=True)
    iso2 = models.CharField(max_length=2, blank=True)
    m49 = models.CharField(max_length=3, blank=True)
    name = models.CharField(max_length=120)
    name_wdr = models.CharField("name in the World Drug Report annex", max_length=120, blank=True)
    wdr_region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="wdr_region_countries"
    )
    wdr_subregion = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="wdr_subregion_countries"
    )
    wdr_source = models.CharField(max_length=30, blank=True)
    m49_region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="m49_region_countries"
    )
    m49_subregion = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="m49_subregion_countries"
    )
    m49_intermediate_region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="m49_intermediate_countries"
    )
    independent = models.BooleanField(default=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "countries"

    def __str__(self) -> str:
        return f"{self.name} ({self.iso3})"


class Population(models.Model):
    """UN World Population Prospects population on 1 July of a year."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="populations")
    year = models.PositiveSmallIntegerField()
    total = models.BigIntegerField()
    aged_15_64 = models.BigIntegerField()
    variant = models.CharField(max_length=20)
    source = models.CharField(max_length=120, default="UN DESA, World Population Prospects 2024")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["country", "year"], name="population_country_year")]
        ordering = ["country", "year"]


class ControlledSubstance(models.Model):
    """A substance (or, for 1961 Schedule III, a preparation category) under international control."""

    name = models.CharField(max_length=200, unique=True)
    other_names = models.CharField(max_length=300, blank=True)
    cas = models.CharField("CAS number", max_length=20, blank=True)
    cas_source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScheduleListing(models.Model):
    """One period during which a substance stood in one schedule or table of one convention.

    Listings are versioned by their effective dates, so "was X controlled on date D?" is answerable;
    a deletion closes the listing (``effective_to``) instead of removing it.
    """

    class Convention(models.TextChoices):
        SINGLE_1961 = "1961", "Single Convention on Narcotic Drugs, 1961"
        PSYCHOTROPIC_1971 = "1971", "Convention on Psychotropic Substances, 1971"
        ILLICIT_TRAFFIC_1988 = "1988", "Convention against Illicit Traffic, 1988"

    class DatePrecision(models.TextChoices):
        DAY = "day", "day"
        YEAR = "year", "year"

    substance = models.ForeignKey(ControlledSubstance, on_delete=models.CASCADE, related_name="listings")
    convention = models.CharField(max_length=4, choices=Convention.choices)
    schedule = models.CharField(max_length=12)
    effective_from = models.DateField()
    effective_from_precision = models.CharField(max_length=4, choices=DatePrecision.choices)
    effective_to = models.DateField(null=True, blank=True)
    year_added = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.CharField(max_length=300, blank=True)
    confidence = models.CharField(max_length=10, default="high")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["substance", "convention", "schedule", "effective_from"], name="listing_unique_period"
            )
        ]
        ordering = ["convention", "schedule", "substance__name"]


class DrugGroup(models.Model):
    """Top level of the World Drug Report drug taxonomy (e.g. cocaine-type, opioids)."""

    code = models.CharField(max_length=200, unique=True)
    name = models.CharField(max_length=1000)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DrugSubgroup(models.Model):
    code = models.CharField(max_length=200, unique=True)
    name = models.CharField(max_length=1000)
    group = models.ForeignKey(DrugGroup, on_delete=models.PROTECT, related_name="subgroups")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Drug(models.Model):
    """A drug as the World Drug Report counts it; ``measure`` says whether amounts are mass or counts."""

    class Measure(models.TextChoices):
        MASS = "mass", "mass"
        COUNT = "count", "count (plants, tablets, doses)"
        VOLUME = "volume", "volume"

    code = models.CharField(max_length=200, unique=True)
    name = models.CharField(max_length=1000)
    subgroup = models.ForeignKey(DrugSubgroup, on_delete=models.PROTECT, related_name="drugs")
    measure = models.CharField(max_length=10, choices=Measure.choices, default=Measure.MASS)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DrugAlias(models.Model):
    """A spelling found in real files, mapped to a drug, subgroup or group (exactly one of them)."""

    label = models.CharField(max_length=1000)
    normalized = models.CharField(max_length=1000, unique=True)
    drug = models.ForeignKey(Drug, null=True, blank=True, on_delete=models.CASCADE, related_name="aliases")
    subgroup = models.ForeignKey(
        DrugSubgroup, null=True, blank=True, on_delete=models.CASCADE, related_name="aliases"
    )
    group = models.ForeignKey(
        DrugGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="aliases"
    )

    class Meta:
        verbose_name_plural = "drug aliases"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(drug__isnull=False, subgroup__isnull=True, group__isnull=True)
                    | models.Q(drug__isnull=True, subgroup__isnull=False, group__isnull=True)
                    | models.Q(drug__isnull=True, subgroup__isnull=True, group__isnull=False)
                ),
                name="alias_targets_exactly_one",
            )
        ]


class Unit(models.Model):
    """A unit in which quantities are reported. Mass and volume units convert by a fixed ratio;
    count units (plants, tablets, doses) become kilograms only through a drug-specific factor."""

    class Dimension(models.TextChoices):
        MASS = "mass", "mass"
        VOLUME = "volume", "volume"
        COUNT = "count", "count"

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=80)
    dimension = models.CharField(max_length=10, choices=Dimension.choices)

    class Meta:
        ordering = ["dimension", "code"]

    def __str__(self) -> str:
        return self.code


class UnitAlias(models.Model):
    label = models.CharField(max_length=60)
    normalized = models.CharField(max_length=60, unique=True)
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="aliases")

    class Meta:
        verbose_name_plural = "unit aliases"


class ConversionFactorSet(models.Model):
    """A published version of the conversion factors; derived kilograms point at the factor they used."""

    version = models.CharField(max_length=30, unique=True)
    published_on = models.DateField()
    source = models.CharField(max_length=300)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-published_on"]

    def __str__(self) -> str:
        return self.version


class ConversionFactor(models.Model):
    """Kilograms per reported unit for drug × unit, optionally narrowed to a region and/or year.

    ``drug`` is empty for plain mass units (1 g = 0.001 kg whatever the drug).
    """

    factor_set = models.ForeignKey(ConversionFactorSet, on_delete=models.PROTECT, related_name="factors")
    drug = models.ForeignKey(Drug, null=True, blank=True, on_delete=models.PROTECT, related_name="factors")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="factors")
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="factors"
    )
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    kg_per_unit = models.FloatField()
    basis = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["factor_set", "drug", "unit", "region", "year"],
                name="factor_unique_key",
            ),
            models.CheckConstraint(condition=models.Q(kg_per_unit__gt=0), name="factor_positive"),
        ]
