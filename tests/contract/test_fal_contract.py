"""AdapterContract for fal, with the documented bodies of tests/data/fal (providers.md §7): the whole queue."""

from __future__ import annotations

import pytest
from contract_support import documented

from imgsdk.adapters.fal import FalAdapter
from imgsdk.errors import (
    AuthenticationError,
    ContentPolicyError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    RequestRejectedError,
    ServiceUnavailableError,
)
from imgsdk.testing.contract import AdapterContract, ErrorSample, SuccessSample

QUEUE = ("submit_flux_dev.json", "status_in_queue.json", "status_in_progress.json", "status_completed.json")


def _job(*names: str) -> list:
    return [documented("fal", name) for name in names]


class TestFalContract(AdapterContract):
    @pytest.fixture
    def adapter(self) -> FalAdapter:
        return FalAdapter()

    @pytest.fixture
    def success_samples(self) -> list[SuccessSample]:
        return [SuccessSample("fal-ai/flux/dev", _job(*QUEUE, "result.json"), size="1024x768", id="flux-queue")]

    @pytest.fixture
    def error_samples(self) -> list[ErrorSample]:
        def error(name: str, status: int, expected: type, **fields: str) -> ErrorSample:
            return ErrorSample(documented("fal", name, status), expected, id=name, **fields)

        return [
            ErrorSample(_job(*QUEUE, "result_all_flagged.json"), ContentPolicyError, stage="output",
                        id="all-flagged"),
            ErrorSample(_job("submit_flux_dev.json", "status_completed_error.json"), ProviderError,
                        id="completed-with-error"),
            ErrorSample(_job("submit_flux_dev.json", "status_completed_policy.json"), ContentPolicyError,
                        id="completed-policy"),
            error("error_422_content_policy.json", 422, ContentPolicyError, stage="input"),
            error("error_422_validation.json", 422, RequestRejectedError),
            error("error_401.json", 401, AuthenticationError),
            error("error_403_balance.json", 403, QuotaExceededError),
            error("error_429.json", 429, RateLimitError),
            error("error_500.json", 500, ServiceUnavailableError),
        ]
