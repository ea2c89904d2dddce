"""AdapterContract for xai, with the documented bodies of tests/data/xai (providers.md §9)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import pytest
from contract_support import answer, b64, body, documented

from imgsdk.adapters.xai import XAIAdapter
from imgsdk.errors import (
    AuthenticationError,
    ContentPolicyError,
    ModelNotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RequestRejectedError,
)
from imgsdk.testing.contract import AdapterContract, ErrorSample, SuccessSample


class TestXAIContract(AdapterContract):
    known_failures: ClassVar[Mapping[str, str]] = {
        "sample:grok-imagine-url": "xAI answers with a URL and no pixel size (response_format url is the "
                                   "default), so result.size and the node's `size` output are None until the "
                                   "image is downloaded (reported as an adapter finding)",
    }

    @pytest.fixture
    def adapter(self) -> XAIAdapter:
        return XAIAdapter()

    @pytest.fixture
    def success_samples(self) -> list[SuccessSample]:
        as_b64 = body("xai", "success_b64.json")
        as_b64["data"][0]["b64_json"] = b64(1024, 1024, "JPEG")  # the documented "dGVzdA==" is not an image
        return [
            SuccessSample("grok-imagine-image", [documented("xai", "success_url.json")], id="grok-imagine-url"),
            SuccessSample("grok-imagine-image", [answer(200, as_b64)], size="1024x1024",
                          request={"provider_options": {"xai": {"response_format": "b64_json"}}},
                          id="grok-imagine-b64"),
            SuccessSample("grok-2-image", [answer(200, as_b64)], size="1024x1024", id="grok-2-b64"),
        ]

    @pytest.fixture
    def error_samples(self) -> list[ErrorSample]:
        def error(name: str, status: int, expected: type, **fields: str) -> ErrorSample:
            return ErrorSample(documented("xai", name, status), expected, id=name, **fields)

        return [
            error("moderated_empty_data.json", 200, ContentPolicyError),
            error("moderated_empty_payload.json", 200, ContentPolicyError, stage="output"),
            error("moderated_respect_false.json", 200, ContentPolicyError, stage="output"),
            error("moderated_input_block_reason.json", 200, ContentPolicyError, stage="input"),
            error("error_moderation_400.json", 400, ContentPolicyError, stage="input"),
            error("error_bad_key_400.json", 400, AuthenticationError),
            error("error_credits_429.json", 429, QuotaExceededError),
            error("error_rate_limit_429.json", 429, RateLimitError),
            error("error_permission_403.json", 403, PermissionDeniedError),
            error("error_model_not_found_404.json", 404, ModelNotFoundError),
            error("error_invalid_argument.json", 400, RequestRejectedError),
        ]
