"""Demonstration data: the instrument, the annex 1.2 series from the shipped copy, and this year's
questionnaires of Colombia (submitted, with a rule failure and an open query) and the Netherlands (draft).
Idempotent: what exists is left alone."""

from __future__ import annotations

from django.utils import timezone

from observatory.access.models import User
from observatory.reference.models import Country
from observatory.reporting import services
from observatory.reporting.kernels.instrument import CellKey, cell_key
from observatory.reporting.models import Query, Submission


def _prevalence(drug: str, period: str, estimate: str = "best", sex: str = "total") -> CellKey:
    return cell_key(
        "gp_prevalence",
        {"drug": drug, "period": period, "sex": sex, "age_group": "total", "estimate": estimate},
    )


def _values(
    lifetime_cannabis: float, past_year: dict[str, float], method: str, ages: str
) -> dict[CellKey, object]:
    values: dict[CellKey, object] = {
        cell_key("gp_survey_year"): "2023",
        cell_key("gp_age_range"): ages,
        cell_key("gp_method"): method,
        cell_key("gp_sample_size"): "49756",
        _prevalence("cannabis", "lifetime"): str(lifetime_cannabis),
    }
    for drug, figure in past_year.items():
        values[_prevalence(drug, "past_year")] = str(figure)
    return values


def reporting_year() -> int:
    return timezone.now().year - 1


def load_demo() -> None:
    services.load_instruments()
    if not Submission.objects.filter(origin=Submission.Origin.ANNEX_1_2).exists():
        services.import_annex_prevalence(None, services.shipped_annex_path(), system=True)
    year = reporting_year()
    focal_col = User.objects.filter(username="focal.col").first()
    focal_nld = User.objects.filter(username="focal.nld").first()
    analyst = User.objects.filter(username="analyst").first()
    if focal_col is None or focal_nld is None or analyst is None:
        return  # the demo users come first (observatory setup-demo creates them)
    colombia = Country.objects.get(iso3="COL")
    if not Submission.objects.filter(
        country=colombia, year=year, origin=Submission.Origin.QUESTIONNAIRE
    ).exists():
        submission = services.open_submission(focal_col, colombia, year)
        # Cannabis past-year prevalence above its lifetime prevalence: the consistency rule fails.
        values = _values(2.1, {"cannabis": 3.4, "opioids": 0.3, "cocaine": 0.62, "amphetamines": 0.05,
                               "ecstasy": 0.16}, "HHS", "12-65")  # fmt: skip
        services.save_values(
            focal_col, submission, [services.CellChange(key, str(raw), 0) for key, raw in values.items()]
        )
        services.transition(focal_col, submission, "submit")
        services.transition(analyst, submission, "start_review")
        if not Query.objects.filter(submission=submission).exists():
            services.raise_query(
                analyst, submission, _prevalence("cannabis", "past_year"),
                "Past-year cannabis use (3.4%) is above lifetime use (2.1%). Please check both figures.",
            )  # fmt: skip
    netherlands = Country.objects.get(iso3="NLD")
    if not Submission.objects.filter(
        country=netherlands, year=year, origin=Submission.Origin.QUESTIONNAIRE
    ).exists():
        submission = services.open_submission(focal_nld, netherlands, year)
        values = _values(27.2, {"cannabis": 8.6, "cocaine": 2.1, "ecstasy": 2.4}, "HHS", "15-64")
        services.save_values(
            focal_nld, submission, [services.CellChange(key, str(raw), 0) for key, raw in values.items()]
        )
