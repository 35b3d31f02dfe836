"""Three-source (and k-source) log-linear capture–recapture, checked against a published study and
against statsmodels' Poisson GLM fitted independently on the same cells."""

import math

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from observatory.analysis.kernels.capture_recapture import lincoln_petersen
from observatory.analysis.kernels.loglinear import (
    LOGLINEAR_ASSUMPTIONS,
    all_hierarchical_models,
    analyse_loglinear,
    design_matrix,
    fit_loglinear_model,
    observable_patterns,
)

# Dog-bite injuries in Pittsburgh, 1993; lists: 1 animal control, 2 hospitals, 3 police/victim reports.
# Cells from the authors' GLIM tutorial (pitt.edu/~yuc2/cr/n_macro.htm); study: Chang et al., "Dog bite
# incidence in the city of Pittsburgh: a capture-recapture approach", Am J Public Health 1997;87:1703-5,
# which reports 790 bites on record and 1388 estimated unreported.
DOG_BITES = {"100": 91, "010": 323, "001": 326, "110": 27, "101": 15, "011": 7, "111": 1}

# A second, denser table (invented) so the statsmodels comparison is not tied to one data set.
DENSE = {"100": 69, "010": 55, "001": 41, "110": 21, "101": 17, "011": 12, "111": 9}


def test_given_dog_bite_lists_when_hospital_police_interaction_then_published_1388_unreported():
    fit = fit_loglinear_model(DOG_BITES, [(1, 2)])

    assert fit.observed == 790
    assert fit.unobserved_estimate == pytest.approx(1388, abs=0.5)  # the paper rounds to whole bites
    assert fit.total_estimate == pytest.approx(2178, abs=0.5)
    assert fit.name == "L2:L3"


def test_given_three_lists_when_analysed_then_eight_models_with_expected_df():
    analysis = analyse_loglinear(DOG_BITES)

    assert len(analysis.models) == 8
    assert {m.name: m.df for m in analysis.models} == {
        "independence": 3,
        "L1:L2": 2,
        "L1:L3": 2,
        "L2:L3": 2,
        "L1:L2 + L1:L3": 1,
        "L1:L2 + L2:L3": 1,
        "L1:L3 + L2:L3": 1,
        "L1:L2 + L1:L3 + L2:L3": 0,
    }
    saturated = analysis.models[-1]
    assert saturated.deviance == pytest.approx(0.0, abs=1e-8)
    assert analysis.assumptions == LOGLINEAR_ASSUMPTIONS
    assert analysis.observed == 790


def _statsmodels_fit(cells, interactions):
    patterns = observable_patterns(3)
    counts = np.array([cells[p] for p in patterns], dtype=float)
    exog = design_matrix(patterns, interactions)
    return sm.GLM(counts, exog, family=sm.families.Poisson()).fit(tol=1e-12, maxiter=200)


# statsmodels warns (scale = x/0, "perfect separation") on the df = 0 model; its fit is still exact.
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:Perfect separation")
@pytest.mark.parametrize("cells", [DOG_BITES, DENSE], ids=["dog_bites", "dense"])
@pytest.mark.parametrize("interactions", all_hierarchical_models(3), ids=lambda i: str(list(i)))
def test_every_model_matches_statsmodels_poisson_glm(cells, interactions):
    ours = fit_loglinear_model(cells, interactions)
    reference = _statsmodels_fit(cells, interactions)

    np.testing.assert_allclose(ours.parameters, reference.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.standard_errors, reference.bse, rtol=1e-5, atol=1e-8)
    assert ours.deviance == pytest.approx(reference.deviance, abs=1e-7)
    assert ours.log_likelihood == pytest.approx(reference.llf, rel=1e-9)
    assert ours.aic == pytest.approx(reference.aic, rel=1e-9)
    assert ours.df == reference.df_resid
    assert ours.bic == pytest.approx(-2 * reference.llf + len(reference.params) * math.log(ours.observed))
    assert ours.unobserved_estimate == pytest.approx(math.exp(reference.params[0]), rel=1e-6)


@pytest.mark.parametrize("interactions", all_hierarchical_models(3), ids=lambda i: str(list(i)))
def test_profile_bounds_are_where_completed_table_deviance_rises_by_chi2_quantile(interactions):
    """Cormack's interval, checked with statsmodels: refit the completed 2³ table with the bound in the
    missing cell; the deviance must exceed the model's by χ²₁(0.95) = 3.841."""
    fit = fit_loglinear_model(DENSE, interactions)
    patterns = ["000", *observable_patterns(3)]
    exog = design_matrix(patterns, interactions)
    rise = chi2.ppf(0.95, 1)
    for bound in (fit.profile_interval.lower, fit.profile_interval.upper):
        missing = bound - fit.observed
        if missing <= 0 or not math.isfinite(missing):
            continue
        counts = np.array([missing, *(DENSE[p] for p in patterns[1:])])
        completed = sm.GLM(counts, exog, family=sm.families.Poisson()).fit(tol=1e-12, maxiter=200)
        assert completed.deviance - fit.deviance == pytest.approx(rise, abs=1e-3)
    assert fit.profile_interval.contains(fit.total_estimate)
    assert fit.profile_interval.lower >= fit.observed


def test_given_models_when_averaged_then_akaike_weights_and_average_between_models():
    analysis = analyse_loglinear(DENSE)
    aics = np.array([m.aic for m in analysis.models])
    expected = np.exp(-(aics - aics.min()) / 2)
    expected /= expected.sum()

    weights = [analysis.average.weights[m.name] for m in analysis.models]
    np.testing.assert_allclose(weights, expected, rtol=1e-12)
    assert sum(weights) == pytest.approx(1.0)
    estimates = [m.total_estimate for m in analysis.models]
    assert min(estimates) <= analysis.average.total_estimate <= max(estimates)
    assert analysis.average.total_estimate == pytest.approx(float(np.dot(weights, estimates)))
    assert analysis.average.interval.contains(analysis.average.total_estimate)
    assert analysis.average.interval.lower >= analysis.observed
    assert analysis.best_model_by_aic == analysis.models[int(np.argmin(aics))].name


def test_given_two_lists_when_independence_model_then_equals_lincoln_petersen():
    """With two lists the independence log-linear model is the Lincoln–Petersen estimator, variance too."""
    fit = fit_loglinear_model({"10": 460, "01": 160, "11": 40}, [])
    classic = lincoln_petersen(500, 200, 40)

    assert fit.total_estimate == pytest.approx(classic.estimate, rel=1e-9)
    assert fit.total_standard_error == pytest.approx(classic.standard_error, rel=1e-6)
    assert fit.df == 0


def test_given_four_lists_when_one_model_fitted_then_matches_statsmodels():
    rng = np.random.default_rng(7)
    patterns = observable_patterns(4)
    cells = {p: int(c) for p, c in zip(patterns, rng.integers(5, 80, len(patterns)), strict=True)}
    interactions = [(0, 1), (2, 3)]
    ours = fit_loglinear_model(cells, interactions)
    counts = np.array([cells[p] for p in patterns], dtype=float)
    reference = sm.GLM(counts, design_matrix(patterns, interactions), family=sm.families.Poisson()).fit(
        tol=1e-12
    )

    np.testing.assert_allclose(ours.parameters, reference.params, rtol=1e-6)
    assert ours.deviance == pytest.approx(reference.deviance, abs=1e-7)
    assert ours.df == 15 - 7
    assert len(all_hierarchical_models(4)) == 64


def test_given_a_zero_triple_cell_when_saturated_model_has_no_mle_then_it_is_kept_out_of_the_average():
    cells = dict(DOG_BITES, **{"111": 0})
    analysis = analyse_loglinear(cells)
    saturated = analysis.models[-1]

    assert not saturated.converged
    assert saturated.name not in analysis.average.weights


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({"100": 5, "010": 4, "001": 3, "110": 2, "101": 1, "011": 1}, "missing counts"),
        ({**DOG_BITES, "000": 3}, "unobservable"),
        ({**DOG_BITES, "10": 3}, "same length"),
        ({**DOG_BITES, "1x1": 3}, "only 0 and 1"),
        ({**DOG_BITES, "111": -1}, "must not be negative"),
        ({}, "no cell counts"),
    ],
)
def test_given_bad_cells_then_clear_error(cells, message):
    with pytest.raises(ValueError, match=message):
        analyse_loglinear(cells)


def test_given_bad_interaction_then_clear_error():
    with pytest.raises(ValueError, match="two different lists"):
        fit_loglinear_model(DOG_BITES, [(0, 3)])


three_list_cells = st.fixed_dictionaries({p: st.integers(1, 400) for p in observable_patterns(3)})


@settings(max_examples=12, deadline=None)
@given(three_list_cells)
def test_property_every_model_estimate_at_least_observed_and_inside_its_interval(cells):
    analysis = analyse_loglinear(cells)
    for model in analysis.models:
        if not model.converged:
            continue
        assert model.total_estimate >= model.observed
        assert model.profile_interval.lower >= model.observed - 1e-9
        assert model.profile_interval.lower <= model.total_estimate * (1 + 1e-9)
        assert model.total_estimate <= model.profile_interval.upper * (1 + 1e-9)
    assert analysis.average.interval.contains(analysis.average.total_estimate)
