"""AdapterContract for together, with the documented bodies of tests/data/together (providers.md §8)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import pytest
from contract_support import answer, b64, body, documented, fill

from imgsdk.adapters.together import TogetherAdapter
from imgsdk.errors import (
    AuthenticationError,
    ContentPolicyError,
    ModelNotFoundError,
    QuotaExceededError,
    RateLimitError,
    RequestRejectedError,
    ServiceUnavailableError,
)
from imgsdk.testing.contract import AdapterContract, ErrorSample, SuccessSample

SCHNELL, KONTEXT = "black-forest-labs/FLUX.1-schnell", "black-forest-labs/FLUX.1-kontext-pro"


class TestTogetherContract(AdapterContract):
    known_failures: ClassVar[Mapping[str, str]] = {
    }

    @pytest.fixture
    def adapter(self) -> TogetherAdapter:
        return TogetherAdapter()

    @pytest.fixture
    def success_samples(self) -> list[SuccessSample]:
        # The API reference example's "<string>" placeholders, filled with a JPEG (the default output_format).
        encoded = fill(body("together", "success_b64.json"), "<string>", b64(1024, 1024, "JPEG"))
        return [
            SuccessSample(SCHNELL, [answer(200, encoded)], size="1024x1024", id="flux-pixels-b64"),
            SuccessSample(SCHNELL, [documented("together", "success_url.json")], request={"size": "1024x1024"},
                          size="1024x1024", id="flux-pixels-url"),
            SuccessSample(SCHNELL, [documented("together", "success_url.json")], size="1024x1024",
                          request={"provider_options": {"together": {"response_format": "url"}}},
                          id="flux-pixels-url-default-size"),
            SuccessSample(KONTEXT, [answer(200, encoded)], request={"size": "1:1"}, size="1024x1024",
                          id="flux-ratio"),
        ]

    @pytest.fixture
    def error_samples(self) -> list[ErrorSample]:
        def error(name: str, status: int, expected: type, **fields: str) -> ErrorSample:
            return ErrorSample(documented("together", name, status), expected, id=name, **fields)

        return [
            error("error_422_safety.json", 422, ContentPolicyError, stage="input"),
            error("error_422_validation.json", 422, RequestRejectedError),
            error("error_400.json", 400, RequestRejectedError),
            error("error_401.json", 401, AuthenticationError),
            error("error_402.json", 402, QuotaExceededError),
            error("error_404.json", 404, ModelNotFoundError),
            error("error_429.json", 429, RateLimitError),
            error("error_503.json", 503, ServiceUnavailableError),
        ]
