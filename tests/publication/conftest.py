"""Publication tests share one process cache (Django's local-memory default): start each test with it
empty, since labels such as R1 name a different release in every test's database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()
