"""Demonstration data of the analysis app (idempotent): the shipped annex 7.1 seizures, one set of
regional estimates when national prevalence is available, and one capture–recapture estimate for COL."""

from __future__ import annotations

from pathlib import Path

from observatory.analysis import services
from observatory.analysis.models import CountryEstimate, EstimateRun, SeizureStatistic
from observatory.analysis.national import NationalDataUnavailable

DATA_DIR = Path(__file__).with_name("data")
SEIZURES_FILE = DATA_DIR / "7.1_Drug_seizures_2019-2023.csv"
# The reporting app's drug codes, in which national prevalence is reported.
DEMO_DRUGS = ("cannabis", "cocaine", "opioids", "amphetamines", "ecstasy")
DEMO_YEAR = 2023
DEMO_NOTE = "demonstration: capture–recapture between treatment and police records"


def load_demo() -> None:
    from observatory.access.models import User

    if not SeizureStatistic.objects.filter(source=services.ANNEX_7_1_SOURCE).exists():
        services.import_annex_seizures(None, SEIZURES_FILE, system=True)
    services.rebuild_case_trends()  # the seizures app's demonstration cases, loaded just before
    # Estimates are run as the demo's global analyst: national values are read with their scope.
    analyst = User.objects.filter(username="analyst").first()
    if analyst is not None and not EstimateRun.objects.exists():
        for drug_code in DEMO_DRUGS:
            try:
                services.run_regional_estimate(analyst, drug_code, DEMO_YEAR)
            except NationalDataUnavailable:
                break  # the reporting app provides no national prevalence yet: skip quietly
            except ValueError:
                continue  # no country has data for this drug and year
    if not CountryEstimate.objects.filter(country__iso3="COL", notes=DEMO_NOTE).exists():
        services.save_country_estimate(
            User.objects.filter(username="focal.col").first(),
            country_iso3="COL",
            drug_code="cocaine",
            population="high_risk_users",
            year=DEMO_YEAR,
            method="capture_recapture",
            inputs={"n1": 1850, "n2": 1240, "m": 310},
            notes=DEMO_NOTE,
            system=True,
        )
