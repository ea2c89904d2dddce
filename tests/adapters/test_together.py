"""TogetherAdapter: declarations against the wire, response parsing, the safety checker, errors.

Bodies live in tests/data/together/ (provenance in SOURCES.md). No network, no sleeps.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imgsdk.adapter import Endpoint, Images, Secret, WireRequest, WireResponse
from imgsdk.adapters.together import MODELS, TogetherAdapter
from imgsdk.errors import (
    AuthenticationError,
    ContentPolicyError,
    InvalidRequestError,
    ModelNotFoundError,
    PermissionDeniedError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedOptionError,
)
from imgsdk.policy import apply, check_lifecycle
from imgsdk.request import ImageRequest, PreparedRequest

DATA = Path(__file__).resolve().parent.parent / "data" / "together"
URL = "https://api.together.xyz/v1/images/generations"
AUTH = {"Authorization": "Bearer test-key"}
SCHNELL = "black-forest-labs/FLUX.1-schnell"
PRO = "black-forest-labs/FLUX.1.1-pro"
KONTEXT = "black-forest-labs/FLUX.1-kontext-pro"
PROMPT = "A photorealistic, modern header image for a technology blog post about quantum networking"

adapter = TogetherAdapter()
endpoint = Endpoint(base_url="https://api.together.xyz/v1", api_key=Secret("test-key"))


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def respond(status: int, body: Any, headers: dict[str, str] | None = None) -> WireResponse:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WireResponse(status, {"content-type": "application/json", **(headers or {})}, content)


def prepare(request: ImageRequest, model: str = SCHNELL,
            mode: str = "warn") -> tuple[PreparedRequest, list[tuple[str, str, Any, Any]]]:
    prepared, warnings = apply(request, MODELS[model], adapter="together", mode=mode)  # type: ignore[arg-type]
    return prepared, [(w.code, w.option, w.requested, w.applied) for w in warnings]


def wire(request: ImageRequest, model: str = SCHNELL) -> tuple[WireRequest, list[Any]]:
    prepared, warnings = prepare(request, model)
    return adapter.build_request(prepared, endpoint), warnings


def call_for(model: str = SCHNELL, **fields: Any) -> PreparedRequest:
    return prepare(ImageRequest(PROMPT, **fields), model)[0]


def png_b64(width: int = 8, height: int = 8, fmt: str = "PNG") -> tuple[bytes, str]:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 90, 200)).save(out, format=fmt)
    return out.getvalue(), base64.b64encode(out.getvalue()).decode()


def default_call() -> ImageRequest:
    return ImageRequest(PROMPT, size="1024x1024", soft=frozenset({"size"}))


def social_call() -> ImageRequest:
    return ImageRequest(PROMPT, size="1792x1024", quality="hd", style="vivid")


# -- mapping: the node's default call -----------------------------------------------------------------
def test_node_default_call_schnell() -> None:
    request, warnings = wire(default_call())
    assert (request.method, request.url, request.headers, request.params) == ("POST", URL, AUTH, {})
    assert request.json == {"model": SCHNELL, "prompt": PROMPT, "n": 1, "response_format": "base64",
                            "width": 1024, "height": 1024, "steps": 4}
    assert (request.form, request.files, request.content, request.multipart) == (None, None, None, False)
    assert warnings == []


def test_node_default_call_dev_pro_and_kontext() -> None:
    request, warnings = wire(default_call(), "black-forest-labs/FLUX.1-dev")
    assert request.json == {"model": "black-forest-labs/FLUX.1-dev", "prompt": PROMPT, "n": 1,
                            "response_format": "base64", "width": 1024, "height": 1024, "steps": 28}
    request, warnings = wire(default_call(), PRO)
    assert request.json == {"model": PRO, "prompt": PROMPT, "n": 1, "response_format": "base64",
                            "width": 1024, "height": 1024}
    request, warnings = wire(default_call(), KONTEXT)
    assert request.json == {"model": KONTEXT, "prompt": PROMPT, "n": 1, "response_format": "base64",
                            "aspect_ratio": "1:1"}
    assert warnings == []


# -- mapping: the seed's social-media example (1792x1024, hd, vivid) ------------------------------------
def test_social_media_example_schnell() -> None:
    request, warnings = wire(social_call())
    assert request.json == {"model": SCHNELL, "prompt": PROMPT, "n": 1, "response_format": "base64",
                            "width": 1792, "height": 1024, "steps": 4}
    assert warnings == [("dropped", "quality", "hd", None), ("dropped", "style", "vivid", None)]
    _, full = apply(social_call(), MODELS[SCHNELL], adapter="together")
    assert [w.message for w in full] == [
        f"quality 'hd' dropped: this model has no quality setting [together:{SCHNELL}]",
        f"style 'vivid' dropped: this model has no style setting [together:{SCHNELL}]"]


def test_social_media_example_flux_1_1_pro_is_fitted_into_bfl_bounds() -> None:
    request, warnings = wire(social_call(), PRO)
    assert request.json == {"model": PRO, "prompt": PROMPT, "n": 1, "response_format": "base64",
                            "width": 1440, "height": 832}
    assert warnings == [("adapted", "size", "1792x1024", "1440x832"),
                        ("dropped", "quality", "hd", None), ("dropped", "style", "vivid", None)]


def test_social_media_example_kontext_gets_a_ratio() -> None:
    request, warnings = wire(social_call(), KONTEXT)
    assert request.json == {"model": KONTEXT, "prompt": PROMPT, "n": 1, "response_format": "base64",
                            "aspect_ratio": "16:9"}
    assert warnings == [("adapted", "size", "1792x1024", "16:9"),
                        ("dropped", "quality", "hd", None), ("dropped", "style", "vivid", None)]


@pytest.mark.parametrize(("model", "option"), [(SCHNELL, "quality"), (PRO, "size"), (KONTEXT, "size")])
def test_strict_mode_refuses_the_social_media_example(model: str, option: str) -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        prepare(social_call(), model, mode="strict")
    assert caught.value.option == option
    assert (caught.value.adapter, caught.value.model) == ("together", model)


def test_strict_mode_accepts_the_default_call_and_a_plain_1792x1024() -> None:
    assert prepare(default_call(), mode="strict")[1] == []
    prepared, warnings = prepare(ImageRequest(PROMPT, size="1792x1024"), mode="strict")
    assert (prepared.width, prepared.height, warnings) == (1792, 1024, [])


# -- mapping: seed, negative prompt, n, output format, options -----------------------------------------
def test_seed_negative_prompt_n_format_and_options() -> None:
    request = ImageRequest(PROMPT, size="768x1344", n=4, seed=42, negative_prompt="blurry, text",
                           output_format="png",
                           provider_options={"together": {"steps": 8, "guidance": 3.5,
                                                          "disable_safety_checker": True},
                                             "bfl": {"safety_tolerance": 6}})
    sent, warnings = wire(request)
    assert sent.json == {"model": SCHNELL, "prompt": PROMPT, "n": 4, "response_format": "base64",
                         "width": 768, "height": 1344, "steps": 8, "seed": 42,
                         "negative_prompt": "blurry, text", "output_format": "png", "guidance_scale": 3.5,
                         "disable_safety_checker": True}
    assert warnings == []


def test_options_can_ask_for_urls_and_keep_guidance_scale() -> None:
    request = ImageRequest(PROMPT, provider_options={"together": {"response_format": "url",
                                                                  "guidance_scale": 7, "guidance": 1}})
    sent, _ = wire(request)
    assert sent.json == {"model": SCHNELL, "prompt": PROMPT, "n": 1, "response_format": "url", "steps": 4,
                         "guidance_scale": 7, "guidance": 1}


def test_unsupported_options_drop_with_warnings() -> None:
    sent, warnings = wire(ImageRequest(PROMPT, negative_prompt="text", user="u1", output_format="webp",
                                       background="transparent"), PRO)
    assert sent.json == {"model": PRO, "prompt": PROMPT, "n": 1, "response_format": "base64"}
    assert warnings == [("dropped", "negative_prompt", "text", None), ("dropped", "output_format", "webp", "jpeg"),
                        ("dropped", "background", "transparent", None), ("dropped", "user", "u1", None)]


def test_free_sizes_snap_to_multiples_of_16() -> None:
    sent, warnings = wire(ImageRequest(PROMPT, size="1000x700"))
    assert (sent.json["width"], sent.json["height"]) == (992, 704)
    assert warnings == [("adapted", "size", "1000x700", "992x704")]
    sent, warnings = wire(ImageRequest(PROMPT, size="16:9"))
    assert (sent.json["width"], sent.json["height"]) == (1360, 768)
    assert warnings == [("adapted", "size", "16:9", "1360x768")]
    sent, warnings = wire(ImageRequest(PROMPT, size="4096x4096"))
    assert (sent.json["width"], sent.json["height"]) == (1792, 1792)


def test_n_limits() -> None:
    with pytest.raises(InvalidRequestError):
        prepare(ImageRequest(PROMPT, n=5))
    with pytest.raises(InvalidRequestError):  # BFL-hosted models: one image per call, fanned out by the core
        prepare(ImageRequest(PROMPT, n=2), PRO)


def test_base_url_is_configurable() -> None:
    other = Endpoint(base_url="https://api.together.ai/v1/", api_key=Secret("k2"))
    sent = adapter.build_request(call_for(), other)
    assert (sent.url, sent.headers) == ("https://api.together.ai/v1/images/generations",
                                        {"Authorization": "Bearer k2"})


# -- parsing: success --------------------------------------------------------------------------------
def test_documented_url_body() -> None:
    images = adapter.parse_response(respond(200, load("success_url.json")), call_for(size="1024x1024"))
    assert isinstance(images, Images)
    [image] = images.images
    assert image.url == "https://api.together.ai/v1/images/..."
    assert (image.revised_prompt, image.expires_at, image.size) == (PROMPT, None, "1024x1024")
    assert image.metadata == {"index": 0}
    assert images.request_id == "oFuwv7Y-2kFHot-99170ebf9e84e0ce-SJC"
    assert (images.errors, images.cost_usd) == ([], None)


def test_documented_b64_body_with_real_png_and_jpeg() -> None:
    png, encoded = png_b64(8, 8)
    body = load("success_b64.json")
    body["data"][0]["b64_json"] = encoded
    images = adapter.parse_response(respond(200, body), call_for(size="1024x1024", output_format="png"))
    assert isinstance(images, Images)
    [image] = images.images
    assert (image.data, image.media_type, image.size) == (png, "image/png", "8x8")
    assert image.metadata == {"index": 123, "type": "b64_json"}
    assert image.url.startswith("data:image/png;base64,")
    jpeg, encoded = png_b64(32, 16, "JPEG")
    body["data"][0]["b64_json"] = encoded
    images = adapter.parse_response(respond(200, body), call_for())
    assert isinstance(images, Images)
    assert (images.images[0].data, images.images[0].media_type, images.images[0].size) == (
        jpeg, "image/jpeg", "32x16")


# -- parsing: moderation -------------------------------------------------------------------------------
def test_flagged_and_empty_items_are_withheld_clean_ones_kept() -> None:
    png, encoded = png_b64()
    body = load("nsfw_partial.json")
    for item in body["data"]:
        if "b64_json" in item:
            item["b64_json"] = encoded
    images = adapter.parse_response(respond(200, body), call_for(n=3))
    assert isinstance(images, Images)
    assert [image.data for image in images.images] == [png]
    assert [type(error) for error in images.errors] == [ContentPolicyError, ContentPolicyError]
    first, second = images.errors
    assert isinstance(first, ContentPolicyError) and isinstance(second, ContentPolicyError)
    assert (first.stage, first.reason) == ("output", "image 1: has_nsfw: true")
    assert second.reason is not None and second.reason.startswith("image 2: no b64_json or url")
    assert images.request_id == "8f2a-nsfw-partial"


def test_every_image_withheld_raises() -> None:
    body = {"id": "x", "data": [{"index": 0, "url": "https://x/y.jpg", "finish_reason": "content_filter"}]}
    with pytest.raises(ContentPolicyError) as caught:
        adapter.parse_response(respond(200, body), call_for())
    assert (caught.value.stage, caught.value.reason) == ("output", "image 0: finish_reason: content_filter")
    assert caught.value.status == 200 and caught.value.adapter == "together"
    body = {"data": [{"index": 0, "has_nsfw_concepts": [True]}, {"index": 1}]}
    with pytest.raises(ContentPolicyError) as caught:
        adapter.parse_response(respond(200, body), call_for(n=2))
    assert caught.value.reason == "all 2 images were withheld"


def test_no_data_is_a_provider_error_not_moderation() -> None:
    for body in ({"id": "x", "data": []}, b"not json"):
        with pytest.raises(ProviderError) as caught:
            adapter.parse_response(respond(200, body), call_for())
        assert not isinstance(caught.value, ContentPolicyError)


def test_safety_checker_422_is_input_moderation() -> None:
    response = respond(422, load("error_422_safety.json"), {"x-request-id": "t-1"})
    error = adapter.parse_error(response, call_for())
    assert isinstance(error, ContentPolicyError)
    assert error.stage == "input"
    assert error.reason is not None and error.reason.startswith("NSFW content detected")
    assert (error.status, error.request_id, error.model) == (422, "t-1", SCHNELL)
    assert "disable_safety_checker" in str(error)
    assert not adapter.is_retryable(response)
    bare = adapter.parse_error(WireResponse(422, {}, b""), call_for())  # the docs: 422 = safety checker
    assert isinstance(bare, ContentPolicyError) and bare.reason == "safety checker triggered (HTTP 422)"


def test_validation_422_stays_an_invalid_request() -> None:
    error = adapter.parse_error(respond(422, load("error_422_validation.json")), call_for())
    assert isinstance(error, InvalidRequestError) and not isinstance(error, ContentPolicyError)
    assert "must be less than or equal to 12" in str(error)


# -- errors ------------------------------------------------------------------------------------------
def test_402_is_quota_and_not_retried() -> None:
    response = respond(402, load("error_402.json"))
    error = adapter.parse_error(response, call_for())
    assert isinstance(error, QuotaExceededError)
    assert error.code == "payment_required" and "spend limit" in str(error)
    assert not adapter.is_retryable(response)


def test_429_rate_limit_and_429_credit() -> None:
    response = respond(429, load("error_429.json"), {"retry-after": "2"})
    error = adapter.parse_error(response, call_for())
    assert isinstance(error, RateLimitError) and error.retry_after == 2.0
    assert error.code == "rate_limit_exceeded"
    assert adapter.is_retryable(response)
    credit = respond(429, {"error": {"message": "Insufficient credit balance", "code": "insufficient_quota"}})
    assert isinstance(adapter.parse_error(credit, call_for()), QuotaExceededError)
    assert not adapter.is_retryable(credit)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_are_retried(status: int) -> None:
    response = respond(status, load("error_503.json"))
    error = adapter.parse_error(response, call_for())
    assert isinstance(error, ServiceUnavailableError) and error.status == status
    assert "overloaded" in str(error)
    assert adapter.is_retryable(response)


def test_400_401_403_404_are_typed() -> None:
    error = adapter.parse_error(respond(400, load("error_400.json")), call_for())
    assert isinstance(error, InvalidRequestError) and isinstance(error, ProviderError)
    assert "multiple of 8" in str(error) and error.code == "invalid_request_error"
    error = adapter.parse_error(respond(401, load("error_401.json")), call_for())
    assert isinstance(error, AuthenticationError) and error.code == "invalid_api_key"
    assert "TOGETHER_API_KEY" in str(error) and "test-key" not in str(error)
    error = adapter.parse_error(WireResponse(403, {}, b"Forbidden"), call_for())
    assert isinstance(error, PermissionDeniedError) and "Forbidden" in str(error)
    error = adapter.parse_error(respond(404, load("error_404.json")), call_for())
    assert isinstance(error, ModelNotFoundError) and error.code == "model_not_available"
    for status in (400, 401, 403, 404):
        assert not adapter.is_retryable(respond(status, load("error_400.json")))


# -- declarations --------------------------------------------------------------------------------------
def test_adapter_identity() -> None:
    assert (TogetherAdapter.name, TogetherAdapter.default_base_url, TogetherAdapter.key_env) == (
        "together", "https://api.together.xyz/v1", ("TOGETHER_API_KEY",))
    assert TogetherAdapter.default_model in MODELS
    assert adapter.capabilities(SCHNELL, {}) is MODELS[SCHNELL]


@pytest.mark.parametrize("caps", list(MODELS.values()), ids=list(MODELS))
def test_catalogue_conformance(caps: Any) -> None:
    assert caps.qualities == () and caps.styles == ()  # the node's quality/style mean nothing here
    assert caps.quality_default is None and caps.style_default is None
    assert 1 <= caps.max_images <= 4
    assert caps.output_format_default in caps.output_formats
    assert caps.seed
    replacement = caps.lifecycle.replacement
    assert replacement is None or replacement in MODELS or ":" in replacement
    assert caps.lifecycle.source
    check_lifecycle(caps, adapter="together", default_service=True)
    steps = caps.extra.get("steps_default")
    assert steps is None or 1 <= steps <= caps.extra["steps_max"]
    if caps.size.mode == "free":
        assert caps.family == "flux-pixels" and caps.size.default in caps.size.sizes
        assert caps.size.max_side % caps.size.multiple == 0 and caps.size.min_side % caps.size.multiple == 0
    else:
        assert caps.family == "flux-ratio" and caps.size.default in caps.size.aspect_ratios


# -- end to end through imgsdk.Client (httpx2.MockTransport; no network, no sleeps) ---------------------
def e2e_client(monkeypatch: pytest.MonkeyPatch, replies: list[Any], seen: list[Any]) -> Any:
    import httpx2

    from imgsdk.client import Client

    monkeypatch.setenv("TOGETHER_API_KEY", "test-key")

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        status, body = replies.pop(0)
        return httpx2.Response(status, json=body)

    config = {"default": "flux", "providers": {"flux": {"model": f"together:{SCHNELL}",
                                                        "api_key": "${TOGETHER_API_KEY}"}}}
    return Client(config, transport=httpx2.MockTransport(handler), sleep=lambda seconds: None)


def test_e2e_social_media_example_after_an_overloaded_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    png, encoded = png_b64(16, 8)
    body = load("success_b64.json")
    body["data"][0]["b64_json"] = encoded
    seen: list[Any] = []
    with e2e_client(monkeypatch, [(503, load("error_503.json")), (200, body)], seen) as client:
        result = client.generate(PROMPT, size="1792x1024", quality="hd", style="vivid")
    assert len(seen) == 2 and str(seen[1].url) == URL
    assert json.loads(seen[1].content) == {"model": SCHNELL, "prompt": PROMPT, "n": 1,
                                           "response_format": "base64", "width": 1792, "height": 1024,
                                           "steps": 4}
    assert [(w.code, w.option) for w in result.warnings] == [("dropped", "quality"), ("dropped", "style")]
    assert result.images[0].data == png and result.size == "16x8"


def test_e2e_safety_checker_and_spend_limit_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    for reply, expected in (((422, load("error_422_safety.json")), ContentPolicyError),
                            ((402, load("error_402.json")), QuotaExceededError)):
        seen: list[Any] = []
        with e2e_client(monkeypatch, [reply], seen) as client, pytest.raises(expected):
            client.generate(PROMPT)
        assert len(seen) == 1
