"""Validation rules on small value sets: each operator, each missing-value strategy, the shipped set."""

import re

import pytest

from observatory.reporting.kernels.instrument import NOT_KNOWN, CellKey, Value, cell_key, load_instrument
from observatory.reporting.kernels.rules import Rule, RuleError, compile_rules, load_rule_set
from observatory.reporting.kernels.validation import (
    find_outliers,
    synthetic_submission,
    validate_submission,
)


@pytest.fixture(scope="module")
def instrument():
    return load_instrument()


@pytest.fixture(scope="module")
def shipped(instrument):
    return load_rule_set(instrument)


def gp(drug="cannabis", period="past_year", sex="total", age_group="total", estimate="best"):
    return cell_key(
        "gp_prevalence",
        {"drug": drug, "period": period, "sex": sex, "age_group": age_group, "estimate": estimate},
    )


def tr(drug="all_drugs", sex="total", entry="all"):
    return cell_key("tr_persons", {"drug": drug, "sex": sex, "treatment_entry": entry})


def one_rule(
    instrument, left, operator, right, strategy="skip_if_any_value_missing", message="{left} vs {right}"
):
    rule = Rule("r1", left, operator, right, "high", message, strategy)
    return compile_rules(instrument, [rule])


def test_past_month_above_past_year_is_reported_with_values_and_cells(shipped):
    values = {gp(period="past_month"): 7.5, gp(period="past_year"): 5.0, gp(period="lifetime"): 20.0}
    violations = [v for v in shipped.evaluate(values) if v.rule_id == "gp.period.month_le_year"]
    assert len(violations) == 1
    assert violations[0].importance == "high"
    assert violations[0].message == (
        "Cannabis, Total, Total (survey age range), Best: past-month prevalence (7.5%) exceeds past-year prevalence (5%)."
    )
    assert violations[0].cells == (gp(period="past_month"), gp(period="past_year"))
    assert (violations[0].left_value, violations[0].right_value) == (7.5, 5.0)


SURVEY_YEAR = cell_key("gp_survey_year")


def test_consistent_prevalence_passes_every_rule(shipped):
    values = {
        gp(period="past_month"): 1.0,
        gp(period="past_year"): 2.0,
        gp(period="lifetime"): 9.0,
        gp(sex="male"): 2.5,
        gp(sex="female"): 1.5,
        gp(estimate="low"): 1.5,
        gp(estimate="high"): 2.6,
        SURVEY_YEAR: (2022, 2023),
    }
    assert shipped.evaluate(values) == []


def test_percentage_above_100_and_total_outside_male_female(shipped):
    values = {gp(): 101.0, gp(sex="male"): 3.0, gp(sex="female"): 2.0, SURVEY_YEAR: (2023, 2023)}
    assert sorted(v.rule_id for v in shipped.evaluate(values)) == ["gp.range.max", "gp.sex.total_le_upper"]


def test_totals_only_prevalence_with_survey_year_passes_the_pair_rule(shipped):
    """Given a country reporting only totals (sex and age group "total") and the survey year,
    then no rule fails: totals count as reported prevalence."""
    values = {gp(): 2.0, gp(drug="cocaine"): 0.5, SURVEY_YEAR: (2022, 2023)}
    assert shipped.evaluate(values) == []


def test_totals_only_prevalence_without_survey_year_fails_the_pair_rule(shipped):
    values = {gp(): 2.0}
    [violation] = shipped.evaluate(values)
    assert violation.rule_id == "gp.survey.year_with_data"
    assert violation.message == (
        "General population prevalence is reported but the survey year is not reported: report both or neither."
    )
    assert violation.cells == (gp(), SURVEY_YEAR)


def test_survey_year_without_any_prevalence_fails_the_pair_rule(shipped):
    """Given a survey year and no prevalence cell at all, then the pair rule fails (and nothing else)."""
    [violation] = shipped.evaluate({SURVEY_YEAR: (2022, 2023)})
    assert violation.rule_id == "gp.survey.year_with_data"
    assert violation.importance == "medium"
    assert violation.message == (
        "General population prevalence is not reported but the survey year is reported: report both or neither."
    )
    assert violation.cells == (SURVEY_YEAR,)


def test_survey_year_with_only_a_disaggregated_cell_passes_the_pair_rule(shipped):
    values = {gp(sex="female", age_group="15_24"): 3.0, SURVEY_YEAR: (2022, 2023)}
    assert [v.rule_id for v in shipped.evaluate(values)] == []


def test_sum_of_components_above_reported_total(shipped):
    values = {tr(): 100, tr("cannabis"): 60, tr("opioids"): 50}
    [violation] = shipped.evaluate(values)
    assert violation.rule_id == "tr.drug.parts_le_total"
    assert violation.message == (
        "Treatment, Total, All persons treated: persons by primary drug add up to 110, more than the reported total of 100."
    )
    assert set(violation.cells) == {tr("cannabis"), tr("opioids"), tr()}


def test_eradicated_above_cultivated(shipped):
    values = {
        cell_key("cu_cultivated_ha", {"crop": "coca_bush"}): 1000.0,
        cell_key("cu_eradicated_ha", {"crop": "coca_bush", "eradication_method": "all"}): 1500.0,
    }
    assert [v.rule_id for v in shipped.evaluate(values)] == ["cu.eradicated_le_cultivated"]


@pytest.mark.parametrize(
    ("strategy", "values", "violated"),
    [
        ("skip_if_any_value_missing", {"a": 5}, False),
        ("skip_if_all_values_missing", {"a": 5}, True),  # missing b counts as 0: 5 <= 0 fails
        ("skip_if_all_values_missing", {}, False),
        ("never_skip", {}, False),  # 0 <= 0
        ("never_skip", {"a": 1}, True),
        ("skip_if_any_value_missing", {"a": 5, "b": NOT_KNOWN}, False),  # "--" is not a number
        ("skip_if_any_value_missing", {"a": 5, "b": 6}, False),
        ("skip_if_any_value_missing", {"a": 7, "b": 6}, True),
    ],
)
def test_missing_value_strategies(instrument, strategy, values, violated):
    left, right = tr("cannabis"), tr("opioids")
    rules = one_rule(
        instrument,
        "#{tr_persons.drug=cannabis.sex=total.treatment_entry=all}",
        "<=",
        "#{tr_persons.drug=opioids.sex=total.treatment_entry=all}",
        strategy,
    )
    keyed = {{"a": left, "b": right}[name]: value for name, value in values.items()}
    assert bool(rules.evaluate(keyed)) is violated


@pytest.mark.parametrize(
    ("operator", "a", "b", "violated"),
    [
        ("==", 1, 1, False),
        ("==", 1, 2, True),
        ("!=", 1, 1, True),
        ("<", 1, 1, True),
        ("<", 1, 2, False),
        ("<=", 0.1 + 0.2, 0.3, False),
        (">", 2, 1, False),
        (">", 1, 1, True),
        (">=", 1, 2, True),
    ],
)
def test_comparison_operators(instrument, operator, a, b, violated):
    rules = one_rule(
        instrument,
        "#{tr_persons.drug=cannabis.sex=total.treatment_entry=all}",
        operator,
        "#{tr_persons.drug=opioids.sex=total.treatment_entry=all}",
    )
    assert bool(rules.evaluate({tr("cannabis"): a, tr("opioids"): b})) is violated


@pytest.mark.parametrize(
    ("operator", "present", "violated"),
    [
        ("compulsory_pair", (True, False), True),
        ("compulsory_pair", (False, True), True),
        ("compulsory_pair", (True, True), False),
        ("compulsory_pair", (False, False), False),
        ("exclusive_pair", (True, True), True),
        ("exclusive_pair", (True, False), False),
    ],
)
def test_pair_operators(instrument, operator, present, violated):
    rules = one_rule(
        instrument, "#{sz_cases.drug=heroin}", operator, "#{pp_currency}", message="{left}/{right}"
    )
    values: dict[CellKey, Value] = {}
    if present[0]:
        values[cell_key("sz_cases", {"drug": "heroin"})] = NOT_KNOWN  # "--" is an answer for a pair
    if present[1]:
        values[cell_key("pp_currency")] = "EUR"
    assert bool(rules.evaluate(values)) is violated


@pytest.mark.parametrize(
    ("left", "message"),
    [
        ("#{nope.drug=x}", "unknown question 'nope'"),
        ("#{tr_persons.drug=cannabis.sex=total}", "must name exactly the dimensions"),
        ("#{tr_persons.drug=heroin.sex=total.treatment_entry=all}", "codes ['heroin'] not allowed"),
        ("#{tr_persons.drug=*.sex=total.treatment_entry=all}", "wrap it in sum"),
        ("1 +", "expected a number"),
    ],
)
def test_bad_rules_are_refused_when_compiled(instrument, left, message):
    with pytest.raises(RuleError, match=re.escape(message)):
        one_rule(instrument, left, "<=", "100")


def test_completeness_per_module_and_missing_mandatory_items(shipped):
    values = {tr(): 10, cell_key("dd_case_definition"): "direct"}
    completeness = {c.module: c for c in shipped.completeness(values)}
    assert (
        completeness["treatment"].answered,
        completeness["treatment"].required,
        completeness["treatment"].ratio,
    ) == (1, 1, 1.0)
    assert (completeness["deaths"].answered, completeness["deaths"].required) == (1, 2)
    assert completeness["trafficking_routes"].ratio == 1.0  # nothing mandatory there
    ids = {v.rule_id for v in shipped.completeness_violations(values)}
    assert "completeness.dd_deaths" in ids and "completeness.tr_persons" not in ids


def test_complete_synthetic_submission_is_clean_and_fully_complete(shipped, instrument):
    report = validate_submission(shipped, synthetic_submission(instrument))
    assert report.violations == ()
    assert all(c.ratio == 1.0 for c in report.completeness)


def test_outliers_against_the_countrys_own_history():
    key, steady = tr(), tr("cannabis")
    history = {
        2019: {key: 100, steady: 50},
        2020: {key: 104, steady: 52},
        2021: {key: 98, steady: 51},
        2022: {key: 101, steady: 49},
    }
    current = {key: 400, steady: 50}
    [modified] = find_outliers(current, history, method="modified_z")
    assert modified.cell == key and modified.history_years == 4 and modified.centre == 100.5
    assert modified.score == pytest.approx(0.6745 * (400 - 100.5) / 1.5)  # MAD of 0.5, 3.5, 2.5, 0.5
    [classic] = find_outliers(current, history, method="z")
    assert classic.cell == key and classic.score > 3
    assert find_outliers(current, {2021: history[2021], 2022: history[2022]}) == []  # too short a history


def test_shipped_rule_set_compiles_once_and_expands_over_dimensions(shipped):
    assert len(shipped.rules) == 55
    assert shipped.instance_count > 5000
