"""Open-data responses under load: a cached body costs no query (the current release's stamp is kept
for at most ``queries.CURRENT_SECONDS`` and never past an embargo; a named public release's for good);
a 304 never re-serialises; nothing unreleased is ever answered from a cache, and a new release changes
what the current-release JSON returns at once in the process that made it, and within
``CURRENT_SECONDS`` in any other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client, RequestFactory

from observatory.publication import http, queries, services
from observatory.publication.models import Release
from tests.factories import make_user

from .release_samples import SECRET_VALUE, draft_rows, first_release_rows

pytestmark = pytest.mark.django_db

EMBARGO = datetime(2031, 6, 26, 10, 0, 0, tzinfo=UTC)
NAMED = "/api/v1/public/observations?release=R-EMB&drug=cannabis"
CURRENT = "/api/v1/public/observations?drug=cannabis"
CURRENT_COL = "/api/v1/public/observations?country=COL&indicator=prevalence_past_year"


def _embargoed(reviewer: Any) -> Release:
    with time_machine.travel(datetime(2031, 6, 1, tzinfo=UTC), tick=False):
        release = services.create_release(reviewer, "R-EMB", "Embargoed", rows=first_release_rows())
        return services.schedule_release(reviewer, release, EMBARGO)


def _values(response: Any) -> list[float]:
    return sorted(row["value"] for row in response.json()["results"])


def test_given_an_embargoed_release_when_named_before_and_after_then_404_then_cached_without_queries(
    reference: Any, django_assert_num_queries: Any
) -> None:
    reviewer = make_user("reviewer")
    _embargoed(reviewer)
    client = Client()
    # Given the embargo holds, when the release is named, then it does not exist (and is not remembered)
    with time_machine.travel(EMBARGO - timedelta(seconds=1), tick=False):
        assert client.get(NAMED).status_code == 404
        assert client.get("/api/v1/public/releases/R-EMB").status_code == 404
    with time_machine.travel(EMBARGO, tick=False):
        # When the embargo passes, then the first request builds the body…
        first = client.get(NAMED)
        assert first.status_code == 200
        assert first.json()["count"] == 5
        # …and the same request again is answered from the cache without touching the database
        with django_assert_num_queries(0):
            again = client.get(NAMED)
        assert again.status_code == 200
        assert again.content == first.content
        assert again["ETag"] == first["ETag"]
        with django_assert_num_queries(0):
            assert client.get(NAMED, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
        # The current release: which one it is comes from the process cache within its short window,
        # so a repeated request costs no query either, and neither does its revalidation
        client.get(CURRENT)
        with django_assert_num_queries(0):
            current = client.get(CURRENT)
        assert current.json()["count"] == 5
        with django_assert_num_queries(0):
            assert client.get(CURRENT, HTTP_IF_NONE_MATCH=current["ETag"]).status_code == 304
    # Once the window has passed, the database is asked again (one query for the stamp, one for the
    # next embargo), the body still from the cache
    later = EMBARGO + timedelta(seconds=queries.CURRENT_SECONDS)
    with time_machine.travel(later, tick=False), django_assert_num_queries(2):
        assert client.get(CURRENT).content == current.content


def test_given_a_cached_current_release_when_an_embargo_passes_then_the_database_decides_at_that_second(
    reference: Any, django_assert_num_queries: Any
) -> None:
    reviewer = make_user("reviewer")
    with time_machine.travel(datetime(2031, 6, 1, tzinfo=UTC), tick=False):
        first = services.create_release(reviewer, "R1", "First", rows=first_release_rows())
        services.publish_release(reviewer, first)
    with time_machine.travel(datetime(2031, 6, 2, tzinfo=UTC), tick=False):
        correction = services.create_release(
            reviewer, "R1-c1", "Correction", rows=draft_rows(), corrects=first, change_notes="re-weighted"
        )
        services.schedule_release(reviewer, correction, EMBARGO)
    client = Client()
    # Given the current release (R1) was looked up 0.4 s before the embargo and its body cached…
    with time_machine.travel(EMBARGO - timedelta(seconds=0.4), tick=False):
        before = client.get(CURRENT_COL)
        assert before.json()["release"] == "R1"
        assert SECRET_VALUE not in _values(before)
        assert client.get("/api/v1/public/releases").json()[0]["label"] == "R1"
    # …then 1 µs before the embargo the cache still answers R1, without a query…
    with time_machine.travel(EMBARGO - timedelta(microseconds=1), tick=False):
        with django_assert_num_queries(0):
            assert client.get(CURRENT_COL).content == before.content
        assert "R1-c1" not in client.get("/publication/explore/").content.decode()
    # …and at the embargo, well within the cache's second, the database is asked and the correction shows
    with time_machine.travel(EMBARGO, tick=False):
        after = client.get(CURRENT_COL)
        assert after.json()["release"] == "R1-c1"
        assert SECRET_VALUE in _values(after)
        assert after["ETag"] != before["ETag"]
        assert client.get("/api/v1/public/releases").json()[0]["label"] == "R1-c1"
        assert "(corrects R1)" in client.get("/publication/explore/").content.decode()


def test_given_a_withdrawn_schedule_still_in_another_process_cache_then_it_never_shows(
    reference: Any,
) -> None:
    reviewer = make_user("reviewer")
    first = services.create_release(reviewer, "R1", "First", rows=first_release_rows())
    with time_machine.travel(datetime(2031, 6, 1, tzinfo=UTC), tick=False):
        services.publish_release(reviewer, first)
    draft = services.create_release(reviewer, "R2", "Second", rows=draft_rows())
    with time_machine.travel(datetime(2031, 6, 2, tzinfo=UTC), tick=False):
        services.schedule_release(reviewer, draft, EMBARGO)
    client = Client()
    with time_machine.travel(EMBARGO - timedelta(seconds=0.5), tick=False):
        assert client.get(CURRENT_COL).json()["release"] == "R1"
        remembered = cache.get(queries.CURRENT_KEY)
        # When the schedule is withdrawn (by another process: this one's remembered answer is put back)
        services.withdraw_schedule(reviewer, draft)
        cache.set(queries.CURRENT_KEY, remembered)
        assert client.get(CURRENT_COL).json()["release"] == "R1"
    # Then at its embargo time the withdrawn release is not public, whatever was remembered
    with time_machine.travel(EMBARGO, tick=False):
        response = client.get(CURRENT_COL)
        assert response.json()["release"] == "R1"
        assert SECRET_VALUE not in _values(response)
        assert client.get("/api/v1/public/observations?release=R2").status_code == 404
        assert "R2" not in client.get("/publication/explore/?indicator=prevalence_past_year").content.decode()


def test_given_a_correction_released_now_then_the_current_json_changes_at_once_here_and_within_the_window_elsewhere(
    reference: Any,
) -> None:
    reviewer = make_user("reviewer")
    moment = datetime(2031, 7, 1, 12, 0, 0, tzinfo=UTC)
    client = Client()
    with time_machine.travel(moment, tick=False):
        first = services.create_release(reviewer, "R1", "First", rows=first_release_rows())
        services.publish_release(reviewer, first)
        correction = services.create_release(
            reviewer, "R1-c1", "Correction", rows=draft_rows(), corrects=first, change_notes="re-weighted"
        )
        before = client.get(CURRENT_COL)
        assert before.json()["release"] == "R1"
        page = client.get("/publication/explore/?indicator=prevalence_past_year&country=COL")
        remembered = cache.get(queries.CURRENT_KEY)
        # When the correction is released in this process, then the very next request shows it
        services.publish_release(reviewer, correction)
        after = client.get(CURRENT_COL)
        assert after.json()["release"] == "R1-c1"
        assert SECRET_VALUE in _values(after)
        assert client.get(CURRENT_COL, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200
        assert (
            client.get(
                "/publication/explore/?indicator=prevalence_past_year&country=COL",
                HTTP_IF_NONE_MATCH=page["ETag"],
            ).status_code
            == 200
        )
        # And a process that remembered R1 as current (put back here) still answers R1, the release
        # that was public until now — never anything unreleased…
        cache.set(queries.CURRENT_KEY, remembered)
        assert client.get(CURRENT_COL).json()["release"] == "R1"
    # …for at most CURRENT_SECONDS
    with time_machine.travel(moment + timedelta(seconds=queries.CURRENT_SECONDS), tick=False):
        assert client.get(CURRENT_COL).json()["release"] == "R1-c1"
        # The corrected release stays available by name, from its own cached body
        assert client.get("/api/v1/public/observations?release=R1&country=COL").json()["release"] == "R1"


def test_given_a_cached_body_then_the_fast_path_answers_exactly_what_the_view_answered(
    reference: Any, django_assert_num_queries: Any
) -> None:
    reviewer = make_user("reviewer")
    services.publish_release(
        reviewer, services.create_release(reviewer, "R1", "First", rows=first_release_rows())
    )
    client = Client()
    factory = RequestFactory()
    for url in (
        "/api/v1/public/releases",
        "/api/v1/public/releases/R1",
        "/api/v1/public/datasets",
        "/api/v1/public/datasets?release=R1",
        CURRENT,
        "/api/v1/public/observations?drug=cannabis&release=R1&limit=2&offset=1",
    ):
        # Given nothing cached, the fast path declines and the view builds the body
        assert http.cached_public_json(factory.get(url)) is None
        built = client.get(url)
        assert built.status_code == 200
        # When the same request comes again, then the fast path answers it, with no query, exactly so
        with django_assert_num_queries(0):
            fast = http.cached_public_json(factory.get(url))
        assert fast is not None
        assert fast.status_code == 200
        assert fast.content == built.content
        with django_assert_num_queries(0):
            again = client.get(url)
        assert again.content == built.content
        assert list(again.headers.items()) == list(built.headers.items())
        revalidated = client.get(url, HTTP_IF_NONE_MATCH=built["ETag"])
        assert revalidated.status_code == 304
        assert revalidated["ETag"] == built["ETag"]
    # The fast path declines what the view must judge: other methods, bad or repeated parameters,
    # unknown or unreleased names, unknown paths
    assert client.get("/api/v1/public/observations?drug=cannabis&limit=0").status_code == 400
    for request in (
        factory.head(CURRENT),
        factory.get("/api/v1/public/observations?drug=cannabis&limit=0"),
        factory.get("/api/v1/public/observations?release=R1&release=R2&drug=cannabis"),
        factory.get("/api/v1/public/observations?release=&drug=cannabis"),
        factory.get("/api/v1/public/releases/R2"),
        factory.get("/api/v1/public/releases/R1/"),
        factory.get("/api/v1/public/elsewhere"),
    ):
        assert http.cached_public_json(request) is None


def test_given_a_draft_then_no_cache_path_ever_answers_it(reference: Any) -> None:
    reviewer = make_user("reviewer")
    services.publish_release(
        reviewer, services.create_release(reviewer, "R1", "First", rows=first_release_rows())
    )
    services.create_release(reviewer, "R2-draft", "Draft", rows=draft_rows())
    client = Client()
    factory = RequestFactory()
    for url in ("/api/v1/public/releases/R2-draft", "/api/v1/public/observations?release=R2-draft"):
        for _ in range(2):
            assert client.get(url).status_code == 404
            assert http.cached_public_json(factory.get(url)) is None
    assert [r["label"] for r in client.get("/api/v1/public/releases").json()] == ["R1"]
    assert SECRET_VALUE not in _values(client.get(CURRENT_COL))
