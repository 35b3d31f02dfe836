"""Benchmark: route network (hubs, chokepoints) and emerging routes over imported seizure cases.

Target: under 5 s for 1,000,000 cases, as a global analyst sees them (scoped query, GROUP BY in the
database, legs aggregated by the kernel, betweenness, emerging routes). Medians of `--runs` runs.

    .venv/bin/python benchmarks/routes.py [--count 1000000] [--runs 5] [--database sqlite|postgresql]
        [--var-dir DIR]   # reuse the cases left by `benchmarks/import_seizures.py --keep --var-dir DIR`
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_seizures import setup_django, start_private_postgres, stop_private_postgres  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql"],
        default="postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite",
    )  # fmt: skip
    parser.add_argument("--var-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    var_dir = args.var_dir or Path(tempfile.mkdtemp(prefix="bench-routes-"))
    var_dir.mkdir(parents=True, exist_ok=True)
    pg_dir = None
    database_url = os.environ.get("DATABASE_URL") if args.database == "postgresql" else None
    if args.database == "postgresql" and not database_url:
        database_url, pg_dir = start_private_postgres()
    try:
        setup_django(database_url, var_dir)
        from observatory.access.models import User
        from observatory.access.services import assign_role, create_user, sync_roles
        from observatory.seizures.kernels.generator import write_seizure_cases_csv
        from observatory.seizures.models import SeizureCase
        from observatory.seizures.queries import CaseFilters, route_analysis
        from observatory.seizures.services import import_seizure_file

        present = SeizureCase.objects.count()
        if present < args.count:
            path = var_dir / f"seizure_cases_{args.count}.csv"
            if not path.exists():
                write_seizure_cases_csv(path, args.count, args.seed)
            import_seizure_file(None, path, system=True)
            present = SeizureCase.objects.count()
        sync_roles()
        analyst = User.objects.filter(username="bench-analyst").first()
        if analyst is None:
            analyst = create_user(None, "bench-analyst", "bench-analyst-password-0", system=True)
            assign_role(None, analyst, "analyst", system=True)
        print(f"{present:,} cases, database {args.database}")
        timings = []
        for run in range(args.runs):
            started = time.perf_counter()
            analysis = route_analysis(analyst, CaseFilters(), weight="cases")
            seconds = time.perf_counter() - started
            timings.append(seconds)
            print(
                f"run {run + 1}: {seconds:.2f} s — {analysis.case_count:,} routed cases, "
                f"{len(analysis.network.edges)} edges, {len(analysis.emerging)} emerging routes in "
                f"{analysis.emerging_period}"
            )
        drug = route_analysis(analyst, CaseFilters(drug="cocaine", year_from=2020, year_to=2024))
        print(f"cocaine 2020-2024: top hubs {[n.country for n in drug.network.hubs[:5]]}")
        median = statistics.median(timings)
        print(
            f"median route network + emerging routes: {median:.2f} s (target < 5 s: {'met' if median < 5 else 'NOT met'})"
        )
    finally:
        if pg_dir:
            stop_private_postgres(pg_dir)


if __name__ == "__main__":
    main()
