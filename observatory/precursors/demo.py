"""Demonstration data for precursor control: a registry, a dozen notifications between Germany, India
and others (sent, answered, one expired), two incidents with threads, and a consignee approached
through four exporting countries (company shopping the board's pattern page finds).

Everything is written through the services by authority users (the demo users for DEU, IND, GBR and
the board, plus one password-less authority per other exporting country). Idempotent: skipped when
the demonstration notifications exist.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from observatory.access import services as access_services
from observatory.access.models import User
from observatory.precursors import services
from observatory.precursors.models import Notification
from observatory.precursors.services import NotificationInput, OperatorInput
from observatory.reference.models import ControlledSubstance, Country

MARK = "DEMO-"  # licence numbers of the demonstration notifications


def _user(username: str, role: str, iso3: str | None) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = access_services.create_user(
            None, username, secrets.token_urlsafe(24), display_name=username, system=True
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
    country = Country.objects.get(iso3=iso3) if iso3 else None
    access_services.assign_role(None, user, role, country=country, system=True)
    return user


def _substance(name: str) -> int:
    return ControlledSubstance.objects.get(name=name).pk


def _notification(
    exporter_iso3: str,
    importer_iso3: str,
    number: int,
    *,
    substance: str | None,
    chemical: str = "",
    quantity: str,
    unit: str = "kg",
    importer: OperatorInput,
    consignee: OperatorInput | None = None,
    exporter_name: str,
    transit: tuple[str, ...] = (),
    mode: str = "sea",
) -> NotificationInput:
    return NotificationInput(
        exporting_country_iso3=exporter_iso3,
        importing_country_iso3=importer_iso3,
        substance_id=_substance(substance) if substance else None,
        substance_name=chemical,
        quantity=Decimal(quantity),
        unit_code=unit,
        transport_mode=mode,
        transit_iso3=transit,
        point_of_entry={"IND": "Nhava Sheva", "DEU": "Hamburg", "NGA": "Apapa, Lagos"}.get(importer_iso3, ""),
        expected_dispatch_date=timezone.now().date() + dt.timedelta(days=30),
        licence_number=f"{MARK}{exporter_iso3}-{number:03d}",
        invoice_number=f"INV-{2025}-{number:04d}",
        exporter=OperatorInput(exporter_name, exporter_iso3, f"Industriestrasse {number}"),
        importer=importer,
        consignee=consignee,
    )


def load_demo() -> None:
    if Notification.objects.filter(licence_number__startswith=MARK).exists():
        return
    if Country.objects.filter(iso3__in=["DEU", "IND"]).count() != 2:
        return
    deu = _user("authority.deu", "competent_authority", "DEU")
    ind = _user("authority.ind", "competent_authority", "IND")
    gbr = _user("forensic.gbr", "forensic_focal_point", "GBR")
    board = _user("board", "board_officer", None)
    others = {
        iso3: _user(f"demo.authority.{iso3.lower()}", "competent_authority", iso3)
        for iso3 in ("CHN", "NLD", "BEL")
    }
    nga_forensic = _user("demo.forensic.nga", "forensic_focal_point", "NGA")

    with transaction.atomic():
        services.set_requirement(board, "IND", None, 15, "Annex VI: all Table I/II substances, 15 days")
        services.set_requirement(board, "DEU", None, 15, "Annex VI: all Table I/II substances, 15 days")
        services.set_requirement(
            board, "IND", _substance("Acetic anhydride"), 21, "Annex VI: acetic anhydride, 21 days"
        )
        services.set_requirement(board, "NGA", None, 10, "Annex VI: all Table I/II substances, 10 days")
        services.set_requirement(board, "MEX", None, 30, "Annex VI: all Table I/II substances, 30 days")

        mumbai = OperatorInput(
            "Shree Ganesh Chemicals Pvt. Ltd.", "IND", "Plot 14, MIDC Industrial Area, Thane"
        )
        hamburg = OperatorInput("Nordchemie Handels GmbH", "DEU", "Am Sandtorkai 40, Hamburg")
        sent = []
        for number, (substance, quantity) in enumerate(
            [
                ("Acetic anhydride", "12000"),
                ("Potassium permanganate", "2500"),
                ("Acetone", "30000"),
                ("Sulphuric acid", "8000"),
                ("Piperidine", "150"),
            ],
            start=1,
        ):
            data = _notification(
                "DEU",
                "IND",
                number,
                substance=substance,
                quantity=quantity,
                importer=mumbai,
                exporter_name="Rheinische Chemie AG",
            )
            sent.append(services.create_notification(deu, data, send=True))
        for number, (substance, quantity) in enumerate(
            [("Ephedrine", "40"), ("Pseudoephedrine", "120"), ("Anthranilic acid", "900")], start=10
        ):
            data = _notification(
                "IND",
                "DEU",
                number,
                substance=substance,
                quantity=quantity,
                importer=hamburg,
                exporter_name="Deccan Fine Chemicals Ltd",
            )
            sent.append(services.create_notification(ind, data, send=True))
        services.answer_notification(ind, sent[1].pk, "no_objection", "")
        services.record_shipment(deu, sent[1].pk)
        services.answer_notification(
            ind, sent[2].pk, "objection", "The importer's licence was revoked in May."
        )
        services.answer_notification(
            ind, sent[3].pk, "information_requested", "Please send the end-user certificate."
        )
        services.answer_notification(deu, sent[5].pk, "no_objection", "")
        amended = services.amend_notification(
            deu,
            sent[4].pk,
            _notification(
                "DEU",
                "IND",
                5,
                substance="Piperidine",
                quantity="120",
                importer=mumbai,
                exporter_name="Rheinische Chemie AG",
            ),
            "Quantity corrected on the invoice",
        )
        del amended

        # Company shopping: one Lagos consignee approached through four exporting countries.
        spellings = [
            ("DEU", deu, "Alpha Chem Trading Ltd.", "12 Harbour Road, Apapa, Lagos"),
            ("IND", ind, "ALPHA-CHEM TRADING LIMITED", "No. 12, Harbour Rd., Apapa, Lagos"),
            ("CHN", others["CHN"], "Alpha Chem Trading Co. Ltd", "12 Harbour Rd Apapa Lagos"),
            ("NLD", others["NLD"], "Alpha-Chem Trading (Nigeria) Ltd", "12 Harbour Road, Apapa, Lagos"),
        ]
        for number, (iso3, actor, name, address) in enumerate(spellings, start=20):
            data = _notification(
                iso3,
                "NGA",
                number,
                substance="Acetic anhydride",
                quantity="5000",
                importer=OperatorInput(f"{name}", "NGA", address),
                exporter_name={
                    "DEU": "Rheinische Chemie AG",
                    "IND": "Deccan Fine Chemicals Ltd",
                    "CHN": "Jiangsu Huaxing Chemical Co.",
                    "NLD": "Rotterdam Solvents B.V.",
                }[iso3],
            )
            services.create_notification(actor, data, send=True)
        # A notification left unanswered past its deadline, expired by the job. The demo backdates the
        # sending so that the expiry can be shown today (nothing else writes around the services).
        late = services.create_notification(
            others["BEL"],
            _notification(
                "BEL",
                "MEX",
                30,
                substance="Phenylacetic acid",
                quantity="800",
                importer=OperatorInput(
                    "Químicos del Pacífico S.A. de C.V.", "MEX", "Av. Puerto 8, Manzanillo"
                ),
                exporter_name="Antwerp Fine Chemicals NV",
            ),
            send=True,
        )
        backdated = timezone.now() - dt.timedelta(days=31)
        Notification.objects.filter(pk=late.pk).update(
            sent_at=backdated, deadline=backdated + dt.timedelta(days=30)
        )
        services.expire_due()

        first = services.report_incident(
            gbr,
            services.IncidentInput(
                kind="stopped_shipment",
                reporting_country_iso3="GBR",
                occurred_on=timezone.now().date() - dt.timedelta(days=12),
                summary="1,200 l of a solvent declared as 'cleaning agent' stopped at Felixstowe; "
                "the consignee in Lagos matches earlier notifications.",
                modus_operandi=("misdeclaration", "company_shopping"),
                chemicals=(
                    services.ChemicalInput(
                        "Acetic anhydride", _substance("Acetic anhydride"), Decimal("1200"), "l"
                    ),
                ),
                route=(("source", "CHN"), ("transit", "GBR"), ("destination", "NGA")),
                parties=(
                    services.PartyInput(
                        OperatorInput("Alpha-Chem Trading Ltd", "NGA", "12 Harbour Road, Apapa, Lagos"),
                        "consignee",
                    ),
                    services.PartyInput(
                        OperatorInput("A. Okafor", "NGA", kind="person", nationality_iso3="NGA"), "buyer"
                    ),
                ),
            ),
        )
        services.post_incident_message(
            nga_forensic, first.pk, "The Lagos address is a freight forwarder; we are checking its licence."
        )
        services.post_incident_message(
            gbr, first.pk, "Thank you. The container stays held in Felixstowe until 30 June."
        )
        second = services.report_incident(
            gbr,
            services.IncidentInput(
                kind="suspicious_order",
                reporting_country_iso3="GBR",
                occurred_on=timezone.now().date() - dt.timedelta(days=5),
                summary="Repeated Internet orders of a non-scheduled pre-precursor shipped by courier.",
                modus_operandi=("internet_ordering", "postal_courier", "designer_precursor"),
                chemicals=(
                    services.ChemicalInput(
                        "1-Boc-4-anilinopiperidine analogue (non-scheduled)", None, Decimal("25"), "kg"
                    ),
                ),
                route=(("source", "IND"), ("destination", "GBR")),
                parties=(
                    services.PartyInput(
                        OperatorInput("Deccan Fine Chemicals Ltd", "IND", "Hyderabad"), "seller"
                    ),
                ),
            ),
        )
        services.post_incident_message(
            board, second.pk, "Please report any similar orders; a special alert is in preparation."
        )
        services.issue_special_alert(
            board,
            "Non-scheduled fentanyl pre-precursors ordered via the Internet",
            "Several countries report Internet orders of designer precursors of fentanyl shipped by courier. "
            "Check orders for unusual piperidine derivatives.",
            substance_name="designer piperidine derivatives",
            modus_operandi=["internet_ordering", "designer_precursor"],
        )
