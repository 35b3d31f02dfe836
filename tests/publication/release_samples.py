"""Small, fully known release contents for the publication tests (built through the real services)."""

from __future__ import annotations

from dataclasses import replace

from observatory.publication.sources import ObservationRow

SOURCE = "Annual report questionnaire (test)"


def prevalence(iso3: str, name: str, year: int, value: float, *, low: float | None = None,
               high: float | None = None, drug: str = "cannabis", rank: int = 0) -> ObservationRow:  # fmt: skip
    return ObservationRow(
        dataset="prevalence", indicator="prevalence_past_year", area_kind="country", area_code=iso3,
        area_name=name, region="Americas", subregion="South America", drug=drug, drug_name=drug.capitalize(),
        year=year, value=value, low=low, high=high, unit="PT", source=SOURCE, method="HHS",
        coverage="national, ages 15-64", series_rank=rank,
    )  # fmt: skip


def world(year: int, best: float, low: float, high: float, drug: str = "cannabis") -> ObservationRow:
    return ObservationRow(
        dataset="estimates", indicator="users_past_year", area_kind="world", area_code="WORLD", area_name="World",
        drug=drug, drug_name=drug.capitalize(), year=year, value=best, low=low, high=high, unit="PERSONS",
        source="UNODC estimates (test)", method="imputation by subregion", coverage="78% of the population",
    )  # fmt: skip


def seizure(iso3: str, name: str, year: int, kg: float, drug: str = "cocaine") -> ObservationRow:
    return ObservationRow(
        dataset="seizures", indicator="seizures_kg", area_kind="country", area_code=iso3, area_name=name,
        region="Americas", subregion="South America", drug=drug, drug_name=drug.capitalize(), year=year,
        value=kg, unit="KG", source="UNODC annex 7.1 (test)", method="sum of reported drug figures",
        coverage="national",
    )  # fmt: skip


def first_release_rows() -> dict[str, list[ObservationRow]]:
    return {
        "prevalence": [
            prevalence("COL", "Colombia", 2019, 2.1, low=1.9, high=2.3),
            prevalence("COL", "Colombia", 2022, 3.4, low=3.0, high=3.8),
            prevalence("COL", "Colombia", 2022, 5.0, rank=1),
            prevalence("PER", "Peru", 2021, 0.7),
            prevalence("PER", "Peru", 2017, 0.5, drug="cocaine"),
        ],
        "estimates": [
            world(2021, 219_000_000, 180_000_000, 260_000_000),
            world(2022, 228_000_000, 190_000_000, 270_000_000),
        ],
        "seizures": [seizure("COL", "Colombia", 2022, 659_000.5), seizure("PER", "Peru", 2022, 22_000.0)],
    }


# A value that appears only in an unreleased draft; no public surface may ever show it.
SECRET_VALUE = 98.7654
DRAFT_ONLY_SOURCE = "Draft-only national survey"


def draft_rows() -> dict[str, list[ObservationRow]]:
    rows = first_release_rows()
    rows["prevalence"] = [
        *rows["prevalence"][:1],
        prevalence("COL", "Colombia", 2022, SECRET_VALUE),
        *rows["prevalence"][2:],
    ]
    rows["prevalence"].append(replace(prevalence("BRA", "Brazil", 2023, 7.777), source=DRAFT_ONLY_SOURCE))
    return rows
