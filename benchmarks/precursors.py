"""Benchmark: precursor control at a year's scale — 30,000 pre-export notifications over 145 countries
plus 25,000 incidents in the database.

Measures (medians of several runs):
  * a country's inbox: the first page (50 rows) plus its count, through ``queries.inbox`` as the page
    does it, for the busiest importing country — target < 100 ms;
  * the expiry job ``services.expire_due`` on one day's backlog of notifications that reached their
    deadline (each expired in its own audited transaction), and its idempotent re-run;
  * company-shopping detection (and surges) over the year, ``queries.pattern_report`` as the board's
    page runs it — target < 10 s.
Anchor, in the same run: a plain ``COUNT(*)`` of the notification table; the ratio is figure / target.

The database is a fresh SQLite file under benchmarks/out/ unless ``DATABASE_URL`` is set (then the data
are written into that database: use a scratch one).

    .venv/bin/python benchmarks/precursors.py
    .venv/bin/python benchmarks/precursors.py --notifications 3000 --incidents 2500 --runs 3   # quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_ROOT / "benchmarks" / "out"
sys.path.insert(0, str(REPO_ROOT))


def setup_django(fresh: bool) -> None:
    if "DATABASE_URL" not in os.environ:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        path = OUT_DIR / "precursors.sqlite3"
        if fresh and path.exists():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "observatory.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from observatory.access.services import sync_roles
    from observatory.reference.loading import load_reference
    from observatory.reference.models import Country

    if not Country.objects.exists():
        load_reference()
    sync_roles()


def median_ms(work: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


COMPANY_WORDS = [
    "Alpha",
    "Nova",
    "Orient",
    "Delta",
    "Sun",
    "Global",
    "Pacific",
    "Union",
    "Prime",
    "Star",
    "Vertex",
    "Crown",
    "Lotus",
    "Atlas",
    "Zenith",
    "Summit",
    "Harbor",
    "River",
    "Eagle",
    "Pearl",
]
TRADES = ["Chemicals", "Trading", "Pharma", "Industries", "Solvents", "Import Export", "Lab Supplies"]
FORMS = ["Ltd", "LLC", "GmbH", "S.A.", "Pvt. Ltd.", "Co. Ltd", "Inc."]
STREETS = ["Harbour Road", "Industrial Estate", "Main Street", "Port Avenue", "Station Road", "Canal Street"]


def build(notifications: int, incidents: int, seed: int = 8) -> dict[str, object]:
    from django.db import transaction
    from django.utils import timezone

    from observatory.precursors.models import (
        Incident,
        IncidentChemical,
        IncidentParty,
        Involvement,
        Notification,
        Operator,
        RouteLeg,
    )
    from observatory.reference.models import ControlledSubstance, Country, ScheduleListing, Unit

    rng = random.Random(seed)
    countries = list(Country.objects.filter(independent=True).exclude(m49="").order_by("iso3")[:145])
    substances = list(
        ControlledSubstance.objects.filter(
            listings__convention=ScheduleListing.Convention.ILLICIT_TRAFFIC_1988
        )
        .distinct()
        .values_list("pk", "name")
    )
    substitutes = [
        "ethyl phenylacetate",
        "APAA analogue",
        "benzyl cyanide",
        "methyl phenylacetate",
        "PMK ethyl glycidate",
    ]
    kg = Unit.objects.get(code="kg")
    now = timezone.now()
    year_start = now - dt.timedelta(days=365)
    # Trade is concentrated: a few big importers receive most notifications (Zipf-like weights).
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(countries))]
    with transaction.atomic():
        operators = Operator.objects.bulk_create(
            [
                Operator(
                    name=f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)} {rng.choice(TRADES)} {rng.choice(FORMS)}",
                    address=f"{rng.randint(1, 400)} {rng.choice(STREETS)}, {country.name}",
                    country=country,
                )
                for country in countries
                for _ in range(40)
            ],
            batch_size=2000,
        )
        by_country: dict[int, list[Operator]] = {}
        for operator in operators:
            by_country.setdefault(operator.country_id, []).append(operator)
        rows = []
        for index in range(notifications):
            exporting, importing = rng.choices(countries, weights=weights, k=2)
            while importing.pk == exporting.pk:
                importing = rng.choices(countries, weights=weights)[0]
            sent_at = year_start + dt.timedelta(seconds=rng.uniform(0, 365 * 86400))
            period = rng.choice([10, 15, 21, 30])
            deadline = sent_at + dt.timedelta(days=period)
            if deadline > now:
                state = rng.choice(["sent", "sent", "information_requested", "answered_no_objection"])
            else:
                state = rng.choice(
                    [
                        "shipped",
                        "shipped",
                        "answered_no_objection",
                        "answered_objection",
                        "expired",
                        "cancelled",
                    ]
                )
            scheduled = rng.random() < 0.85
            substance_id, name = rng.choice(substances) if scheduled else (None, rng.choice(substitutes))
            rows.append(
                Notification(
                    reference=f"PEN-B-{index:06d}",
                    state=state,
                    exporting_country=exporting,
                    importing_country=importing,
                    substance_id=substance_id,
                    substance_name=name,
                    quantity=Decimal(rng.randint(10, 50000)),
                    unit=kg,
                    transport_mode="sea",
                    exporter=rng.choice(by_country[exporting.pk]),
                    importer=rng.choice(by_country[importing.pk]),
                    reply_period_days=period,
                    sent_at=sent_at,
                    deadline=deadline,
                    created_at=sent_at,
                )
            )
        # One day's backlog for the expiry job: sent, unanswered, deadline passed within the last day.
        backlog = max(1, notifications // 365)
        for row in rows[:backlog]:
            row.state = "sent"
            row.deadline = now - dt.timedelta(seconds=rng.uniform(0, 86400))
            row.sent_at = row.deadline - dt.timedelta(days=row.reply_period_days)
            row.created_at = row.sent_at
        Notification.objects.bulk_create(rows, batch_size=2000)

        incident_rows = []
        for index in range(incidents):
            reporting = rng.choices(countries, weights=weights)[0]
            incident_rows.append(
                Incident(
                    reference=f"PIC-B-{index:06d}",
                    kind=rng.choice(Incident.Kind.values),
                    reporting_country=reporting,
                    occurred_on=(year_start + dt.timedelta(days=rng.uniform(0, 365))).date(),
                    modus_operandi=[rng.choice(Incident.ModusOperandi.values)],
                    created_at=year_start + dt.timedelta(seconds=rng.uniform(0, 365 * 86400)),
                )
            )
        Incident.objects.bulk_create(incident_rows, batch_size=2000)
        legs, involvements, chemicals, parties = [], [], [], []
        for incident in incident_rows:
            source, destination = rng.sample(countries, 2)
            legs += [
                RouteLeg(incident=incident, role="source", country=source, position=1),
                RouteLeg(incident=incident, role="destination", country=destination, position=2),
            ]
            involved = {
                incident.reporting_country_id: "reporting",
                source.pk: "source",
                destination.pk: "destination",
            }
            involvements += [
                Involvement(incident=incident, country_id=c, basis=b) for c, b in involved.items()
            ]
            scheduled = rng.random() < 0.7
            substance_id, name = rng.choice(substances) if scheduled else (None, rng.choice(substitutes))
            chemicals.append(
                IncidentChemical(
                    incident=incident,
                    substance_id=substance_id,
                    substance_name=name,
                    quantity=Decimal(rng.randint(1, 2000)),
                    unit=kg,
                )
            )
            parties.append(
                IncidentParty(
                    incident=incident, operator=rng.choice(by_country[destination.pk]), role="consignee"
                )
            )
        RouteLeg.objects.bulk_create(legs, batch_size=5000)
        Involvement.objects.bulk_create(involvements, batch_size=5000)
        IncidentChemical.objects.bulk_create(chemicals, batch_size=5000)
        IncidentParty.objects.bulk_create(parties, batch_size=5000)
    busiest = max(countries, key=lambda c: weights[countries.index(c)])
    return {"busiest": busiest, "backlog": backlog}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--notifications", type=int, default=30_000)
    parser.add_argument("--incidents", type=int, default=25_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    setup_django(fresh=True)

    from django.db import connection

    from observatory.precursors import queries, services
    from observatory.precursors.models import Notification
    from tests.factories import make_user

    if Notification.objects.filter(reference__startswith="PEN-B-").exists():
        sys.exit("the database already holds benchmark data: use a scratch DATABASE_URL")
    start = time.perf_counter()
    built = build(args.notifications, args.incidents)
    print(
        f"built {args.notifications} notifications and {args.incidents} incidents in {time.perf_counter() - start:.1f} s "
        f"({connection.vendor})"
    )
    busiest = built["busiest"]
    authority = make_user("competent_authority", country=busiest.iso3)  # type: ignore[attr-defined]
    board = make_user("board_officer")

    anchor = median_ms(lambda: Notification.objects.count(), args.runs)

    def inbox() -> None:
        rows = queries.inbox(authority)
        list(rows[:50])
        rows.count()

    inbox_size = queries.inbox(authority).count()
    inbox_ms = median_ms(inbox, args.runs)
    print(
        f"inbox of {busiest.iso3} ({inbox_size} awaiting answer): median {inbox_ms:.1f} ms "  # type: ignore[attr-defined]
        f"(target 100 ms, ratio {inbox_ms / 100:.2f}; anchor COUNT(*) {anchor:.1f} ms)"
    )

    start = time.perf_counter()
    first = services.expire_due()
    expiry_ms = (time.perf_counter() - start) * 1000
    rerun_ms = median_ms(services.expire_due, args.runs)
    print(
        f"expiry job: {len(first.expired)} of a one-day backlog of {built['backlog']} expired in {expiry_ms:.0f} ms "
        f"({expiry_ms / max(1, len(first.expired)):.1f} ms each, audited); idempotent re-run median {rerun_ms:.1f} ms"
    )

    reports: list[queries.PatternReport] = []
    detect_ms = median_ms(lambda: reports.append(queries.pattern_report(board)), max(3, args.runs // 2))
    report = reports[-1]
    print(
        f"company shopping + surges over a year ({report.notifications_scanned} notifications, "
        f"{report.incidents_scanned} incidents): median {detect_ms / 1000:.2f} s (target 10 s, ratio {detect_ms / 10000:.2f}); "
        f"{len(report.company_shopping)} company-shopping cases, {len(report.surges)} surges"
    )


if __name__ == "__main__":
    main()
