"""Company shopping and surge detection on synthetic data where the answer is known."""

import random
import re

from hypothesis import given
from hypothesis import strategies as st

from observatory.precursors.kernels.patterns import (
    LEGAL_FORMS,
    PartyMention,
    SubstanceEvent,
    detect_company_shopping,
    detect_surges,
    normalise_address,
    normalise_company_name,
)


def mention(record_id, name, address, exporting, party_country="NGA", kind="notification"):
    return PartyMention(record_id, kind, "consignee", name, address, party_country, exporting, "ephedrine")


KNOWN_SET = [
    # one consignee, four spellings, approached from India, China, Germany — and an incident from Belgium
    mention("N1", "Alpha Pharmaceuticals Ltd.", "12 Harbour Road, Lagos", "IND"),
    mention("N2", "ALPHA PHARMACEUTICALS LIMITED", "No. 12, Harbour Rd., Lagos", "CHN"),
    mention("N3", "Alfa Pharmaceuticals Ltd", "12 Harbour Rd Lagos", "DEU"),
    mention("I1", "Alpha Pharmaceutical Co.", "12 Harbor Road, Lagos", "BEL", kind="incident"),
    # different companies with a shared word or a similar name: must not join the case
    mention("N4", "Alpha Logistics Ltd", "88 Marina Street, Lagos", "NLD"),
    mention("N5", "Beta Pharmaceuticals Ltd", "4 Creek Road, Lagos", "FRA"),
    mention("N6", "Gamma Chemicals LLC", "12 Harbour Road, Lagos", "USA"),  # same building, other firm
    # same name in another country is another company
    mention("N7", "Alpha Pharmaceuticals Ltd", "5 Rue du Port, Abidjan", "ITA", party_country="CIV"),
    # one company approached from one country only: not company shopping
    mention("N8", "Delta Química S.A.", "Av. Central 100, Lima", "ESP", party_country="PER"),
    mention("N9", "Delta Quimica SA", "Avenida Central 100, Lima", "ESP", party_country="PER"),
]


def test_given_spelling_variants_then_one_case_with_its_evidence():
    (case,) = detect_company_shopping(KNOWN_SET)
    assert case.record_ids == ("I1", "N1", "N2", "N3")
    assert case.exporting_countries == ("BEL", "CHN", "DEU", "IND")
    assert case.record_kinds == ("incident", "notification")
    assert case.party_country == "NGA"
    assert case.min_name_similarity >= 80
    assert {p.record_a for p in case.pairs} | {p.record_b for p in case.pairs} == set(case.record_ids)
    assert all(0 <= p.address_similarity <= 100 for p in case.pairs)


def test_a_company_seen_from_one_country_is_reported_when_the_threshold_is_one():
    cases = detect_company_shopping(KNOWN_SET, min_exporting_countries=1)
    delta = next(c for c in cases if c.party_country == "PER")
    assert delta.record_ids == ("N8", "N9")
    assert all("N6" not in c.record_ids or len(c.record_ids) == 1 for c in cases)


def test_name_normaliser_examples():
    assert normalise_company_name("ALPHA-Chem. Trading (Pvt.) Ltd.") == "alpha chem trading"
    assert normalise_company_name("Química Andina S.A. de C.V.") == "quimica andina"
    assert normalise_company_name("Müller Chemie GmbH & Co. KG") == "muller chemie"
    assert normalise_company_name("S.A.") == "sa"  # never empty
    assert normalise_address("No. 12, Harbour Rd., Apt 4") == "12 harbour road 4"


_names = st.lists(
    st.sampled_from(
        ["alpha", "Beta", "É", "x", "Y", "&", ".", ",", "-", "(", ")", "Ltd", "GmbH", "S.A.", "LLC", "co"]
    ),
    max_size=8,
).map(" ".join)


@given(_names)
def test_name_normaliser_is_idempotent(name):
    once = normalise_company_name(name)
    assert normalise_company_name(once) == once


@given(_names, st.sampled_from(["Ltd", "Ltd.", "LIMITED", "GmbH", "S.A.", "LLC", "Inc."]))
def test_legal_suffix_and_case_do_not_change_the_name(name, suffix):
    base = normalise_company_name(name)
    if any(token not in LEGAL_FORMS for token in base.split()):  # names of only legal words are kept whole
        assert normalise_company_name(f"{name.upper()} {suffix}") == base


def test_surge_by_substance_and_route():
    events = []
    for month, count in zip(["2024-01", "2024-02", "2024-03", "2024-04"], [2, 1, 3, 9], strict=True):
        events += [SubstanceEvent(f"{month}-{i}", "APAA", "CHN", "NLD", month) for i in range(count)]
    events += [SubstanceEvent(f"x{i}", "APAA", "CHN", "BEL", "2024-04") for i in range(4)]  # below minimum
    events += [
        SubstanceEvent(f"y{i}", "ephedrine", "IND", "MEX", m)
        for m in ["2024-01", "2024-02", "2024-03", "2024-04"]
        for i in range(6)
    ]  # steady flow, no surge
    (surge,) = detect_surges(events, baseline_length=3, ratio_threshold=2.0, min_count=5)
    assert (surge.substance, surge.route, surge.period, surge.count) == ("APAA", ("CHN", "NLD"), "2024-04", 9)
    assert surge.baseline_mean == 2.0 and surge.ratio == 4.5
    assert surge.baseline_periods == ("2024-01", "2024-02", "2024-03")
    assert len(surge.record_ids) == 9


def synthetic_year(n_notifications=30_000, n_countries=145, seed=7):
    """30,000 notifications: ~6,000 consignees over 145 importing countries, spelled inconsistently,
    each approached from one to four exporting countries."""
    rng = random.Random(seed)
    countries = [f"C{index:03d}" for index in range(n_countries)]
    stems = [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "orion",
        "nova",
        "zenith",
        "apex",
        "vertex",
        "summit",
        "pioneer",
        "global",
        "united",
        "royal",
        "golden",
        "crystal",
        "horizon",
        "atlas",
        "titan",
        "phoenix",
    ]
    kinds = ["pharma", "chemicals", "trading", "laboratories", "industries", "import export", "solvents"]
    suffixes = ["Ltd", "Ltd.", "LIMITED", "LLC", "S.A.", "GmbH", "Co.", ""]
    companies = []
    for index in range(6_000):
        name = f"{rng.choice(stems).title()} {rng.choice(stems).title()} {rng.choice(kinds).title()} {index}"
        address = f"{rng.randint(1, 999)} {rng.choice(stems).title()} Road"
        companies.append((name, address, rng.choice(countries)))
    mentions = []
    for index in range(n_notifications):
        name, address, country = rng.choice(companies)
        variant = f"{name.upper() if rng.random() < 0.3 else name} {rng.choice(suffixes)}"
        mentions.append(
            PartyMention(
                f"N{index}",
                "notification",
                "consignee",
                variant,
                address,
                country,
                rng.choice(countries[:40]),
                "ephedrine",
            )
        )
    return mentions


def test_company_shopping_over_a_synthetic_year_finds_only_true_repeats():
    """Speed is measured in benchmarks/precursors.py; here, correctness on a year's volume."""
    mentions = synthetic_year()
    cases = detect_company_shopping(mentions)
    assert cases  # repeated consignees from several exporters are found
    for case in cases[:50]:  # the numbered companies never merge with each other
        assert len({re.findall(r"\d+", name)[-1] for name in case.names}) == 1
