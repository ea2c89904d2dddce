"""AdapterContract for stability, with the documented bodies of tests/data/stability (providers.md §3).

Pixel sizes: Core answers 1:1 with 1536x1536 and Ultra with 1024x1024 (Stability's own ComfyUI node labels,
[SAI-COMFY], UNCONFIRMED as API output sizes); SDXL v1 with the width/height asked for.
"""

from __future__ import annotations

import pytest
from contract_support import answer, b64, body, documented, fill, image

from imgsdk.adapters.stability import StabilityAdapter
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


def _png_json(name: str, width: int, height: int) -> object:
    return fill(body("stability", name), "__PNG_BASE64__", b64(width, height))


class TestStabilityContract(AdapterContract):
    @pytest.fixture
    def adapter(self) -> StabilityAdapter:
        return StabilityAdapter()

    @pytest.fixture
    def success_samples(self) -> list[SuccessSample]:
        raw = answer(200, image(1536, 1536), content_type="image/png", finish_reason="SUCCESS", seed="1050625087")
        as_json = answer(200, _png_json("json_success.json", 1024, 1024),
                         content_type="application/json; type=image/png")
        artifacts = answer(200, _png_json("v1_artifacts_mixed.json", 1024, 1024))
        return [
            SuccessSample("stable-image-core", [raw], size="1536x1536", id="v2beta-bytes"),
            SuccessSample("stable-image-ultra", [as_json], request={"provider_options": {"stability": {
                "accept": "json"}}}, size="1024x1024", id="v2beta-json"),
            SuccessSample("stable-diffusion-xl-1024-v1-0", [artifacts], request={"size": "1024x1024"},
                          size="1024x1024", id="v1-artifacts"),
        ]

    @pytest.fixture
    def error_samples(self) -> list[ErrorSample]:
        filtered = answer(200, _png_json("json_content_filtered.json", 1024, 1024),
                          content_type="application/json; type=image/png")
        return [
            ErrorSample(documented("stability", "content_moderation_403.json", 403), ContentPolicyError,
                        stage="input", id="content_moderation-403"),
            ErrorSample(filtered, ContentPolicyError, stage="output", id="CONTENT_FILTERED-200"),
            ErrorSample(documented("stability", "v1_invalid_prompts_400.json", 400), ContentPolicyError,
                        model="stable-diffusion-xl-1024-v1-0", stage="input", id="v1-invalid_prompts"),
            ErrorSample(documented("stability", "unauthorized_401.json", 401), AuthenticationError, id="401"),
            ErrorSample(documented("stability", "payment_required_402.json", 402), QuotaExceededError, id="402"),
            ErrorSample(documented("stability", "v1_permission_denied_403.json", 403), PermissionDeniedError,
                        model="stable-diffusion-xl-1024-v1-0", id="v1-403"),
            ErrorSample(documented("stability", "v1_not_found_404.json", 404), ModelNotFoundError,
                        model="stable-diffusion-xl-1024-v1-0", id="v1-404"),
            ErrorSample(documented("stability", "bad_request_400.json", 400), RequestRejectedError, id="400"),
            ErrorSample(documented("stability", "rate_limit_429.json", 429), RateLimitError, id="429"),
            ErrorSample(documented("stability", "server_error_500.json", 500), ServiceUnavailableError, id="500"),
        ]
