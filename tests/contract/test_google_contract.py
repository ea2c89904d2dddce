"""AdapterContract for google, with the documented bodies of tests/data/google (providers.md §4)."""

from __future__ import annotations

import pytest
from contract_support import answer, b64, body, documented, fill

from imgsdk.adapters.google import GoogleAdapter
from imgsdk.errors import (
    AuthenticationError,
    ContentPolicyError,
    ModelNotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RequestRejectedError,
    ServiceUnavailableError,
)
from imgsdk.testing.contract import AdapterContract, ErrorSample, SuccessSample

FLASH, IMAGEN = "gemini-3.1-flash-image", "imagen-4.0-generate-001"


def _with_png(name: str) -> object:
    return fill(body("google", name), "__PNG_BASE64__", b64(1024, 1024))


class TestGoogleContract(AdapterContract):
    @pytest.fixture
    def adapter(self) -> GoogleAdapter:
        return GoogleAdapter()

    @pytest.fixture
    def success_samples(self) -> list[SuccessSample]:
        return [
            SuccessSample(FLASH, [answer(200, _with_png("gemini_image.json"))], size="1024x1024", id="gemini"),
            SuccessSample(IMAGEN, [answer(200, _with_png("imagen_predictions.json"))], request={"n": 2},
                          size="1024x1024", id="imagen"),
        ]

    @pytest.fixture
    def error_samples(self) -> list[ErrorSample]:
        def error(name: str, status: int, expected: type, model: str = FLASH, **fields: str) -> ErrorSample:
            return ErrorSample(documented("google", name, status), expected, model=model, id=name, **fields)

        return [
            error("gemini_prompt_blocked.json", 200, ContentPolicyError, stage="input"),
            error("gemini_image_safety.json", 200, ContentPolicyError, stage="output"),
            error("gemini_text_refusal.json", 200, ContentPolicyError),
            error("imagen_all_filtered.json", 200, ContentPolicyError, IMAGEN, stage="output"),
            error("imagen_sensitive_words_400.json", 400, ContentPolicyError, IMAGEN, stage="input"),
            error("api_key_invalid_400.json", 400, AuthenticationError),
            error("unauthenticated_401.json", 401, AuthenticationError),
            error("permission_denied_403.json", 403, PermissionDeniedError),
            error("location_400.json", 400, PermissionDeniedError),
            error("rate_limit_429.json", 429, RateLimitError),
            error("quota_limit_zero_429.json", 429, QuotaExceededError),
            error("quota_per_day_429.json", 429, QuotaExceededError),
            error("not_found_404.json", 404, ModelNotFoundError, IMAGEN),
            error("invalid_argument_400.json", 400, RequestRejectedError),
            error("internal_500.json", 500, ServiceUnavailableError),
            error("unavailable_503.json", 503, ServiceUnavailableError),
        ]
