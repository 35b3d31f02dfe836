"""The revised ARQ instrument definition and its loader, from the user's side."""

import copy
import json
import re

import pytest

from observatory.reporting.kernels.instrument import (
    REVISED_ARQ_PATH,
    InstrumentError,
    cell_key,
    load_instrument,
    load_legacy_mapping,
    parse_instrument,
)


@pytest.fixture(scope="module")
def raw():
    return json.loads(REVISED_ARQ_PATH.read_text(encoding="utf-8"))


def test_revised_arq_has_the_core_modules_in_order():
    instrument = load_instrument()
    assert (instrument.code, instrument.version) == ("ARQ", "2021.1")
    assert [module.code for module in instrument.modules] == [
        "prevalence_general",
        "prevalence_youth",
        "treatment",
        "deaths",
        "infectious_diseases",
        "cultivation",
        "laboratories",
        "seizures",
        "trafficking_routes",
        "prices_purity",
        "crime",
    ]
    assert {module.part for module in instrument.modules[:5]} == {"demand"}
    assert {module.part for module in instrument.modules[5:]} == {"supply"}


def test_general_population_prevalence_question_is_as_specified():
    question = load_instrument().question("gp_prevalence")
    assert question.value_type == "percentage"
    assert question.unit == "%"
    assert question.mandatory is True
    assert [qd.code for qd in question.dimensions] == ["drug", "period", "sex", "age_group", "estimate"]
    assert question.dimension("period").codes == ("lifetime", "past_year", "past_month")
    assert question.dimension("sex").required == ("total",)
    assert len(list(question.cells())) == 10 * 3 * 3 * 5 * 3
    assert cell_key(
        "gp_prevalence",
        {"sex": "total", "drug": "cannabis", "period": "past_year", "age_group": "total", "estimate": "best"},
    ) in set(question.required_cells())
    assert len(list(question.required_cells())) == 5


def test_prices_have_level_of_sale_and_choice_questions_have_options():
    instrument = load_instrument()
    assert instrument.question("pp_price").dimension("sale_level").codes == ("wholesale", "retail")
    method = instrument.question("gp_method")
    assert method.value_type == "choice"
    assert [option.code for option in method.options] == ["HHS", "SS", "I", "R", "A", "NSUM"]
    assert instrument.question("gp_survey_year").value_type == "year_range"


def test_cell_key_is_independent_of_dimension_order():
    assert (
        cell_key("q", {"b": "1", "a": "2"})
        == cell_key("q", {"a": "2", "b": "1"})
        == ("q", (("a", "2"), ("b", "1")))
    )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["modules"][0]["questions"][0].update(type="float"), "value type 'float'"),
        (
            lambda d: d["modules"][0]["questions"][0]["dimensions"][0].update(dimension="colour"),
            "unknown dimension 'colour'",
        ),
        (
            lambda d: d["modules"][0]["questions"][0]["dimensions"][1].update(codes=["yesterday"]),
            "has no code(s) ['yesterday']",
        ),
        (
            lambda d: d["modules"][1]["questions"][0].update(code="gp_prevalence"),
            "'gp_prevalence' is defined twice",
        ),
        (
            lambda d: d["modules"][0].update(sheet="A sheet name much longer than Excel allows"),
            "not a valid Excel sheet name",
        ),
        (lambda d: d["modules"][0]["questions"][0].update(code="gp.prev"), "may only contain letters"),
        (
            lambda d: d["modules"][0]["questions"][0].update(mandatory="yes"),
            "mandatory must be true or false",
        ),
        (lambda d: d["dimensions"][0].update(total="everything"), "total code 'everything'"),
    ],
)
def test_malformed_definitions_are_rejected_with_a_clear_message(raw, mutate, message):
    broken = copy.deepcopy(raw)
    mutate(broken)
    with pytest.raises(InstrumentError, match=re.escape(message)):
        parse_instrument(broken)


def test_annex_1_2_columns_map_to_instrument_cells():
    columns = load_legacy_mapping(load_instrument())
    by_column = {(c.sheet, c.column): c for c in columns}
    assert by_column[("Cannabis", "Low")].cell == cell_key(
        "gp_prevalence",
        {"drug": "cannabis", "period": "past_year", "sex": "total", "age_group": "total", "estimate": "low"},
    )
    tranquillizers = by_column[("Tranquillizers and sedatives", "Total")].cell
    assert tranquillizers is not None
    assert ("drug", "tranquillizers_sedatives") in tranquillizers[1]
    assert by_column[("Cocaine", "Method")].attribute == "method"
    assert by_column[("Opiates", "Adjustment/\n notes")].attribute == "adjustment_codes"
