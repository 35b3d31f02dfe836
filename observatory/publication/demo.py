"""Demonstration data: one release built from the real annex data (prevalence 1.2 through the reporting
app, seizures 7.1 through the analysis app, cultivation 6.1.1/6.2.1 shipped here) and released, so the
portal is populated at once. Idempotent: nothing is done when the release exists."""

from __future__ import annotations

from pathlib import Path

from observatory.access.models import User
from observatory.publication import services
from observatory.publication.models import Release

DEMO_LABEL = "WDR2025"
# The analysis app ships annex 7.1; its import service reads it (the demo of that app may have already).
ANALYSIS_DATA = Path(__file__).resolve().parent.parent / "analysis" / "data"
DEMO_TITLE = "World Drug Report 2025 statistical annex (demonstration)"


def _ensure_seizures() -> None:
    from observatory.analysis.models import SeizureStatistic
    from observatory.analysis.services import import_annex_seizures

    if not SeizureStatistic.objects.exists():
        path = ANALYSIS_DATA / "7.1_Drug_seizures_2019-2023.csv"
        if path.exists():
            import_annex_seizures(None, path, system=True)


def load_demo() -> None:
    if Release.objects.filter(label=DEMO_LABEL).exists():
        return
    reviewer = User.objects.filter(username="reviewer").first()
    if reviewer is None:
        return  # the demo users come first (observatory setup-demo creates them)
    _ensure_seizures()
    release = services.create_release(
        reviewer,
        DEMO_LABEL,
        DEMO_TITLE,
        description="National prevalence (annex 1.2), seizures (annex 7.1), coca and opium poppy cultivation "
        "(annex 6.1.1, 6.2.1) and the regional estimates stored by the analysis app.",
    )
    services.publish_release(reviewer, release, "demonstration release")
