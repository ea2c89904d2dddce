"""AdapterContract for azure, with the documented bodies of tests/data/azure (providers.md §2)."""

from __future__ import annotations

import pytest
from contract_support import answer, b64, body, documented, fill

from imgsdk.adapter import Endpoint, Secret
from imgsdk.adapters.azure import AzureAdapter
from imgsdk.errors import ContentPolicyError, ModelNotFoundError
from imgsdk.testing.contract import CANARY_KEY, AdapterContract, ErrorSample, SuccessSample

RESOURCE = "https://my-resource.openai.azure.com"


class TestAzureContract(AdapterContract):
    @pytest.fixture
    def adapter(self) -> AzureAdapter:
        return AzureAdapter()

    @pytest.fixture
    def endpoint(self) -> Endpoint:
        return Endpoint(base_url=RESOURCE, api_key=Secret(CANARY_KEY), default_service=False)

    @pytest.fixture
    def success_samples(self) -> list[SuccessSample]:
        gpt_image = fill(body("azure", "gpt_image_1.json"), "<base64 image data>", b64(1024, 1024))
        return [
            SuccessSample("dall-e-3", [documented("azure", "image_generation_dalle3.json")], id="dall-e-3",
                          request={"style": "natural", "quality": "standard"}, size="1024x1024"),
            SuccessSample("gpt-image-1", [answer(200, gpt_image)], request={"size": "1024x1024", "quality": "high"},
                          size="1024x1024", id="gpt-image-1"),
        ]

    @pytest.fixture
    def error_samples(self) -> list[ErrorSample]:
        return [
            ErrorSample(documented("azure", "error_content_filter_input.json", 400), ContentPolicyError,
                        stage="input", id="contentFilter-input"),
            ErrorSample(documented("azure", "error_content_filter_output.json", 400), ContentPolicyError,
                        stage="output", id="contentFilter-output"),
            ErrorSample(documented("azure", "error_inner_error.json", 400), ContentPolicyError, model="dall-e-3",
                        id="inner_error"),
            ErrorSample(documented("azure", "error_innererror.json", 400), ContentPolicyError, model="dall-e-3",
                        id="innererror"),
            ErrorSample(documented("azure", "error_moderation_blocked.json", 400), ContentPolicyError,
                        id="moderation_blocked"),
            ErrorSample(documented("azure", "error_deployment_not_found.json", 404), ModelNotFoundError,
                        id="deployment-not-found"),
        ]
