"""AdapterContract for comfyui, with the documented bodies of tests/data/comfyui (providers.md §11)."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from contract_support import DATA, documented

from imgsdk.adapter import Endpoint, Secret
from imgsdk.adapters.comfyui import ComfyUIAdapter
from imgsdk.capabilities import ModelCapabilities
from imgsdk.errors import ProviderError, RequestRejectedError, ServiceUnavailableError
from imgsdk.testing.contract import CANARY_KEY, AdapterContract, ErrorSample, SuccessSample

BASE = "http://127.0.0.1:8188"
PID = "5e1f0b8c-3a2d-4c1e-9f7a-2b6d8e4c1a90"


def _job(*history: str) -> list:
    return [documented("comfyui", "submit_ok.json", url=f"{BASE}/prompt"),
            *(documented("comfyui", name, url=f"{BASE}/history/{PID}") for name in history)]


class TestComfyUIContract(AdapterContract):
    @pytest.fixture
    def adapter(self) -> ComfyUIAdapter:
        return ComfyUIAdapter()

    @pytest.fixture
    def models(self, adapter: ComfyUIAdapter) -> Mapping[str, ModelCapabilities | None]:
        # "default" keeps the workflow's checkpoint; any other id is a checkpoint file name.
        return {"default": None, "sd_xl_base_1.0.safetensors": None}

    @pytest.fixture
    def success_samples(self) -> list[SuccessSample]:
        return [SuccessSample("default", _job("history_pending.json", "history_pending.json",
                                              "history_success.json"),
                              request={"size": "1792x1024", "n": 2}, size="1792x1024", id="workflow")]

    @pytest.fixture
    def error_samples(self) -> list[ErrorSample]:
        def submit(name: str, status: int) -> ErrorSample:
            return ErrorSample(documented("comfyui", name, status, url=f"{BASE}/prompt"), RequestRejectedError,
                               id=name)

        return [
            ErrorSample(_job("history_error.json"), ServiceUnavailableError, id="out-of-memory"),
            ErrorSample(_job("history_error_value.json"), ProviderError, id="execution-error"),
            ErrorSample(_job("history_interrupted.json"), ProviderError, id="interrupted"),
            submit("submit_400_validation.json", 400),
            submit("submit_400_no_prompt.json", 400),
            submit("submit_400_invalid_prompt.json", 400),
            submit("submit_partial_node_errors.json", 200),
        ]


class TestComfyUISDXLWorkflowContract(TestComfyUIContract):
    """The same contract for a user's own API-format SDXL workflow and its mapping (tests/data/comfyui): the
    declaration follows the mapping (no negative_prompt entry: no negative prompt), and every mapped field must
    reach the graph."""

    @pytest.fixture
    def endpoint(self) -> Endpoint:
        settings = {"workflow": str(DATA / "comfyui" / "workflow_sdxl_api.json"),
                    "workflow_mapping": json.loads((DATA / "comfyui" / "workflow_sdxl_mapping.json").read_text())}
        return Endpoint(base_url=BASE, api_key=Secret(CANARY_KEY), default_service=False, settings=settings)
