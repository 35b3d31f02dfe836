"""Factories of the reporting tests: drafts and submissions in a given state, made through the services."""

from __future__ import annotations

from observatory.access.models import User
from observatory.reference.models import Country
from observatory.reporting import services
from observatory.reporting.kernels.instrument import CellKey, cell_key
from observatory.reporting.models import Submission
from tests.factories import make_user

YEAR = 2024


def prevalence(drug: str, period: str = "past_year", estimate: str = "best", sex: str = "total") -> CellKey:
    return cell_key(
        "gp_prevalence",
        {"drug": drug, "period": period, "sex": sex, "age_group": "total", "estimate": estimate},
    )


def draft(iso3: str = "COL", focal: User | None = None, year: int = YEAR) -> tuple[Submission, User]:
    focal = focal or make_user("focal_point", country=iso3)
    return services.open_submission(focal, Country.objects.get(iso3=iso3), year), focal


def in_status(status: str, iso3: str = "COL") -> Submission:
    """A questionnaire brought to `status` along the normal path."""
    submission, focal = draft(iso3)
    analyst = make_user("analyst")
    reviewer = make_user("reviewer")
    path = {
        "draft": [],
        "submitted": [(focal, "submit")],
        "under_review": [(focal, "submit"), (analyst, "start_review")],
        "validated": [(focal, "submit"), (analyst, "start_review"), (analyst, "validate")],
        "approved": [
            (focal, "submit"),
            (analyst, "start_review"),
            (analyst, "validate"),
            (reviewer, "approve"),
        ],
    }[status]
    for actor, name in path:
        services.transition(actor, submission, name)
    return submission
