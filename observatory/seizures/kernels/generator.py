"""Deterministic synthetic individual drug seizure cases, written as CSV.

Column layout (`IDS_COLUMNS`) follows the public UNODC Individual Drug Seizures (IDS) releases, whose
columns are upper-case snake case: COUNTRY_OF_SEIZURE, DRUG_NAME, AMOUNT_OF_DRUG, DRUG_UNIT,
PRODUCING_COUNTRY, DEPARTURE_COUNTRY, DESTINATION_COUNTRY (confirmed names), plus the other case
attributes the IDS form collects, named in the same style:

| column                  | content                                                                   |
|-------------------------|---------------------------------------------------------------------------|
| CASE_REFERENCE          | national case reference, unique per case (the source reference)           |
| COUNTRY_OF_SEIZURE      | ISO3 of the seizing (reporting) country                                   |
| SEIZURE_DATE            | `YYYY-MM-DD`, `YYYY-MM` or `YYYY`: the precision is the form of the value  |
| LOCATION                | place of seizure as reported (free text, often empty)                     |
| SITE_TYPE               | airport, seaport, land border, postal centre, inland road, premises       |
| MODE_OF_TRANSPORT       | air passenger, air cargo, maritime container, private vessel, road, ...   |
| CONCEALMENT             | how the drugs were hidden                                                 |
| DRUG_NAME               | drug label as reported (several spellings per drug)                       |
| AMOUNT_OF_DRUG          | quantity as reported, in DRUG_UNIT                                         |
| DRUG_UNIT               | unit as reported: g, kg, tablets, plants, litres, doses (several spellings)|
| PURITY_PERCENT          | purity in percent where a laboratory reported it, else empty              |
| PRODUCING_COUNTRY       | ISO3 of the country of origin (production), may be empty                   |
| DEPARTURE_COUNTRY       | ISO3 of the country of departure, may be empty                             |
| TRANSIT_COUNTRIES       | ISO3 codes of transit countries in route order, separated by `;`           |
| DESTINATION_COUNTRY     | ISO3 of the intended destination, may be empty                             |
| TRAFFICKING_CHANNEL     | empty, or internet, darknet, postal, courier                               |
| OFFENDER_NATIONALITIES  | ISO3 codes separated by `;`                                                |
| SEIZING_AGENCY          | customs, police, ...                                                       |

Quantities follow a log-normal distribution per drug and unit; routes come from realistic trafficking
corridors (some of which open in later years, so emerging-route analysis has something to find).
Every random draw is batched with numpy, so a million rows take a few seconds.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IDS_COLUMNS: tuple[str, ...] = (
    "CASE_REFERENCE",
    "COUNTRY_OF_SEIZURE",
    "SEIZURE_DATE",
    "LOCATION",
    "SITE_TYPE",
    "MODE_OF_TRANSPORT",
    "CONCEALMENT",
    "DRUG_NAME",
    "AMOUNT_OF_DRUG",
    "DRUG_UNIT",
    "PURITY_PERCENT",
    "PRODUCING_COUNTRY",
    "DEPARTURE_COUNTRY",
    "TRANSIT_COUNTRIES",
    "DESTINATION_COUNTRY",
    "TRAFFICKING_CHANNEL",
    "OFFENDER_NATIONALITIES",
    "SEIZING_AGENCY",
)

# IDS column -> canonical field of `rows.py`; the import service offers it as the default mapping.
IDS_COLUMN_MAPPING: dict[str, str] = {
    "CASE_REFERENCE": "case_reference",
    "COUNTRY_OF_SEIZURE": "reporting_country",
    "SEIZURE_DATE": "seizure_date",
    "LOCATION": "place",
    "SITE_TYPE": "site_type",
    "MODE_OF_TRANSPORT": "transport_mode",
    "CONCEALMENT": "concealment",
    "DRUG_NAME": "drug",
    "AMOUNT_OF_DRUG": "quantity",
    "DRUG_UNIT": "unit",
    "PURITY_PERCENT": "purity",
    "PRODUCING_COUNTRY": "origin_country",
    "DEPARTURE_COUNTRY": "departure_country",
    "TRANSIT_COUNTRIES": "transit_countries",
    "DESTINATION_COUNTRY": "destination_country",
    "TRAFFICKING_CHANNEL": "trafficking_channel",
    "OFFENDER_NATIONALITIES": "offender_nationalities",
    "SEIZING_AGENCY": "seizing_agency",
}

# Unit code -> spellings as they appear in reports. Mass and volume units carry a generic factor;
# count units (tablets, plants, doses) only convert to kg through a drug-specific factor.
UNIT_LABELS: dict[str, tuple[str, ...]] = {
    "g": ("g", "gram", "grams", "gr"),
    "kg": ("kg", "KG", "kilogram", "kilograms"),
    "l": ("l", "litres", "liters", "L"),
    "tablet": ("tablets", "tabs", "pills", "tablet"),
    "plant": ("plants", "plant", "Plants"),
    "dose": ("doses", "blotters", "dose"),
}


@dataclass(frozen=True)
class UnitDraw:
    """How one drug is reported in one unit: share of cases, log-normal median and spread."""

    unit: str
    share: float
    median: float
    sigma: float
    integer: bool = False


@dataclass(frozen=True)
class Corridor:
    """A trafficking corridor: origin → departure → transits → destination, opening in `since_year`."""

    origin: str
    departure: str
    transit: tuple[str, ...]
    destination: str
    weight: float
    since_year: int = 0
    transport: str = "maritime container"


@dataclass(frozen=True)
class DrugProfile:
    code: str
    labels: tuple[str, ...]
    share: float
    units: tuple[UnitDraw, ...]
    corridors: tuple[Corridor, ...]
    purity_mean: float | None = None  # percent; None: purity not typically reported


def _c(route: str, weight: float, since: int = 0, transport: str = "maritime container") -> Corridor:
    parts = route.split(">")
    transit = tuple(parts[2:-1])
    return Corridor(parts[0], parts[1], transit, parts[-1], weight, since, transport)


DRUG_PROFILES: tuple[DrugProfile, ...] = (
    DrugProfile(
        "cocaine_hcl",
        ("Cocaine hydrochloride", "Cocaine HCl", "cocaine", "COCAINE"),
        0.17,
        (UnitDraw("kg", 0.55, 12.0, 1.6), UnitDraw("g", 0.43, 40.0, 1.3), UnitDraw("l", 0.02, 5.0, 1.0)),
        (
            _c("COL>COL>PAN>USA", 3.0),
            _c("COL>COL>GTM>MEX>USA", 3.0, transport="road vehicle"),
            _c("COL>ECU>BEL", 2.5),
            _c("COL>ECU>NLD", 2.0),
            _c("PER>BRA>PRT", 1.0),
            _c("BOL>PRY>BRA>ESP", 1.0),
            _c("COL>VEN>DOM>ESP", 1.0),
            _c("COL>BRA>GNB>ESP", 0.6),
            _c("PER>ECU>AUS", 0.5, since=2019),
            _c("COL>ECU>HRV>DEU", 1.2, since=2021),
            _c("COL>COL>ESP", 1.5, transport="air passenger"),
            _c("BOL>BOL>CHL>NLD", 0.8),
        ),
        purity_mean=65.0,
    ),
    DrugProfile(
        "cannabis_herb",
        ("Cannabis herb", "Marijuana", "cannabis herb (marijuana)", "Herbal cannabis"),
        0.24,
        (UnitDraw("kg", 0.45, 3.0, 1.8), UnitDraw("g", 0.55, 25.0, 1.4)),
        (
            _c("MEX>MEX>USA", 2.0, transport="road vehicle"),
            _c("ALB>ALB>GRC>ITA", 1.0, transport="road vehicle"),
            _c("USA>USA>DEU", 0.8, since=2018, transport="postal"),
            _c("THA>THA>GBR", 0.8, since=2022, transport="air passenger"),
            _c("CAN>CAN>GBR", 0.6, since=2020, transport="air passenger"),
            _c("NGA>NGA>GHA", 0.6, transport="road vehicle"),
            _c("PRY>PRY>BRA", 1.5, transport="road vehicle"),
            _c("COL>COL>ECU", 0.7, transport="road vehicle"),
        ),
    ),
    DrugProfile(
        "cannabis_resin",
        ("Cannabis resin", "Hashish", "hash", "Cannabis Resin"),
        0.1,
        (UnitDraw("kg", 0.6, 20.0, 1.7), UnitDraw("g", 0.4, 15.0, 1.3)),
        (
            _c("MAR>MAR>ESP>FRA", 3.0, transport="road vehicle"),
            _c("MAR>ESP>ITA", 1.5, transport="private vessel"),
            _c("MAR>DZA>LBY>EGY", 0.8, transport="road vehicle"),
            _c("AFG>PAK>IRN", 1.0, transport="road vehicle"),
            _c("LBN>LBN>EGY", 0.4),
        ),
    ),
    DrugProfile(
        "cannabis_plant",
        ("Cannabis plants", "cannabis plant", "Cannabis Plants"),
        0.06,
        (UnitDraw("plant", 1.0, 60.0, 1.5, integer=True),),
        (),  # domestic cultivation: no cross-border route
    ),
    DrugProfile(
        "heroin",
        ("Heroin", "heroin", "Heroin base", "HEROIN"),
        0.07,
        (UnitDraw("kg", 0.5, 5.0, 1.6), UnitDraw("g", 0.5, 20.0, 1.3)),
        (
            _c("AFG>PAK>IRN>TUR>BGR>DEU", 2.0, transport="road vehicle"),
            _c("AFG>IRN>TUR>GRC>ITA", 1.2, transport="road vehicle"),
            _c("AFG>TJK>KAZ>RUS", 1.0, transport="road vehicle"),
            _c("AFG>PAK>KEN>TZA>ZAF", 0.8),
            _c("MMR>THA>MYS>AUS", 0.8),
            _c("MMR>MMR>CHN", 0.8, transport="road vehicle"),
            _c("AFG>PAK>ARE>GBR", 0.6, transport="air cargo"),
        ),
        purity_mean=45.0,
    ),
    DrugProfile(
        "methamphetamine",
        ("Methamphetamine", "Crystal methamphetamine", "yaba", "Methamphetamine tablets"),
        0.12,
        (
            UnitDraw("kg", 0.45, 8.0, 1.8),
            UnitDraw("g", 0.25, 10.0, 1.3),
            UnitDraw("tablet", 0.3, 5000.0, 2.0, integer=True),
        ),
        (
            _c("MMR>LAO>THA>MYS>AUS", 2.0),
            _c("MMR>THA>MYS", 2.0, transport="road vehicle"),
            _c("MMR>MMR>BGD", 1.0, transport="road vehicle"),
            _c("MEX>MEX>USA", 2.5, transport="road vehicle"),
            _c("AFG>IRN>IRQ", 0.8, since=2019, transport="road vehicle"),
            _c("MMR>LAO>VNM>JPN", 0.6, since=2020),
            _c("MEX>MEX>NZL", 0.4, transport="air cargo"),
        ),
        purity_mean=80.0,
    ),
    DrugProfile(
        "amphetamine",
        ('Amphetamine "captagon" tablets', "Captagon", "captagon tablets", "Amphetamine"),
        0.07,
        (UnitDraw("tablet", 0.7, 50000.0, 2.2, integer=True), UnitDraw("kg", 0.3, 10.0, 1.7)),
        (
            _c("SYR>SYR>JOR>SAU", 3.0, transport="road vehicle"),
            _c("SYR>LBN>SAU", 1.5),
            _c("LBN>LBN>KWT", 0.6, transport="air cargo"),
            _c("SYR>SYR>IRQ>SAU", 1.0, since=2020, transport="road vehicle"),
            _c("SYR>TUR>ARE", 0.5),
            _c("NLD>NLD>BEL>DEU", 0.7, transport="road vehicle"),
        ),
    ),
    DrugProfile(
        "mdma",
        ("MDMA", "Ecstasy tablets", "ecstasy", "MDMA tablets"),
        0.07,
        (
            UnitDraw("tablet", 0.7, 300.0, 1.9, integer=True),
            UnitDraw("g", 0.2, 50.0, 1.4),
            UnitDraw("kg", 0.1, 3.0, 1.3),
        ),
        (
            _c("NLD>NLD>GBR", 1.5, transport="postal"),
            _c("NLD>BEL>DEU>POL", 1.0, transport="road vehicle"),
            _c("NLD>NLD>AUS", 1.0, transport="postal"),
            _c("DEU>DEU>CHE", 0.5, transport="postal"),
            _c("NLD>NLD>BRA", 0.4, since=2021, transport="air passenger"),
        ),
    ),
    DrugProfile(
        "fentanyl",
        ("Fentanyl", "fentanyl", "Fentanyl pills"),
        0.04,
        (
            UnitDraw("g", 0.45, 30.0, 1.5),
            UnitDraw("kg", 0.25, 2.0, 1.2),
            UnitDraw("tablet", 0.3, 2000.0, 1.8, integer=True),
        ),
        (
            _c("CHN>MEX>USA", 2.0, transport="road vehicle"),
            _c("CHN>CHN>USA", 0.8, transport="postal"),
            _c("IND>IND>USA", 0.5, since=2020, transport="postal"),
            _c("MEX>MEX>CAN", 0.4, since=2022, transport="road vehicle"),
        ),
    ),
    DrugProfile(
        "ketamine",
        ("Ketamine", "ketamine", "KETAMINE"),
        0.04,
        (UnitDraw("kg", 0.5, 10.0, 1.6), UnitDraw("g", 0.5, 20.0, 1.3)),
        (
            _c("IND>IND>MYS", 1.0, transport="air cargo"),
            _c("CHN>CHN>MYS", 0.8),
            _c("MMR>THA>MYS", 0.8, since=2020, transport="road vehicle"),
            _c("IND>IND>AUS", 0.5, transport="postal"),
            _c("NLD>NLD>GBR", 0.4, transport="postal"),
        ),
    ),
    DrugProfile(
        "lsd",
        ("LSD", "LSD blotters", "lysergide"),
        0.02,
        (UnitDraw("dose", 1.0, 50.0, 1.5, integer=True),),
        (
            _c("NLD>NLD>DEU", 1.0, transport="postal"),
            _c("USA>USA>CAN", 0.5, transport="postal"),
            _c("DEU>DEU>AUT", 0.5, transport="postal"),
        ),
    ),
)

# Reporting countries for domestic cases (cultivation, retail), weighted roughly by reporting volume.
DOMESTIC_COUNTRIES: tuple[tuple[str, float], ...] = (
    ("USA", 3.0),
    ("BRA", 1.5),
    ("ESP", 1.5),
    ("GBR", 1.2),
    ("DEU", 1.0),
    ("FRA", 1.0),
    ("ITA", 0.8),
    ("MEX", 1.0),
    ("COL", 1.0),
    ("IND", 0.8),
    ("NLD", 0.6),
    ("AUS", 0.6),
    ("CAN", 0.6),
    ("ZAF", 0.5),
    ("NGA", 0.5),
    ("THA", 0.6),
    ("PHL", 0.5),
    ("MAR", 0.4),
    ("TUR", 0.5),
    ("RUS", 0.5),
)

SITE_TYPES: dict[str, str] = {  # transport mode -> typical site of seizure
    "maritime container": "seaport",
    "private vessel": "coast",
    "air passenger": "airport",
    "air cargo": "airport",
    "road vehicle": "land border",
    "postal": "postal centre",
}
CONCEALMENTS: dict[str, tuple[str, ...]] = {
    "maritime container": ("rip-on/rip-off in container", "hidden in fruit cargo", "container structure"),
    "private vessel": ("hidden compartment", "bales on deck"),
    "air passenger": ("luggage false bottom", "body carried", "ingested capsules"),
    "air cargo": ("mixed with legitimate goods", "machinery parts"),
    "road vehicle": ("vehicle hidden compartment", "fuel tank", "mixed with legitimate goods"),
    "postal": ("postal parcel", "letter envelope", "vacuum-sealed parcel"),
    "domestic": ("none", "premises", "vehicle"),
}
AGENCIES: tuple[str, ...] = ("Customs", "Police", "Anti-narcotics agency", "Border guard", "Gendarmerie")
TRANSPORT_MODES: tuple[str, ...] = tuple(SITE_TYPES)
POSTAL_CHANNELS: tuple[str, ...] = ("postal", "courier", "darknet", "internet")

# Route position at which the seizure happens: departure, each transit, destination (destination heavy).
_DESTINATION_WEIGHT = 3.0


def generated_country_codes() -> frozenset[str]:
    """Every ISO3 code the generator can write (for lookups in tests and demonstrations)."""
    codes = {code for code, _ in DOMESTIC_COUNTRIES}
    for profile in DRUG_PROFILES:
        for corridor in profile.corridors:
            codes.update((corridor.origin, corridor.departure, corridor.destination, *corridor.transit))
    return frozenset(codes)


def drug_label_aliases() -> dict[str, str]:
    """Every drug spelling the generator writes -> drug code (seed data for the alias table)."""
    return {label: profile.code for profile in DRUG_PROFILES for label in profile.labels}


def unit_label_aliases() -> dict[str, str]:
    """Every unit spelling the generator writes -> unit code (seed data for the alias table)."""
    return {label: code for code, labels in UNIT_LABELS.items() for label in labels}


def _choice_by_weight(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    probabilities = np.asarray(weights, dtype=float)
    return rng.choice(len(probabilities), size=size, p=probabilities / probabilities.sum())


def _label_column(labels: Sequence[str], indexes: np.ndarray) -> np.ndarray:
    return np.asarray(labels, dtype=object)[indexes]


def generate_seizure_columns(
    count: int, seed: int, first_year: int = 2015, last_year: int = 2024, first_case_number: int = 0
) -> dict[str, np.ndarray]:
    """Draw `count` cases; returns IDS column name -> object array of cell strings."""
    rng = np.random.default_rng(seed)
    n = count
    years = np.arange(first_year, last_year + 1)
    # Seizure dates uniformly over the range; precision: 85 % day, 10 % month, 5 % year.
    first_day = np.datetime64(f"{first_year}-01-01")
    span_days = int((np.datetime64(f"{last_year + 1}-01-01") - first_day).astype(int))
    days = first_day + rng.integers(0, span_days, size=n).astype("timedelta64[D]")
    day_text = np.datetime_as_string(days, unit="D")
    precision = rng.choice(3, size=n, p=[0.85, 0.10, 0.05])
    date_text = day_text.astype(object)
    date_text[precision == 1] = day_text[precision == 1].astype("<U7").astype(object)
    date_text[precision == 2] = day_text[precision == 2].astype("<U4").astype(object)
    year_of_case = days.astype("datetime64[Y]").astype(int) + 1970

    drug_index = _choice_by_weight(rng, [p.share for p in DRUG_PROFILES], n)
    drug_label = np.empty(n, dtype=object)
    unit_label = np.empty(n, dtype=object)
    amount_text = np.empty(n, dtype=object)
    purity_text = np.full(n, "", dtype=object)
    origin = np.full(n, "", dtype=object)
    departure = np.full(n, "", dtype=object)
    transit = np.full(n, "", dtype=object)
    destination = np.full(n, "", dtype=object)
    seizing = np.empty(n, dtype=object)
    transport = np.empty(n, dtype=object)

    domestic_codes = [code for code, _ in DOMESTIC_COUNTRIES]
    domestic_weights = [weight for _, weight in DOMESTIC_COUNTRIES]

    for d, profile in enumerate(DRUG_PROFILES):
        rows = np.flatnonzero(drug_index == d)
        if rows.size == 0:
            continue
        drug_label[rows] = _label_column(profile.labels, rng.integers(0, len(profile.labels), rows.size))
        unit_pick = _choice_by_weight(rng, [u.share for u in profile.units], rows.size)
        for u, draw in enumerate(profile.units):
            unit_rows = rows[unit_pick == u]
            labels = UNIT_LABELS[draw.unit]
            unit_label[unit_rows] = _label_column(labels, rng.integers(0, len(labels), unit_rows.size))
            amounts = rng.lognormal(np.log(draw.median), draw.sigma, unit_rows.size)
            if draw.integer:
                amount_text[unit_rows] = [str(a) for a in np.maximum(1, np.rint(amounts)).astype(np.int64)]
            else:
                amount_text[unit_rows] = [f"{a:.3f}" for a in np.maximum(amounts, 0.001)]
        if profile.purity_mean is not None:
            with_purity = rows[rng.random(rows.size) < 0.3]
            concentration = 20.0
            alpha = profile.purity_mean / 100 * concentration
            purities = rng.beta(alpha, concentration - alpha, with_purity.size) * 100
            purity_text[with_purity] = [f"{p:.1f}" for p in np.clip(purities, 1.0, 99.9)]

        # Domestic share: all of cannabis plants, a fifth of everything else (retail, local production).
        domestic = rng.random(rows.size) < (1.0 if not profile.corridors else 0.2)
        domestic_rows = rows[domestic]
        home = _label_column(domestic_codes, _choice_by_weight(rng, domestic_weights, domestic_rows.size))
        seizing[domestic_rows] = home
        transport[domestic_rows] = "domestic"

        routed_rows = rows[~domestic]
        if routed_rows.size == 0:
            continue
        # Corridor choice depends on the year: a corridor contributes only from `since_year` on.
        for year in years:
            year_rows = routed_rows[year_of_case[routed_rows] == year]
            if year_rows.size == 0:
                continue
            weights = [c.weight if year >= c.since_year else 0.0 for c in profile.corridors]
            picks = _choice_by_weight(rng, weights, year_rows.size)
            for k, corridor in enumerate(profile.corridors):
                corridor_rows = year_rows[picks == k]
                if corridor_rows.size == 0:
                    continue
                path = [corridor.departure, *corridor.transit, corridor.destination]
                position_weights = [1.0] * (len(path) - 1) + [_DESTINATION_WEIGHT]
                position = _choice_by_weight(rng, position_weights, corridor_rows.size)
                seizing[corridor_rows] = _label_column(path, position)
                origin[corridor_rows] = corridor.origin
                departure[corridor_rows] = corridor.departure
                transit[corridor_rows] = ";".join(corridor.transit)
                destination[corridor_rows] = corridor.destination
                transport[corridor_rows] = corridor.transport
        # Reports are incomplete: origin unknown in 25 %, departure in 10 %, destination in 10 %.
        origin[routed_rows[rng.random(routed_rows.size) < 0.25]] = ""
        departure[routed_rows[rng.random(routed_rows.size) < 0.10]] = ""
        destination[routed_rows[rng.random(routed_rows.size) < 0.10]] = ""

    # Domestic origin for half the domestic cases is the seizing country itself.
    domestic_mask = transport == "domestic"
    fill_origin = domestic_mask & (rng.random(n) < 0.5)
    origin[fill_origin] = seizing[fill_origin]

    site = np.empty(n, dtype=object)
    concealment = np.empty(n, dtype=object)
    transport_text = np.empty(n, dtype=object)
    channel = np.full(n, "", dtype=object)
    for mode in (*TRANSPORT_MODES, "domestic"):
        mode_rows = np.flatnonzero(transport == mode)
        options = CONCEALMENTS[mode]
        concealment[mode_rows] = _label_column(options, rng.integers(0, len(options), mode_rows.size))
        if mode == "domestic":
            site[mode_rows] = _label_column(("inland road", "premises"), rng.integers(0, 2, mode_rows.size))
            transport_text[mode_rows] = ""
        else:
            site[mode_rows] = SITE_TYPES[mode]
            transport_text[mode_rows] = mode
        if mode == "postal":
            channel[mode_rows] = _label_column(POSTAL_CHANNELS, rng.integers(0, 4, mode_rows.size))
    # Internet-ordered shipments also travel by air; a small share of air cases are darknet orders.
    air_rows = np.flatnonzero((transport == "air passenger") & (rng.random(n) < 0.03))
    channel[air_rows] = "darknet"

    # Offenders: none recorded (40 %), one nationality (50 %: mostly the seizing country), two (10 %).
    offender_count = rng.choice(3, size=n, p=[0.4, 0.5, 0.1])
    foreign = np.where(departure != "", departure, np.where(origin != "", origin, seizing))
    nationalities = np.full(n, "", dtype=object)
    one = offender_count == 1
    pick_foreign = rng.random(n) < 0.35
    nationalities[one & pick_foreign] = foreign[one & pick_foreign]
    nationalities[one & ~pick_foreign] = seizing[one & ~pick_foreign]
    two = np.flatnonzero(offender_count == 2)
    nationalities[two] = [
        f"{a};{b}" if a != b else a for a, b in zip(seizing[two], foreign[two], strict=True)
    ]
    agency = _label_column(AGENCIES, rng.integers(0, len(AGENCIES), n))
    customs_modes = (transport == "postal") | (transport == "air cargo") | (transport == "maritime container")
    agency[customs_modes & (rng.random(n) < 0.7)] = "Customs"

    references = [
        f"{country}-{year}-{number:08d}"
        for number, country, year in zip(
            range(first_case_number, first_case_number + n), seizing, year_of_case, strict=True
        )
    ]
    return {
        "CASE_REFERENCE": np.asarray(references, dtype=object),
        "COUNTRY_OF_SEIZURE": seizing,
        "SEIZURE_DATE": date_text,
        "LOCATION": np.full(n, "", dtype=object),
        "SITE_TYPE": site,
        "MODE_OF_TRANSPORT": transport_text,
        "CONCEALMENT": concealment,
        "DRUG_NAME": drug_label,
        "AMOUNT_OF_DRUG": amount_text,
        "DRUG_UNIT": unit_label,
        "PURITY_PERCENT": purity_text,
        "PRODUCING_COUNTRY": origin,
        "DEPARTURE_COUNTRY": departure,
        "TRANSIT_COUNTRIES": transit,
        "DESTINATION_COUNTRY": destination,
        "TRAFFICKING_CHANNEL": channel,
        "OFFENDER_NATIONALITIES": nationalities,
        "SEIZING_AGENCY": agency,
    }


def write_seizure_cases_csv(
    path: str | Path,
    count: int,
    seed: int,
    first_year: int = 2015,
    last_year: int = 2024,
    chunk_size: int = 200_000,
) -> int:
    """Write `count` synthetic cases to `path` (UTF-8 CSV, header row first); returns rows written.

    The same (count, seed, years, chunk_size) always gives the same file, byte for byte.
    """
    if count < 0:
        raise ValueError("count must be non-negative")
    if first_year > last_year:
        raise ValueError("first_year must not be after last_year")
    written = 0
    seeds = np.random.SeedSequence(seed).spawn(max(1, -(-count // chunk_size)))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(IDS_COLUMNS)
        for chunk_seed in seeds:
            size = min(chunk_size, count - written)
            if size <= 0:
                break
            chunk_rng_seed = int(chunk_seed.generate_state(1)[0])
            columns = generate_seizure_columns(size, chunk_rng_seed, first_year, last_year, written)
            writer.writerows(zip(*(columns[name] for name in IDS_COLUMNS), strict=True))
            written += size
    return written
