"""SDMX-REST query parsing and selection, from the statistical client's side."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from observatory.publication.sdmx.query import (
    DataFormat,
    Detail,
    InvalidQuery,
    NotAcceptable,
    NotImplementedQuery,
    References,
    StructureFormat,
    apply_query,
    negotiate_data_format,
    negotiate_structure_format,
    parse_data_query,
    parse_flow_ref,
    parse_key,
    parse_structure_query,
)

from .sdmx_samples import DATA_SET, DSD


def keys_of(data_set):
    return [".".join(s.key_values(DSD)) for s in data_set.series]


def periods_of(data_set):
    return {".".join(s.key_values(DSD)): [o.period for o in s.observations] for s in data_set.series}


def select(key=None, accept=None, **parameters):
    return apply_query(DATA_SET, parse_data_query(DSD, key, parameters, accept))


def test_key_with_or_and_wildcard_selects_matching_series():
    assert keys_of(select("A.AFG+COL..BEST")) == ["A.AFG.OPIOIDS.BEST", "A.COL.COCAINE.BEST"]


def test_all_and_empty_key_select_everything():
    assert keys_of(select("all")) == keys_of(DATA_SET)
    assert keys_of(select(None)) == keys_of(DATA_SET)
    assert keys_of(select("...")) == keys_of(DATA_SET)


def test_unknown_code_matches_nothing():
    assert keys_of(select("A.FRA..")) == []


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("A.AFG", "has 2 part(s); DSD_PREVALENCE has 4 dimensions (FREQ.REF_AREA.DRUG.STAT)"),
        ("A.AF G..", "'AF G' for REF_AREA is not a valid code"),
        ("A.AFG+..", "'' for REF_AREA is not a valid code"),
    ],
)
def test_malformed_key_is_invalid_with_clear_message(key, message):
    with pytest.raises(InvalidQuery) as raised:
        parse_key(key, DSD)
    assert message in str(raised.value)
    assert raised.value.http_status == 400


def test_start_and_end_period_keep_overlapping_observations():
    selected = select("A.COL.COCAINE.BEST", startPeriod="2019", endPeriod="2022")
    assert periods_of(selected) == {"A.COL.COCAINE.BEST": ["2020"]}


def test_month_and_quarter_bounds_are_tolerated():
    # An annual 2020 value overlaps 2020-06 .. 2020-Q3, so it is kept.
    selected = select("A.COL.COCAINE.BEST", startPeriod="2020-06", endPeriod="2020-Q3")
    assert periods_of(selected) == {"A.COL.COCAINE.BEST": ["2020"]}


def test_series_without_observations_in_window_is_dropped():
    assert keys_of(select(startPeriod="2023")) == ["A.COL.COCAINE.BEST"]


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"startPeriod": "2020-13"}, "startPeriod: '2020-13' is not a valid period"),
        ({"endPeriod": "last year"}, "endPeriod: 'last year' is not a supported period"),
        ({"startPeriod": "2022", "endPeriod": "2020"}, "startPeriod 2022 is after endPeriod 2020"),
        ({"lastNObservations": "0"}, "lastNObservations='0' must be a positive whole number"),
        ({"firstNObservations": "two"}, "firstNObservations='two' must be a positive whole number"),
        (
            {"detail": "everything"},
            "detail='everything' must be one of full, dataonly, serieskeysonly, nodata",
        ),
        ({"startperiod": "2020"}, "unknown query parameter(s) startperiod"),
        ({"dimensionAtObservation": "NOPE"}, "dimensionAtObservation='NOPE' is not a dimension"),
        ({"format": "pdf"}, "format='pdf' is unknown"),
    ],
)
def test_bad_parameters_are_invalid(parameters, message):
    with pytest.raises(InvalidQuery) as raised:
        parse_data_query(DSD, "all", parameters)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    "parameters",
    [
        {"dimensionAtObservation": "REF_AREA"},
        {"updatedAfter": "2020-01-01T00:00:00"},
        {"includeHistory": "true"},
        {"format": "generictimeseriesdata"},
    ],
)
def test_unsupported_features_are_not_implemented(parameters):
    with pytest.raises(NotImplementedQuery) as raised:
        parse_data_query(DSD, "all", parameters)
    assert raised.value.http_status == 501


def test_provider_other_than_all_is_not_implemented():
    with pytest.raises(NotImplementedQuery):
        parse_data_query(DSD, "all", {}, provider="UNODC,DP,1.0")


def test_last_n_observations_per_series_in_time_order():
    selected = select("A.COL+AFG.COCAINE+OPIOIDS.BEST", lastNObservations="2")
    assert periods_of(selected) == {
        "A.AFG.OPIOIDS.BEST": ["2021", "2022"],
        "A.COL.COCAINE.BEST": ["2020", "2023"],
    }


def test_first_n_after_period_filter():
    selected = select("A.COL.COCAINE.BEST", startPeriod="2019", firstNObservations="1")
    assert periods_of(selected) == {"A.COL.COCAINE.BEST": ["2020"]}


def test_first_and_last_n_together_give_both_ends():
    selected = select("A.COL.COCAINE.BEST", firstNObservations="1", lastNObservations="1")
    assert periods_of(selected) == {"A.COL.COCAINE.BEST": ["2018", "2023"]}


def test_detail_levels_trim_attributes_and_observations():
    data_only = select("A.AFG.OPIOIDS.BEST", detail="dataonly").series[0]
    assert data_only.attributes == {}
    assert [o.attributes for o in data_only.observations] == [{}, {}, {}]
    no_data = select("A.AFG.OPIOIDS.BEST", detail="nodata").series[0]
    assert (no_data.attributes, no_data.observations) == ({"UNIT_MEASURE": "PT"}, ())
    keys_only = select("A.AFG.OPIOIDS.BEST", detail="serieskeysonly").series[0]
    assert (keys_only.attributes, keys_only.observations) == ({}, ())


def test_defaults():
    query = parse_data_query(DSD, "all", {})
    assert (query.detail, query.dimension_at_observation, query.format) == (
        Detail.FULL,
        "TIME_PERIOD",
        DataFormat.GENERIC_XML,
    )


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, DataFormat.GENERIC_XML),
        ("*/*", DataFormat.GENERIC_XML),
        ("application/vnd.sdmx.genericdata+xml;version=2.1", DataFormat.GENERIC_XML),
        ("application/vnd.sdmx.structurespecificdata+xml;version=2.1", DataFormat.STRUCTURE_SPECIFIC_XML),
        ("application/vnd.sdmx.data+json;version=1.0.0", DataFormat.JSON),
        ("application/json", DataFormat.JSON),
        ("application/vnd.sdmx.data+csv;version=2.0.0", DataFormat.CSV),
        ("application/vnd.sdmx.data+csv;version=1.0.0", DataFormat.CSV_V1),
        ("text/csv", DataFormat.CSV),
        ("text/html;q=0.9, application/vnd.sdmx.data+json;version=1.0.0", DataFormat.JSON),
        ("application/vnd.sdmx.data+json;version=1.0.0;q=0.5, text/csv", DataFormat.CSV),
        ("application/vnd.sdmx.data+json;version=2.0.0, text/csv;q=0.1", DataFormat.CSV),
    ],
)
def test_accept_header_negotiation(accept, expected):
    assert negotiate_data_format(accept) is expected


def test_format_parameter_wins_over_accept():
    assert negotiate_data_format("application/json", "csvfile") is DataFormat.CSV


def test_unsupported_sdmx_media_type_is_501_and_foreign_type_is_406():
    with pytest.raises(NotImplementedQuery, match=r"version 2\.0\.0 is not provided"):
        negotiate_data_format("application/vnd.sdmx.data+json;version=2.0.0")
    with pytest.raises(NotImplementedQuery):
        negotiate_data_format("application/vnd.sdmx.generictimeseriesdata+xml;version=2.1")
    with pytest.raises(NotAcceptable) as raised:
        negotiate_data_format("image/png")
    assert raised.value.http_status == 406


def test_structure_negotiation_and_references():
    assert negotiate_structure_format("application/vnd.sdmx.structure+xml;version=2.1") is (
        StructureFormat.STRUCTURE_XML
    )
    with pytest.raises(NotImplementedQuery):
        negotiate_structure_format("application/vnd.sdmx.structure+json;version=1.0.0")
    assert parse_structure_query({"references": "all"}).references is References.ALL
    with pytest.raises(NotImplementedQuery):
        parse_structure_query({"detail": "allstubs"})
    with pytest.raises(NotImplementedQuery):
        parse_structure_query({"references": "codelist"})


def test_flow_ref_forms():
    assert parse_flow_ref("DF_PREVALENCE").matches("UNODC", "DF_PREVALENCE", "1.0")
    assert parse_flow_ref("UNODC,DF_PREVALENCE,latest").matches("UNODC", "DF_PREVALENCE", "1.0")
    assert not parse_flow_ref("OECD,DF_PREVALENCE").matches("UNODC", "DF_PREVALENCE", "1.0")
    with pytest.raises(InvalidQuery):
        parse_flow_ref("A,B,C,D")


# Property: a key built from codes of the structure, with random wildcards, selects exactly
# the series whose every non-wildcard dimension holds one of the chosen codes.
_code_choices = st.tuples(
    *[
        st.one_of(st.none(), st.sets(st.sampled_from(sorted(d.codelist.code_ids())), min_size=1, max_size=3))
        for d in DSD.dimensions
    ]
)


@settings(max_examples=150, deadline=None)
@given(_code_choices)
def test_property_key_selects_exactly_matching_series(choices):
    key = ".".join("" if codes is None else "+".join(sorted(codes)) for codes in choices)
    selected = keys_of(select(key))
    expected = [
        ".".join(s.key_values(DSD))
        for s in DATA_SET.series
        if all(
            codes is None or s.key[d] in codes for d, codes in zip(DSD.dimension_ids, choices, strict=True)
        )
    ]
    assert selected == expected


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=5), st.integers(min_value=2015, max_value=2024))
def test_property_last_n_never_exceeds_n_and_respects_start(n, start_year):
    selected = select(startPeriod=str(start_year), lastNObservations=str(n))
    for series in selected.series:
        assert 1 <= len(series.observations) <= n
        assert all(int(o.period) >= start_year for o in series.observations)
