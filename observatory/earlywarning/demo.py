"""Demonstration data for early warning: ~70 well-known NPS in the registry (names and structures
written from the open literature), identifications reported by forensic focal points of a dozen
countries between 2015 and this month, a national rule, and one published alert.

Everything goes through the services (the registry as the system, identifications by forensic focal
points of each country, the alert by the board). Idempotent: registering a known structure merges
nothing new, and identifications and the alert are written only when the demonstration ones are absent.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets

from django.utils import timezone

from observatory.access import services as access_services
from observatory.access.models import User
from observatory.earlywarning import services
from observatory.earlywarning.models import Alert, CountryRule, EffectGroup, Identification, Substance
from observatory.reference.models import Country

DEMO_SOURCE = "demonstration"
ALERT_TITLE = "Isotonitazene in falsified opioid tablets"

# (names, SMILES, effect group or "" for the default of the structural group)
NPS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    # synthetic cannabinoid receptor agonists
    (("JWH-018", "AM-678"), "CCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21", ""),
    (("JWH-073",), "CCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21", ""),
    (("JWH-250",), "CCCCCn1cc(C(=O)Cc2ccccc2OC)c2ccccc21", ""),
    (("AM-2201",), "FCCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21", ""),
    (("UR-144",), "CCCCCn1cc(C(=O)C2C(C)(C)C2(C)C)c2ccccc21", ""),
    (("XLR-11", "5F-UR-144"), "FCCCCCn1cc(C(=O)C2C(C)(C)C2(C)C)c2ccccc21", ""),
    (("AB-CHMINACA",), "CC(C)[C@H](NC(=O)c1nn(CC2CCCCC2)c2ccccc12)C(N)=O", ""),
    (("5F-MDMB-PINACA", "5F-ADB"), "COC(=O)[C@@H](NC(=O)c1nn(CCCCCF)c2ccccc12)C(C)(C)C", ""),
    (("MDMB-4en-PINACA",), "COC(=O)[C@@H](NC(=O)c1nn(CCCC=C)c2ccccc12)C(C)(C)C", ""),
    (("4F-MDMB-BINACA",), "COC(=O)[C@@H](NC(=O)c1nn(CCCCF)c2ccccc12)C(C)(C)C", ""),
    (("ADB-BUTINACA",), "CCCCn1nc(C(=O)N[C@H](C(N)=O)C(C)(C)C)c2ccccc21", ""),
    (("5F-MDMB-PICA", "5F-MDMB-2201"), "COC(=O)[C@@H](NC(=O)c1cn(CCCCCF)c2ccccc12)C(C)(C)C", ""),
    (("MDMB-CHMICA",), "COC(=O)[C@@H](NC(=O)c1cn(CC2CCCCC2)c2ccccc12)C(C)(C)C", ""),
    # synthetic cathinones
    (("Mephedrone", "4-MMC", "4-methylmethcathinone"), "CNC(C)C(=O)c1ccc(C)cc1", ""),
    (("Methylone", "bk-MDMA"), "CNC(C)C(=O)c1ccc2OCOc2c1", ""),
    (("MDPV", "3,4-methylenedioxypyrovalerone"), "CCCC(N1CCCC1)C(=O)c1ccc2OCOc2c1", ""),
    (("alpha-PVP", "α-PVP", "flakka"), "CCCC(N1CCCC1)C(=O)c1ccccc1", ""),
    (("alpha-PHP", "α-PHP"), "CCCCC(N1CCCC1)C(=O)c1ccccc1", ""),
    (("4-MEC", "4-methylethcathinone"), "CCNC(C)C(=O)c1ccc(C)cc1", ""),
    (("3-MMC", "3-methylmethcathinone"), "CNC(C)C(=O)c1cccc(C)c1", ""),
    (("4-CMC", "clephedrone"), "CNC(C)C(=O)c1ccc(Cl)cc1", ""),
    (("3-CMC", "clophedrone"), "CNC(C)C(=O)c1cccc(Cl)c1", ""),
    (("N-Ethylpentylone", "ephylone"), "CCCC(NCC)C(=O)c1ccc2OCOc2c1", ""),
    (("Eutylone", "bk-EBDB"), "CCC(NCC)C(=O)c1ccc2OCOc2c1", ""),
    (("Butylone", "bk-MBDB"), "CCC(NC)C(=O)c1ccc2OCOc2c1", ""),
    (("Pentedrone",), "CCCC(NC)C(=O)c1ccccc1", ""),
    # phenethylamines
    (
        ("2C-B", "4-bromo-2,5-dimethoxyphenethylamine"),
        "COc1cc(CCN)c(OC)cc1Br",
        EffectGroup.CLASSIC_HALLUCINOGENS,
    ),
    (("2C-I",), "COc1cc(CCN)c(OC)cc1I", EffectGroup.CLASSIC_HALLUCINOGENS),
    (("2C-E",), "CCc1cc(OC)c(CCN)cc1OC", EffectGroup.CLASSIC_HALLUCINOGENS),
    (("25I-NBOMe", "2C-I-NBOMe"), "COc1ccccc1CNCCc1cc(OC)c(I)cc1OC", EffectGroup.CLASSIC_HALLUCINOGENS),
    (("25B-NBOMe", "2C-B-NBOMe"), "COc1ccccc1CNCCc1cc(OC)c(Br)cc1OC", EffectGroup.CLASSIC_HALLUCINOGENS),
    (("25C-NBOMe", "2C-C-NBOMe"), "COc1ccccc1CNCCc1cc(OC)c(Cl)cc1OC", EffectGroup.CLASSIC_HALLUCINOGENS),
    (
        ("DOC", "2,5-dimethoxy-4-chloroamphetamine"),
        "COc1cc(CC(C)N)c(OC)cc1Cl",
        EffectGroup.CLASSIC_HALLUCINOGENS,
    ),
    (("4-FA", "4-fluoroamphetamine"), "CC(N)Cc1ccc(F)cc1", EffectGroup.STIMULANTS),
    (("PMMA", "para-methoxymethamphetamine"), "CNC(C)Cc1ccc(OC)cc1", EffectGroup.STIMULANTS),
    (("6-APB", "6-(2-aminopropyl)benzofuran"), "CC(N)Cc1ccc2ccoc2c1", EffectGroup.STIMULANTS),
    # tryptamines
    (("5-MeO-DMT",), "COc1ccc2[nH]cc(CCN(C)C)c2c1", ""),
    (("5-MeO-DIPT", "foxy"), "COc1ccc2[nH]cc(CCN(C(C)C)C(C)C)c2c1", ""),
    (("4-AcO-DMT", "psilacetin"), "CN(C)CCc1c[nH]c2cccc(OC(C)=O)c12", ""),
    (("4-HO-MET", "metocin"), "CCN(C)CCc1c[nH]c2cccc(O)c12", ""),
    (("AMT", "alpha-methyltryptamine"), "CC(N)Cc1c[nH]c2ccccc12", ""),
    # piperazines
    (("BZP", "1-benzylpiperazine"), "C(c1ccccc1)N1CCNCC1", ""),
    (("TFMPP",), "FC(F)(F)c1cccc(N2CCNCC2)c1", ""),
    (("mCPP",), "Clc1cccc(N2CCNCC2)c1", ""),
    # aminoindanes
    (("2-AI", "2-aminoindane"), "NC1Cc2ccccc2C1", ""),
    (("MDAI",), "NC1Cc2cc3OCOc3cc2C1", ""),
    (("5-IAI",), "NC1Cc2ccc(I)cc2C1", ""),
    # phencyclidine-type substances
    (("Methoxetamine", "MXE"), "CCNC1(c2cccc(OC)c2)CCCCC1=O", ""),
    (("3-MeO-PCP",), "COc1cccc(C2(N3CCCCC3)CCCCC2)c1", ""),
    (("2-Fluorodeschloroketamine", "2F-DCK", "2-F-DCK"), "CNC1(c2ccccc2F)CCCCC1=O", ""),
    (("Deschloroketamine", "DCK"), "CNC1(c2ccccc2)CCCCC1=O", ""),
    # plant-based
    (
        ("Mitragynine", "kratom alkaloid"),
        "CC[C@@H]1CN2CCc3c([nH]c4cccc(OC)c34)[C@@H]2C[C@@H]1/C(=C\\OC)C(=O)OC",
        "",
    ),
    # fentanyl analogues and other synthetic opioids
    (("Fentanyl",), "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", ""),
    (("Carfentanil",), "CCC(=O)N(c1ccccc1)C1(C(=O)OC)CCN(CCc2ccccc2)CC1", ""),
    (("Acetylfentanyl",), "CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", ""),
    (("Furanylfentanyl",), "O=C(c1ccco1)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", ""),
    (("Cyclopropylfentanyl",), "O=C(C1CC1)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", ""),
    (("Ocfentanil",), "COCC(=O)N(c1ccccc1F)C1CCN(CCc2ccccc2)CC1", ""),
    (("U-47700",), "CN(C)[C@@H]1CCCC[C@H]1N(C)C(=O)c1ccc(Cl)c(Cl)c1", ""),
    (("Brorphine",), "CC(c1ccc(Br)cc1)N1CCC(n2c(=O)[nH]c3ccccc32)CC1", ""),
    # nitazenes
    (("Isotonitazene",), "CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21", ""),
    (("Metonitazene",), "CCN(CC)CCn1c(Cc2ccc(OC)cc2)nc2cc([N+](=O)[O-])ccc21", ""),
    (("Protonitazene",), "CCCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN(CC)CC)cc1", ""),
    (("Etonitazene",), "CCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN(CC)CC)cc1", ""),
    (
        ("Etonitazepyne", "N-pyrrolidino etonitazene"),
        "CCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN2CCCC2)cc1",
        "",
    ),
    # benzodiazepines
    (("Etizolam",), "CCc1cc2c(s1)-n1c(C)nnc1CN=C2c1ccccc1Cl", ""),
    (("Flualprazolam",), "Cc1nnc2n1-c1ccc(Cl)cc1C(c1ccccc1F)=NC2", ""),
    (("Flubromazolam",), "Cc1nnc2n1-c1ccc(Br)cc1C(c1ccccc1F)=NC2", ""),
    (("Clonazolam",), "Cc1nnc2n1-c1ccc([N+](=O)[O-])cc1C(c1ccccc1Cl)=NC2", ""),
    (("Diclazepam",), "CN1C(=O)CN=C(c2ccccc2Cl)c2cc(Cl)ccc21", ""),
    (("Bromazolam",), "Cc1nnc2n1-c1ccc(Br)cc1C(c1ccccc1)=NC2", ""),
    (("Phenazepam",), "O=C1CN=C(c2ccccc2Cl)c2cc(Br)ccc2N1", ""),
    # other substances
    (("Phenibut",), "NCC(CC(=O)O)c1ccccc1", EffectGroup.SEDATIVES_HYPNOTICS),
    (("Xylazine",), "Cc1cccc(C)c1NC1=NCCCS1", EffectGroup.SEDATIVES_HYPNOTICS),
)

COUNTRIES = ("GBR", "NLD", "DEU", "USA", "SWE", "POL", "SVN", "AUS", "JPN", "ZAF", "BRA", "CAN", "COL")
METHODS = ("GC-MS", "LC-HRMS", "LC-MS/MS", "NMR", "FTIR")
PROTON = 1.007276


def _forensic(iso3: str) -> User:
    """The demo forensic focal point for GBR; a password-less one for each other country."""
    username = "forensic.gbr" if iso3 == "GBR" else f"forensic.demo.{iso3.lower()}"
    user = User.objects.filter(username=username).first()
    if user is None:
        user = access_services.create_user(
            None,
            username,
            secrets.token_urlsafe(24),
            display_name=f"Forensic focal point {iso3}",
            system=True,
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
    access_services.assign_role(
        None, user, "forensic_focal_point", country=Country.objects.get(iso3=iso3), system=True
    )
    return user


def _board() -> User:
    user = User.objects.filter(username="board").first()
    if user is None:
        user = access_services.create_user(None, "board", secrets.token_urlsafe(24), system=True)
        user.set_unusable_password()
        user.save(update_fields=["password"])
    access_services.assign_role(None, user, "board_officer", system=True)
    return user


def load_registry() -> list[Substance]:
    entries = []
    for names, smiles, effect in NPS:
        entry, _ = services.register_substance(
            None, smiles, list(names), effect_group=str(effect), system=True
        )
        entries.append(entry)
    return entries


def load_identifications(entries: list[Substance], today: dt.date) -> int:
    """Reports spread over 2015 → today; a few substances first seen this month. Deterministic."""
    rng = random.Random(68197)
    reported = 0
    for index, (entry, (names, smiles, _)) in enumerate(zip(entries, NPS, strict=True)):
        first_year = 2015 + (index * 7) % 11  # 2015 … 2025
        first = dt.date(first_year, 1 + rng.randrange(12), 1 + rng.randrange(28))
        if index % 17 == 5:  # a handful emerge this month
            first = today.replace(day=max(1, today.day - 1 - index % 3))
        countries = rng.sample(COUNTRIES, 1 + rng.randrange(4))
        for order, iso3 in enumerate(countries):
            found = min(today, first + dt.timedelta(days=order * rng.randrange(60, 500)))
            services.record_identification(
                _forensic(iso3),
                services.IdentificationInput(
                    country=iso3,
                    structure=smiles if rng.random() < 0.8 else f"{smiles}.Cl",  # some as hydrochlorides
                    names=[names[order % len(names)]],
                    date_found=found,
                    place=rng.choice(
                        ("airport", "postal centre", "street-level seizure", "hospital", "festival")
                    ),
                    matrix=Identification.Matrix.BIOLOGICAL_SAMPLE
                    if rng.random() < 0.25
                    else Identification.Matrix.SEIZED_MATERIAL,
                    analytical_method=rng.choice(METHODS),
                    key_data={"mz": [round(entry.exact_mass + PROTON, 4)], "source": DEMO_SOURCE},
                ),
            )
            reported += 1
    return reported


def load_demo() -> None:
    entries = load_registry()
    if Identification.objects.filter(key_data__source=DEMO_SOURCE).exists():
        return
    today = timezone.localdate()
    load_identifications(entries, today)
    etizolam = Substance.objects.get(name="Etizolam")
    board = _board()
    if not CountryRule.objects.filter(substance=etizolam, country__iso3="GBR").exists():
        services.add_country_rule(
            board,
            "GBR",
            etizolam,
            "Misuse of Drugs Act 1971",
            "Schedule 2, Part III (Class C), as amended by S.I. 2017/634",
            "Class C",
            dt.date(2017, 5, 31),
        )
    if not Alert.objects.filter(title=ALERT_TITLE).exists():
        isotonitazene = Substance.objects.get(name="Isotonitazene")
        services.issue_alert(
            board,
            services.AlertInput(
                substance_id=isotonitazene.pk,
                severity=Alert.Severity.URGENT,
                countries=["GBR", "USA", "CAN", "DEU"],
                title=ALERT_TITLE,
                message=(
                    "Tablets sold as oxycodone were found to contain isotonitazene, a benzimidazole opioid "
                    "many times more potent than morphine. Naloxone reverses it, but repeated doses may be needed."
                ),
                evidence="Identifications by GC-MS and LC-HRMS in seized tablets and in post-mortem blood samples.",
                published=True,
                public_summary=(
                    "Falsified opioid tablets containing isotonitazene, a potent synthetic opioid, have been found. "
                    "Tablets bought outside pharmacies may contain it."
                ),
            ),
        )
