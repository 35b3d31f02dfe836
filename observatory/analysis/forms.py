"""Forms of the analysis pages: they parse; services and calculators decide."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from observatory.analysis.kernels.capture_recapture import CHAPMAN, LINCOLN_PETERSEN
from observatory.analysis.kernels.outliers import METHODS
from observatory.analysis.models import CountryEstimate


class CaptureRecaptureForm(forms.Form):
    n1 = forms.IntegerField(label="People on list 1", min_value=0)
    n2 = forms.IntegerField(label="People on list 2", min_value=0)
    m = forms.IntegerField(label="People on both lists", min_value=0)
    estimator = forms.ChoiceField(
        choices=[(CHAPMAN, "Chapman"), (LINCOLN_PETERSEN, "Lincoln–Petersen")], initial=CHAPMAN
    )

    def inputs(self) -> dict[str, Any]:
        return {key: self.cleaned_data[key] for key in ("n1", "n2", "m", "estimator")}


class LogLinearForm(forms.Form):
    cells = forms.CharField(
        label="Cell counts (JSON, keyed by membership pattern)",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 50}),
        initial='{"100": 69, "010": 55, "001": 40, "110": 21, "101": 12, "011": 9, "111": 4}',
    )

    def clean_cells(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["cells"])
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"not valid JSON: {error.msg}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError('give a JSON object such as {"100": 69, "010": 55, ...}')
        return value

    def inputs(self) -> dict[str, Any]:
        return {"cells": self.cleaned_data["cells"]}


class MultiplierForm(forms.Form):
    benchmark = forms.FloatField(label="Benchmark count (e.g. people in treatment)", min_value=0)
    proportion = forms.FloatField(label="Proportion in the benchmark (share, 0–1)")
    proportion_low = forms.FloatField(label="Proportion, low", required=False)
    proportion_high = forms.FloatField(label="Proportion, high", required=False)

    def inputs(self) -> dict[str, Any]:
        return {
            key: self.cleaned_data.get(key)
            for key in ("benchmark", "proportion", "proportion_low", "proportion_high")
        }


class MortalityMultiplierForm(forms.Form):
    deaths = forms.FloatField(label="Drug-related deaths among the population in the year", min_value=0)
    mortality_rate = forms.FloatField(label="Annual mortality rate in the population (share, 0–1)")
    rate_low = forms.FloatField(label="Mortality rate, low", required=False)
    rate_high = forms.FloatField(label="Mortality rate, high", required=False)

    def inputs(self) -> dict[str, Any]:
        return {
            key: self.cleaned_data.get(key) for key in ("deaths", "mortality_rate", "rate_low", "rate_high")
        }


class SaveEstimateForm(forms.Form):
    country = forms.CharField(label="Country (ISO3)", max_length=3)
    drug_code = forms.CharField(label="Drug (taxonomy code)", max_length=120, initial="opioids")
    population = forms.ChoiceField(choices=CountryEstimate.Population.choices)
    year = forms.IntegerField(min_value=1990, max_value=2100)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class EstimateRunForm(forms.Form):
    drug_code = forms.CharField(label="Drug (taxonomy code)", max_length=120, initial="cannabis")
    year = forms.IntegerField(min_value=1990, max_value=2100, initial=2023)
    minimum_coverage = forms.FloatField(
        min_value=0, max_value=1, initial=0.5, label="Minimum coverage (share)"
    )
    exclude = forms.CharField(required=False, label="Exclude countries (ISO3, comma-separated)")


class OutlierForm(forms.Form):
    year = forms.IntegerField(min_value=1990, max_value=2100)
    method = forms.ChoiceField(choices=[(method, method) for method in METHODS], initial="modified_z_score")
    drug_group = forms.CharField(required=False, max_length=60)


class QuestionnaireOutlierForm(forms.Form):
    """Year (those with questionnaires in the user's scope), method, which submissions, module, scale."""

    year = forms.TypedChoiceField(coerce=int, choices=[])
    method = forms.ChoiceField(choices=[(method, method) for method in METHODS], initial="modified_z_score")
    stage = forms.ChoiceField(
        label="Submissions",
        choices=[
            ("submitted", "submitted, under review, validated, approved"),
            ("validated", "validated and approved only"),
        ],
        initial="submitted",
    )
    module = forms.ChoiceField(required=False, choices=[])
    scale = forms.ChoiceField(
        label="Magnitudes scored on",
        choices=[("log", "log10(1 + x)"), ("linear", "the values themselves")],
        initial="log",
    )

    def __init__(self, *args: Any, years: list[int], modules: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(year, str(year)) for year in reversed(years)]  # type: ignore[attr-defined]
        self.fields["module"].choices = [("", "all modules"), *modules]  # type: ignore[attr-defined]
