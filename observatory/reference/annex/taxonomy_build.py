"""Builds wdr_taxonomy.json: the World Drug Report drug taxonomy (group → subgroup → drug) with
stable codes, plus an alias list mapping every drug label of annex tables 7.1, 1.2, 1.4 and 2.1.

The tree is derived from 7.1's DrugGroup/DrugSubGroup/DrugName columns (labels that differ only by
quotes, case or spacing are one entry) plus the prevalence-only concepts of the 1.2 sheet names.
Labels of the other files are mapped by the curated table below, which is data a reviewer can read.

    python -m observatory.reference.annex.taxonomy_build ANNEX_DIR OUT.json
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from observatory.reference.annex.labels import normalise_label
from observatory.reference.annex.prevalence import parse_general_population, parse_youth
from observatory.reference.annex.seizures import COUNT_DRUG_NAMES, SeizureRecord, parse_seizures
from observatory.reference.annex.trends import parse_trends

SEIZURES_FILE = "7.1_Drug_seizures_2019-2023.csv"
PREVALENCE_FILE = "1.2_Prevalence_of_drug_use_in_the_general_population_national_data.xlsx"
YOUTH_FILE = "1.4_Prevalence_of_drug_use_in_the_youth_population_national_data_including_NPS.xlsx"
TRENDS_FILE = "2.1_Expert_perception_of_trend_changes_in_use_of_drugs_all_drugs.xlsx"

# Short stable codes for the World Drug Report drug groups (7.1 spelling → code).
GROUP_CODES = {
    "Amphetamine-type stimulants (excluding “ecstasy”)": "ats",
    "Any other drugs/substances": "other",
    "Cannabis-type drugs (excluding synthetic cannabinoids)": "cannabis",
    "Cocaine-type": "cocaine",
    "Hallucinogens": "hallucinogens",
    "NPS": "nps",
    "Opioids": "opioids",
    "Precursors": "precursors",
    "Sedatives and tranquillizers": "sedatives",
    "Solvents and Inhalants": "inhalants",
    "“Ecstasy”-type substances": "ecstasy",
}

# Concepts of the prevalence and trend tables that 7.1 has no place for.
EXTRA_GROUPS = (("all", "Any drug"),)
EXTRA_SUBGROUPS = (  # (group code, code, name)
    ("ats", "ats.amphetamines", "Amphetamines (amphetamine and methamphetamine)"),
)
EXTRA_DRUGS = (  # (subgroup code, code, name, measure)
    ("nps.synthetic-cathinones", "nps.synthetic-cathinones.3-mmc", "3-MMC (3-methylmethcathinone)", "mass"),
    ("nps.plant-based-nps", "nps.plant-based-nps.san-pedro-cactus", "San Pedro cactus", "mass"),
    ("nps.piperazines", "nps.piperazines.bzp", "BZP (benzylpiperazine)", "mass"),
    ("nps.piperazines", "nps.piperazines.bzp-tfmpp", "BZP/TFMPP", "mass"),
    ("nps.other-nps", "nps.other-nps.galaxy", "Galaxy", "mass"),
    (
        "nps.synthetic-cannabinoids-spice",
        "nps.synthetic-cannabinoids-spice.semi-synthetic-cannabinoids",
        "Semi-synthetic cannabinoids",
        "mass",
    ),
    ("opioids.other-illicit-opioids", "opioids.other-illicit-opioids.nitazenes", "Nitazenes", "mass"),
    ("other.other-miscellaneous", "other.other-miscellaneous.pregabalin", "Pregabalin", "mass"),
    ("other.other-miscellaneous", "other.other-miscellaneous.cough-medicine", "Cough medicine", "mass"),
    ("other.other-miscellaneous", "other.other-miscellaneous.nalbuphine", "Nalbuphine hydrochloride", "mass"),
)

_SCRA_NOTE = (
    "Synthetic cannabinoids. Following their international control in 2015, the synthetic cannabinoids "
    "JWH-018 and AM-2201 no longer belong to the category of new psychoactive substances. However, in "
    "the context of prevalence of use surveys, it is not possible to differentiate between the synthetic "
    "cannabinoids which are under international control and those which are not under international control."
)

# Labels of 1.2, 1.4 and 2.1 that do not match a 7.1 label after normalisation: label → (level, code).
# Typos and abbreviations are listed as they appear ("Inhallants", "Katom", "Crystaline Meth").
CURATED_ALIASES: dict[str, tuple[str, str]] = {
    # 1.2 / 1.4 sheet names
    "Cannabis": ("group_code", "cannabis"),
    "Cocaine": ("group_code", "cocaine"),
    "Amphetamines": ("subgroup_code", "ats.amphetamines"),
    "Ecstasy": ("group_code", "ecstasy"),
    "Prescription opioids": ("subgroup_code", "opioids.pharmaceutical-opioids"),
    "Tranquillizers and sedatives": ("group_code", "sedatives"),
    # NPS types and substances (1.2 and 1.4 NPS sheets)
    "Ketamine": ("subgroup_code", "nps.ketamine-and-phencyclidine-type-substances"),
    "Miscellaneous NPS": ("group_code", "nps"),
    "Plant-based substances": ("subgroup_code", "nps.plant-based-nps"),
    "Synthetic cannabinoids": ("subgroup_code", "nps.synthetic-cannabinoids-spice"),
    _SCRA_NOTE: ("subgroup_code", "nps.synthetic-cannabinoids-spice"),
    "3-MMC": ("drug_code", "nps.synthetic-cathinones.3-mmc"),
    "4-FA": ("drug_code", "nps.phenethylamines.4-fluoroamphetamine-4-fa"),
    "BZP": ("drug_code", "nps.piperazines.bzp"),
    "BZP/TFMPP": ("drug_code", "nps.piperazines.bzp-tfmpp"),
    "Galaxy": ("drug_code", "nps.other-nps.galaxy"),
    "Kratom": ("drug_code", "nps.plant-based-nps.kratom-mitragyna-speciosa"),
    "Katom": ("drug_code", "nps.plant-based-nps.kratom-mitragyna-speciosa"),
    "Mitragyna speciosa (kratom)-leaves": ("drug_code", "nps.plant-based-nps.kratom-mitragyna-speciosa"),
    "Mitragyna speciosa (kratom)-liquid": ("drug_code", "nps.plant-based-nps.kratom-mitragyna-speciosa"),
    "MDPV": ("drug_code", "ats.other-stimulants.3-4-methylenedioxypyrovalerone-mdpv"),
    "Mephedrone": ("drug_code", "ats.other-stimulants.mephedrone-4-methylmethcathinone-4-mmc"),
    "Other NPS": ("subgroup_code", "nps.other-nps"),
    'Other NPS (except ketamine and "magic mushrooms")': ("subgroup_code", "nps.other-nps"),
    "Other NPS (except ketamine and SCRA)": ("subgroup_code", "nps.other-nps"),
    "Other new psychoactive substances": ("subgroup_code", "nps.other-nps"),
    "Pregabalin": ("drug_code", "other.other-miscellaneous.pregabalin"),
    "Prégabaline": ("drug_code", "other.other-miscellaneous.pregabalin"),
    "Synthetic cathinones and other stimulant NPS": ("subgroup_code", "nps.synthetic-cathinones"),
    '"magic mushrooms"': ("drug_code", "nps.plant-based-nps.mushrooms-hallucinogenic"),
    "PBS-total": ("subgroup_code", "nps.plant-based-nps"),
    "Other Plant-based substances": ("subgroup_code", "nps.plant-based-nps"),
    "San Pedro cactus": ("drug_code", "nps.plant-based-nps.san-pedro-cactus"),
    # 2.1 drug groups
    "Any drug": ("group_code", "all"),
    "ATS": ("group_code", "ats"),
    "Amphetamine-type stimulants": ("group_code", "ats"),
    "Cannabis-type": ("group_code", "cannabis"),
    "Cannabis-type drugs": ("group_code", "cannabis"),
    "Cocaine-type drugs": ("group_code", "cocaine"),
    "Opioids, including opiates and synthetic opioids": ("group_code", "opioids"),
    "Non-medical use of pharmaceutical sedatives and tranquillizers": ("group_code", "sedatives"),
    "Solvents and Inhallants": ("group_code", "inhalants"),
    "New psychoactive substances": ("group_code", "nps"),
    "Other drugs / psychoactive substances / pharmaceutical products not listed above": (
        "group_code",
        "other",
    ),
    "Substances not under international control": ("subgroup_code", "other.substances-not-under-int-control"),
    # 2.1 drugs
    "MDMA": ("drug_code", "ecstasy.ecstasy-type-substances.3-4-methylenedioxymethamphetamine-mdma"),
    "Other “ecstasy”-type substances": ("subgroup_code", "ecstasy.ecstasy-type-substances"),
    "“Crack” cocaine, freebase cocaine": ("drug_code", "cocaine.cocaine.crack-cocaine"),
    "Crack": ("drug_code", "cocaine.cocaine.crack-cocaine"),
    "Cocaine salts": ("drug_code", "cocaine.cocaine.cocaine-hydrochloride"),
    "Coca paste/cocaine base": ("drug_code", "cocaine.cocaine.coca-paste-refined-cocaine-base-intermediate"),
    "Other smokable forms of cocaine": (
        "drug_code",
        "cocaine.cocaine.other-smokable-forms-of-cocaine-consumer",
    ),
    "Other types of cocaine preparations": ("subgroup_code", "cocaine.other-coca-cocaine-type-drugs"),
    "Marijuana (herb)": ("drug_code", "cannabis.cannabis-herb-marijuana.cannabis-herb-marijuana"),
    "Hashish (resin)": ("drug_code", "cannabis.cannabis-resin-hashish.cannabis-resin-hashish"),
    "Cannabis or hashish oil": ("drug_code", "cannabis.cannabis-oil.cannabis-oil"),
    "Other types of cannabis products excluding synthetic cannabinoids": (
        "subgroup_code",
        "cannabis.other-types-of-cannabis",
    ),
    "Amphetamines (amphetamine/methamphetamine)": ("subgroup_code", "ats.amphetamines"),
    "Crystaline Meth": ("drug_code", "ats.methamphetamine.methamphetamine"),
    "Meth Tablet": ("subgroup_code", "ats.methamphetamine"),
    "Other amphetamine-type stimulants": ("subgroup_code", "ats.other-stimulants"),
    "Non-medical use of pharmaceutical products containing amphetamine-type stimulants": (
        "subgroup_code",
        "ats.prescription-stimulants",
    ),
    "Non-medical use of pharmaceutical opioids": ("subgroup_code", "opioids.pharmaceutical-opioids"),
    "Other pharmaceutical opioids": ("subgroup_code", "opioids.pharmaceutical-opioids"),
    "Other opiates": ("subgroup_code", "opioids.other-illicit-opiates"),
    "Other opioids": ("subgroup_code", "opioids.other-illicit-opioids"),
    "Unspecified opioids": ("drug_code", "opioids.opioids.non-specified-opioids"),
    "Nitazenes": ("drug_code", "opioids.other-illicit-opioids.nitazenes"),
    'Synthetic cannabinoid receptor agonists ("synthetic cannabinoids")': (
        "subgroup_code",
        "nps.synthetic-cannabinoids-spice",
    ),
    "Semi-synthetic cannabinoids": (
        "drug_code",
        "nps.synthetic-cannabinoids-spice.semi-synthetic-cannabinoids",
    ),
    "GHB": ("drug_code", "sedatives.gbl-ghb.gamma-hydroxybutyric-acid-ghb"),
    "Cough medicine": ("drug_code", "other.other-miscellaneous.cough-medicine"),
    "Nalbuphine Hydrochloride": ("drug_code", "other.other-miscellaneous.nalbuphine"),
}


def slug(text: str, max_length: int = 48) -> str:
    """Readable code fragment: normalised label, non-alphanumerics → '-', cut at a word boundary."""
    words = re.sub(r"[^a-z0-9]+", "-", normalise_label(text)).strip("-").split("-")
    kept: list[str] = []
    for word in words:
        if kept and len("-".join([*kept, word])) > max_length:
            break
        kept.append(word)
    return "-".join(kept)


def _unique(code: str, taken: set[str]) -> str:
    candidate, number = code, 2
    while candidate in taken:
        candidate, number = f"{code}-{number}", number + 1
    taken.add(candidate)
    return candidate


def build_tree(records: Iterable[SeizureRecord]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Taxonomy tree from 7.1 plus one alias per distinct 7.1 label (group, subgroup, drug)."""
    triples = sorted({(r.drug_group, r.drug_subgroup, r.drug_name) for r in records})
    groups: dict[str, dict[str, Any]] = {}
    subgroups: dict[tuple[str, str], dict[str, Any]] = {}
    drugs: dict[tuple[str, str, str], dict[str, Any]] = {}
    taken: set[str] = set()
    aliases: dict[str, dict[str, str]] = {}

    def alias(label: str, level: str, code: str) -> None:
        aliases.setdefault(normalise_label(label), {"label": label, level: code})

    for group_name, subgroup_name, drug_name in triples:
        group_code = GROUP_CODES[group_name]
        group = groups.setdefault(
            group_code, {"code": _unique(group_code, taken), "name": group_name, "subgroups": []}
        )
        alias(group_name, "group_code", group_code)
        subgroup_key = (group_code, normalise_label(subgroup_name))
        if subgroup_key not in subgroups:
            subgroups[subgroup_key] = {
                "code": _unique(f"{group_code}.{slug(subgroup_name)}", taken),
                "name": subgroup_name,
                "drugs": [],
            }
            group["subgroups"].append(subgroups[subgroup_key])
        subgroup = subgroups[subgroup_key]
        drug_key = (*subgroup_key, normalise_label(drug_name))
        if drug_key not in drugs:
            measure = "count" if drug_name in COUNT_DRUG_NAMES else "mass"
            drugs[drug_key] = {
                "code": _unique(f"{subgroup['code']}.{slug(drug_name)}", taken),
                "name": drug_name,
                "measure": measure,
            }
            subgroup["drugs"].append(drugs[drug_key])
    # Subgroup and drug labels: the first (sorted) position wins; labels used in two places
    # ("Other drugs/substances", "JWH-018") get one alias each — the curated table can override.
    for _, subgroup in sorted(subgroups.items()):
        alias(subgroup["name"], "subgroup_code", subgroup["code"])
    for _, drug in sorted(drugs.items()):
        alias(drug["name"], "drug_code", drug["code"])
    return list(groups.values()), list(aliases.values())


def add_extras(groups: list[dict[str, Any]]) -> None:
    """Add the prevalence/trend-only concepts (EXTRA_*) to the tree built from 7.1."""
    by_group = {group["code"]: group for group in groups}
    for code, name in EXTRA_GROUPS:
        by_group[code] = {"code": code, "name": name, "subgroups": []}
        groups.append(by_group[code])
    for group_code, code, name in EXTRA_SUBGROUPS:
        by_group[group_code]["subgroups"].append({"code": code, "name": name, "drugs": []})
    subgroups = {sub["code"]: sub for group in groups for sub in group["subgroups"]}
    for subgroup_code, code, name, measure in EXTRA_DRUGS:
        subgroups[subgroup_code]["drugs"].append({"code": code, "name": name, "measure": measure})


def all_codes(groups: list[dict[str, Any]]) -> dict[str, set[str]]:
    return {
        "group_code": {group["code"] for group in groups},
        "subgroup_code": {sub["code"] for group in groups for sub in group["subgroups"]},
        "drug_code": {
            drug["code"] for group in groups for sub in group["subgroups"] for drug in sub["drugs"]
        },
    }


def labels_seen(annex_dir: Path) -> dict[str, set[str]]:
    """Every drug label of 1.2, 1.4 and 2.1: sheet names, NPS types and substances, trend drugs."""
    general = parse_general_population(annex_dir / PREVALENCE_FILE)
    youth = parse_youth(annex_dir / YOUTH_FILE)
    trends = parse_trends(annex_dir / TRENDS_FILE)
    seen: dict[str, set[str]] = {"1.2": set(), "1.4": set(), "2.1": set()}
    for record in general.records:
        seen["1.2"].update(label for label in (record.sheet, record.nps_type, record.substance) if label)
    for youth_record in youth.records:
        seen["1.4"].update(
            label for label in (youth_record.sheet, youth_record.nps_type, youth_record.substance) if label
        )
    for trend in trends.records:
        seen["2.1"].update(label for label in (trend.drug_group, trend.drug) if label)
    return seen


def build_taxonomy(annex_dir: Path) -> dict[str, Any]:
    seizures = parse_seizures(annex_dir / SEIZURES_FILE)
    groups, aliases = build_tree(seizures.records)
    add_extras(groups)
    codes = all_codes(groups)
    for label, (level, code) in CURATED_ALIASES.items():
        if code not in codes[level]:
            raise ValueError(f"curated alias {label!r} points at unknown {level} {code!r}")
    known = {normalise_label(alias["label"]) for alias in aliases}
    for label, (level, code) in sorted(CURATED_ALIASES.items()):
        if normalise_label(label) not in known:
            aliases.append({"label": label, level: code})
            known.add(normalise_label(label))
    unmapped = sorted(
        label
        for labels in labels_seen(annex_dir).values()
        for label in labels
        if normalise_label(label) not in known
    )
    if unmapped:
        raise ValueError(f"labels without an alias: {unmapped}")
    return {
        "source": "UNODC World Drug Report 2025 statistical annex, tables 7.1, 1.2, 1.4 and 2.1",
        "groups": groups,
        "aliases": aliases,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    taxonomy = build_taxonomy(Path(args[0]))
    Path(args[1]).write_text(json.dumps(taxonomy, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
