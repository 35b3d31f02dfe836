"""``observatory release publish --label L --as USER [--embargo-until ISO]``: release now or under embargo."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from observatory.access import policy
from observatory.access.models import User
from observatory.publication import services
from observatory.publication.models import Release


class Command(BaseCommand):
    help = "Release a draft now, or schedule it to become public at an embargo time (ISO 8601 with zone)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--label", required=True)
        parser.add_argument("--as", dest="actor", required=True, help="username of a reviewer")
        parser.add_argument("--embargo-until", default="", help="e.g. 2026-06-26T10:00:00+00:00")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = User.objects.filter(username=options["actor"]).first()
        release = Release.objects.filter(label=options["label"]).first()
        if actor is None or release is None:
            raise CommandError("unknown user or release")
        try:
            if options["embargo_until"]:
                moment = parse_datetime(options["embargo_until"])
                if moment is None:
                    raise CommandError("--embargo-until is not an ISO 8601 date-time")
                release = services.schedule_release(actor, release, moment)
                self.stdout.write(
                    f"{release.label} embargoed until {release.public_from:%Y-%m-%dT%H:%M:%S%z}"
                )
            else:
                release = services.publish_release(actor, release)
                self.stdout.write(f"{release.label} released at {release.public_from:%Y-%m-%dT%H:%M:%S%z}")
        except (services.ReleaseError, policy.PermissionDenied) as error:
            raise CommandError(str(error)) from error
