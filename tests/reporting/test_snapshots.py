"""Value snapshots: rewritten with every change of a submission's values, in the same transaction, and
read by validation in place of the value rows (alone and in bulk)."""

from __future__ import annotations

import hashlib
import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection, transaction

from observatory.reporting import queries, services
from observatory.reporting.kernels import cells as cellkit
from observatory.reporting.kernels.instrument import NOT_KNOWN, CellKey, Value, cell_key
from observatory.reporting.models import Submission, ValueSnapshot
from observatory.reporting.models import Value as StoredValue
from tests.factories import make_user
from tests.reporting.factories import draft, prevalence

pytestmark = pytest.mark.usefixtures("reference")

SURVEY_YEAR = cell_key("gp_survey_year")
METHOD = cell_key("gp_method")
AGE_RANGE = cell_key("gp_age_range")


def from_rows(submission: Submission) -> dict[CellKey, Value]:
    """What the value rows hold (entry 0), decoded as they always were: the record the snapshot mirrors."""
    rows = StoredValue.objects.filter(submission=submission, entry=0).values_list("question", "dims", "value")
    return {cellkit.key_of(question, dims): cellkit.decode(raw) for question, dims, raw in rows}


def snapshot_of(submission: Submission) -> tuple[str, str, str]:
    return ValueSnapshot.objects.values_list("layout", "cells", "values").get(submission=submission)


def assert_snapshot_matches_rows(submission: Submission) -> None:
    layout, cells, values = snapshot_of(submission)
    stored = cellkit.snapshot_values(cellkit.layout_keys(cells), values)
    assert stored == from_rows(submission)
    assert list(stored) == sorted(stored)  # ordered by question, then dims
    assert layout == hashlib.sha256(cells.encode()).hexdigest()
    assert queries.values_of(submission) == stored


def save(focal: Any, submission: Submission, changes: dict[CellKey, tuple[str, int]]) -> None:
    services.save_values(
        focal, submission, [services.CellChange(key, raw, version) for key, (raw, version) in changes.items()]
    )


def test_given_a_draft_when_cells_are_created_changed_and_cleared_then_the_snapshot_follows_the_rows() -> (
    None
):
    submission, focal = draft()
    assert not ValueSnapshot.objects.filter(submission=submission).exists()
    assert queries.values_of(submission) == {}  # no snapshot yet: read from the (no) rows
    save(
        focal,
        submission,
        {prevalence("cannabis"): ("3.1", 0), prevalence("cocaine"): ("--", 0), SURVEY_YEAR: ("2022-2023", 0)},
    )
    assert_snapshot_matches_rows(submission)
    assert queries.values_of(submission) == {
        prevalence("cannabis"): 3.1,
        prevalence("cocaine"): NOT_KNOWN,
        SURVEY_YEAR: (2022, 2023),
    }
    save(
        focal, submission, {prevalence("cannabis"): ("3.4", 1), METHOD: ("HHS", 0), AGE_RANGE: ("15-64 ✓", 0)}
    )
    assert_snapshot_matches_rows(submission)
    save(focal, submission, {prevalence("cocaine"): ("", 1)})
    assert_snapshot_matches_rows(submission)
    assert queries.values_of(submission) == {
        prevalence("cannabis"): 3.4,
        SURVEY_YEAR: (2022, 2023),
        METHOD: "HHS",
        AGE_RANGE: "15-64 ✓",
    }


def test_given_a_stale_version_when_saved_then_conflict_and_neither_rows_nor_snapshot_change() -> None:
    submission, focal = draft()
    save(focal, submission, {prevalence("cannabis"): ("3.1", 0)})
    before = snapshot_of(submission)
    with pytest.raises(services.Conflict):
        save(focal, submission, {prevalence("cocaine"): ("0.5", 0), prevalence("cannabis"): ("9.9", 0)})
    assert snapshot_of(submission) == before
    assert_snapshot_matches_rows(submission)
    assert queries.values_of(submission) == {prevalence("cannabis"): 3.1}


def test_given_a_transaction_that_fails_after_a_save_then_the_snapshot_rolls_back_with_the_rows() -> None:
    submission, focal = draft()
    save(focal, submission, {prevalence("cannabis"): ("3.1", 0)})
    before = snapshot_of(submission)
    with pytest.raises(RuntimeError), transaction.atomic():
        save(focal, submission, {prevalence("cannabis"): ("4.2", 1), prevalence("cocaine"): ("0.5", 0)})
        assert queries.values_of(submission) == {prevalence("cannabis"): 4.2, prevalence("cocaine"): 0.5}
        raise RuntimeError("something later in the same transaction fails")
    assert snapshot_of(submission) == before
    assert_snapshot_matches_rows(submission)


def test_given_a_submission_without_snapshot_when_read_then_the_rows_are_used() -> None:
    submission, focal = draft()
    save(focal, submission, {prevalence("cannabis"): ("3.1", 0), SURVEY_YEAR: ("2023", 0)})
    ValueSnapshot.objects.filter(submission=submission).delete()
    assert queries.values_of(submission) == {prevalence("cannabis"): 3.1, SURVEY_YEAR: (2023, 2023)}
    save(focal, submission, {prevalence("cocaine"): ("0.4", 0)})  # the next save rebuilds it from the rows
    assert_snapshot_matches_rows(submission)


def test_given_snapshots_when_refreshed_then_they_are_rebuilt_from_the_rows() -> None:
    submission, focal = draft()
    save(focal, submission, {prevalence("cannabis"): ("3.1", 0)})
    before = snapshot_of(submission)
    ValueSnapshot.objects.filter(submission=submission).update(layout="x", cells="[]", values="[]")
    services.refresh_snapshots([submission.pk])
    assert snapshot_of(submission) == before


def approved(iso3: str, year: int, values: dict[CellKey, str]) -> Submission:
    submission, focal = draft(iso3, year=year)
    save(focal, submission, {key: (raw, 0) for key, raw in values.items()})
    analyst, reviewer = make_user("analyst"), make_user("reviewer")
    for actor, name in [
        (focal, "submit"),
        (analyst, "start_review"),
        (analyst, "validate"),
        (reviewer, "approve"),
    ]:
        services.transition(actor, submission, name)
    return submission


def test_given_histories_when_validated_in_bulk_then_each_report_equals_the_one_by_one_report() -> None:
    """Given two countries with approved earlier years, when their submissions of a year are validated
    together, then each report equals validating the submission alone, on values read from the rows."""
    key = prevalence("cannabis")
    for year, level in [(2020, "2.0"), (2021, "2.1"), (2022, "1.9"), (2023, "2.0")]:
        approved("COL", year, {key: level, SURVEY_YEAR: str(year)})
    approved("NLD", 2022, {key: "8.0"})
    colombia, col_focal = draft("COL", year=2024)
    save(col_focal, colombia, {key: ("9.5", 0), SURVEY_YEAR: ("2024", 0)})
    netherlands, nld_focal = draft("NLD", year=2024)
    save(nld_focal, netherlands, {SURVEY_YEAR: ("2024", 0)})
    current = list(Submission.objects.filter(year=2024).order_by("pk"))

    reports = queries.validate_many(current)

    earlier = Submission.objects.filter(status=Submission.Status.APPROVED)
    for submission in current:
        history = {
            row.year: from_rows(row)
            for row in earlier.filter(country_id=submission.country_id, year__lt=2024)
        }
        assert queries.history_of(submission) == history
        expected = queries.validate(submission, from_rows(submission), history)
        assert reports[submission.pk] == expected
    [outlier] = reports[colombia.pk].outliers
    assert (outlier.cell, outlier.value, outlier.history_years) == (key, 9.5, 4)
    assert [v.rule_id for v in reports[netherlands.pk].violations][:1] == ["gp.survey.year_with_data"]


def test_given_values_without_snapshots_when_the_migration_runs_then_each_submission_gets_its_snapshot() -> (
    None
):
    migration = importlib.import_module("observatory.reporting.migrations.0002_value_snapshot")
    first, focal = draft()
    save(focal, first, {prevalence("cannabis"): ("3.1", 0), SURVEY_YEAR: ("2023", 0)})
    second, other = draft("NLD")
    save(other, second, {prevalence("cocaine"): ("--", 0)})
    expected = {pk: snapshot_of(Submission.objects.get(pk=pk)) for pk in (first.pk, second.pk)}
    ValueSnapshot.objects.all().delete()
    migration.build_snapshots(django_apps, SimpleNamespace(connection=connection))
    assert {pk: snapshot_of(Submission.objects.get(pk=pk)) for pk in (first.pk, second.pk)} == expected
