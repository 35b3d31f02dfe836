"""Builders for precursor tests: a valid notification input between two countries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from observatory.precursors.services import ChemicalInput, IncidentInput, NotificationInput, OperatorInput
from observatory.reference.models import ControlledSubstance


def notification_input(
    exporter: str = "DEU",
    importer: str = "IND",
    *,
    substance: str | None = "Acetic anhydride",
    chemical: str = "",
    quantity: str = "1000",
    consignee_name: str = "",
    importer_name: str = "Shree Ganesh Chemicals Pvt. Ltd.",
) -> NotificationInput:
    return NotificationInput(
        exporting_country_iso3=exporter,
        importing_country_iso3=importer,
        substance_id=ControlledSubstance.objects.get(name=substance).pk if substance else None,
        substance_name=chemical,
        quantity=Decimal(quantity),
        unit_code="kg",
        transport_mode="sea",
        transit_iso3=("ARE",),
        exporter=OperatorInput("Rheinische Chemie AG", exporter, "Industriestrasse 1"),
        importer=OperatorInput(importer_name, importer, "Plot 14, MIDC, Thane"),
        consignee=OperatorInput(consignee_name, importer, "12 Harbour Road") if consignee_name else None,
    )


def incident_input(reporter: str = "GBR", **overrides: Any) -> IncidentInput:
    values: dict[str, Any] = {
        "kind": "stopped_shipment",
        "reporting_country_iso3": reporter,
        "occurred_on": dt.date(2025, 3, 1),
        "summary": "Solvent declared as cleaning agent",
        "modus_operandi": ("misdeclaration",),
        "chemicals": (
            ChemicalInput(
                "Acetic anhydride",
                ControlledSubstance.objects.get(name="Acetic anhydride").pk,
                Decimal("1200"),
                "l",
            ),
        ),
        "route": (("source", "CHN"), ("transit", "GBR"), ("destination", "NGA")),
        "parties": (),
    }
    values.update(overrides)
    return IncidentInput(**values)
