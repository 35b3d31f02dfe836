"""Benchmark: validate one complete questionnaire, and every country's questionnaire of a year, read from
the database (rules, completeness and outliers against three earlier years of history).

Usage: python benchmarks/validate_submissions.py [--countries 200] [--repeat 5]
Runs on a fresh SQLite database in a temporary directory unless DATABASE_URL is set (then it uses that
database's test copy). The measured path is the app's: ``queries.validate`` on ``values_of`` and
``history_of`` for one submission, ``queries.validate_many`` for all (both read one value snapshot per
submission). Anchor: the same validation by the pure kernel on values already in memory, read from the
value rows; before timing, every bulk report is checked equal to the anchor's report.
Targets (issue 3): one submission < 50 ms, all countries < 5 s on SQLite.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "observatory.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["OBSERVATORY_VAR_DIR"] = tempfile.mkdtemp(prefix="validate-bench-")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--countries", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--year", type=int, default=2024)
    args = parser.parse_args()
    old = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    try:
        run(args.countries, args.repeat, args.year)
    finally:
        teardown_databases(old, verbosity=0)


def insert_values(rows: Iterable[tuple[int, str, str, Any]]) -> None:
    """Insert value rows (submission id, question, dims, stored value) with one raw executemany per
    50,000 rows: model objects and bulk_create would take minutes for 200 countries × 4 years."""
    from django.utils import timezone

    from observatory.reporting.models import Value

    fields = [field for field in Value._meta.concrete_fields if not field.primary_key]
    varying = ("submission_id", "question", "dims", "value")
    constant = {
        field.attname: field.get_db_prep_save(
            timezone.now() if field.attname == "updated_at" else field.get_default(), connection
        )
        for field in fields
        if field.attname not in varying
    }
    value_field = Value._meta.get_field("value")
    columns = ", ".join(connection.ops.quote_name(field.column or field.attname) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {connection.ops.quote_name(Value._meta.db_table)} ({columns}) VALUES ({marks})"
    batch: list[list[Any]] = []
    with connection.cursor() as cursor:
        for submission_id, question, dims, raw in rows:
            row = dict(constant, submission_id=submission_id, question=question, dims=dims,
                       value=value_field.get_db_prep_save(raw, connection))  # fmt: skip
            batch.append([row[field.attname] for field in fields])
            if len(batch) >= 50_000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def run(countries: int, repeat: int, year: int) -> None:
    from django.db import transaction

    from observatory.access.services import sync_roles
    from observatory.reference.loading import load_reference
    from observatory.reference.models import Country
    from observatory.reporting import catalog, queries, services
    from observatory.reporting.kernels import cells as cellkit
    from observatory.reporting.kernels.instrument import CellKey
    from observatory.reporting.kernels.validation import synthetic_submission, validate_submission
    from observatory.reporting.models import Submission, Value

    load_reference()
    sync_roles()
    instrument_row = services.current_instrument()
    kernel = catalog.instrument()
    rule_set = catalog.rule_set()
    chosen = list(Country.objects.order_by("iso3")[:countries])
    if len(chosen) < countries:
        raise SystemExit(f"only {len(chosen)} countries in the reference table")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")  # 256 MB: the indexes of 8 million rows
    print(
        f"preparing {len(chosen)} countries × 4 years of complete submissions on {connection.vendor} …",
        flush=True,
    )
    started = time.perf_counter()
    # Ten synthetic patterns per year, cycled over the countries (building one takes ~0.1 s).
    for offset, history_year in enumerate([year - 3, year - 2, year - 1, year]):
        status = Submission.Status.SUBMITTED if history_year == year else Submission.Status.APPROVED
        patterns = [
            [(key[0], cellkit.dims_string(key[1]), cellkit.encode(value))
             for key, value in synthetic_submission(kernel, seed=offset * 10 + seed).items()]
            for seed in range(10)
        ]  # fmt: skip
        with transaction.atomic():
            Submission.objects.bulk_create(
                [
                    Submission(country=c, year=history_year, instrument=instrument_row, status=status)
                    for c in chosen
                ]
            )
            rows = list(
                Submission.objects.filter(year=history_year).order_by("pk").values_list("pk", flat=True)
            )
            insert_values(
                (pk, question, dims, value)
                for index, pk in enumerate(rows)
                for question, dims, value in patterns[index % 10]
            )
            services.refresh_snapshots(rows)  # what the services keep beside every write
        print(
            f"  {history_year}: {len(rows)} submissions ({time.perf_counter() - started:.0f} s)", flush=True
        )
    first = Submission.objects.filter(year=year).order_by("pk").first()
    assert first is not None
    cells = Value.objects.filter(submission=first).count()

    def one() -> float:
        start = time.perf_counter()
        submission = Submission.objects.select_related("instrument").get(pk=first.pk)
        queries.validate(submission, queries.values_of(submission), queries.history_of(submission))
        return time.perf_counter() - start

    def every() -> float:
        """All countries of the year: the year's submissions, their values and histories read in bulk."""
        start = time.perf_counter()
        queries.validate_many(list(Submission.objects.filter(year=year, instrument=instrument_row)))
        return time.perf_counter() - start

    current = list(Submission.objects.filter(year=year, instrument=instrument_row).order_by("pk"))

    # Anchor: the kernel alone on values already in memory, read from the value rows (not the snapshots).
    def from_rows(submission_id: int) -> dict[CellKey, Any]:
        rows = Value.objects.filter(submission_id=submission_id, entry=0).order_by("question", "dims")
        return {
            cellkit.key_of(q, d): cellkit.decode(raw)
            for q, d, raw in rows.values_list("question", "dims", "value")
        }

    earlier = {
        (c, y): pk
        for pk, c, y in Submission.objects.filter(year__lt=year).values_list("pk", "country_id", "year")
    }
    all_memory = [
        (from_rows(s.pk), {y: from_rows(earlier[(s.country_id, y)]) for y in range(year - 3, year)})
        for s in current
    ]
    memory_values, memory_history = all_memory[0]

    def kernel_one() -> float:
        start = time.perf_counter()
        validate_submission(rule_set, memory_values, memory_history)
        return time.perf_counter() - start

    def kernel_all() -> float:
        start = time.perf_counter()
        for values, hist in all_memory:
            validate_submission(rule_set, values, hist)
        return time.perf_counter() - start

    # The bulk read gives the kernel exactly the values and history it gets one submission at a time.
    bulk = queries.validate_many(current)
    for submission, (values, hist) in zip(current, all_memory, strict=True):
        assert bulk[submission.pk] == validate_submission(rule_set, values, hist), submission.pk
    one(), every(), kernel_one()  # warm up (rule set compiled, caches of the database filled)
    # The anchor's values of 800 submissions (millions of objects) exist only in this benchmark: keep
    # the garbage collector from walking them during the timed runs of either side.
    gc.collect()
    gc.freeze()
    one_times = [one() for _ in range(repeat)]
    all_times = [every() for _ in range(repeat)]
    kernel_one_times = [kernel_one() for _ in range(repeat)]
    kernel_all_times = [kernel_all() for _ in range(repeat)]
    one_ms, all_s = statistics.median(one_times) * 1000, statistics.median(all_times)
    k_one_ms, k_all_s = statistics.median(kernel_one_times) * 1000, statistics.median(kernel_all_times)
    print(f"database: {connection.vendor}; {cells} cells per submission; {rule_set.instance_count} rule checks;"
          f" history: 3 earlier years; medians of {repeat} runs")  # fmt: skip
    print(f"one submission:   {one_ms:8.1f} ms   (kernel only {k_one_ms:6.1f} ms, ratio {one_ms / k_one_ms:5.1f}×)"
          f"   target < 50 ms: {'met' if one_ms < 50 else 'MISSED'}")  # fmt: skip
    print(f"{len(current)} submissions: {all_s:8.2f} s    (kernel only {k_all_s:6.2f} s, ratio {all_s / k_all_s:5.1f}×)"
          f"   target < 5 s: {'met' if all_s < 5 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
