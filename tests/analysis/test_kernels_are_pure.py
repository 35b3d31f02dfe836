"""The kernels must stay usable outside Django and without dev-only libraries."""

import subprocess
import sys

KERNELS = ("capture_recapture", "loglinear", "multiplier", "regional", "outliers", "grouped_outliers")
PURE_MODULES = ("observatory.analysis.comparability",)


def test_importing_every_kernel_loads_no_django_statsmodels_or_pandas():
    imports = "; ".join(
        [f"import observatory.analysis.kernels.{name}" for name in KERNELS]
        + [f"import {module}" for module in PURE_MODULES]
    )
    forbidden = "('django', 'statsmodels', 'pandas')"
    check = f"import sys; print([m for m in {forbidden} if m in sys.modules])"
    output = subprocess.run(
        [sys.executable, "-c", f"{imports}; {check}"], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert output == "[]"
