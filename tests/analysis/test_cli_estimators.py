"""The three estimator commands print the estimate, interval and assumptions (JSON with --json)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from observatory.analysis.kernels.loglinear import analyse_loglinear
from observatory.cli import resolve_command

CELLS = {"100": 69, "010": 55, "001": 40, "110": 21, "101": 12, "011": 9, "111": 4}


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_given_two_lists_when_running_capture_recapture_then_chapman_and_its_interval_are_printed() -> None:
    assert resolve_command(["observatory", "estimate", "capture-recapture", "--n1", "1"])[1] == (
        "estimate_capture_recapture"
    )
    text = _run("estimate_capture_recapture", "--n1", "100", "--n2", "80", "--m", "20")
    data = json.loads(_run("estimate_capture_recapture", "--n1", "100", "--n2", "80", "--m", "20", "--json"))

    assert data["estimate"] == pytest.approx(101 * 81 / 21 - 1)
    assert data["low"] >= 100 + 80 - 20 and data["low"] < data["estimate"] < data["high"]
    assert data["interval_method"] == "log_normal_chao"
    assert "estimate: 388.6" in text
    assert "closed population" in text and "95% interval" in text


def test_given_three_lists_when_running_loglinear_then_the_model_average_is_printed() -> None:
    data = json.loads(_run("estimate_loglinear", "--cells", json.dumps(CELLS), "--json"))

    expected = analyse_loglinear(CELLS)
    assert data["estimate"] == pytest.approx(expected.average.total_estimate)
    assert len(data["details"]["models"]) == 8
    assert data["details"]["best_model_by_aic"] == expected.best_model_by_aic
    assert "estimate:" in _run("estimate_loglinear", "--cells", json.dumps(CELLS))


def test_given_a_benchmark_when_running_the_multiplier_then_bounds_come_from_the_proportion_bounds() -> None:
    data = json.loads(
        _run(
            "estimate_multiplier",
            "--benchmark",
            "1000",
            "--proportion",
            "0.25",
            "--proportion-low",
            "0.2",
            "--proportion-high",
            "0.3",
            "--json",
        )
    )

    assert (data["estimate"], data["low"], data["high"]) == (4000.0, pytest.approx(1000 / 0.3), 5000.0)
    assert "interval: 3,333.3 – 5,000.0" in _run(
        "estimate_multiplier", "--benchmark", "1000", "--proportion", "0.25",
        "--proportion-low", "0.2", "--proportion-high", "0.3",
    )  # fmt: skip


def test_given_bad_input_when_running_an_estimator_then_the_error_is_clear() -> None:
    with pytest.raises(CommandError, match="cannot exceed n1"):
        _run("estimate_capture_recapture", "--n1", "10", "--n2", "80", "--m", "20")
    with pytest.raises(CommandError, match="JSON object"):
        _run("estimate_loglinear", "--cells", "[1, 2]")
    with pytest.raises(CommandError, match="not a percentage"):
        _run("estimate_multiplier", "--benchmark", "1000", "--proportion", "25")
