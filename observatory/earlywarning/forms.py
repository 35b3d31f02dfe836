"""Forms of the early-warning pages (parsing only; the services decide)."""

from __future__ import annotations

from typing import Any

from django import forms

from observatory.earlywarning.models import Alert, Identification

METHODS = ["GC-MS", "LC-MS/MS", "LC-HRMS", "NMR", "FTIR", "Raman", "other"]


class IdentificationForm(forms.Form):
    country = forms.ChoiceField(label="Reporting country")
    structure = forms.CharField(
        label="Structure (SMILES or molfile)",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "mono"}),
        max_length=200_000,
    )
    names = forms.CharField(
        label="Names as reported (one per line or separated by ;)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    cas = forms.CharField(label="CAS number", required=False, max_length=20)
    date_found = forms.DateField(label="Date found", widget=forms.DateInput(attrs={"type": "date"}))
    place = forms.CharField(label="Place (city, border post …)", required=False, max_length=200)
    matrix = forms.ChoiceField(choices=Identification.Matrix.choices)
    analytical_method = forms.ChoiceField(label="Analytical method", choices=[(m, m) for m in METHODS])
    mz = forms.CharField(label="Key m/z values (comma or space separated)", required=False, max_length=4000)
    classification = forms.ChoiceField(
        choices=Identification.Classification.choices, initial=Identification.Classification.RESTRICTED
    )

    def __init__(self, *args: Any, countries: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = countries  # type: ignore[attr-defined]

    def names_list(self) -> list[str]:
        raw = self.cleaned_data.get("names", "")
        return [part.strip() for line in raw.splitlines() for part in line.split(";") if part.strip()]


class AlertForm(forms.Form):
    substance = forms.TypedChoiceField(coerce=int)
    severity = forms.ChoiceField(choices=Alert.Severity.choices)
    countries = forms.MultipleChoiceField(
        label="Countries concerned", widget=forms.SelectMultiple(attrs={"size": 8})
    )
    title = forms.CharField(max_length=300)
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    evidence = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    published = forms.BooleanField(label="Publish the public summary", required=False)
    public_summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(
        self, *args: Any, substances: list[tuple[int, str]], countries: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["substance"].choices = substances  # type: ignore[attr-defined]
        self.fields["countries"].choices = countries  # type: ignore[attr-defined]
