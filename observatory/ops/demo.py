"""The demonstration set-up: roles, one user per role, and each app's demonstration data.

Idempotent: users keep the password generated on their first creation (stored in ``var/``, never in
the repository), and each app's loader skips what already exists.
"""

from __future__ import annotations

import importlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import transaction

from observatory.access import services as access_services
from observatory.access.models import User
from observatory.reference.models import Country, Region


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: str
    country_iso3: str | None = None
    region_name: str | None = None


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("focal.col", "Focal point, Colombia", "focal_point", "COL"),
    DemoUser("focal.nld", "Focal point, Netherlands", "focal_point", "NLD"),
    DemoUser("authority.deu", "Competent authority, Germany", "competent_authority", "DEU"),
    DemoUser("authority.ind", "Competent authority, India", "competent_authority", "IND"),
    DemoUser("forensic.gbr", "Forensic focal point, United Kingdom", "forensic_focal_point", "GBR"),
    DemoUser("analyst", "Office analyst (global)", "analyst"),
    DemoUser("analyst.americas", "Office analyst, Americas", "analyst", region_name="Americas"),
    DemoUser("reviewer", "Office reviewer", "reviewer"),
    DemoUser("board", "Board officer", "board_officer"),
)


def _password_file() -> Path:
    return Path(settings.VAR_DIR) / "demo_logins.json"


def ensure_demo_users() -> dict[str, str]:
    """Create the demo users once; return username → password (generated, kept in var/)."""
    path = _password_file()
    passwords: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    with transaction.atomic():
        for demo in DEMO_USERS:
            password = passwords.setdefault(
                demo.username, f"{demo.username.split('.')[0]}-{secrets.token_urlsafe(9)}"
            )
            user = User.objects.filter(username=demo.username).first()
            if user is None:
                user = access_services.create_user(
                    None, demo.username, password, display_name=demo.display_name, system=True
                )
            country = Country.objects.get(iso3=demo.country_iso3) if demo.country_iso3 else None
            region = (
                Region.objects.get(name=demo.region_name, kind=Region.Kind.WDR_REGION)
                if demo.region_name
                else None
            )
            access_services.assign_role(None, user, demo.role, country=country, region=region, system=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(passwords, indent=2))
    path.chmod(0o600)
    return passwords


def load_app_demo_data(stdout_write: object = print) -> list[str]:
    """Call ``load_demo()`` of every installed app that has a ``demo`` module, in INSTALLED_APPS order."""
    loaded = []
    for config in apps.get_app_configs():
        if not config.name.startswith("observatory.") or config.name == "observatory.ops":
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as error:
            if error.name == f"{config.name}.demo":
                continue
            raise
        module.load_demo()
        loaded.append(config.label)
    return loaded
