"""Forms of the precursor pages; they only parse, the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from observatory.precursors import services
from observatory.precursors.models import Incident, Notification, Operator, RouteLeg
from observatory.reference.models import ControlledSubstance, Country

UNIT_CHOICES = [("kg", "kg"), ("g", "g"), ("t", "t"), ("l", "l"), ("ml", "ml")]
DATE = forms.DateInput(attrs={"type": "date"})


def _countries() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(Country.objects.order_by("name"), to_field_name="iso3")


def _iso3_list(text: str, field_name: str) -> tuple[str, ...]:
    codes = tuple(code.strip().upper() for code in text.replace(",", " ").split() if code.strip())
    known = set(Country.objects.filter(iso3__in=codes).values_list("iso3", flat=True))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise forms.ValidationError(f"unknown country code(s): {', '.join(unknown)}")
    return codes


class OperatorFields:
    """Name, address and country of one party, as three form fields with a prefix."""

    @staticmethod
    def add(form: forms.Form, prefix: str, label: str, required: bool) -> None:
        form.fields[f"{prefix}_name"] = forms.CharField(
            label=f"{label} name", max_length=300, required=required
        )
        form.fields[f"{prefix}_address"] = forms.CharField(
            label=f"{label} address", max_length=500, required=False
        )
        form.fields[f"{prefix}_country"] = forms.ModelChoiceField(
            Country.objects.order_by("name"),
            to_field_name="iso3",
            label=f"{label} country",
            required=required,
        )

    @staticmethod
    def value(data: dict[str, Any], prefix: str) -> services.OperatorInput | None:
        if not data.get(f"{prefix}_name"):
            return None
        country = data.get(f"{prefix}_country")
        return services.OperatorInput(
            name=data[f"{prefix}_name"],
            country_iso3=country.iso3 if country else "",
            address=data.get(f"{prefix}_address", ""),
        )


class NotificationForm(forms.Form):
    exporting_country = _countries()
    importing_country = _countries()
    substance = forms.ModelChoiceField(
        ControlledSubstance.objects.none(),
        required=False,
        label="Substance (1988 Convention Table I or II)",
        empty_label="— a non-scheduled chemical (name it below) —",
    )
    substance_name = forms.CharField(label="Non-scheduled chemical", max_length=200, required=False)
    quantity = forms.DecimalField(min_value=0, max_digits=14, decimal_places=3)
    unit = forms.ChoiceField(choices=UNIT_CHOICES)
    mixture_percentage = forms.DecimalField(
        label="Mixture percentage", required=False, min_value=0, max_value=100, decimal_places=3
    )
    transport_mode = forms.ChoiceField(choices=Notification.TransportMode.choices)
    transit_countries = forms.CharField(
        label="Transit countries (ISO3 codes in order, e.g. ARE NLD)", required=False, max_length=200
    )
    point_of_entry = forms.CharField(max_length=200, required=False)
    expected_dispatch_date = forms.DateField(required=False, widget=DATE)
    licence_number = forms.CharField(max_length=80, required=False)
    invoice_number = forms.CharField(max_length=80, required=False)

    def __init__(self, *args: Any, exporting: list[Country] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if exporting is not None:
            field = self.fields["exporting_country"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = Country.objects.filter(pk__in=[c.pk for c in exporting]).order_by("name")
        substance = self.fields["substance"]
        assert isinstance(substance, forms.ModelChoiceField)
        substance.queryset = (
            ControlledSubstance.objects.filter(services.table_substances()).distinct().order_by("name")
        )
        OperatorFields.add(self, "exporter", "Exporter", True)
        OperatorFields.add(self, "importer", "Importer", True)
        OperatorFields.add(self, "consignee", "Consignee", False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("substance") and not (data.get("substance_name") or "").strip():
            self.add_error(
                "substance_name", "Choose a Table I/II substance or name the non-scheduled chemical."
            )
        try:
            data["transit_iso3"] = _iso3_list(data.get("transit_countries") or "", "transit_countries")
        except forms.ValidationError as error:
            self.add_error("transit_countries", error)
        return data

    def to_input(self) -> services.NotificationInput:
        data = self.cleaned_data
        exporter = OperatorFields.value(data, "exporter")
        importer = OperatorFields.value(data, "importer")
        assert exporter is not None and importer is not None
        substance = data.get("substance")
        return services.NotificationInput(
            exporting_country_iso3=data["exporting_country"].iso3,
            importing_country_iso3=data["importing_country"].iso3,
            substance_id=substance.pk if substance else None,
            substance_name=data.get("substance_name") or "",
            quantity=data["quantity"],
            unit_code=data["unit"],
            mixture_percentage=data.get("mixture_percentage"),
            transport_mode=data["transport_mode"],
            transit_iso3=data.get("transit_iso3", ()),
            point_of_entry=data.get("point_of_entry") or "",
            expected_dispatch_date=data.get("expected_dispatch_date"),
            licence_number=data.get("licence_number") or "",
            invoice_number=data.get("invoice_number") or "",
            exporter=exporter,
            importer=importer,
            consignee=OperatorFields.value(data, "consignee"),
        )

    @classmethod
    def initial_from(cls, data: services.NotificationInput) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "exporting_country": data.exporting_country_iso3,
            "importing_country": data.importing_country_iso3,
            "substance": data.substance_id,
            "substance_name": data.substance_name if data.substance_id is None else "",
            "quantity": data.quantity,
            "unit": data.unit_code,
            "mixture_percentage": data.mixture_percentage,
            "transport_mode": data.transport_mode,
            "transit_countries": " ".join(data.transit_iso3),
            "point_of_entry": data.point_of_entry,
            "expected_dispatch_date": data.expected_dispatch_date,
            "licence_number": data.licence_number,
            "invoice_number": data.invoice_number,
        }
        for prefix, operator in (
            ("exporter", data.exporter),
            ("importer", data.importer),
            ("consignee", data.consignee),
        ):
            if operator is not None:
                initial |= {
                    f"{prefix}_name": operator.name,
                    f"{prefix}_address": operator.address,
                    f"{prefix}_country": operator.country_iso3,
                }
        return initial


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=Notification.Answer.choices)
    text = forms.CharField(
        label="Grounds or information requested", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(choices=Incident.Kind.choices)
    reporting_country = _countries()
    occurred_on = forms.DateField(widget=DATE)
    chemical = forms.ModelChoiceField(
        ControlledSubstance.objects.none(),
        required=False,
        label="Chemical (Table I/II)",
        empty_label="— non-scheduled —",
    )
    chemical_name = forms.CharField(label="Non-scheduled chemical", max_length=200, required=False)
    quantity = forms.DecimalField(min_value=0, max_digits=14, decimal_places=3, required=False)
    unit = forms.ChoiceField(choices=UNIT_CHOICES, required=False)
    source = forms.CharField(label="Source countries (ISO3)", required=False, max_length=100)
    transit = forms.CharField(label="Transit countries (ISO3, in order)", required=False, max_length=200)
    destination = forms.CharField(label="Destination countries (ISO3)", required=False, max_length=100)
    modus_operandi = forms.MultipleChoiceField(
        choices=Incident.ModusOperandi.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    person_name = forms.CharField(label="Person involved", max_length=300, required=False)
    person_nationality = forms.ModelChoiceField(
        Country.objects.order_by("name"),
        to_field_name="iso3",
        required=False,
        label="Nationality of the person",
    )

    def __init__(self, *args: Any, reporting: list[Country] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if reporting is not None:
            field = self.fields["reporting_country"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = Country.objects.filter(pk__in=[c.pk for c in reporting]).order_by("name")
        chemical = self.fields["chemical"]
        assert isinstance(chemical, forms.ModelChoiceField)
        chemical.queryset = (
            ControlledSubstance.objects.filter(services.table_substances()).distinct().order_by("name")
        )
        OperatorFields.add(self, "company", "Company involved", False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("chemical") and not (data.get("chemical_name") or "").strip():
            self.add_error("chemical_name", "Choose a Table I/II chemical or name the non-scheduled one.")
        for name in ("source", "transit", "destination"):
            try:
                data[f"{name}_iso3"] = _iso3_list(data.get(name) or "", name)
            except forms.ValidationError as error:
                self.add_error(name, error)
        if data.get("person_name") and not data.get("person_nationality"):
            self.add_error("person_nationality", "Give the nationality of the person involved.")
        return data

    def to_input(self) -> services.IncidentInput:
        data = self.cleaned_data
        chemical = data.get("chemical")
        route = tuple(
            (role, iso3)
            for role in (RouteLeg.Role.SOURCE, RouteLeg.Role.TRANSIT, RouteLeg.Role.DESTINATION)
            for iso3 in data.get(f"{role.value}_iso3", ())
        )
        parties: list[services.PartyInput] = []
        company = OperatorFields.value(data, "company")
        if company is not None:
            parties.append(services.PartyInput(company, "company"))
        if data.get("person_name"):
            nationality = data["person_nationality"]
            parties.append(
                services.PartyInput(
                    services.OperatorInput(
                        data["person_name"],
                        nationality.iso3,
                        kind=Operator.Kind.PERSON.value,
                        nationality_iso3=nationality.iso3,
                    ),
                    "person",
                )
            )
        return services.IncidentInput(
            kind=data["kind"],
            reporting_country_iso3=data["reporting_country"].iso3,
            occurred_on=data["occurred_on"],
            summary=data.get("summary") or "",
            modus_operandi=tuple(data.get("modus_operandi") or ()),
            chemicals=(
                services.ChemicalInput(
                    substance_name=data.get("chemical_name") or "",
                    substance_id=chemical.pk if chemical else None,
                    quantity=data.get("quantity"),
                    unit_code=(data.get("unit") or "") if data.get("quantity") is not None else "",
                ),
            ),
            route=tuple((str(role.value), iso3) for role, iso3 in route),
            parties=tuple(parties),
        )


class MessageForm(forms.Form):
    body = forms.CharField(label="Follow-up message", widget=forms.Textarea(attrs={"rows": 3}))


class RequirementForm(forms.Form):
    importing_country = _countries()
    substance = forms.ModelChoiceField(
        ControlledSubstance.objects.none(), required=False, empty_label="— every Table I/II substance —"
    )
    reply_period_days = forms.IntegerField(min_value=1, max_value=365)
    legal_basis = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        substance = self.fields["substance"]
        assert isinstance(substance, forms.ModelChoiceField)
        substance.queryset = (
            ControlledSubstance.objects.filter(services.table_substances()).distinct().order_by("name")
        )


class SpecialAlertForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    recipients = forms.CharField(label="Recipient countries (ISO3; empty for every country)", required=False)
    substance_name = forms.CharField(max_length=200, required=False)
    modus_operandi = forms.MultipleChoiceField(
        choices=Incident.ModusOperandi.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    def clean_recipients(self) -> tuple[str, ...]:
        return _iso3_list(self.cleaned_data.get("recipients") or "", "recipients")
