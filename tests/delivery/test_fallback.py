"""Fallbacks: a DALL·E-style profile (openai:dall-e-3 behind a custom base_url) that answers 503 falls back to a
GPT-image profile and to a Stability profile; each gets the user's ORIGINAL request mapped through its own
capabilities, so only options it accepts reach the wire (asserted on the exact wire bodies)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

import imgsdk
from delivery.support import multipart_fields, no_sleep, no_sleep_async, png_bytes
from imgsdk.errors import AuthenticationError, ContentPolicyError, ServiceUnavailableError, UnsupportedOptionError

PNG = png_bytes(16, 9)
PROMPT = "a lighthouse at dawn"
GATEWAY, GPT, STABILITY = "gateway.example", "gpt.example", "stability.example"


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DALLE_KEY", "GPT_KEY", "STAB_KEY"):
        monkeypatch.setenv(name, f"sk-{name.lower()}-0123456789")


def config(**dalle: Any) -> dict[str, Any]:
    return {"providers": {
        # The primary profile's own defaults (quality, style) must NOT follow the request to a fallback.
        "dalle": {"model": "openai:dall-e-3", "base_url": f"https://{GATEWAY}/v1", "api_key": "${DALLE_KEY}",
                  "quality": "hd", "style": "vivid", "fallbacks": ["gpt", "stab"], **dalle},
        "gpt": {"model": "openai:gpt-image-1.5", "base_url": f"https://{GPT}/v1", "api_key": "${GPT_KEY}",
                "output_format": "webp"},  # the fallback's own profile defaults do apply
        "stab": {"model": "stability:stable-image-core", "base_url": f"https://{STABILITY}",
                 "api_key": "${STAB_KEY}"}}}


def openai_error(status: int, code: str, message: str) -> httpx2.Response:
    return httpx2.Response(status, json={"error": {"message": message, "type": "error", "param": None,
                                                   "code": code}})


class Wire:
    """A MockTransport: per host, a function answering each request; every request is kept."""

    def __init__(self, **answers: Callable[[httpx2.Request], httpx2.Response]) -> None:
        self.answers = {host.replace("_", "."): answer for host, answer in answers.items()}
        self.requests: list[httpx2.Request] = []

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        self.requests.append(request)
        return self.answers[request.url.host](request)

    async def ahandler(self, request: httpx2.Request) -> httpx2.Response:
        return self.handler(request)

    def to(self, host: str) -> list[httpx2.Request]:
        return [request for request in self.requests if request.url.host == host]


def gpt_ok(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json={"created": 1, "data": [{"b64_json": base64.b64encode(PNG).decode()}]})


def stability_ok(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, content=PNG, headers={"content-type": "image/png", "finish-reason": "SUCCESS",
                                                      "seed": "42"})


def outage(request: httpx2.Request) -> httpx2.Response:
    return openai_error(503, "server_error", "The server is overloaded")


REQUEST = dict(provider="dalle", size="1792x1024", style="natural",
               provider_options={"stability": {"style_preset": "photographic"}})
GPT_BODY = {"model": "gpt-image-1.5", "prompt": PROMPT, "n": 1, "size": "1536x1024", "output_format": "webp"}
STABILITY_FORM = {"prompt": PROMPT, "aspect_ratio": "16:9", "style_preset": "photographic"}


def test_dalle_outage_falls_back_to_gpt_image_with_only_what_it_accepts() -> None:
    wire = Wire(gateway_example=outage, gpt_example=gpt_ok, stability_example=stability_ok)
    with imgsdk.Client(config(), transport=httpx2.MockTransport(wire.handler), sleep=no_sleep) as client:
        result = client.generate(PROMPT, **REQUEST)
    dalle = [json.loads(request.content) for request in wire.to(GATEWAY)]
    assert len(dalle) == 3  # the first call and its two retries
    assert dalle[0] == {"model": "dall-e-3", "prompt": PROMPT, "n": 1, "size": "1792x1024", "quality": "hd",
                        "style": "natural", "response_format": "url"}
    [gpt] = wire.to(GPT)
    assert json.loads(gpt.content) == GPT_BODY  # no style, no hd, no response_format, no stability option
    assert gpt.headers["authorization"] == "Bearer sk-gpt_key-0123456789"
    assert wire.to(STABILITY) == []
    assert result.provider == "openai:gpt-image-1.5" and result.profile == "gpt"
    assert result.images[0].data == PNG
    fallback = [w for w in result.warnings if w.code == "fallback"]
    assert len(fallback) == 1 and fallback[0].requested == "openai:dall-e-3"
    assert "ServiceUnavailableError" in fallback[0].message and "openai:gpt-image-1.5" in fallback[0].message
    assert [(w.code, w.option) for w in result.warnings if w.code != "fallback"] == [("adapted", "size"),
                                                                                      ("dropped", "style")]


def test_quota_on_the_second_falls_through_to_stability_with_only_what_it_accepts() -> None:
    def quota(request: httpx2.Request) -> httpx2.Response:
        return openai_error(429, "insufficient_quota", "You exceeded your current quota")

    wire = Wire(gateway_example=outage, gpt_example=quota, stability_example=stability_ok)
    with imgsdk.Client(config(), transport=httpx2.MockTransport(wire.handler), sleep=no_sleep) as client:
        result = client.generate(PROMPT, **REQUEST)
    assert len(wire.to(GPT)) == 1  # quota is not retried
    [stability] = wire.to(STABILITY)
    assert stability.url.path == "/v2beta/stable-image/generate/core"
    assert multipart_fields(stability) == STABILITY_FORM  # no size in pixels, no style, no quality, no n
    assert stability.headers["authorization"] == "Bearer sk-stab_key-0123456789"
    assert result.provider == "stability:stable-image-core" and result.profile == "stab"
    assert [w.requested for w in result.warnings if w.code == "fallback"] == ["openai:dall-e-3",
                                                                             "openai:gpt-image-1.5"]
    assert result.images[0].seed == 42 and result.cost_usd == 0.03


async def test_the_async_client_falls_back_the_same_way() -> None:
    wire = Wire(gateway_example=outage, gpt_example=gpt_ok, stability_example=stability_ok)
    async with imgsdk.AsyncClient(config(), transport=httpx2.MockTransport(wire.ahandler),
                                  sleep=no_sleep_async) as client:
        result = await client.generate(PROMPT, **REQUEST)
    assert json.loads(wire.to(GPT)[0].content) == GPT_BODY
    assert result.provider == "openai:gpt-image-1.5"


@pytest.mark.parametrize(("headers", "dalle_calls"), [
    ({"retry-after": "300"}, 1),  # "come back in 5 minutes": beyond max_retry_after, no wait
    ({}, 3),                      # no hint: the normal retries (2), then the fallback
])
def test_a_rate_limit_that_outlasts_the_retries_falls_back(headers: dict[str, str], dalle_calls: int) -> None:
    def limited(request: httpx2.Request) -> httpx2.Response:
        answer = openai_error(429, "rate_limit_exceeded", "Rate limit reached for images per minute")
        answer.headers.update(headers)
        return answer

    wire = Wire(gateway_example=limited, gpt_example=gpt_ok, stability_example=stability_ok)
    with imgsdk.Client(config(), transport=httpx2.MockTransport(wire.handler), sleep=no_sleep) as client:
        result = client.generate(PROMPT, **REQUEST)
    assert len(wire.to(GATEWAY)) == dalle_calls
    [gpt] = wire.to(GPT)
    assert json.loads(gpt.content) == GPT_BODY
    assert result.profile == "gpt"
    [fallback] = [w for w in result.warnings if w.code == "fallback"]
    assert "RateLimitError" in fallback.message


def test_content_policy_does_not_fall_back_unless_configured() -> None:
    def refused(request: httpx2.Request) -> httpx2.Response:
        return openai_error(400, "content_policy_violation", "Your request was rejected by the safety system")

    wire = Wire(gateway_example=refused, gpt_example=gpt_ok, stability_example=stability_ok)
    with imgsdk.Client(config(), transport=httpx2.MockTransport(wire.handler), sleep=no_sleep) as client, \
            pytest.raises(ContentPolicyError):
        client.generate(PROMPT, **REQUEST)
    assert wire.to(GPT) == [] and wire.to(STABILITY) == []
    with imgsdk.Client(config(fallback_on_content_policy=True), transport=httpx2.MockTransport(wire.handler),
                       sleep=no_sleep) as client:
        result = client.generate(PROMPT, **REQUEST)
    assert result.provider == "openai:gpt-image-1.5" and "ContentPolicyError" in result.warnings[0].message


def test_a_retired_model_falls_back_before_any_call() -> None:
    retired = config()
    retired["providers"]["dalle"].pop("base_url")  # DALL·E on OpenAI's own service: shut down
    wire = Wire(gpt_example=gpt_ok)
    with imgsdk.Client(retired, transport=httpx2.MockTransport(wire.handler), sleep=no_sleep) as client:
        result = client.generate(PROMPT, **REQUEST)
    assert [request.url.host for request in wire.requests] == [GPT]
    assert result.warnings[0].code == "fallback" and "ModelRetiredError" in result.warnings[0].message


def test_other_errors_are_raised_without_falling_back() -> None:
    def unauthorised(request: httpx2.Request) -> httpx2.Response:
        return openai_error(401, "invalid_api_key", "Incorrect API key provided")

    wire = Wire(gateway_example=unauthorised, gpt_example=gpt_ok)
    with imgsdk.Client(config(), transport=httpx2.MockTransport(wire.handler), sleep=no_sleep) as client, \
            pytest.raises(AuthenticationError):
        client.generate(PROMPT, **REQUEST)
    assert wire.to(GPT) == []


def test_strict_mode_skips_fallbacks_that_would_change_the_request() -> None:
    """In strict mode a fallback that cannot take the request as asked is not used; when none can, the first
    error is raised with a note per fallback."""
    wire = Wire(gateway_example=outage, gpt_example=gpt_ok, stability_example=stability_ok)
    with imgsdk.Client(config(), transport=httpx2.MockTransport(wire.handler), sleep=no_sleep) as client, \
            pytest.raises(ServiceUnavailableError) as caught:
        client.generate(PROMPT, **REQUEST, on_unsupported="strict")
    assert wire.to(GPT) == [] and wire.to(STABILITY) == []  # planned, refused before the network
    notes = "\n".join(caught.value.__notes__)
    assert "gpt failed too: UnsupportedOptionError" in notes and "stab failed too" in notes
    assert issubclass(UnsupportedOptionError, imgsdk.InvalidRequestError)
