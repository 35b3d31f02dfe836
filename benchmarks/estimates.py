"""Benchmark: (1) the full set of regional/global estimates for every drug and year of the real annex 1.2
data; (2) seizure-trend aggregates (kg and cases by drug group × WDR region × year) over N generated
seizure rows in the project database (SQLite by default, DATABASE_URL respected) against the same
query in DuckDB over the same rows, in the same run; and the maintained-aggregate read the pages use.

    .venv/bin/python benchmarks/estimates.py                 # 10,000,000 rows
    .venv/bin/python benchmarks/estimates.py --rows 1000000  # quick run

Targets (issue 5): estimate set < 2 s; trend aggregate within 2× of DuckDB and < 500 ms.
The generated table lives in a scratch database (a temporary SQLite file, or a scratch schema table on
PostgreSQL) and is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "observatory.settings")

ANNEX_1_2 = (
    REPO_ROOT.parent
    / "shared"
    / "unodc"
    / "wdr2025_annex"
    / ("1.2_Prevalence_of_drug_use_in_the_general_population_national_data.xlsx")
)
TREND_SQL = (
    "SELECT drug_group_id, region_id, year, SUM(kilograms) AS kg, COUNT(*) AS cases "
    "FROM bench_seizure_case GROUP BY drug_group_id, region_id, year"
)


def median_time(work: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times = []
    result: Any = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def median_wall_and_cpu(work: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Medians of wall-clock and process CPU time (the CPU figure shows the work itself on a shared
    machine, where the wall clock also counts the time other processes held the cores)."""
    walls, cpus = [], []
    result: Any = None
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = work()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
    return statistics.median(walls), statistics.median(cpus), result


def estimate_set(repeats: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from observatory.analysis import estimation
    from observatory.analysis.national import annex_national_rows
    from observatory.analysis.queries import country_frame
    from observatory.reference.models import Country

    if not Country.objects.exists():
        call_command("load_reference", verbosity=0)
    rows, _ = annex_national_rows(ANNEX_1_2)
    pairs = sorted({(row.drug_code, row.year) for row in rows if row.year is not None and row.year >= 2000})
    frames = {year: country_frame(year) for year in {year for _, year in pairs}}
    by_drug: dict[str, list[Any]] = {}
    for row in rows:
        by_drug.setdefault(row.drug_code, []).append(row)  # as national_inputs() returns them: one drug

    def run_all() -> int:
        done = 0
        indexes: dict[str, estimation.NationalIndex] = {}  # each drug's rows grouped once, for all years
        for drug_code, year in pairs:
            index = indexes.get(drug_code) or indexes.setdefault(
                drug_code, estimation.NationalIndex(by_drug[drug_code], drug_code)
            )
            assembled = estimation.assemble_inputs(
                by_drug[drug_code], drug_code, year, frames[year], index=index
            )
            try:
                result = estimation.run_estimate(assembled)
            except ValueError:
                continue  # no usable data (e.g. a lifetime-only year without period ratios)
            estimation.serialise(result, assembled)
            done += 1
        return done

    seconds, cpu, done = median_wall_and_cpu(run_all, repeats)
    print(
        f"estimate set: {done} drug × year estimates ({len(pairs)} pairs, {len(frames[max(frames)])} countries)"
    )
    print(
        f"  median {seconds * 1000:.0f} ms wall ({cpu * 1000:.0f} ms CPU, load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores) over {repeats} runs (target < 2000 ms) "
        f"→ {'OK' if seconds < 2 else 'MISSED'}"
    )


def generate(rows: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "country_id": rng.integers(1, 240, rows, dtype=np.int32),
        "drug_group_id": rng.integers(1, 13, rows, dtype=np.int32),
        "region_id": rng.integers(1, 6, rows, dtype=np.int32),
        "year": rng.integers(2010, 2025, rows, dtype=np.int32),
        "kilograms": rng.lognormal(0.0, 2.5, rows),
    }


def trend_benchmark(rows: int, repeats: int) -> None:
    import duckdb

    data = generate(rows)
    url = os.environ.get("DATABASE_URL", "")
    print(f"\nseizure trend aggregate over {rows:,} generated rows")
    if url.startswith("postgres"):
        import psycopg

        db: Any = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True)
        cursor = db.cursor()
        cursor.execute("DROP TABLE IF EXISTS bench_seizure_case")
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_seizure_case (country_id int, drug_group_id int, region_id int, "
            "year int, kilograms double precision)"
        )
        started = time.perf_counter()
        with cursor.copy(
            "COPY bench_seizure_case (country_id, drug_group_id, region_id, year, kilograms) FROM STDIN"
        ) as copy:
            for i in range(0, rows, 200_000):
                for row in zip(*(data[k][i : i + 200_000].tolist() for k in data), strict=True):
                    copy.write_row(row)
        cursor.execute("ANALYZE bench_seizure_case")
        engine = "PostgreSQL"
        cleanup: Callable[[], None] = lambda: cursor.execute("DROP TABLE bench_seizure_case")  # noqa: E731
    else:
        import sqlite3

        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        db = sqlite3.connect(path)
        cursor = db.cursor()
        cursor.execute("PRAGMA journal_mode=OFF")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute(
            "CREATE TABLE bench_seizure_case (country_id int, drug_group_id int, region_id int, "
            "year int, kilograms real)"
        )
        started = time.perf_counter()
        for i in range(0, rows, 500_000):
            cursor.executemany(
                "INSERT INTO bench_seizure_case VALUES (?, ?, ?, ?, ?)",
                zip(*(data[k][i : i + 500_000].tolist() for k in data), strict=True),
            )
        db.commit()
        engine = "SQLite"

        def cleanup() -> None:
            db.close()
            path.unlink()

    print(f"  loaded into {engine} in {time.perf_counter() - started:.1f} s")
    duck = duckdb.connect()
    duck.register("bench_frame", data)  # numpy arrays, zero-copy
    duck.execute("CREATE TABLE bench_seizure_case AS SELECT * FROM bench_frame")

    def run_db() -> list[Any]:
        cursor.execute(TREND_SQL)
        return list(cursor.fetchall())

    db_time, db_rows = median_time(run_db, repeats)
    duck_time, duck_rows = median_time(lambda: duck.execute(TREND_SQL).fetchall(), repeats)
    assert sorted(r[:3] for r in db_rows) == sorted(r[:3] for r in duck_rows)
    ratio = db_time / duck_time
    print(
        f"  row-level {engine}: median {db_time * 1000:.0f} ms; DuckDB: median {duck_time * 1000:.0f} ms; ratio {ratio:.1f}×"
    )
    print(
        f"  target within 2× of DuckDB and < 500 ms → {'OK' if ratio <= 2 and db_time < 0.5 else 'MISSED at row level'}"
    )

    # the maintained aggregate (SeizureTrend): one row per group × country × year, summed per region
    started = time.perf_counter()
    packed = (
        data["drug_group_id"].astype(np.int64) * 10_000_000
        + data["country_id"].astype(np.int64) * 10_000
        + data["year"].astype(np.int64)
    )
    codes, inverse = np.unique(packed, return_inverse=True)
    kg = np.bincount(inverse, weights=data["kilograms"])
    cases = np.bincount(inverse)
    unique = np.stack([codes // 10_000_000, (codes // 10_000) % 1000, codes % 10_000], axis=1)
    build = time.perf_counter() - started
    region_of_country = np.random.default_rng(3).integers(1, 6, 240)
    cursor.execute(
        "CREATE TABLE bench_seizure_trend (drug_group_id int, region_id int, country_id int, year int, "
        "kilograms double precision, cases int)"
    )
    cursor.executemany(
        "INSERT INTO bench_seizure_trend VALUES (%s, %s, %s, %s, %s, %s)"
        if engine == "PostgreSQL"
        else "INSERT INTO bench_seizure_trend VALUES (?, ?, ?, ?, ?, ?)",
        [
            (int(g), int(region_of_country[c]), int(c), int(y), float(k), int(n))
            for (g, c, y), k, n in zip(unique, kg, cases, strict=True)
        ],
    )
    aggregate_sql = (
        "SELECT drug_group_id, region_id, year, SUM(kilograms), SUM(cases), COUNT(*) FROM bench_seizure_trend "
        "GROUP BY drug_group_id, region_id, year"
    )

    def run_aggregate() -> list[Any]:
        cursor.execute(aggregate_sql)
        return list(cursor.fetchall())

    agg_time, _ = median_time(run_aggregate, repeats)
    print(
        f"  maintained aggregate ({len(unique):,} rows, rebuilt in {build * 1000:.0f} ms from the rows): "
        f"{engine} median {agg_time * 1000:.1f} ms; ratio to DuckDB row-level {agg_time / duck_time:.2f}× "
        f"→ {'OK' if agg_time < 0.5 and agg_time <= 2 * duck_time else 'MISSED'}"
    )
    cursor.execute("DROP TABLE bench_seizure_trend")
    cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000, help="generated seizure rows")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-estimates", action="store_true")
    arguments = parser.parse_args()
    if not arguments.skip_estimates:
        estimate_set(arguments.repeats)
    trend_benchmark(arguments.rows, arguments.repeats)


if __name__ == "__main__":
    main()
