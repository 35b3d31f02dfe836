"""Generator: deterministic per seed, realistic, and parses cleanly through the row kernel."""

import csv
from datetime import date

from observatory.seizures.kernels.generator import (
    IDS_COLUMN_MAPPING,
    IDS_COLUMNS,
    UNIT_LABELS,
    drug_label_aliases,
    generated_country_codes,
    unit_label_aliases,
    write_seizure_cases_csv,
)
from observatory.seizures.kernels.rows import LookupTables, parse_seizure_rows


def lookups() -> LookupTables:
    return LookupTables(
        drug_aliases=drug_label_aliases(),
        unit_aliases=unit_label_aliases(),
        conversion_factors={(None, "g", None, None): (1, 0.001), (None, "kg", None, None): (2, 1.0),
                            (None, "l", None, None): (3, 1.0)},
        country_codes=generated_country_codes(),
        today=date(2025, 1, 1),
    )  # fmt: skip


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    paths = [tmp_path / name for name in ("a.csv", "b.csv", "c.csv")]
    for path, seed in zip(paths, (5, 5, 6), strict=True):
        assert write_seizure_cases_csv(path, 3000, seed, chunk_size=1000) == 3000
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_generated_file_parses_cleanly_with_the_ids_mapping(tmp_path):
    path = tmp_path / "cases.csv"
    write_seizure_cases_csv(path, 5000, 11, chunk_size=2000)
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        result = parse_seizure_rows(header, reader, IDS_COLUMN_MAPPING, lookups())
    assert tuple(header) == IDS_COLUMNS
    assert result.errors == []
    assert len(result.rows) == 5000
    assert len({case.fingerprint for case in result.rows}) == 5000
    assert len({case.case_reference for case in result.rows}) == 5000
    # Realism: several drugs, all unit kinds, all three date precisions, routes and postal channels
    assert len({case.drug_code for case in result.rows}) >= 10
    assert {case.unit_code for case in result.rows} == set(UNIT_LABELS)
    assert {case.date_precision for case in result.rows} == {"day", "month", "year"}
    assert sum(bool(case.transit_countries) for case in result.rows) > 500
    assert {"postal", "darknet"} <= {case.trafficking_channel for case in result.rows}
    # Counts never turn into kg without a drug-specific factor
    assert all(
        case.kg_equivalent is None for case in result.rows if case.unit_code in {"plant", "tablet", "dose"}
    )
    assert all(case.kg_equivalent is not None for case in result.rows if case.unit_code in {"g", "kg"})
