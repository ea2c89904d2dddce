"""The CI hypothesis profile for the fuzz suite, and the ``matrix`` marker (shared with tests/reliability).

``imgsdk-fuzz-ci`` (the default): derandomized, so CI sees the same examples on every run; 220 examples per
adapter × 13 adapters ≈ 2,900 requests per run, about 20-30 s on the 2-core CI machine. ``imgsdk-fuzz-deep``
(``IMGSDK_FUZZ_PROFILE=imgsdk-fuzz-deep``) runs ten times as many, randomized, for a local hunt.
The profiles are applied per test (``settings(FUZZ)``), not loaded globally, so other suites keep theirs.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

CI_EXAMPLES_PER_ADAPTER = 220

settings.register_profile(
    "imgsdk-fuzz-ci", max_examples=CI_EXAMPLES_PER_ADAPTER, derandomize=True, deadline=None, print_blob=True,
    database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "imgsdk-fuzz-deep", max_examples=CI_EXAMPLES_PER_ADAPTER * 10, derandomize=False, deadline=None,
    print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

FUZZ_PROFILE = os.environ.get("IMGSDK_FUZZ_PROFILE", "imgsdk-fuzz-ci")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "matrix(id, failure=..., outcome=..., adapters=...): a row of docs/reliability.md "
        "(the failure → behaviour matrix); tests/reliability/matrix.py renders the rows from these markers")
