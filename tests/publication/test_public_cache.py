"""Open-data responses under load: a cached body costs one cheap query (the current release's stamp), or
none when the URL names a public release; a 304 never re-serialises; the embargo is never cached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from observatory.publication import services
from tests.factories import make_user

from .release_samples import first_release_rows

pytestmark = pytest.mark.django_db

EMBARGO = datetime(2031, 6, 26, 10, 0, 0, tzinfo=UTC)
NAMED = "/api/v1/public/observations?release=R-EMB&drug=cannabis"
CURRENT = "/api/v1/public/observations?drug=cannabis"


def test_given_an_embargoed_release_when_named_before_and_after_then_404_then_cached_without_queries(
    reference: Any, django_assert_num_queries: Any
) -> None:
    reviewer = make_user("reviewer")
    with time_machine.travel(datetime(2031, 6, 1, tzinfo=UTC), tick=False):
        release = services.create_release(reviewer, "R-EMB", "Embargoed", rows=first_release_rows())
        services.schedule_release(reviewer, release, EMBARGO)
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
        # The current release costs one query (which release is current), body from the cache
        client.get(CURRENT)
        with django_assert_num_queries(1):
            current = client.get(CURRENT)
        assert current.json()["count"] == 5
        with django_assert_num_queries(1):
            assert client.get(CURRENT, HTTP_IF_NONE_MATCH=current["ETag"]).status_code == 304
