"""``observatory nps classify --smiles S [--country ISO3 ...] [--date D] [--json]``: the identity, the
substance group with the rule and the reason, and the control status internationally and in the
countries asked for (plus every country with a generic definition)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from observatory.earlywarning import services
from observatory.earlywarning.models import Substance


class Command(BaseCommand):
    help = "Classify a structure and report its control status (international and national)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--smiles", required=True, help="SMILES (or molfile text)")
        parser.add_argument("--country", action="append", default=[], help="ISO3; repeatable")
        parser.add_argument("--date", default="", help="YYYY-MM-DD (default today)")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            on_date = dt.date.fromisoformat(options["date"]) if options["date"] else dt.date.today()
        except ValueError as error:
            raise CommandError(f"--date {options['date']!r} is not YYYY-MM-DD") from error
        try:
            structure = services.standardise(options["smiles"])
            countries = [services.resolve_country(c).iso3 for c in options["country"]]
        except services.InvalidInput as error:
            raise CommandError(str(error)) from error
        entry = Substance.objects.filter(inchikey=structure.inchikey, status=Substance.Status.ACTIVE).first()
        assessment = services.assess(
            structure, entry, known=entry is not None, on_date=on_date, countries=countries, k=3
        )
        if options["json"]:
            self.stdout.write(json.dumps(assessment.as_dict(), indent=2, default=str))
            return
        identity = assessment.identity
        self.stdout.write(f"InChIKey   {identity['inchikey']}")
        self.stdout.write(f"SMILES     {identity['canonical_smiles']}")
        self.stdout.write(f"formula    {identity['formula']}  exact mass {identity['exact_mass']}")
        for note in identity["notes"]:  # type: ignore[attr-defined]
            self.stdout.write(f"note       {note}")
        known = (
            f"known: {assessment.substance_name} (#{assessment.substance_id})"
            if entry
            else "not in the registry"
        )
        self.stdout.write(f"registry   {known}")
        self.stdout.write(f"class      {assessment.substance_group_label} (rule {assessment.class_rule})")
        self.stdout.write(f"because    {assessment.class_reason}")
        control = assessment.control
        international: dict[str, Any] = control["international"]  # type: ignore[assignment]
        self.stdout.write(f"on {on_date.isoformat()}:")
        self.stdout.write(f"  international  {international['status']}: {international['explanation']}")
        for row in control["national"]:  # type: ignore[attr-defined]
            self.stdout.write(f"  {row['country']}            {row['status']}: {row['explanation']}")
