"""AdapterContract for openai, with the documented bodies of tests/data/openai (providers.md §1)."""

from __future__ import annotations

import pytest
from contract_support import answer, b64, body, documented, fill

from imgsdk.adapters.openai import OpenAIAdapter
from imgsdk.errors import (
    AuthenticationError,
    ContentPolicyError,
    ModelNotFoundError,
    QuotaExceededError,
    RateLimitError,
    ServiceUnavailableError,
)
from imgsdk.testing.contract import AdapterContract, ErrorSample, SuccessSample


class TestOpenAIContract(AdapterContract):
    @pytest.fixture
    def adapter(self) -> OpenAIAdapter:
        return OpenAIAdapter()

    @pytest.fixture
    def success_samples(self) -> list[SuccessSample]:
        gpt_image = fill(body("openai", "gpt_image_b64.json"), "...", b64(1024, 1024))
        return [
            SuccessSample("gpt-image-2", [answer(200, gpt_image)], size="1024x1024", id="gpt-image"),
            SuccessSample("dall-e-3", [documented("openai", "dalle3_url.json")],
                          request={"size": "1792x1024"}, size="1792x1024", id="dall-e-3"),
            SuccessSample("dall-e-2", [documented("openai", "dalle_era_urls.json")], id="dall-e-2"),
        ]

    @pytest.fixture
    def error_samples(self) -> list[ErrorSample]:
        return [
            ErrorSample(documented("openai", "error_invalid_api_key.json", 401), AuthenticationError, id="401"),
            ErrorSample(documented("openai", "error_rate_limit.json", 429), RateLimitError, id="429"),
            ErrorSample(documented("openai", "error_insufficient_quota.json", 429), QuotaExceededError,
                        id="429-quota"),
            ErrorSample(documented("openai", "error_moderation_blocked.json", 400), ContentPolicyError,
                        model="gpt-image-2", id="moderation_blocked"),
            ErrorSample(documented("openai", "error_moderation_blocked_details.json", 400), ContentPolicyError,
                        model="gpt-image-2", id="moderation_blocked-details"),
            ErrorSample(documented("openai", "error_content_policy_violation.json", 400), ContentPolicyError,
                        model="dall-e-3", id="content_policy_violation"),
            ErrorSample(documented("openai", "error_model_not_found.json", 404), ModelNotFoundError, id="404"),
            ErrorSample(documented("openai", "error_server.json", 500), ServiceUnavailableError, id="500"),
        ]
