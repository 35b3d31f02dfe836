"""The demonstration data loads through the services and loads only once."""

from __future__ import annotations

import pytest

from observatory.earlywarning import demo
from observatory.earlywarning.models import Alert, Identification, Substance

pytestmark = pytest.mark.django_db


def test_demo_loads_the_registry_identifications_and_one_published_alert_idempotently(
    reference: None,
) -> None:
    # given an empty registry, when the demonstration is loaded twice
    demo.load_demo()
    counts = (Substance.objects.count(), Identification.objects.count(), Alert.objects.count())
    demo.load_demo()
    # then nothing is duplicated
    assert (Substance.objects.count(), Identification.objects.count(), Alert.objects.count()) == counts
    assert counts[0] == len(demo.NPS)
    assert counts[1] >= 2 * len(demo.NPS) - 20
    assert Alert.objects.filter(published=True).count() == 1
    # and the class rules put the textbook examples where a chemist expects them
    groups = dict(Substance.objects.values_list("name", "substance_group"))
    assert groups["JWH-018"] == "synthetic_cannabinoid_receptor_agonists"
    assert groups["Mephedrone"] == "synthetic_cathinones"
    assert groups["Fentanyl"] == "fentanyl_and_other_synthetic_opioids"
    assert groups["Isotonitazene"] == "nitazenes"
    assert groups["Etizolam"] == "benzodiazepines"
    assert groups["5-MeO-DMT"] == "tryptamines"
    assert groups["25I-NBOMe"] == "phenethylamines"
    assert groups["BZP"] == "piperazines"
    assert groups["MDAI"] == "aminoindanes"
    assert groups["Methoxetamine"] == "phencyclidine_type_substances"
