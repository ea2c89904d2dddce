"""AdapterContract for local (the offline placeholder renderer): its samples come from its own in-process server."""

from __future__ import annotations

import functools

import pytest

from imgsdk.adapter import Endpoint, WireResponse
from imgsdk.adapters.local import LocalAdapter
from imgsdk.errors import ServiceUnavailableError
from imgsdk.policy import apply
from imgsdk.request import ImageRequest
from imgsdk.testing.contract import AdapterContract, ErrorSample, SuccessSample


@functools.cache
def _rendered() -> WireResponse:
    """The renderer's own answer to the social-media example, two images (rendered once for all the tests)."""
    adapter = LocalAdapter()
    call, _ = apply(ImageRequest("a lighthouse", size="1792x1024", n=2), adapter.catalogue()["placeholder"],
                    adapter="local")
    served = adapter.serve(adapter.build_request(call, Endpoint(base_url="local://placeholder")))
    assert served is not None
    return served


class TestLocalContract(AdapterContract):
    @pytest.fixture
    def adapter(self) -> LocalAdapter:
        return LocalAdapter()

    @pytest.fixture
    def endpoint(self, adapter: LocalAdapter) -> Endpoint:
        return Endpoint(base_url="local://placeholder")  # no key: the renderer needs none

    @pytest.fixture
    def success_samples(self, adapter: LocalAdapter, endpoint: Endpoint) -> list[SuccessSample]:
        return [SuccessSample("placeholder", [_rendered()], request={"prompt": "a lighthouse", "size": "1792x1024",
                                                                      "n": 2}, size="1792x1024", id="rendered")]

    @pytest.fixture
    def error_samples(self) -> list[ErrorSample]:
        return [ErrorSample(WireResponse(500, {}, b"renderer crashed"), ServiceUnavailableError, id="500")]
