"""openai-compatible adapter: permissive pass-through, config declarations respected, both result forms."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from PIL import Image

import imgsdk
from imgsdk.adapter import Endpoint, Secret, WireResponse
from imgsdk.adapters.openai_compatible import OpenAICompatibleAdapter
from imgsdk.capabilities import ModelCapabilities, SizeSpec
from imgsdk.errors import ConfigError, ContentPolicyError, ServiceUnavailableError
from imgsdk.policy import apply
from imgsdk.request import ImageRequest, PreparedRequest

DATA = Path(__file__).resolve().parent.parent / "data" / "openai"
PROMPT = "A photorealistic banner of a modern data centre at dawn"
BASE = "http://localhost:8080/v1"
adapter = OpenAICompatibleAdapter()


def png(size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 160, 60)).save(out, format="PNG")
    return out.getvalue()


def endpoint(key: str | None = None) -> Endpoint:
    return Endpoint(base_url=BASE, api_key=Secret(key) if key else None, default_service=False)


def prepare(caps: ModelCapabilities, request: ImageRequest, mode: str = "warn") -> tuple[PreparedRequest, list[Any]]:
    return apply(request, caps, adapter="openai-compatible", mode=mode)  # type: ignore[arg-type]


def warnings_of(warnings: list[Any]) -> list[tuple[str, str, Any, Any]]:
    return [(w.code, w.option, w.requested, w.applied) for w in warnings]


def response(body: Any, status: int = 200, **headers: str) -> WireResponse:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WireResponse(status, {k.replace("_", "-"): v for k, v in headers.items()}, content)


DALLE_LIKE = ModelCapabilities(
    model="sdxl", family="dalle", size=SizeSpec(mode="fixed", sizes=("512x512", "1024x1024")),
    qualities=("standard",), styles=(), max_images=4, returns="url", declared_by="config")
GPT_LIKE = ModelCapabilities(
    model="flux-gw", family="gpt-image", size=SizeSpec(mode="fixed", sizes=("1024x1024", "1536x1024")),
    qualities=("low", "high"), quality_aliases={"hd": "high"}, max_images=2, output_formats=("png", "webp"),
    declared_by="config")


# -- permissive ---------------------------------------------------------------------------------------------------
def test_permissive_passes_the_node_options_through_unchanged() -> None:
    caps = adapter.permissive_capabilities("sdxl-turbo")
    assert caps.declared_by == "permissive" and caps.model == "sdxl-turbo"
    request = ImageRequest(PROMPT, size="1792x1024", quality="hd", style="vivid")
    for mode in ("warn", "strict"):
        call, warnings = prepare(caps, request, mode)
        wire = adapter.build_request(call, endpoint())
        assert (wire.method, wire.url, wire.headers, wire.params) == ("POST", f"{BASE}/images/generations", {}, {})
        assert wire.json == {"model": "sdxl-turbo", "prompt": PROMPT, "n": 1, "size": "1792x1024", "quality": "hd",
                             "style": "vivid"}
        assert warnings == []


def test_permissive_keeps_any_size_and_other_vocabularies() -> None:
    caps = adapter.permissive_capabilities("m")
    call, warnings = prepare(caps, ImageRequest(PROMPT, size="1000x700", quality="low", style="natural", n=10,
                                                output_format="webp", background="opaque", user="u-1"))
    assert adapter.build_request(call, endpoint("local-key")).json == {
        "model": "m", "prompt": PROMPT, "n": 10, "size": "1000x700", "quality": "low", "style": "natural",
        "output_format": "webp", "background": "opaque", "user": "u-1"}
    assert warnings == []
    auto, _ = prepare(caps, ImageRequest(PROMPT, size="auto"))
    assert adapter.build_request(auto, endpoint()).json["size"] == "auto"


def test_permissive_drops_what_the_openai_api_does_not_have() -> None:
    call, warnings = prepare(adapter.permissive_capabilities("m"), ImageRequest(PROMPT, seed=3, negative_prompt="x"))
    assert adapter.build_request(call, endpoint()).json == {"model": "m", "prompt": PROMPT, "n": 1}
    assert warnings_of(warnings) == [("dropped", "seed", 3, None), ("dropped", "negative_prompt", "x", None)]


def test_key_is_optional_and_options_merge_last() -> None:
    request = ImageRequest(PROMPT, provider_options={"openai-compatible": {"response_format": "b64_json", "steps": 4}})
    call, _ = prepare(adapter.permissive_capabilities("m"), request)
    wire = adapter.build_request(call, endpoint("local-key"))
    assert wire.headers == {"Authorization": "Bearer local-key"}
    assert wire.json == {"model": "m", "prompt": PROMPT, "n": 1, "response_format": "b64_json", "steps": 4}
    assert adapter.key_required is False and adapter.default_base_url is None
    with pytest.raises(ConfigError, match="base_url"):
        adapter.build_request(call, Endpoint(base_url=""))


def test_catalogue_is_empty() -> None:
    assert adapter.catalogue() == {} and adapter.capabilities("anything", {}) is None
    assert not adapter.non_image_model("gpt-4o")  # a gateway may route any name anywhere


# -- declared capabilities ------------------------------------------------------------------------------------------
def test_declared_dalle_family_gets_the_dalle_body_and_is_checked() -> None:
    request = ImageRequest(PROMPT, size="1792x1024", quality="hd", style="vivid")
    call, warnings = prepare(DALLE_LIKE, request)
    assert adapter.build_request(call, endpoint()).json == {
        "model": "sdxl", "prompt": PROMPT, "n": 1, "size": "1024x1024", "response_format": "url"}
    assert warnings_of(warnings) == [("adapted", "size", "1792x1024", "1024x1024"),
                                     ("dropped", "quality", "hd", None), ("dropped", "style", "vivid", None)]
    with pytest.raises(imgsdk.errors.UnsupportedOptionError):
        prepare(DALLE_LIKE, request, mode="strict")


def test_declared_gpt_image_family_never_gets_style_or_response_format() -> None:
    request = ImageRequest(PROMPT, size="1536x1024", quality="hd", style="vivid", output_format="webp")
    call, warnings = prepare(GPT_LIKE, request)
    assert adapter.build_request(call, endpoint()).json == {
        "model": "flux-gw", "prompt": PROMPT, "n": 1, "size": "1536x1024", "quality": "high", "output_format": "webp"}
    assert warnings_of(warnings) == [("translated", "quality", "hd", "high"), ("dropped", "style", "vivid", None)]


# -- parsing ------------------------------------------------------------------------------------------------------
def test_reads_url_and_base64_items() -> None:
    raw = png((8, 8))
    body = {"created": 1, "data": [{"url": "http://localhost:8080/generated/a.png"},
                                   {"b64_json": base64.b64encode(raw).decode(), "revised_prompt": "rewritten"}]}
    call, _ = prepare(adapter.permissive_capabilities("m"), ImageRequest(PROMPT, n=2, size="512x512"))
    result = adapter.parse_response(response(body, x_request_id="r-1"), call)
    first, second = result.images
    assert first.url == "http://localhost:8080/generated/a.png" and first.expires_at is None
    assert first.revised_prompt == PROMPT and first.size == "512x512"
    assert second.data == raw and second.revised_prompt == "rewritten" and second.size == "8x8"
    assert result.request_id == "r-1"


def test_errors_from_proxies() -> None:
    moderation = json.loads((DATA / "error_moderation_blocked.json").read_text())
    refused = adapter.parse_error(response(moderation, 400), None)
    assert isinstance(refused, ContentPolicyError) and refused.adapter == "openai-compatible"
    text = adapter.parse_error(response(b"upstream connect error", 503), None)
    assert isinstance(text, ServiceUnavailableError) and "upstream connect error" in str(text)
    fastapi = adapter.parse_error(response({"detail": "model m is not loaded"}, 400), None)
    assert "model m is not loaded" in str(fastapi)
    plain = adapter.parse_error(response({"error": "bad size"}, 400), None)
    assert "bad size" in str(plain)
    assert adapter.is_retryable(response(b"", 503)) and not adapter.is_retryable(response(b"", 400))


# -- end to end through imgsdk.Client (MockTransport, no network, no sleeping) -----------------------------------
def test_end_to_end_permissive_and_declared() -> None:
    raw = png()
    sent: list[dict[str, Any]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(json.loads(request.content))
        return httpx2.Response(200, json={"created": 1, "data": [{"b64_json": base64.b64encode(raw).decode()}]})

    config = {"providers": {"gw": {"model": "openai-compatible:any", "base_url": BASE},
                            "sd": {"model": "openai-compatible:sdxl", "base_url": BASE}},
              "models": {"openai-compatible:sdxl": {"family": "dalle", "returns": "base64",
                                                    "size": {"mode": "fixed", "sizes": ["1024x1024"]}}}}
    with imgsdk.Client(config, transport=httpx2.MockTransport(handler), sleep=lambda _: None) as client:
        loose = client.generate(PROMPT, provider="gw", size="1792x1024", quality="hd", style="vivid")
        checked = client.generate(PROMPT, provider="sd", size="1792x1024")
    assert sent[0] == {"model": "any", "prompt": PROMPT, "n": 1, "size": "1792x1024", "quality": "hd",
                       "style": "vivid"}
    assert [w.code for w in loose.warnings] == ["unknown_model"]
    assert sent[1] == {"model": "sdxl", "prompt": PROMPT, "n": 1, "size": "1024x1024",
                       "response_format": "b64_json"}
    assert [w.code for w in checked.warnings] == ["adapted"] and checked.images[0].data == raw


def test_a_declaration_that_allows_seed_sends_it() -> None:
    declared = ModelCapabilities(model="local-sd", seed=True, negative_prompt=True, max_images=1,
                                 size=SizeSpec(mode="free", multiple=8, max_side=2048), declared_by="config")
    call, warnings = prepare(declared, ImageRequest(PROMPT, size="1000x700", seed=42, negative_prompt="text"))
    assert adapter.build_request(call, endpoint()).json == {
        "model": "local-sd", "prompt": PROMPT, "n": 1, "size": "1000x704", "seed": 42, "negative_prompt": "text"}
    assert warnings_of(warnings) == [("adapted", "size", "1000x700", "1000x704")]
