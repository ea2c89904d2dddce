"""AdapterContract for openai-compatible: no catalogue, so the models are declared as a user's config would
declare them (one per wire family) plus an undeclared model served permissively. Bodies: tests/data/openai."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from contract_support import answer, b64, body, documented, fill

from imgsdk.adapter import Endpoint
from imgsdk.adapters.openai_compatible import OpenAICompatibleAdapter
from imgsdk.capabilities import ModelCapabilities
from imgsdk.config import declare_model
from imgsdk.errors import AuthenticationError, ContentPolicyError, RateLimitError, ServiceUnavailableError
from imgsdk.testing.contract import AdapterContract, ErrorSample, SuccessSample

LOCALAI = "http://localhost:8080/v1"
ADAPTER = OpenAICompatibleAdapter()
# [models."openai-compatible:..."] tables as a user writes them (imgsdk.config.declare_model reads them).
DECLARED = {
    "dall-e-3": declare_model("openai-compatible:dall-e-3", {
        "family": "dalle", "size": {"mode": "fixed", "sizes": ["1024x1024", "1792x1024", "1024x1792"],
                                    "default": "1024x1024"},
        "qualities": ["standard", "hd"], "quality_default": "standard", "styles": ["vivid", "natural"],
        "style_default": "vivid", "returns": "url", "user_field": True}),
    "gpt-image-1": declare_model("openai-compatible:gpt-image-1", {
        "family": "gpt-image", "size": {"mode": "fixed", "sizes": ["1024x1024", "1536x1024", "1024x1536"],
                                        "default": "1024x1024"},
        "qualities": ["low", "medium", "high"], "quality_default": "medium", "max_images": 4,
        "output_formats": ["png", "jpeg", "webp"], "output_format_default": "png",
        "background": ["transparent", "opaque", "auto"], "returns": "base64"}),
}


class TestOpenAICompatibleContract(AdapterContract):
    @pytest.fixture
    def adapter(self) -> OpenAICompatibleAdapter:
        return ADAPTER

    @pytest.fixture
    def endpoint(self) -> Endpoint:
        return Endpoint(base_url=LOCALAI, default_service=False)  # LocalAI takes no key

    @pytest.fixture
    def models(self) -> Mapping[str, ModelCapabilities | None]:
        return {**DECLARED, "stablediffusion": ADAPTER.permissive_capabilities("stablediffusion")}

    @pytest.fixture
    def success_samples(self) -> list[SuccessSample]:
        gpt_image = fill(body("openai", "gpt_image_b64.json"), "...", b64(1024, 1024))
        return [
            SuccessSample("gpt-image-1", [answer(200, gpt_image)], size="1024x1024", id="gpt-image"),
            SuccessSample("dall-e-3", [documented("openai", "dalle3_url.json")], id="dalle"),
            SuccessSample("stablediffusion", [documented("openai", "dalle_era_urls.json")],
                          request={"size": "512x512"}, size="512x512", id="permissive"),
        ]

    @pytest.fixture
    def error_samples(self) -> list[ErrorSample]:
        return [
            ErrorSample(documented("openai", "error_invalid_api_key.json", 401), AuthenticationError,
                        model="dall-e-3", id="401"),
            ErrorSample(documented("openai", "error_rate_limit.json", 429), RateLimitError, model="dall-e-3",
                        id="429"),
            ErrorSample(documented("openai", "error_content_policy_violation.json", 400), ContentPolicyError,
                        model="dall-e-3", id="content_policy_violation"),
            ErrorSample(documented("openai", "error_server.json", 500), ServiceUnavailableError, model="dall-e-3",
                        id="500"),
        ]
