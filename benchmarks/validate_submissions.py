"""Benchmark: validate one complete questionnaire, and every country's questionnaire of a year, read from
the database (rules, completeness and outliers against three earlier years of history).

Usage: python benchmarks/validate_submissions.py [--countries 200] [--repeat 5]
Runs on a fresh SQLite database in a temporary directory unless DATABASE_URL is set (then it uses that
database's test copy). Anchor: the same validation by the pure kernel on values already in memory.
Targets (issue 3): one submission < 50 ms, all countries < 5 s on SQLite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

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


def run(countries: int, repeat: int, year: int) -> None:
    from observatory.access.services import sync_roles
    from observatory.reference.loading import load_reference
    from observatory.reference.models import Country
    from observatory.reporting import catalog, queries, services
    from observatory.reporting.kernels import cells as cellkit
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
    print(
        f"preparing {len(chosen)} countries × 4 years of complete submissions on {connection.vendor} …",
        flush=True,
    )
    # Ten synthetic patterns per year, cycled over the countries (building one takes ~0.1 s).
    for offset, history_year in enumerate([year - 3, year - 2, year - 1, year]):
        status = Submission.Status.SUBMITTED if history_year == year else Submission.Status.APPROVED
        patterns = [
            [(key[0], cellkit.dims_string(key[1]), cellkit.encode(value))
             for key, value in synthetic_submission(kernel, seed=offset * 10 + seed).items()]
            for seed in range(10)
        ]  # fmt: skip
        Submission.objects.bulk_create(
            [
                Submission(country=c, year=history_year, instrument=instrument_row, status=status)
                for c in chosen
            ]
        )
        rows = list(Submission.objects.filter(year=history_year).order_by("pk").values_list("pk", flat=True))
        for chunk_start in range(0, len(rows), 10):  # stream: a few thousand objects in memory at a time
            Value.objects.bulk_create(
                [
                    Value(submission_id=pk, question=question, dims=dims, value=value)
                    for index, pk in enumerate(rows[chunk_start : chunk_start + 10], start=chunk_start)
                    for question, dims, value in patterns[index % 10]
                ],
                batch_size=2000,
            )
        print(f"  {history_year}: {len(rows)} submissions", flush=True)
    current = list(Submission.objects.filter(year=year).select_related("instrument").order_by("pk"))
    cells = Value.objects.filter(submission=current[0]).count()

    def one() -> float:
        start = time.perf_counter()
        submission = Submission.objects.select_related("instrument").get(pk=current[0].pk)
        queries.validate(submission, queries.values_of(submission), queries.history_of(submission))
        return time.perf_counter() - start

    def every() -> float:
        """All countries of the year: values and history read in bulk, then validated one by one."""
        start = time.perf_counter()
        by_submission: dict[int, dict] = {s.pk: {} for s in current}
        country_of = {s.pk: s.country_id for s in current}
        for submission_id, question, dims, raw in Value.objects.filter(
            submission_id__in=list(by_submission), entry=0
        ).values_list("submission_id", "question", "dims", "value"):
            by_submission[submission_id][cellkit.key_of(question, dims)] = cellkit.decode(raw)
        history: dict[int, dict[int, dict]] = {}
        for country_id, history_year, question, dims, raw in Value.objects.filter(
            submission__year__lt=year, submission__status__in=queries.HISTORY_STATUSES, entry=0
        ).values_list("submission__country_id", "submission__year", "question", "dims", "value"):
            history.setdefault(country_id, {}).setdefault(history_year, {})[
                cellkit.key_of(question, dims)
            ] = cellkit.decode(raw)
        for submission in current:
            validate_submission(
                rule_set, by_submission[submission.pk], history.get(country_of[submission.pk], {})
            )
        return time.perf_counter() - start

    # Anchor: the kernel alone on values already in memory (the same values and history).
    memory_values = queries.values_of(current[0])
    memory_history = queries.history_of(current[0])
    all_memory = [(queries.values_of(s), queries.history_of(s)) for s in current]

    def kernel_one() -> float:
        start = time.perf_counter()
        validate_submission(rule_set, memory_values, memory_history)
        return time.perf_counter() - start

    def kernel_all() -> float:
        start = time.perf_counter()
        for values, hist in all_memory:
            validate_submission(rule_set, values, hist)
        return time.perf_counter() - start

    one(), every(), kernel_one()  # warm up (rule set compiled, caches of the database filled)
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
