"""AdapterContract for fake (imgsdk.testing.fake): samples and scripted failures from its own in-process server."""

from __future__ import annotations

from typing import Any

import pytest

from imgsdk.adapter import Endpoint, JobHandle, Pending, WireResponse
from imgsdk.errors import (
    AuthenticationError,
    ContentPolicyError,
    ImgSDKError,
    QuotaExceededError,
    RateLimitError,
    ServiceUnavailableError,
)
from imgsdk.policy import apply
from imgsdk.request import ImageRequest
from imgsdk.testing.contract import AdapterContract, ErrorSample, SuccessSample
from imgsdk.testing.fake import MODELS, FakeAdapter


def _serve(adapter: FakeAdapter, endpoint: Endpoint, model: str, **fields: Any) -> list[WireResponse]:
    """Every answer of one call, as the engine would receive them: submit, then polls until done or failed."""
    call, _ = apply(ImageRequest("a fox", **fields), MODELS[model], adapter="fake")
    answers: list[WireResponse] = []
    handle: JobHandle | None = None
    request = adapter.build_request(call, endpoint)
    while True:
        answer = adapter.serve(request)
        assert answer is not None
        answers.append(answer)
        if answer.status >= 400:
            return answers
        try:
            outcome = (adapter.parse_response(answer, call) if handle is None
                       else adapter.parse_poll(answer, handle, call))
        except ImgSDKError:
            return answers
        if not isinstance(outcome, Pending):
            return answers
        handle = outcome.handle
        request = adapter.poll_request(handle, endpoint)


class TestFakeContract(AdapterContract):
    @pytest.fixture
    def adapter(self) -> FakeAdapter:
        return FakeAdapter()  # a private instance: the registered one belongs to the tests that use `fake:`

    @pytest.fixture
    def success_samples(self, adapter: FakeAdapter, endpoint: Endpoint) -> list[SuccessSample]:
        return [
            SuccessSample("fake-square", _serve(adapter, endpoint, "fake-square", size="1792x1024"),
                          request={"prompt": "a fox", "size": "1792x1024"}, size="1792x1024", id="square"),
            SuccessSample("fake-ratio", _serve(adapter, endpoint, "fake-ratio", size="16:9"),
                          request={"prompt": "a fox", "size": "16:9"}, size="1024x576", id="ratio"),
            SuccessSample("fake-poll", _serve(adapter, endpoint, "fake-poll", size="512x768"),
                          request={"prompt": "a fox", "size": "512x768"}, size="512x768", id="poll"),
        ]

    @pytest.fixture
    def error_samples(self, adapter: FakeAdapter, endpoint: Endpoint) -> list[ErrorSample]:
        samples = []
        for kind, expected in (("rate_limit", RateLimitError), ("quota", QuotaExceededError),
                               ("moderation", ContentPolicyError), ("auth", AuthenticationError),
                               ("server_error", ServiceUnavailableError)):
            adapter.script.fail(kind)
            samples.append(ErrorSample(_serve(adapter, endpoint, "fake-square"), expected, id=kind))
        adapter.script.fail("moderation_output")
        samples.append(ErrorSample(_serve(adapter, endpoint, "fake-square"), ContentPolicyError, stage="output",
                                   id="moderation_output"))
        return samples
