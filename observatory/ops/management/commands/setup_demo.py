from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from observatory.access.services import sync_roles
from observatory.ops.demo import DEMO_USERS, ensure_demo_users, load_app_demo_data


class Command(BaseCommand):
    help = "Migrate, load reference data, roles, demo users and demonstration data. Safe to re-run."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_reference", stdout=self.stdout)
        sync_roles()
        passwords = ensure_demo_users()
        loaded = load_app_demo_data()
        self.stdout.write(f"demonstration data loaded for: {', '.join(loaded) or 'no app'}")
        self.stdout.write("\nDemo logins (one per role):")
        for demo in DEMO_USERS:
            scope = demo.country_iso3 or demo.region_name or "global"
            self.stdout.write(f"  {demo.username:<18} {passwords[demo.username]:<24} {demo.role} on {scope}")
