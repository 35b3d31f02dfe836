"""Which annual report questionnaire values are compared with which, and on what basis (no Django).

A comparable group is one cell of the questionnaire — the same question with the same dimension codes
(drug, sex, age group, period, estimate, …) — in the same unit, compared across the countries of one
year. The unit is the question's unit, except where the questionnaire leaves it to the country:

- ``sz_quantity`` (quantity seized) is in the unit of its ``seizure_unit`` dimension (kg, litres, units),
  which is part of the cell, so kilograms are never compared with litres;
- ``pp_price`` is in the currency the country reports in ``pp_currency``: prices are compared only with
  prices in the same currency, per kilogram (wholesale) or per gram or dose (retail); a price without a
  currency is not compared.

Normalisation. Counts of people or deaths grow with the population, so comparing them across countries
as reported would rank large countries first. These are compared per 100,000 people aged 15–64 (UN WPP,
the country's population of the year, or the nearest earlier year): persons in treatment
(``tr_persons``), drug-related deaths (``dd_deaths``), people who inject drugs (``id_pwid_number``), new
diagnoses among them (``id_new_diagnoses``) and persons in the criminal justice system for drug
offences (``cr_persons``) — the rates the World Drug Report itself compares. Everything else is compared
as reported: percentages (prevalence, purity) and mean ages are already rates or levels; seizures,
seizure cases and dismantled laboratories reflect where a country sits on trafficking routes and how it
enforces, not its population (the World Drug Report compares them as totals); cultivated and eradicated
hectares and potential production follow land and crops; prices are per unit; survey sample sizes follow
the survey design.

Scale. Magnitudes (counts, quantities, areas, prices, and the per-capita rates of counts) span orders of
magnitude across countries and are scored on log10(1 + x) unless the caller asks for the linear scale;
percentages and ages are always scored as they are. A group with a negative value is scored as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

PER_CAPITA_BASE: Final = 100_000
PER_CAPITA: Final = "per 100,000 aged 15–64"
AS_REPORTED: Final = "as reported"
PER_CAPITA_QUESTIONS: Final = frozenset(
    {"tr_persons", "dd_deaths", "id_pwid_number", "id_new_diagnoses", "cr_persons"}
)
LINEAR_UNITS: Final = frozenset({"%", "years"})
SEIZURE_QUANTITY: Final = "sz_quantity"
PRICE: Final = "pp_price"
CURRENCY: Final = "pp_currency"
_PRICE_PER: Final = {"wholesale": "kg", "retail": "g or dose"}


@dataclass(frozen=True, slots=True)
class Comparison:
    """How one reported value is compared: its unit, whether per capita, whether on a log scale."""

    group: str  # question|dims|unit: the values compared with each other
    unit: str  # the unit of the value as reported
    per_capita: bool
    log_scale: bool

    @property
    def compared_as(self) -> str:
        return PER_CAPITA if self.per_capita else AS_REPORTED


@dataclass(frozen=True, slots=True)
class NotCompared:
    reason: str


def comparison(
    question: str,
    dims: str,
    dimensions: Mapping[str, str],
    question_unit: str,
    value_type: str,
    *,
    currency: str | None = None,
    log_scale: bool = True,
) -> Comparison | NotCompared:
    """The comparable group of a numeric value of ``question`` at ``dims`` (canonical text; ``dimensions``
    the same as a mapping); ``currency`` is what the same submission reports in ``pp_currency``."""
    unit = question_unit
    if question == SEIZURE_QUANTITY:
        unit = dimensions.get("seizure_unit", "") or question_unit
    elif question == PRICE:
        code = (currency or "").strip().upper()
        if not code:
            return NotCompared("price without a reported currency")
        unit = f"{code} per {_PRICE_PER.get(dimensions.get('sale_level', ''), 'unit')}"
    linear = value_type == "percentage" or unit in LINEAR_UNITS
    return Comparison(
        group=f"{question}|{dims}|{unit}",
        unit=unit,
        per_capita=question in PER_CAPITA_QUESTIONS,
        log_scale=log_scale and not linear,
    )


def per_capita(value: float, population_15_64: float) -> float:
    """``value`` per 100,000 people aged 15–64."""
    if population_15_64 <= 0:
        raise ValueError("population aged 15-64 must be positive")
    return value * PER_CAPITA_BASE / population_15_64
