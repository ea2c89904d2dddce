"""XAIAdapter: declarations against the wire, response parsing, silent moderation, errors.

Bodies live in tests/data/xai/ (provenance in SOURCES.md). No network, no sleeps.
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
from imgsdk.adapters.xai import MODELS, TICKS_PER_USD, XAIAdapter, _cost_usd
from imgsdk.errors import (
    AuthenticationError,
    ContentPolicyError,
    InvalidRequestError,
    ModelNotFoundError,
    ModelRetiredError,
    PermissionDeniedError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedOptionError,
)
from imgsdk.policy import apply, check_lifecycle
from imgsdk.request import ImageRequest, PreparedRequest

DATA = Path(__file__).resolve().parent.parent / "data" / "xai"
URL = "https://api.x.ai/v1/images/generations"
AUTH = {"Authorization": "Bearer test-key"}
RATIOS = "1:1, 3:4, 4:3, 9:16, 16:9, 2:3, 3:2, 9:19.5, 19.5:9, 9:20, 20:9, 1:2, 2:1"
PROMPT = "A photorealistic, modern header image for a technology blog post about quantum networking"

adapter = XAIAdapter()
endpoint = Endpoint(base_url="https://api.x.ai/v1", api_key=Secret("test-key"))


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def respond(status: int, body: Any, headers: dict[str, str] | None = None) -> WireResponse:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WireResponse(status, {"content-type": "application/json", **(headers or {})}, content)


def prepare(request: ImageRequest, model: str = "grok-imagine-image",
            mode: str = "warn") -> tuple[PreparedRequest, list[tuple[str, str, Any, Any]]]:
    prepared, warnings = apply(request, MODELS[model], adapter="xai", mode=mode)  # type: ignore[arg-type]
    return prepared, [(w.code, w.option, w.requested, w.applied) for w in warnings]


def wire(request: ImageRequest, model: str = "grok-imagine-image") -> tuple[WireRequest, list[Any]]:
    prepared, warnings = prepare(request, model)
    return adapter.build_request(prepared, endpoint), warnings


def image_bytes(width: int, height: int, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, format=fmt)
    return out.getvalue()


def call_for(model: str = "grok-imagine-image", **fields: Any) -> PreparedRequest:
    return prepare(ImageRequest(PROMPT, **fields), model)[0]


def default_call() -> ImageRequest:
    return ImageRequest(PROMPT, size="1024x1024", soft=frozenset({"size"}))


def social_call() -> ImageRequest:
    return ImageRequest(PROMPT, size="1792x1024", quality="hd", style="vivid")


# -- mapping: the node's default call -----------------------------------------------------------------
@pytest.mark.parametrize("model", ["grok-imagine-image", "grok-imagine-image-2.0", "grok-imagine-image-quality",
                                   "grok-imagine-image-pro"])
def test_node_default_call_imagine_family(model: str) -> None:
    request, warnings = wire(default_call(), model)
    assert (request.method, request.url, request.headers, request.params) == ("POST", URL, AUTH, {})
    assert request.json == {"model": model, "prompt": PROMPT, "n": 1, "response_format": "url",
                            "aspect_ratio": "1:1"}
    assert (request.form, request.files, request.content, request.multipart) == (None, None, None, False)
    assert warnings == []  # a soft default is adapted silently


def test_node_default_call_grok2_sends_no_size() -> None:
    request, warnings = wire(default_call(), "grok-2-image")
    assert request.json == {"model": "grok-2-image", "prompt": PROMPT, "n": 1, "response_format": "url"}
    assert warnings == []


def test_prompt_only_call_sends_nothing_else() -> None:
    request, warnings = wire(ImageRequest(PROMPT))
    assert request.json == {"model": "grok-imagine-image", "prompt": PROMPT, "n": 1, "response_format": "url"}
    assert warnings == []


# -- mapping: the seed's social-media example (1792x1024, hd, vivid) ------------------------------------
def test_social_media_example_grok_imagine_image() -> None:
    request, warnings = wire(social_call())
    assert request.json == {"model": "grok-imagine-image", "prompt": PROMPT, "n": 1, "response_format": "url",
                            "aspect_ratio": "16:9"}
    assert warnings == [("adapted", "size", "1792x1024", "16:9"),
                        ("dropped", "quality", "hd", None),
                        ("dropped", "style", "vivid", None)]
    _, full = apply(social_call(), MODELS["grok-imagine-image"], adapter="xai")
    assert full[0].message == (
        f"size 1792x1024 sent as aspect ratio 16:9 (the model takes ratios, not pixels; allowed: {RATIOS}); "
        "the provider picks the pixel size [xai:grok-imagine-image]")
    assert full[1].message == "quality 'hd' dropped: this model has no quality setting [xai:grok-imagine-image]"
    assert full[2].message == "style 'vivid' dropped: this model has no style setting [xai:grok-imagine-image]"


def test_social_media_example_grok_imagine_image_2_0_translates_quality() -> None:
    request, warnings = wire(social_call(), "grok-imagine-image-2.0")
    assert request.json == {"model": "grok-imagine-image-2.0", "prompt": PROMPT, "n": 1,
                            "response_format": "url", "aspect_ratio": "16:9", "quality": "medium"}
    assert warnings == [("adapted", "size", "1792x1024", "16:9"),
                        ("translated", "quality", "hd", "medium"),
                        ("dropped", "style", "vivid", None)]


def test_social_media_example_grok_2_image() -> None:
    request, warnings = wire(social_call(), "grok-2-image")
    assert request.json == {"model": "grok-2-image", "prompt": PROMPT, "n": 1, "response_format": "url"}
    assert warnings == [("dropped", "size", "1792x1024", None),
                        ("dropped", "quality", "hd", None),
                        ("dropped", "style", "vivid", None)]


@pytest.mark.parametrize(("model", "option"), [("grok-imagine-image", "size"),
                                               ("grok-imagine-image-2.0", "size"),
                                               ("grok-2-image", "size")])
def test_strict_mode_refuses_the_social_media_example(model: str, option: str) -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        prepare(social_call(), model, mode="strict")
    assert caught.value.option == option
    assert caught.value.value == "1792x1024"
    assert (caught.value.adapter, caught.value.model) == ("xai", model)


def test_strict_mode_refuses_quality_and_style_one_by_one() -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        prepare(ImageRequest(PROMPT, size="16:9", quality="hd"), mode="strict")
    assert (caught.value.option, caught.value.value, caught.value.allowed) == ("quality", "hd", ())
    with pytest.raises(UnsupportedOptionError) as caught:
        prepare(ImageRequest(PROMPT, style="vivid"), "grok-imagine-image-2.0", mode="strict")
    assert caught.value.option == "style"
    with pytest.raises(UnsupportedOptionError) as caught:  # translation hd→medium is refused too
        prepare(ImageRequest(PROMPT, quality="hd"), "grok-imagine-image-2.0", mode="strict")
    assert (caught.value.option, caught.value.allowed) == ("quality", ("low", "medium"))


def test_strict_mode_accepts_the_default_call_and_exact_ratios() -> None:
    prepared, warnings = prepare(default_call(), mode="strict")
    assert (prepared.aspect_ratio, warnings) == ("1:1", [])
    prepared, warnings = prepare(ImageRequest(PROMPT, size="9:19.5", quality="low"), "grok-imagine-image-2.0",
                                 mode="strict")
    assert adapter.build_request(prepared, endpoint).json == {
        "model": "grok-imagine-image-2.0", "prompt": PROMPT, "n": 1, "response_format": "url",
        "aspect_ratio": "9:19.5", "quality": "low"}


# -- mapping: ratios, auto, resolution, n, user, options -----------------------------------------------
def test_auto_size_is_sent_as_aspect_ratio_auto() -> None:
    request, warnings = wire(ImageRequest(PROMPT, size="auto"))
    assert request.json["aspect_ratio"] == "auto"
    assert warnings == []


def test_21_9_is_exact_on_2_0_but_adapted_on_1_0() -> None:
    request, warnings = wire(ImageRequest(PROMPT, size="21:9"), "grok-imagine-image-2.0")
    assert (request.json["aspect_ratio"], warnings) == ("21:9", [])
    request, warnings = wire(ImageRequest(PROMPT, size="21:9"))
    assert (request.json["aspect_ratio"], warnings) == ("20:9", [("adapted", "size", "21:9", "20:9")])


def test_portrait_node_size_becomes_9_16() -> None:
    request, warnings = wire(ImageRequest(PROMPT, size="1024x1792"))
    assert request.json["aspect_ratio"] == "9:16"
    assert warnings == [("adapted", "size", "1024x1792", "9:16")]


def test_n_user_and_provider_options_are_sent_options_last() -> None:
    request = ImageRequest(PROMPT, size="16:9", n=4, user="user-42",
                           provider_options={"xai": {"resolution": "2k", "response_format": "b64_json",
                                                     "aspect_ratio": "19.5:9"},
                                             "openai": {"moderation": "low"}})
    sent, warnings = wire(request)
    assert sent.json == {"model": "grok-imagine-image", "prompt": PROMPT, "n": 4,
                         "response_format": "b64_json", "aspect_ratio": "19.5:9", "resolution": "2k",
                         "user": "user-42"}
    assert warnings == []


def test_policy_resolution_is_sent_lower_case() -> None:
    prepared = call_for(size="16:9").with_(resolution="2K")
    assert adapter.build_request(prepared, endpoint).json["resolution"] == "2k"


def test_seed_negative_prompt_and_png_are_dropped_with_warnings() -> None:
    request = ImageRequest(PROMPT, seed=7, negative_prompt="text", output_format="png")
    sent, warnings = wire(request)
    assert sent.json == {"model": "grok-imagine-image", "prompt": PROMPT, "n": 1, "response_format": "url"}
    assert warnings == [("dropped", "seed", 7, None), ("dropped", "negative_prompt", "text", None),
                        ("dropped", "output_format", "png", "jpeg")]


def test_jpeg_output_format_is_accepted_silently_and_not_sent() -> None:
    sent, warnings = wire(ImageRequest(PROMPT, output_format="jpg"))
    assert "output_format" not in sent.json
    assert warnings == []


def test_quality_high_on_2_0_falls_back_to_the_default_tier() -> None:
    sent, warnings = wire(ImageRequest(PROMPT, quality="high"), "grok-imagine-image-2.0")
    assert "quality" not in sent.json
    assert warnings == [("dropped", "quality", "high", "medium")]


def test_n_above_ten_in_one_call_is_refused() -> None:
    with pytest.raises(InvalidRequestError):
        prepare(ImageRequest(PROMPT, n=11))
    prepared, _ = apply(ImageRequest(PROMPT, n=11), MODELS["grok-imagine-image"], adapter="xai", n=10)
    assert adapter.build_request(prepared, endpoint).json["n"] == 10


def test_base_url_and_token_provider() -> None:
    custom = Endpoint(base_url="https://proxy.example/xai/v1/", token_provider=lambda: "fresh-token")
    sent = adapter.build_request(call_for(), custom)
    assert sent.url == "https://proxy.example/xai/v1/images/generations"
    assert sent.headers == {"Authorization": "Bearer fresh-token"}


# -- parsing: success --------------------------------------------------------------------------------
def test_documented_b64_body() -> None:
    images = adapter.parse_response(respond(200, load("success_b64.json")), call_for())
    assert isinstance(images, Images)
    [image] = images.images
    assert image.data == b"test"
    assert image.media_type == "image/jpeg"  # not an image format we can sniff: xAI's documented JPEG
    assert image.revised_prompt == "A revised prompt"
    assert image.url == "data:image/jpeg;base64,dGVzdA=="
    assert images.usage == {"cost_in_usd_ticks": 123}
    assert images.cost_usd == pytest.approx(123 / 10**10)
    assert images.errors == []


def test_b64_png_and_jpeg_decode_with_sniffed_type_and_size() -> None:
    png, jpeg = image_bytes(8, 8), image_bytes(16, 9, "JPEG")
    body = {"data": [{"b64_json": base64.b64encode(png).decode(), "revised_prompt": "red square"},
                     {"b64_json": "data:image/jpeg;base64," + base64.b64encode(jpeg).decode(),
                      "mime_type": "image/jpeg"}],
            "usage": {"cost_in_usd_ticks": 400000000}}
    images = adapter.parse_response(respond(200, body), call_for(n=2))
    assert isinstance(images, Images)
    first, second = images.images
    assert (first.data, first.media_type, first.size, first.revised_prompt) == (png, "image/png", "8x8",
                                                                                "red square")
    assert (second.data, second.media_type, second.size) == (jpeg, "image/jpeg", "16x9")
    assert second.revised_prompt == PROMPT  # no rewrite given: the prompt sent
    assert second.metadata == {"mime_type": "image/jpeg"}
    assert images.cost_usd == pytest.approx(0.04)


def test_url_body() -> None:
    response = respond(200, load("success_url.json"), {"x-request-id": "req-123",
                                                       "date": "Sun, 29 Nov 2026 12:00:00 GMT"})
    images = adapter.parse_response(response, call_for())
    assert isinstance(images, Images)
    [image] = images.images
    assert image.url.startswith("https://imgen.x.ai/xai-imgen/xai-tmp-imgen-")
    assert image.revised_prompt.startswith("A photorealistic wide shot")
    assert image.media_type == "image/jpeg"
    assert image.expires_at is None  # "URLs are temporary", lifetime undocumented
    assert image.size is None
    assert images.request_id == "req-123"
    assert images.cost_usd == pytest.approx(0.02)


def test_cost_ticks_are_read_defensively() -> None:
    assert TICKS_PER_USD == 10**10
    assert _cost_usd({"cost_in_usd_ticks": 200000000}) == pytest.approx(0.02)
    assert _cost_usd({"cost_in_usd_ticks": "37756000"}) == pytest.approx(0.0037756)
    for bad in ({"cost_in_usd_ticks": -1}, {"cost_in_usd_ticks": True}, {"cost_in_usd_ticks": "n/a"}, {}, None):
        assert _cost_usd(bad) is None
    images = adapter.parse_response(respond(200, {"data": [{"b64_json": "dGVzdA=="}]}), call_for())
    assert isinstance(images, Images)
    assert (images.usage, images.cost_usd) == (None, None)


# -- parsing: silent moderation ----------------------------------------------------------------------
def test_empty_data_is_output_moderation() -> None:
    with pytest.raises(ContentPolicyError) as caught:
        adapter.parse_response(respond(200, load("moderated_empty_data.json"), {"x-request-id": "r1"}),
                               call_for())
    error = caught.value
    assert (error.stage, error.status, error.adapter, error.model, error.request_id) == (
        "output", 200, "xai", "grok-imagine-image", "r1")
    assert error.reason is not None and "moderates silently" in error.reason
    assert "empty data" in str(error)


def test_block_reason_is_input_moderation() -> None:
    with pytest.raises(ContentPolicyError) as caught:
        adapter.parse_response(respond(200, load("moderated_input_block_reason.json")), call_for())
    assert caught.value.stage == "input"
    assert caught.value.reason == "The prompt was flagged by input moderation"


def test_empty_payload_is_output_moderation() -> None:
    with pytest.raises(ContentPolicyError) as caught:
        adapter.parse_response(respond(200, load("moderated_empty_payload.json")), call_for())
    assert caught.value.stage == "output"
    assert caught.value.reason is not None and "without url or b64_json" in caught.value.reason


def test_respect_moderation_false_withholds_even_with_bytes() -> None:
    with pytest.raises(ContentPolicyError) as caught:
        adapter.parse_response(respond(200, load("moderated_respect_false.json")), call_for())
    assert caught.value.stage == "output"
    assert caught.value.reason is not None and "respect_moderation: false" in caught.value.reason


def test_partial_moderation_keeps_clean_images() -> None:
    images = adapter.parse_response(respond(200, load("moderated_partial.json")), call_for(n=3))
    assert isinstance(images, Images)
    assert [image.revised_prompt for image in images.images] == ["first", "third"]
    [error] = images.errors
    assert isinstance(error, ContentPolicyError)
    assert error.stage == "output"
    assert error.reason is not None and error.reason.startswith("image 1 came back without url or b64_json")
    assert images.cost_usd == pytest.approx(0.06)


def test_all_images_withheld_raises_one_error() -> None:
    body = {"data": [{"url": ""}, {"b64_json": ""}]}
    with pytest.raises(ContentPolicyError) as caught:
        adapter.parse_response(respond(200, body), call_for(n=2))
    assert caught.value.reason is not None and caught.value.reason.startswith("all 2 images")


def test_malformed_bodies() -> None:
    with pytest.raises(ProviderError) as caught:
        adapter.parse_response(respond(200, b"<html>gateway</html>"), call_for())
    assert not isinstance(caught.value, ContentPolicyError)
    with pytest.raises(ProviderError):
        adapter.parse_response(respond(200, {"data": [{"b64_json": "abc"}]}), call_for())


# -- errors ------------------------------------------------------------------------------------------
def test_invalid_argument_400() -> None:
    error = adapter.parse_error(respond(400, load("error_invalid_argument.json"), {"x-request-id": "r2"}),
                                call_for())
    assert isinstance(error, InvalidRequestError) and isinstance(error, ProviderError)
    assert (error.status, error.code, error.request_id, error.model) == (
        400, "Client specified an invalid argument", "r2", "grok-imagine-image")
    assert "Argument not supported: size" in str(error)
    assert error.body == load("error_invalid_argument.json")
    assert not adapter.is_retryable(respond(400, load("error_invalid_argument.json")))


def test_bad_key_is_authentication_error_whether_400_or_401() -> None:
    error = adapter.parse_error(respond(400, load("error_bad_key_400.json")), call_for())
    assert isinstance(error, AuthenticationError) and error.status == 400
    error = adapter.parse_error(respond(401, load("error_bad_key_400.json")), call_for())
    assert isinstance(error, AuthenticationError) and "XAI_API_KEY" in str(error)
    assert "test-key" not in str(error)


def test_credits_429_is_quota_and_not_retried() -> None:
    response = respond(429, load("error_credits_429.json"))
    error = adapter.parse_error(response, call_for())
    assert isinstance(error, QuotaExceededError) and not isinstance(error, RateLimitError)
    assert "spending limit" in str(error)
    assert not adapter.is_retryable(response)


def test_rate_limit_429_is_retried_with_retry_after() -> None:
    response = respond(429, load("error_rate_limit_429.json"), {"retry-after": "7"})
    error = adapter.parse_error(response, call_for())
    assert isinstance(error, RateLimitError)
    assert (error.retry_after, error.code) == (7.0, "rate_limit_exceeded")
    assert adapter.is_retryable(response)


def test_404_403_and_http_moderation() -> None:
    error = adapter.parse_error(respond(404, load("error_model_not_found_404.json")), call_for())
    assert isinstance(error, ModelNotFoundError) and isinstance(error, ProviderError)
    error = adapter.parse_error(respond(403, load("error_permission_403.json")), call_for())
    assert isinstance(error, PermissionDeniedError)
    error = adapter.parse_error(respond(400, load("error_moderation_400.json")), call_for())
    assert isinstance(error, ContentPolicyError)
    assert (error.stage, error.reason, error.code) == ("input", "Generated content violates usage guidelines",
                                                       "content_moderation")
    assert not adapter.is_retryable(respond(400, load("error_moderation_400.json")))


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_service_unavailable_and_retried(status: int) -> None:
    response = WireResponse(status, {"content-type": "text/plain"}, b"upstream connect error")
    error = adapter.parse_error(response, None)
    assert isinstance(error, ServiceUnavailableError)
    assert error.model is None and "upstream connect error" in str(error)
    assert adapter.is_retryable(response)


# -- declarations --------------------------------------------------------------------------------------
def test_adapter_identity() -> None:
    assert (XAIAdapter.name, XAIAdapter.default_base_url, XAIAdapter.key_env) == (
        "xai", "https://api.x.ai/v1", ("XAI_API_KEY",))
    assert XAIAdapter.default_model in MODELS
    assert adapter.capabilities("grok-imagine-image", {}) is MODELS["grok-imagine-image"]
    assert adapter.non_image_model("grok-4.3") and adapter.non_image_model("grok-imagine-video")
    assert not adapter.non_image_model("grok-imagine-image-2.0")


@pytest.mark.parametrize("caps", list(MODELS.values()), ids=list(MODELS))
def test_catalogue_conformance(caps: Any) -> None:
    assert caps.quality_default is None or caps.quality_default in caps.qualities
    assert set(caps.quality_aliases.values()) <= set(caps.qualities)
    assert caps.style_default is None or caps.style_default in caps.styles
    assert caps.styles == ()  # xAI has no style on any model
    assert 1 <= caps.max_images <= 10
    assert caps.output_format_default in caps.output_formats
    assert not caps.seed and not caps.negative_prompt
    replacement = caps.lifecycle.replacement
    assert replacement is None or replacement in MODELS or ":" in replacement
    assert caps.lifecycle.source
    if caps.size.mode == "aspect_ratio":
        assert caps.size.default in (*caps.size.aspect_ratios, *caps.size.sizes)
        assert "auto" not in caps.size.aspect_ratios
    else:
        assert caps.family == "grok-2" and caps.size.mode == "none"
    assert bool(caps.qualities) == (caps.model == "grok-imagine-image-2.0")


def test_lifecycles() -> None:
    for model in ("grok-2-image", "grok-2-image-1212", "grok-2-image-latest"):
        with pytest.raises(ModelRetiredError) as caught:
            check_lifecycle(MODELS[model], adapter="xai", default_service=True)
        assert caught.value.replacement == "grok-imagine-image"
        check_lifecycle(MODELS[model], adapter="xai", default_service=False)  # a proxy may still serve it
    for model in ("grok-imagine-image", "grok-imagine-image-2.0", "grok-imagine-image-quality",
                  "grok-imagine-image-pro"):
        check_lifecycle(MODELS[model], adapter="xai", default_service=True)  # still answers (redirects)
    assert MODELS["grok-imagine-image-quality"].lifecycle.status == "deprecated"
    assert MODELS["grok-imagine-image-pro"].lifecycle.replacement == "grok-imagine-image-2.0"


# -- end to end through imgsdk.Client (httpx2.MockTransport; no network, no sleeps) ---------------------
def e2e_client(monkeypatch: pytest.MonkeyPatch, replies: list[Any], seen: list[Any],
               model: str = "grok-imagine-image") -> Any:
    import httpx2

    from imgsdk.client import Client

    monkeypatch.setenv("XAI_API_KEY", "test-key")

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        status, body, headers = replies.pop(0)
        return httpx2.Response(status, json=body, headers=headers)

    config = {"default": "grok", "providers": {"grok": {"model": f"xai:{model}", "api_key": "${XAI_API_KEY}"}}}
    return Client(config, transport=httpx2.MockTransport(handler), sleep=lambda seconds: None)


def test_e2e_social_media_example_after_a_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    jpeg = image_bytes(16, 9, "JPEG")
    seen: list[Any] = []
    replies = [(429, load("error_rate_limit_429.json"), {"retry-after": "1"}),
               (200, {"data": [{"b64_json": base64.b64encode(jpeg).decode(), "revised_prompt": "rev"}],
                      "usage": {"cost_in_usd_ticks": 200000000}}, {"x-request-id": "r9"})]
    with e2e_client(monkeypatch, replies, seen) as client:
        result = client.generate(PROMPT, size="1792x1024", quality="hd", style="vivid",
                                 provider_options={"xai": {"response_format": "b64_json"}})
    assert len(seen) == 2 and str(seen[1].url) == URL
    assert seen[1].headers["authorization"] == "Bearer test-key"
    assert json.loads(seen[1].content) == {"model": "grok-imagine-image", "prompt": PROMPT, "n": 1,
                                           "response_format": "b64_json", "aspect_ratio": "16:9"}
    assert [(w.code, w.option) for w in result.warnings] == [("adapted", "size"), ("dropped", "quality"),
                                                             ("dropped", "style")]
    assert result.to_node_output()["revised_prompt"] == "rev" and result.size == "16x9"
    assert result.cost_usd == pytest.approx(0.02) and result.request_id == "r9"


def test_e2e_silent_moderation_and_quota_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    with e2e_client(monkeypatch, [(200, load("moderated_empty_data.json"), {})], seen) as client, \
            pytest.raises(ContentPolicyError):
        client.generate(PROMPT)
    assert len(seen) == 1
    seen.clear()
    with e2e_client(monkeypatch, [(429, load("error_credits_429.json"), {})], seen) as client, \
            pytest.raises(QuotaExceededError):
        client.generate(PROMPT)
    assert len(seen) == 1


def test_e2e_partial_moderation_keeps_images(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    with e2e_client(monkeypatch, [(200, load("moderated_partial.json"), {})], seen) as client:
        result = client.generate(PROMPT, n=3)
    assert len(result.images) == 2
    assert [type(error) for error in result.errors] == [ContentPolicyError]


def test_e2e_grok_2_image_is_refused_before_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    with e2e_client(monkeypatch, [], seen, model="grok-2-image") as client, pytest.raises(ModelRetiredError):
        client.generate(PROMPT)
    assert seen == []
