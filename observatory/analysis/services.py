"""Every write of the analysis app: a function taking the acting user, checked by the policy, in one
transaction, with an audit row."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F, Sum

from observatory.access import audit, policy
from observatory.analysis import calculators, estimation
from observatory.analysis.kernels.regional import EstimationParameters
from observatory.analysis.models import CountryEstimate, EstimateRun, SeizureStatistic, SeizureTrend
from observatory.analysis.national import NationalPrevalence, national_inputs
from observatory.analysis.queries import country_frame, saved_estimates_for_regional
from observatory.reference.annex.seizures import (
    SeizureAggregate,
    aggregate_by_country_drug_year,
    parse_seizures,
)
from observatory.reference.loading import normalize_label
from observatory.reference.models import Country, Drug, DrugAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from observatory.access.models import User

    Actor = User | AnonymousUser | None

ANNEX_7_1_SOURCE = "UNODC, World Drug Report 2025, statistical annex table 7.1 (drug seizures 2019-2023)"
_BATCH = 2000


class ImportRejected(ValueError):
    """The whole file was refused; ``problems`` name the row and the reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = "; ".join(self.problems[:10])
        more = f" (and {len(self.problems) - 10} more)" if len(self.problems) > 10 else ""
        super().__init__(f"import rejected, nothing written: {shown}{more}")


@dataclass(frozen=True)
class SeizureImportReport:
    file: str
    rows_read: int
    keys: int
    keys_with_several_rows: int
    reported_totals: int
    count_keys: int
    created: int
    updated: int
    unchanged: int
    trend_rows: int
    by_drug_group: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------------
# Annex 7.1 seizure statistics
# ---------------------------------------------------------------------------------------------------------


class _DrugResolver:
    """Taxonomy drug for (group label, subgroup label, drug label) through the reference alias table:
    the group by its alias, then the drug named so within that group's subgroup, then any drug alias."""

    def __init__(self) -> None:
        self.groups: dict[str, int] = {}
        for alias in DrugAlias.objects.select_related("group", "subgroup__group", "drug__subgroup__group"):
            group = alias.group or (alias.subgroup.group if alias.subgroup else None)
            if group is None and alias.drug is not None:
                group = alias.drug.subgroup.group
            if group is not None:
                self.groups.setdefault(alias.normalized, group.pk)
        self.drugs: dict[tuple[int, str, str], tuple[int, int]] = {}
        self.by_alias: dict[str, tuple[int, int]] = {}
        for drug in Drug.objects.select_related("subgroup"):
            target = (drug.pk, drug.subgroup.group_id)
            self.drugs[
                (drug.subgroup.group_id, normalize_label(drug.subgroup.name), normalize_label(drug.name))
            ] = target
        for alias in DrugAlias.objects.filter(drug__isnull=False).select_related("drug__subgroup"):
            assert alias.drug is not None
            self.by_alias[alias.normalized] = (alias.drug.pk, alias.drug.subgroup.group_id)

    def resolve(self, group: str, subgroup: str, drug: str) -> tuple[int, int] | None:
        group_id = self.groups.get(normalize_label(group))
        if group_id is not None:
            found = self.drugs.get((group_id, normalize_label(subgroup), normalize_label(drug)))
            if found is not None:
                return found
        return self.by_alias.get(normalize_label(drug))


def _provenance(aggregate: SeizureAggregate) -> list[dict[str, Any]]:
    return [
        {"file": source.file, "sheet": source.sheet, "row": source.row, "cell": source.cell}
        for source in aggregate.sources
    ]


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


def import_annex_seizures(
    actor: Actor,
    path: str | Path,
    *,
    source: str = ANNEX_7_1_SOURCE,
    system: bool = False,
    data: bytes | None = None,
) -> SeizureImportReport:
    """Import annex table 7.1 (CSV or XLSX) into ``SeizureStatistic``: one row per (country, drug as
    reported, year) with duplicate rows summed, totals flagged, plant counts out of kilograms.

    All or nothing; re-importing the same file creates nothing. ``system=True`` is for the CLI.
    """
    if not system and not policy.allows_globally(actor, "analysis.run"):
        raise policy.PermissionDenied("analysis.run", "importing annex statistics needs a global analyst")
    file_name = Path(path).name
    parsed = parse_seizures(data if data is not None else Path(path), name=file_name)
    problems = [f"{skip.file} row {skip.row}: {skip.reason}" for skip in parsed.summary.skipped]
    aggregates = aggregate_by_country_drug_year(parsed.records)
    countries = dict(Country.objects.values_list("iso3", "pk"))
    resolver = _DrugResolver()
    resolved: list[tuple[SeizureAggregate, int, int, int]] = []
    for aggregate in aggregates:
        first = aggregate.sources[0]
        country_id = countries.get(aggregate.iso3)
        if country_id is None:
            problems.append(
                f"{first.file} row {first.row}, column msCode: unknown country {aggregate.iso3!r}"
            )
            continue
        drug = resolver.resolve(aggregate.drug_group, aggregate.drug_subgroup, aggregate.drug_name)
        if drug is None:
            problems.append(
                f"{first.file} row {first.row}, column DrugName: no taxonomy drug for "
                f"{aggregate.drug_group!r} / {aggregate.drug_subgroup!r} / {aggregate.drug_name!r} "
                "(add an alias to the reference taxonomy)"
            )
            continue
        resolved.append((aggregate, country_id, drug[0], drug[1]))
    if problems:
        raise ImportRejected(problems)

    with transaction.atomic():
        existing = {
            (row.country_id, row.drug_group_label, row.drug_subgroup_label, row.drug_label, row.year): row
            for row in SeizureStatistic.objects.filter(source=source)
        }
        to_create: list[SeizureStatistic] = []
        to_update: list[SeizureStatistic] = []
        unchanged = 0
        for aggregate, country_id, drug_id, group_id in resolved:
            values = {
                "drug_id": drug_id,
                "drug_group_id": group_id,
                "kilograms": aggregate.kilograms,
                "count": aggregate.count,
                "is_reported_total": aggregate.is_reported_total,
                "rows_summed": aggregate.rows_summed,
                "blank_rows": aggregate.blank_rows,
                "provenance": _provenance(aggregate),
            }
            key = (
                country_id,
                aggregate.drug_group,
                aggregate.drug_subgroup,
                aggregate.drug_name,
                aggregate.year,
            )
            row = existing.get(key)
            if row is None:
                to_create.append(
                    SeizureStatistic(
                        country_id=country_id,
                        drug_group_label=aggregate.drug_group,
                        drug_subgroup_label=aggregate.drug_subgroup,
                        drug_label=aggregate.drug_name,
                        year=aggregate.year,
                        source=source,
                        **values,
                    )
                )
                continue
            differs = [
                name
                for name, value in values.items()
                if not (
                    _same(getattr(row, name), value)  # type: ignore[arg-type]
                    if name in ("kilograms", "count")
                    else getattr(row, name) == value
                )
            ]
            if differs:
                for name, value in values.items():
                    setattr(row, name, value)
                to_update.append(row)
            else:
                unchanged += 1
        SeizureStatistic.objects.bulk_create(to_create, batch_size=_BATCH)
        if to_update:
            SeizureStatistic.objects.bulk_update(
                to_update,
                [
                    "drug",
                    "drug_group",
                    "kilograms",
                    "count",
                    "is_reported_total",
                    "rows_summed",
                    "blank_rows",
                    "provenance",
                ],
                batch_size=100,  # Django's CASE-per-field update grows with the square of the batch
            )
        trend_rows = (
            rebuild_annex_trends()
            if (to_create or to_update)
            else SeizureTrend.objects.filter(basis=SeizureTrend.Basis.ANNEX).count()
        )
        groups: dict[str, int] = {}
        for aggregate, *_ in resolved:
            groups[aggregate.drug_group] = groups.get(aggregate.drug_group, 0) + 1
        report = SeizureImportReport(
            file=file_name,
            rows_read=parsed.summary.rows_read,
            keys=len(resolved),
            keys_with_several_rows=sum(1 for a, *_ in resolved if a.rows_summed > 1),
            reported_totals=sum(1 for a, *_ in resolved if a.is_reported_total),
            count_keys=sum(1 for a, *_ in resolved if a.count is not None),
            created=len(to_create),
            updated=len(to_update),
            unchanged=unchanged,
            trend_rows=trend_rows,
            by_drug_group=dict(sorted(groups.items())),
        )
        audit.record(
            actor,
            "analysis.annex_seizures.import",
            "seizure_statistic_import",
            file_name,
            after={
                "source": source,
                "rows_read": report.rows_read,
                "keys": report.keys,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            },
        )
    return report


def rebuild_annex_trends() -> int:
    """Recompute the annex basis of ``SeizureTrend`` from ``SeizureStatistic`` in SQL: component rows
    with a mass only (reported totals and plant counts never enter kilograms). Call inside a transaction."""
    SeizureTrend.objects.filter(basis=SeizureTrend.Basis.ANNEX).delete()
    grouped = (
        SeizureStatistic.objects.filter(
            is_reported_total=False,
            count__isnull=True,
            kilograms__isnull=False,
            country__wdr_region__isnull=False,
        )
        .values("drug_group_id", "country_id", "country__wdr_region_id", "year")
        .annotate(kg=Sum("kilograms"), reports=Sum(F("rows_summed") - F("blank_rows")))
        .order_by()
    )
    rows = [
        SeizureTrend(
            basis=SeizureTrend.Basis.ANNEX,
            drug_group_id=item["drug_group_id"],
            region_id=item["country__wdr_region_id"],
            country_id=item["country_id"],
            year=item["year"],
            kilograms=item["kg"] or 0.0,
            reports=item["reports"] or 0,
        )
        for item in grouped
    ]
    SeizureTrend.objects.bulk_create(rows, batch_size=_BATCH)
    return len(rows)


def rebuild_case_trends() -> int:
    """Recompute the individual-cases basis of ``SeizureTrend`` from the seizures app's totals (cases and
    kilogram equivalents by drug group × country × year), in one transaction. Idempotent; run by the
    scheduler and after the demonstration import."""
    from observatory.seizures.queries import case_totals_by_group_country_year

    totals = case_totals_by_group_country_year()
    with transaction.atomic():
        SeizureTrend.objects.filter(basis=SeizureTrend.Basis.CASES).delete()
        SeizureTrend.objects.bulk_create(
            [
                SeizureTrend(
                    basis=SeizureTrend.Basis.CASES,
                    drug_group_id=total.drug_group_id,
                    region_id=total.region_id,
                    country_id=total.country_id,
                    year=total.year,
                    kilograms=total.kilograms,
                    reports=total.cases,
                    cases=total.cases,
                )
                for total in totals
            ],
            batch_size=_BATCH,
        )
    return len(totals)


# ---------------------------------------------------------------------------------------------------------
# Country estimates of hidden populations
# ---------------------------------------------------------------------------------------------------------


def save_country_estimate(
    actor: Actor,
    *,
    country_iso3: str,
    drug_code: str,
    population: str,
    year: int,
    method: str,
    inputs: Mapping[str, Any],
    notes: str = "",
    system: bool = False,
) -> CountryEstimate:
    """Compute the estimate from ``inputs`` on the server and save it for the country, with provenance.
    ``system=True`` is for set-up commands (the demonstration), not for requests."""
    country = Country.objects.filter(iso3=country_iso3.upper()).first()
    if country is None:
        raise ValueError(f"unknown country {country_iso3!r}")
    if not system:
        policy.require(actor, "analysis.estimate", country)
    if population not in CountryEstimate.Population.values:
        raise ValueError(f"population must be one of {', '.join(CountryEstimate.Population.values)}")
    if not drug_code.strip():
        raise ValueError("drug_code is required (a taxonomy code such as 'opioids' or 'cocaine.cocaine')")
    result = calculators.calculate(method, inputs)
    summary = result.as_dict()
    with transaction.atomic():
        estimate = CountryEstimate.objects.create(
            country=country,
            drug_code=drug_code.strip(),
            population=population,
            year=year,
            method=method,
            parameters={"confidence": summary["confidence"], "interval_method": summary["interval_method"]},
            inputs=summary["inputs"],
            result=summary,
            estimate=result.estimate,
            low=summary["low"],
            high=summary["high"],
            assumptions=list(result.assumptions),
            notes=notes,
            provenance={
                "computed_by": f"observatory.analysis.calculators.{method}",
                "entered_by": getattr(actor, "username", None),
            },
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        audit.record(
            actor,
            "analysis.country_estimate.create",
            "country_estimate",
            estimate.pk,
            country_iso3=country.iso3,
            after={
                "drug_code": estimate.drug_code,
                "population": population,
                "year": year,
                "method": method,
                "inputs": summary["inputs"],
                "estimate": estimate.estimate,
                "low": estimate.low,
                "high": estimate.high,
            },
        )
    return estimate


# ---------------------------------------------------------------------------------------------------------
# Regional and global estimates
# ---------------------------------------------------------------------------------------------------------


def run_regional_estimate(
    actor: Actor,
    drug_code: str,
    year: int,
    parameters: EstimationParameters | None = None,
    *,
    national: Sequence[NationalPrevalence] | None = None,
    exclude: Iterable[str] = (),
    system: bool = False,
) -> EstimateRun:
    """Estimate past-year use (15–64) of ``drug_code`` in ``year`` for every country, subregion, region
    and the world, and store the run whole. National values come through :func:`national_inputs`
    unless given (``national``); saved country estimates stand in for countries without data."""
    if not system and not policy.allows_globally(actor, "analysis.run"):
        raise policy.PermissionDenied("analysis.run", "regional and global estimates need a global analyst")
    params = parameters or EstimationParameters()
    rows = list(national) if national is not None else national_inputs(actor, drug_code, year)
    frames = country_frame(year)
    saved = saved_estimates_for_regional(drug_code, year)
    excluded = sorted({code.upper() for code in exclude})
    assembled = estimation.assemble_inputs(rows, drug_code, year, frames, saved, excluded)
    result = estimation.run_estimate(assembled, params)
    output = estimation.serialise(result, assembled, {frame.iso3: frame.name for frame in frames})
    with transaction.atomic():
        run = EstimateRun.objects.create(
            drug_code=drug_code,
            year=year,
            parameters={**params.describe(), "excluded_countries": excluded},
            methods=estimation.methods_statement(params),
            inputs=list(assembled.records),
            output=output,
            world_users_best=result.world.users_best,
            world_users_low=result.world.users_low,
            world_users_high=result.world.users_high,
            world_coverage=result.world.coverage,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        audit.record(
            actor,
            "analysis.estimate_run.create",
            "estimate_run",
            run.pk,
            after={
                "drug_code": drug_code,
                "year": year,
                "excluded_countries": excluded,
                "world_users_best": run.world_users_best,
                "world_coverage": run.world_coverage,
            },
        )
    return run
