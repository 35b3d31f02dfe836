"""Scope: a focal point of COL cannot save or read PER's estimates; the public gets nothing anywhere."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from observatory.access.models import AuditEvent
from observatory.analysis import services
from observatory.analysis.models import CountryEstimate, EstimateRun, SeizureStatistic
from tests.factories import make_user

pytestmark = pytest.mark.django_db

CR_INPUTS = {"n1": 1850, "n2": 1240, "m": 310}


def _estimate_for(iso3: str) -> CountryEstimate:
    return services.save_country_estimate(
        make_user("focal_point", country=iso3),
        country_iso3=iso3,
        drug_code="cocaine",
        population="high_risk_users",
        year=2023,
        method="capture_recapture",
        inputs=CR_INPUTS,
    )


def test_given_a_col_focal_point_when_saving_for_per_then_it_is_refused_and_nothing_changes(
    reference: None,
) -> None:
    focal = make_user("focal_point", country="COL")
    client = Client()
    client.force_login(focal)
    payload = {"country": "PER", "drug_code": "cocaine", "population": "high_risk_users", "year": 2023,
               "method": "capture_recapture", "inputs": CR_INPUTS}  # fmt: skip
    events = AuditEvent.objects.count()

    api = client.post(
        "/api/v1/analysis/country-estimates", json.dumps(payload), content_type="application/json"
    )
    page = client.post(
        reverse("analysis:save_estimate"),
        {"country": "PER", "drug_code": "cocaine", "population": "high_risk_users", "year": 2023,
         "method": "capture_recapture", "inputs": json.dumps(CR_INPUTS)},
    )  # fmt: skip

    assert api.status_code == 403
    assert page.status_code == 403
    assert CountryEstimate.objects.count() == 0
    assert AuditEvent.objects.count() == events
    own = client.post(
        "/api/v1/analysis/country-estimates",
        json.dumps({**payload, "country": "COL"}),
        content_type="application/json",
    )
    assert own.status_code == 201
    assert own.json()["estimate"] == pytest.approx(1851 * 1241 / 311 - 1)


def test_given_estimates_of_col_and_per_when_col_reads_then_per_is_invisible(reference: None) -> None:
    col, per = _estimate_for("COL"), _estimate_for("PER")
    client = Client()
    client.force_login(make_user("focal_point", country="COL"))

    listed = client.get("/api/v1/analysis/country-estimates").json()
    other = client.get(f"/api/v1/analysis/country-estimates/{per.pk}")
    page = client.get(reverse("analysis:hidden_population"))

    assert [row["id"] for row in listed] == [col.pk]
    assert other.status_code == 404
    assert client.get(f"/api/v1/analysis/country-estimates/{col.pk}").status_code == 200
    assert page.status_code == 200
    assert f"<td>{per.pk}</td>" not in page.content.decode()
    analyst = Client()
    analyst.force_login(make_user("analyst"))
    assert {row["id"] for row in analyst.get("/api/v1/analysis/country-estimates").json()} == {col.pk, per.pk}


def test_given_the_public_when_calling_every_analysis_url_then_it_is_refused_and_nothing_changes(
    reference: None,
) -> None:
    estimate = _estimate_for("PER")
    run = EstimateRun.objects.create(
        drug_code="cannabis", year=2023, output={}, world_users_low=1, world_users_high=2, world_coverage=0.5
    )
    client = Client()
    counts = (CountryEstimate.objects.count(), EstimateRun.objects.count(), SeizureStatistic.objects.count())
    events = AuditEvent.objects.count()
    pages = [
        reverse("analysis:index"), reverse("analysis:trends"), reverse("analysis:outliers"),
        reverse("analysis:estimates"), reverse("analysis:estimate_run", args=[run.pk]),
        reverse("analysis:hidden_population"),
    ]  # fmt: skip
    for url in pages:
        for response in (client.get(url), client.post(url, {"drug_code": "cannabis", "year": 2023})):
            assert response.status_code == 302 and "/login" in response["Location"], url
    save = client.post(reverse("analysis:save_estimate"), {"country": "PER"})
    assert save.status_code == 302 and "/login" in save["Location"]
    gets = [
        "/api/v1/analysis/seizure-trends", "/api/v1/analysis/seizure-outliers?year=2022",
        "/api/v1/analysis/estimate-runs", f"/api/v1/analysis/estimate-runs/{run.pk}",
        "/api/v1/analysis/country-estimates", f"/api/v1/analysis/country-estimates/{estimate.pk}",
    ]  # fmt: skip
    for url in gets:
        assert client.get(url).status_code == 401, url
    posts = {
        "/api/v1/analysis/estimate-runs": {"drug_code": "cannabis", "year": 2023},
        "/api/v1/analysis/estimators/capture-recapture": CR_INPUTS,
        "/api/v1/analysis/estimators/loglinear": {"cells": {"10": 1, "01": 1, "11": 1}},
        "/api/v1/analysis/estimators/multiplier": {"benchmark": 10, "proportion": 0.5},
        "/api/v1/analysis/estimators/mortality-multiplier": {"deaths": 10, "mortality_rate": 0.01},
        "/api/v1/analysis/country-estimates": {"country": "PER", "drug_code": "x", "population": "high_risk_users",
                                               "year": 2023, "method": "capture_recapture", "inputs": CR_INPUTS},
    }  # fmt: skip
    for url, body in posts.items():
        assert client.post(url, json.dumps(body), content_type="application/json").status_code == 401, url
    assert (
        CountryEstimate.objects.count(),
        EstimateRun.objects.count(),
        SeizureStatistic.objects.count(),
    ) == counts
    assert AuditEvent.objects.count() == events


def test_given_a_focal_point_when_opening_analyst_pages_then_403_and_the_calculator_api_works(
    reference: None,
) -> None:
    client = Client()
    client.force_login(make_user("focal_point", country="COL"))

    assert client.get(reverse("analysis:trends")).status_code == 403
    assert client.get(reverse("analysis:estimates")).status_code == 403
    assert client.get("/api/v1/analysis/estimate-runs").status_code == 403
    response = client.post(
        "/api/v1/analysis/estimators/capture-recapture",
        json.dumps(CR_INPUTS),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["estimate"] == pytest.approx(1851 * 1241 / 311 - 1)
    bad = client.post(
        "/api/v1/analysis/estimators/capture-recapture",
        json.dumps({"n1": 5, "n2": 5, "m": 9}),
        content_type="application/json",
    )
    assert bad.status_code == 422
