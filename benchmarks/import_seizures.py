"""Benchmark: importing generated seizure cases (validation, normalisation, conversion, insert, indexes).

On PostgreSQL the anchor is PostgreSQL's own `COPY` of the same CSV file into a bare table (all text
columns, no indexes) in the same run; the claim is import <= 3x COPY. On SQLite the claim is
>= 100,000 rows/s. Each run imports into an emptied table (the same file would otherwise be skipped as
already imported). Medians of `--runs` runs. Each run also prints the seconds of each stage of the
import, as the import reports its stages to a progress reporter (the measured section is the whole call).
On PostgreSQL a large import adds its foreign keys back NOT VALID, having checked every key itself; the
worker validates them after the commit, which is timed and printed separately.

Each run also measures the store floor (`store_floor`): the database itself storing the rows the import
stored, already validated, into an unindexed copy of the case table, and building that table's indexes, in
one transaction. No import can be faster; the ratio import / floor is what reading, validating and
converting cost on top.

    .venv/bin/python benchmarks/import_seizures.py [--count 1000000] [--runs 3] [--database sqlite|postgresql]

Without DATABASE_URL, `--database postgresql` starts a private PostgreSQL through scripts/services.sh
(`source scripts/services.sh && start_private_postgres`), and stops it afterwards.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_private_postgres() -> tuple[str, str]:
    script = (
        f"source {ROOT}/scripts/services.sh && OBSERVATORY_PG_PORT=${{OBSERVATORY_PG_PORT:-55447}} "
        "start_private_postgres && echo $POSTGRES_URL && echo $OBSERVATORY_PG_DIR"
    )
    output = subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True).stdout
    url, directory = output.strip().splitlines()[-2:]
    return url, directory


def stop_private_postgres(directory: str) -> None:
    script = (
        f"source {ROOT}/scripts/services.sh && export OBSERVATORY_PG_DIR={directory} && "
        "PG_RUN_AS=(); [ $(id -u) = 0 ] && PG_RUN_AS=(runuser -u postgres --); stop_private_postgres"
    )
    subprocess.run(["bash", "-c", script], check=False)


def setup_django(database_url: str | None, var_dir: Path) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["OBSERVATORY_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "observatory.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from observatory.reference.models import Country

    if not Country.objects.exists():
        from observatory.reference.loading import load_reference

        load_reference()


def empty_tables() -> None:
    from django.db import connection

    from observatory.seizures.models import ImportBatch, SeizureCase

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {SeizureCase._meta.db_table}, {ImportBatch._meta.db_table} CASCADE")
        else:
            cursor.execute(f"DELETE FROM {SeizureCase._meta.db_table}")
            cursor.execute(f"DELETE FROM {ImportBatch._meta.db_table}")


def copy_anchor(path: Path) -> float:
    """PostgreSQL COPY of the same file into a bare table of text columns, committed."""
    from django.db import connection, transaction

    from observatory.seizures.kernels.generator import IDS_COLUMNS

    columns = ", ".join(f"{name.lower()} text" for name in IDS_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_anchor")
        cursor.execute(f"CREATE TABLE bench_copy_anchor ({columns})")
    started = time.perf_counter()
    statement = "COPY bench_copy_anchor FROM STDIN WITH (FORMAT csv, HEADER true)"
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        path.open("rb") as handle,
        cursor.copy(statement) as copy,
    ):
        while chunk := handle.read(1 << 20):
            copy.write(chunk)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy_anchor")
    return seconds


def store_floor() -> float:
    """The database's own storing of the rows the import just stored, with nothing to read, check or convert:
    the validated cases (every column but the id, as the import writes them) go into an unindexed copy of
    the case table, the case table's indexes are built on it, and it commits; then it is dropped. On
    PostgreSQL the rows travel as COPY text, as the import sends them; on SQLite they are copied by SQLite
    itself (INSERT ... SELECT), which no import from Python can outrun. Any import's time is at least this."""
    from django.db import connection, transaction

    from observatory.seizures.bulk import CASE_COLUMNS
    from observatory.seizures.models import SeizureCase
    from observatory.seizures.services import _sqlite_bulk_session  # the import's own session settings

    table, floor = SeizureCase._meta.db_table, "bench_store_floor"
    columns = ", ".join(CASE_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {floor}")
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TABLE {floor} (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY)")
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s",
                [table],
            )
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
            (create,) = cursor.fetchone()
            cursor.execute(create.replace(f'"{table}"', floor, 1))
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
        indexes = [  # the same index, named and placed on the floor table
            re.sub(r'INDEX "?(\w+)"? ON \S+ ', rf"INDEX {floor}_\1 ON {floor} ", definition, count=1)
            for (definition,) in cursor.fetchall()
        ]
    with tempfile.TemporaryFile() as text:
        if connection.vendor == "postgresql":
            with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY (SELECT {columns} FROM {table}) TO STDOUT") as copy,
            ):
                for chunk in copy:
                    text.write(chunk)
            text.seek(0)
        started = time.perf_counter()
        with _sqlite_bulk_session(), transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {floor} ({columns}) FROM STDIN") as copy:
                    while chunk := text.read(1 << 20):
                        copy.write(chunk)
            else:
                cursor.execute(f"INSERT INTO {floor} ({columns}) SELECT {columns} FROM {table} ORDER BY id")
            for definition in indexes:
                cursor.execute(definition)
        seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {floor}")
    return seconds


class StageClock:
    """The import's progress reporter: notes when each stage starts (nothing else; no database write)."""

    def __init__(self) -> None:
        self.starts: list[tuple[str, float]] = []

    def stage(self, name: str, total: int | None = None) -> None:
        self.starts.append((name, time.perf_counter()))

    def advance(self, done: int, force: bool = False) -> None:
        pass

    def summary(self, ended: float) -> str:
        ends = [start for _, start in self.starts[1:]] + ([ended] if self.starts else [])
        return ", ".join(
            f"{name} {end - start:.1f} s" for (name, start), end in zip(self.starts, ends, strict=True)
        )


def import_once(path: Path) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds of this process, rows imported, seconds per stage); the app is imported
    beforehand."""
    from observatory.seizures.services import import_seizure_file, validate_case_keys

    empty_tables()
    clock = StageClock()
    started, started_cpu = time.perf_counter(), time.process_time()
    outcome = import_seizure_file(None, path, system=True, progress=clock)
    ended = time.perf_counter()
    seconds, cpu = ended - started, time.process_time() - started_cpu
    assert outcome.batch.status == "imported", outcome.batch.errors[:5]
    stages = clock.summary(ended)
    validated = time.perf_counter()
    keys = validate_case_keys()
    if keys:  # not part of the import: the worker does it after the commit, without blocking anyone
        stages += f"\n  afterwards in the worker: {len(keys)} foreign keys validated in {time.perf_counter() - validated:.1f} s"
    return seconds, cpu, outcome.batch.rows_imported, stages


def load_average() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql"],
        default="postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite",
    )  # fmt: skip
    parser.add_argument(
        "--keep", action="store_true", help="leave the imported cases (for benchmarks/routes.py)"
    )
    parser.add_argument("--var-dir", type=Path, default=None)
    args = parser.parse_args(argv)

    var_dir = args.var_dir or Path(tempfile.mkdtemp(prefix="bench-seizures-"))
    var_dir.mkdir(parents=True, exist_ok=True)
    pg_dir = None
    database_url = os.environ.get("DATABASE_URL") if args.database == "postgresql" else None
    if args.database == "postgresql" and not database_url:
        database_url, pg_dir = start_private_postgres()
        print(f"started a private PostgreSQL at {database_url}")
    try:
        setup_django(database_url, var_dir)
        from observatory.seizures.kernels.generator import write_seizure_cases_csv

        path = var_dir / f"seizure_cases_{args.count}.csv"
        if not path.exists():
            write_seizure_cases_csv(path, args.count, args.seed)
        print(f"{args.count:,} generated cases, {path.stat().st_size / 1e6:.0f} MB, database {args.database}")
        import observatory.seizures.services  # noqa: F401  (module loading is not part of an import)

        print(f"before: {load_average()}")
        import_times: list[float] = []
        cpu_times: list[float] = []
        anchor_times: list[float] = []
        floor_times: list[float] = []
        for run in range(args.runs):
            if args.database == "postgresql":
                anchor_times.append(copy_anchor(path))
            seconds, cpu, rows, stages = import_once(path)
            import_times.append(seconds)
            cpu_times.append(cpu)
            floor_times.append(store_floor())
            anchor = f", COPY {anchor_times[-1]:.2f} s" if anchor_times else ""
            print(
                f"run {run + 1}: import {seconds:.2f} s ({rows / seconds:,.0f} rows/s; "
                f"Python process CPU {cpu:.2f} s){anchor}, store floor {floor_times[-1]:.2f} s; "
                f"{load_average()}\n  stages: {stages}"
            )
        median_import = statistics.median(import_times)
        median_cpu = statistics.median(cpu_times)
        print(f"median import: {median_import:.2f} s = {args.count / median_import:,.0f} rows/s")
        print(
            f"median CPU time of the importing process: {median_cpu:.2f} s = {args.count / median_cpu:,.0f} "
            "rows per CPU second (the database server's CPU not included on PostgreSQL)"
        )
        median_floor = statistics.median(floor_times)
        print(
            f"median store floor (the database alone storing the validated rows and building the case "
            f"table's indexes, in one transaction): {median_floor:.2f} s = {args.count / median_floor:,.0f} "
            f"rows/s; ratio import / store floor: {median_import / median_floor:.2f}x"
        )
        if anchor_times:
            median_copy = statistics.median(anchor_times)
            print(f"median PostgreSQL COPY of the same file into a bare table: {median_copy:.2f} s")
            print(f"ratio import / COPY: {median_import / median_copy:.2f}x (target <= 3x)")
            print(f"ratio store floor / COPY: {median_floor / median_copy:.2f}x")
        else:
            print(
                f"target >= 100,000 rows/s: {'met' if args.count / median_import >= 100_000 else 'NOT met'}"
            )
        if not args.keep:
            empty_tables()
        else:
            print(f"cases kept in {database_url or var_dir / 'observatory.sqlite3'}")
    finally:
        if pg_dir and not args.keep:
            stop_private_postgres(pg_dir)


if __name__ == "__main__":
    main()
