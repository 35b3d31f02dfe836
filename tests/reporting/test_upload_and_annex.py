"""Excel round trip through the upload service (all or nothing), and the annex 1.2 historical import."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from observatory.access.models import AuditEvent
from observatory.reference.annex.prevalence import parse_general_population
from observatory.reporting import queries, services
from observatory.reporting.kernels import cells as cellkit
from observatory.reporting.kernels.workbook import build_workbook
from observatory.reporting.models import Submission, Value, ValueSnapshot
from tests.factories import make_user
from tests.reporting.factories import draft, prevalence

pytestmark = pytest.mark.usefixtures("reference")
ANNEX = Path(__file__).resolve().parents[3] / "shared/unodc/wdr2025_annex" / services.ANNEX_FILE_NAME


def workbook_of(submission: Submission) -> bytes:
    return build_workbook(
        services.kernel_of(submission),
        queries.values_of(submission),
        {},
        submission.country.iso3,
        submission.year,
    )


def edit(data: bytes, change) -> bytes:
    workbook = load_workbook(io.BytesIO(data))
    change(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def value_cell(sheet, question: str, label: str):
    column = next(c for c in range(1, sheet.max_column + 1) if sheet.cell(4, c).value == "Value")
    for row in range(5, sheet.max_row + 1):
        if sheet.cell(row, 1).value == question and any(
            sheet.cell(row, c).value == label for c in range(3, column)
        ):
            return sheet.cell(row, column)
    raise AssertionError(f"no row {question} {label}")


def test_given_a_downloaded_workbook_when_filled_and_uploaded_then_values_are_stored_and_round_trip() -> None:
    submission, focal = draft()
    services.save_values(focal, submission, [services.CellChange(prevalence("cocaine"), "0.7", 0)])

    def fill(workbook):
        value_cell(workbook["Prevalence general"], "gp_prevalence", "Cannabis").value = 3.4
        value_cell(workbook["Prevalence general"], "gp_prevalence", "Cocaine (all types)").value = None

    result = services.upload_workbook(focal, submission, edit(workbook_of(submission), fill))
    assert result.ok and (result.saved, result.cleared) == (1, 1)
    assert queries.values_of(submission) == {prevalence("cannabis"): 3.4}
    again = services.upload_workbook(focal, submission, workbook_of(submission))
    assert (again.ok, again.saved, again.cleared) == (True, 0, 0)


def _wrong_sheet(workbook):
    workbook["Treatment"].title = "Treatment data"


def _text(workbook):
    value_cell(workbook["Prevalence general"], "gp_prevalence", "Cannabis").value = "about three"


def _formula(workbook):
    value_cell(workbook["Prevalence general"], "gp_prevalence", "Cannabis").value = "=1+2"


def _merged(workbook):
    workbook["Prevalence general"].merge_cells("A6:B7")


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("wrong sheet", lambda data: edit(data, _wrong_sheet), "sheet 'Treatment data': unexpected sheet"),
        ("text in a number cell", lambda data: edit(data, _text), "'about three' is not a number"),
        ("formula", lambda data: edit(data, _formula), "formulas are not accepted"),
        ("merged cell", lambda data: edit(data, _merged), "merged cells are not allowed"),
        ("huge file", lambda data: data + b"\0" * (5 * 1024 * 1024), "uploads are limited to"),
        ("not Excel", lambda data: b"%PDF-1.4 renamed to .xlsx", "not an Excel workbook"),
    ],
)
def test_given_a_broken_workbook_when_uploaded_then_a_clear_error_and_nothing_written(
    name, make, expected
) -> None:
    submission, focal = draft()
    services.save_values(focal, submission, [services.CellChange(prevalence("cocaine"), "0.7", 0)])

    def also_change_a_good_cell(workbook):
        value_cell(workbook["Prevalence general"], "gp_prevalence", "Cocaine (all types)").value = 0.9

    data = make(edit(workbook_of(submission), also_change_a_good_cell))
    values = list(Value.objects.values_list("pk", "value", "version"))
    events = AuditEvent.objects.count()
    result = services.upload_workbook(focal, submission, data)
    assert not result.ok
    assert any(expected in str(error) for error in result.errors), [str(e) for e in result.errors]
    assert list(Value.objects.values_list("pk", "value", "version")) == values
    assert AuditEvent.objects.count() == events


def test_given_annex_1_2_when_imported_twice_then_counts_per_sheet_match_the_file_and_nothing_is_added() -> (
    None
):
    parse = parse_general_population(ANNEX)
    first = services.import_annex_prevalence(None, ANNEX, system=True)
    by_sheet = {sheet.sheet: sheet for sheet in first.sheets}
    assert [(s.sheet, s.records) for s in first.sheets] == [(s.sheet, s.records) for s in parse.sheets]
    for sheet in first.sheets:
        assert sheet.imported + sum(sheet.skipped.values()) == sheet.records
    # Every record stored except the all-island Irish survey, which names no single country.
    assert {name: dict(s.skipped) for name, s in by_sheet.items() if s.skipped} == {
        "NPS": {"country 'Ireland and Northern Ireland' is not in the reference table": 6}
    }
    assert by_sheet["Tranquillizers and sedatives"].layout == "total_male_female"
    assert by_sheet["Tranquillizers and sedatives"].imported == 179
    assert Value.objects.count() == first.values_created
    # Each imported submission's snapshot holds exactly its entry-0 rows (what validation reads as history).
    imported = list(Submission.objects.all())
    assert ValueSnapshot.objects.count() == len(imported)
    snapshots = queries.values_of_many(s.pk for s in imported)
    for submission in imported:
        rows = submission.values.filter(entry=0).values_list("question", "dims", "value")
        assert snapshots[submission.pk] == {cellkit.key_of(q, d): cellkit.decode(raw) for q, d, raw in rows}
    values, submissions = Value.objects.count(), Submission.objects.count()
    second = services.import_annex_prevalence(None, ANNEX, system=True)
    assert (second.values_created, second.submissions_created) == (0, 0)
    assert (Value.objects.count(), Submission.objects.count()) == (values, submissions)
    assert set(Submission.objects.values_list("status", "origin", "source").distinct()) == {
        ("approved", "annex_1_2", services.ANNEX_SOURCE)
    }

    # national_prevalence gives the annex figures, as reported, to whoever may see them.
    analyst = make_user("analyst")
    colombia = [row for row in services_national(analyst, "cannabis", 2019) if row.iso3 == "COL"]
    assert len(colombia) == 1
    row = colombia[0]
    assert (row.best, row.low, row.high, row.male, row.female) == (2.68, 2.46, 2.9, 4.21, 1.26)
    assert (row.reference_period, row.age_lower, row.age_upper, row.method, row.status) == (
        "past_year", 12, 65, "HHS", "approved",
    )  # fmt: skip
    assert row.source == "Government source"
    focal_nld = make_user("focal_point", country="NLD")
    assert {r.iso3 for r in services_national(focal_nld, None, None)} == {"NLD"}
    assert services_national(make_user(None), None, None) == []
    tranquillizers = services_national(analyst, "tranquillizers_sedatives", None)
    assert len(tranquillizers) == 179
    assert all(r.low is None and r.high is None for r in tranquillizers)
    nps_periods = {r.reference_period for r in services_national(analyst, "nps", None)}
    assert nps_periods == {"lifetime", "past_year", "past_month"}


def services_national(user, drug, year):
    return queries.national_prevalence(user, drug_code=drug, year=year)
