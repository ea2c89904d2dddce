"""AdapterContract for automatic1111, with the documented bodies of tests/data/automatic1111 (providers.md §10)."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from contract_support import answer, b64, body, documented

from imgsdk.adapters.automatic1111 import Automatic1111Adapter
from imgsdk.capabilities import ModelCapabilities
from imgsdk.errors import AuthenticationError, ModelNotFoundError, RequestRejectedError, ServiceUnavailableError
from imgsdk.testing.contract import AdapterContract, ErrorSample, SuccessSample


class TestAutomatic1111Contract(AdapterContract):
    @pytest.fixture
    def adapter(self) -> Automatic1111Adapter:
        return Automatic1111Adapter()

    @pytest.fixture
    def models(self) -> Mapping[str, ModelCapabilities | None]:
        # "default" is the loaded checkpoint; any other id is a checkpoint name sent as an override.
        return {"default": None, "dreamshaper_8": None}

    @pytest.fixture
    def success_samples(self) -> list[SuccessSample]:
        # TextToImageResponse {images, parameters, info: <JSON string>} with info.json's two 1024x1024 images.
        done = {"images": [b64(1024, 1024), b64(1024, 1024)], "parameters": {},
                "info": json.dumps(body("automatic1111", "info.json"))}
        return [SuccessSample("default", [answer(200, done)], request={"size": "1024x1024", "n": 2},
                              size="1024x1024", id="txt2img")]

    @pytest.fixture
    def error_samples(self) -> list[ErrorSample]:
        def error(name: str, status: int, expected: type, model: str = "default") -> ErrorSample:
            return ErrorSample(documented("automatic1111", name, status), expected, model=model, id=name)

        return [
            error("error_401.json", 401, AuthenticationError),
            error("error_404_model.json", 404, ModelNotFoundError, model="dreamshaper_8"),
            error("error_404_route.json", 404, RequestRejectedError),
            error("error_404_sampler.json", 404, RequestRejectedError),
            error("error_422_validation.json", 422, RequestRejectedError),
            error("error_422_validation_pydantic2.json", 422, RequestRejectedError),
            error("error_422_script.json", 422, RequestRejectedError),
            error("error_500_oom.json", 500, ServiceUnavailableError),
            error("error_500_invalid_image.json", 500, ServiceUnavailableError),
        ]
