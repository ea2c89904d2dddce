"""Stability adapter: the exact wire for every family, parsing of every documented answer, moderation in every
form (providers.md §3). No network: requests are built and responses parsed as data."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imgsdk.adapter import Endpoint, Secret, WireRequest, WireResponse
from imgsdk.adapters.stability import StabilityAdapter
from imgsdk.adapters.stability_models import ASPECT_RATIOS, CATALOGUE, SDXL_SIZES
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

DATA = Path(__file__).resolve().parent.parent / "data" / "stability"
BASE = "https://api.stability.ai"
PROMPT = "A photorealistic lighthouse on a cliff at dawn, modern tech-blog header"
ADAPTER = StabilityAdapter()
ENDPOINT = Endpoint(base_url=BASE, api_key=Secret("test-key"), settings={})
IMAGE_HEADERS = {"authorization": "Bearer test-key", "accept": "image/*"}
JSON_HEADERS = {"authorization": "Bearer test-key", "accept": "application/json"}


def png(width: int = 8, height: int = 8, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


PNG = png()
PNG_B64 = base64.b64encode(PNG).decode("ascii")


def data(name: str) -> bytes:
    return (DATA / name).read_bytes().replace(b"__PNG_BASE64__", PNG_B64.encode())


def node_default(**changes: Any) -> ImageRequest:
    """The node's default call: the prompt, and 1024x1024 as a soft default."""
    return ImageRequest(PROMPT, size="1024x1024", soft=frozenset({"size"}), **changes)


def social(**changes: Any) -> ImageRequest:
    """The seed document's social-media example: 1792x1024, hd, vivid (the node's style default)."""
    return ImageRequest(PROMPT, size="1792x1024", quality="hd", style="vivid", **changes)


def build(request: ImageRequest, model: str, mode: str = "warn") -> tuple[WireRequest, list[tuple[Any, ...]]]:
    prepared, warnings = apply(request, CATALOGUE[model], adapter="stability", mode=mode)  # type: ignore[arg-type]
    wire = ADAPTER.build_request(prepared, ENDPOINT)
    return wire, [(w.code, w.option, w.requested, w.applied) for w in warnings]


def call_for(model: str, **changes: Any) -> PreparedRequest:
    prepared, _ = apply(ImageRequest(PROMPT, **changes), CATALOGUE[model], adapter="stability")
    return prepared


SOCIAL_WARNINGS = [("adapted", "size", "1792x1024", "16:9"), ("dropped", "quality", "hd", None),
                   ("dropped", "style", "vivid", None)]

V2_ROUTES = [("stable-image-ultra", "/v2beta/stable-image/generate/ultra", {}),
             ("stable-image-core", "/v2beta/stable-image/generate/core", {}),
             ("sd3.5-large", "/v2beta/stable-image/generate/sd3", {"model": "sd3.5-large"}),
             ("sd3.5-large-turbo", "/v2beta/stable-image/generate/sd3", {"model": "sd3.5-large-turbo"}),
             ("sd3.5-medium", "/v2beta/stable-image/generate/sd3", {"model": "sd3.5-medium"}),
             ("sd3.5-flash", "/v2beta/stable-image/generate/sd3", {"model": "sd3.5-flash"})]


# -- v2beta mapping -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("model", "path", "model_field"), V2_ROUTES)
def test_v2_node_default_call(model: str, path: str, model_field: dict[str, str]) -> None:
    wire, warnings = build(node_default(), model)
    assert warnings == []  # 1024x1024 is a soft default: adapted to 1:1 silently
    assert wire.method == "POST"
    assert wire.url == BASE + path
    assert wire.headers == IMAGE_HEADERS
    assert wire.params == {}
    assert wire.json is None and wire.files is None and wire.content is None
    assert wire.multipart is True  # multipart even without a file (§3a)
    assert wire.form == {"prompt": PROMPT, "aspect_ratio": "1:1", **model_field}


@pytest.mark.parametrize(("model", "path", "model_field"), V2_ROUTES)
def test_v2_social_media_example(model: str, path: str, model_field: dict[str, str]) -> None:
    wire, warnings = build(social(), model)
    assert warnings == SOCIAL_WARNINGS
    assert wire.url == BASE + path
    assert wire.headers == IMAGE_HEADERS
    assert wire.form == {"prompt": PROMPT, "aspect_ratio": "16:9", **model_field}


def test_social_media_warning_messages_say_what_happened() -> None:
    _, warnings = apply(social(), CATALOGUE["stable-image-core"], adapter="stability")
    assert [w.message for w in warnings] == [
        "size 1792x1024 sent as aspect ratio 16:9 (the model takes ratios, not pixels; allowed: "
        f"{', '.join(ASPECT_RATIOS)}); the provider picks the pixel size [stability:stable-image-core]",
        "quality 'hd' dropped: this model has no quality setting [stability:stable-image-core]",
        "style 'vivid' dropped: this model has no style setting [stability:stable-image-core]"]


@pytest.mark.parametrize("model", ["stable-image-ultra", "stable-image-core", "sd3.5-large",
                                   "stable-diffusion-xl-1024-v1-0"])
def test_strict_mode_refuses_the_social_media_example(model: str) -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        build(social(), model, mode="strict")
    assert caught.value.option == "size" and caught.value.value == "1792x1024"
    # Even with an exact ratio, hd and vivid cannot be honoured.
    with pytest.raises(UnsupportedOptionError) as caught:
        build(ImageRequest(PROMPT, size="16:9", quality="hd"), "stable-image-core", mode="strict")
    assert caught.value.option == "quality" and caught.value.allowed == ()
    with pytest.raises(UnsupportedOptionError) as caught:
        build(ImageRequest(PROMPT, style="vivid"), model, mode="strict")
    assert caught.value.option == "style"


def test_strict_mode_accepts_the_node_default() -> None:
    wire, warnings = build(node_default(), "stable-image-core", mode="strict")
    assert warnings == [] and wire.form == {"prompt": PROMPT, "aspect_ratio": "1:1"}


def test_v2_seed_negative_prompt_output_format_and_options() -> None:
    request = ImageRequest(PROMPT, size="9:16", seed=4294967294, negative_prompt="blurry, text",
                           output_format="webp",
                           provider_options={"stability": {"style_preset": "photographic", "accept": "json"},
                                             "openai": {"moderation": "low"}})
    wire, warnings = build(request, "stable-image-core")
    assert warnings == []
    assert wire.headers == JSON_HEADERS  # accept: "json" -> application/json, and not a form field
    assert wire.form == {"prompt": PROMPT, "aspect_ratio": "9:16", "negative_prompt": "blurry, text",
                         "seed": "4294967294", "output_format": "webp", "style_preset": "photographic"}


def test_sd3_options_cfg_scale_and_removal() -> None:
    request = ImageRequest(PROMPT, size="3:2", output_format="jpg", provider_options={"stability": {
        "cfg_scale": 4.5, "style_preset": "anime", "client_id": "my-app", "aspect_ratio": None}})
    wire, warnings = build(request, "sd3.5-large")
    assert warnings == []
    assert wire.headers == {**IMAGE_HEADERS, "stability-client-id": "my-app"}
    assert wire.form == {"prompt": PROMPT, "output_format": "jpeg", "model": "sd3.5-large", "cfg_scale": "4.5",
                         "style_preset": "anime"}


def test_seed_out_of_range_is_refused_in_every_mode() -> None:
    with pytest.raises(InvalidRequestError, match=r"0\.\.4294967294"):
        build(ImageRequest(PROMPT, seed=4294967295), "stable-image-ultra")


def test_turbo_drops_the_negative_prompt_and_sd3_drops_webp() -> None:
    wire, warnings = build(ImageRequest(PROMPT, negative_prompt="fog"), "sd3.5-large-turbo")
    assert warnings == [("dropped", "negative_prompt", "fog", None)]
    assert wire.form == {"prompt": PROMPT, "model": "sd3.5-large-turbo"}
    wire, warnings = build(ImageRequest(PROMPT, output_format="webp"), "sd3.5-medium")
    assert warnings == [("dropped", "output_format", "webp", "png")]
    assert wire.form == {"prompt": PROMPT, "model": "sd3.5-medium"}
    # The escape hatch still sends webp when the user knows better.
    wire, _ = build(ImageRequest(PROMPT, provider_options={"stability": {"output_format": "webp"}}),
                    "sd3.5-medium")
    assert wire.form == {"prompt": PROMPT, "model": "sd3.5-medium", "output_format": "webp"}


def test_v2_is_one_image_per_request() -> None:
    with pytest.raises(InvalidRequestError, match="at most 1 per call"):
        apply(ImageRequest(PROMPT, n=2), CATALOGUE["stable-image-ultra"], adapter="stability", n=2)


def test_aliases_and_custom_base_url() -> None:
    assert ADAPTER.capabilities("ultra", {}) is CATALOGUE["stable-image-ultra"]
    assert ADAPTER.capabilities("core", {}) is CATALOGUE["stable-image-core"]
    prepared, _ = apply(node_default(), CATALOGUE["stable-image-ultra"], adapter="stability")
    wire = ADAPTER.build_request(prepared, Endpoint(base_url="https://proxy.example/stability/",
                                                    api_key=Secret("k2"), default_service=False))
    assert wire.url == "https://proxy.example/stability/v2beta/stable-image/generate/ultra"
    assert wire.headers == {"authorization": "Bearer k2", "accept": "image/*"}


# -- v1 (legacy SDXL) mapping --------------------------------------------------------------------------------
V1 = "stable-diffusion-xl-1024-v1-0"
V1_URL = f"{BASE}/v1/generation/{V1}/text-to-image"


def test_v1_node_default_call() -> None:
    wire, warnings = build(node_default(), V1)
    assert warnings == []
    assert (wire.method, wire.url, wire.headers, wire.params) == ("POST", V1_URL, JSON_HEADERS, {})
    assert wire.form is None and wire.multipart is False
    assert wire.json == {"text_prompts": [{"text": PROMPT, "weight": 1}], "samples": 1, "width": 1024,
                         "height": 1024}


def test_v1_social_media_example() -> None:
    wire, warnings = build(social(), V1)
    # 1792x1024 is 1.75:1, exactly SDXL's 1344x768.
    assert warnings == [("adapted", "size", "1792x1024", "1344x768"), ("dropped", "quality", "hd", None),
                        ("dropped", "style", "vivid", None)]
    assert wire.json == {"text_prompts": [{"text": PROMPT, "weight": 1}], "samples": 1, "width": 1344,
                         "height": 768}


def test_v1_negative_prompt_samples_seed_and_options() -> None:
    request = ImageRequest(PROMPT, size="832x1216", n=3, seed=4294967295, negative_prompt="blurry",
                           provider_options={"stability": {"steps": 30, "style_preset": "cinematic",
                                                           "cfg_scale": 7}})
    wire, warnings = build(request, V1)
    assert warnings == []
    assert wire.json == {"text_prompts": [{"text": PROMPT, "weight": 1}, {"text": "blurry", "weight": -1}],
                         "samples": 3, "width": 832, "height": 1216, "seed": 4294967295, "steps": 30,
                         "style_preset": "cinematic", "cfg_scale": 7}
    with pytest.raises(InvalidRequestError, match="at most 10"):
        apply(ImageRequest(PROMPT, n=11), CATALOGUE[V1], adapter="stability", n=11)


def test_v1_accept_image_option_gives_png_bytes() -> None:
    wire, _ = build(node_default(provider_options={"stability": {"accept": "image"}}), V1)
    assert wire.headers == {"authorization": "Bearer test-key", "accept": "image/png"}
    response = WireResponse(200, {"content-type": "image/png", "finish-reason": "SUCCESS", "seed": "3817857576"},
                            PNG)
    [image] = ADAPTER.parse_response(response, call_for(V1)).images
    assert image.seed == 3817857576 and image.data == PNG


def test_v1_sizes_are_the_nine_documented() -> None:
    assert CATALOGUE[V1].size.mode == "fixed" and CATALOGUE[V1].size.sizes == SDXL_SIZES
    _, warnings = build(ImageRequest(PROMPT, size="1024x1792"), V1)
    assert warnings == [("adapted", "size", "1024x1792", "768x1344")]


# -- parsing: success -----------------------------------------------------------------------------------------
def test_parse_bytes_response() -> None:
    response = WireResponse(200, {"content-type": "image/png", "finish-reason": "SUCCESS", "seed": "343940597",
                                  "x-request-id": "req-123"}, PNG)
    result = ADAPTER.parse_response(response, call_for("stable-image-core"))
    assert result.request_id == "req-123" and result.errors == []
    [image] = result.images
    assert image.data == PNG and image.media_type == "image/png" and image.size == "8x8"
    assert image.seed == 343940597 and image.revised_prompt == PROMPT
    assert image.metadata == {"finish_reason": "SUCCESS"}
    assert image.url.startswith("data:image/png;base64,") and image.expires_at is None


def test_parse_bytes_response_in_another_format() -> None:
    jpeg = png(16, 9, "JPEG")
    response = WireResponse(200, {"content-type": "image/jpeg", "finish-reason": "SUCCESS", "seed": "7"}, jpeg)
    [image] = ADAPTER.parse_response(response, call_for("stable-image-ultra", output_format="jpeg")).images
    assert image.media_type == "image/jpeg" and image.size == "16x9" and image.seed == 7


def test_parse_json_response() -> None:
    response = WireResponse(200, {"content-type": "application/json; type=image/png"}, data("json_success.json"))
    result = ADAPTER.parse_response(response, call_for("sd3.5-large"))
    [image] = result.images
    assert image.data == PNG and image.media_type == "image/png" and image.size == "8x8"
    assert image.seed == 1050625087


def test_parse_v1_artifacts_keeps_good_images_and_reports_filtered_ones() -> None:
    response = WireResponse(200, {"content-type": "application/json", "x-request-id": "v1-req"},
                            data("v1_artifacts_mixed.json"))
    result = ADAPTER.parse_response(response, call_for(V1, n=2))
    [image] = result.images
    assert image.data == PNG and image.seed == 1050625087 and image.media_type == "image/png"
    [error] = result.errors
    assert isinstance(error, ContentPolicyError)
    assert (error.stage, error.reason, error.status, error.request_id) == ("output", "CONTENT_FILTERED", 200,
                                                                          "v1-req")


# -- moderation, every form ----------------------------------------------------------------------------------
def test_moderation_header_on_a_200() -> None:
    response = WireResponse(200, {"content-type": "image/png", "finish-reason": "CONTENT_FILTERED", "seed": "1",
                                  "x-request-id": "req-f"}, PNG)
    with pytest.raises(ContentPolicyError) as caught:
        ADAPTER.parse_response(response, call_for("stable-image-core"))
    error = caught.value
    assert (error.stage, error.reason, error.code, error.status) == ("output", "CONTENT_FILTERED",
                                                                    "CONTENT_FILTERED", 200)
    assert error.request_id == "req-f" and error.adapter == "stability" and error.model == "stable-image-core"


def test_moderation_in_json_on_a_200() -> None:
    response = WireResponse(200, {"content-type": "application/json; type=image/png"},
                            data("json_content_filtered.json"))
    with pytest.raises(ContentPolicyError) as caught:
        ADAPTER.parse_response(response, call_for("stable-image-ultra"))
    assert caught.value.stage == "output" and caught.value.reason == "CONTENT_FILTERED"
    assert caught.value.body == {"finish_reason": "CONTENT_FILTERED", "seed": 1}  # no image bytes kept


def test_moderation_v1_all_artifacts_filtered() -> None:
    response = WireResponse(200, {"content-type": "application/json"}, data("v1_artifacts_filtered.json"))
    with pytest.raises(ContentPolicyError) as caught:
        ADAPTER.parse_response(response, call_for(V1))
    assert caught.value.stage == "output"


def test_moderation_403_is_not_a_permission_error() -> None:
    response = WireResponse(403, {"content-type": "application/json"}, data("content_moderation_403.json"))
    error = ADAPTER.parse_error(response, call_for("stable-image-core"))
    assert type(error) is ContentPolicyError and not isinstance(error, PermissionDeniedError)
    assert error.stage == "input"
    assert error.reason == "Your request was flagged by our content moderation system"
    assert (error.code, error.status, error.request_id) == ("content_moderation", 403, "x")
    assert not ADAPTER.is_retryable(response)


def test_moderation_v1_invalid_prompts_400() -> None:
    response = WireResponse(400, {"content-type": "application/json"}, data("v1_invalid_prompts_400.json"))
    error = ADAPTER.parse_error(response, call_for(V1))
    assert isinstance(error, ContentPolicyError) and error.stage == "input" and error.code == "invalid_prompts"
    assert error.reason == "One or more of the prompts contains filtered words"


# -- errors ----------------------------------------------------------------------------------------------------
def error_for(name: str, status: int, headers: dict[str, str] | None = None,
              model: str = "stable-image-core") -> ProviderError:
    response = WireResponse(status, {"content-type": "application/json", **(headers or {})}, data(name))
    return ADAPTER.parse_error(response, call_for(model))


def test_402_is_quota() -> None:
    error = error_for("payment_required_402.json", 402)
    assert isinstance(error, QuotaExceededError) and error.code == "payment_required"
    assert error.request_id == "0d9b3c1e-5c2a-4b8e-9f61-2a7d1c4e8b90"
    assert "credits" in str(error)


def test_401_is_authentication_without_the_key() -> None:
    error = error_for("unauthorized_401.json", 401)
    assert isinstance(error, AuthenticationError) and error.code == "unauthorized"
    assert "test-key" not in str(error) and "Bearer" in str(error)


def test_403_permission_denied() -> None:
    error = error_for("v1_permission_denied_403.json", 403, model=V1)
    assert type(error) is PermissionDeniedError and error.request_id == "5cf19777-d17f-49fe-9bd9-39ff0ec6bb50"


def test_400_bad_request_is_an_invalid_request_with_the_body_id() -> None:
    error = error_for("bad_request_400.json", 400)
    assert isinstance(error, InvalidRequestError) and isinstance(error, ProviderError)
    assert error.request_id == "296a972f-666a-44a1-a3df-c9c28a1f56c0" and error.code == "bad_request"
    assert "aspect_ratio: must be one of" in str(error)
    assert "request id 296a972f-666a-44a1-a3df-c9c28a1f56c0" in str(error)


def test_404_unknown_engine_is_model_not_found() -> None:
    error = error_for("v1_not_found_404.json", 404, model=V1)
    assert isinstance(error, ModelNotFoundError) and error.model == V1 and error.code == "not_found"


def test_429_rate_limit_with_retry_after() -> None:
    response = WireResponse(429, {"content-type": "application/json", "retry-after": "10"},
                            data("rate_limit_429.json"))
    error = ADAPTER.parse_error(response, call_for("stable-image-core"))
    assert isinstance(error, RateLimitError) and error.retry_after == 10.0
    assert ADAPTER.is_retryable(response)


def test_500_is_service_unavailable() -> None:
    error = error_for("server_error_500.json", 500)
    assert isinstance(error, ServiceUnavailableError) and error.code == "internal_error"


def test_non_json_error_body() -> None:
    response = WireResponse(502, {"content-type": "text/html"}, b"<html>Bad Gateway</html>")
    error = ADAPTER.parse_error(response, None)
    assert isinstance(error, ServiceUnavailableError) and "Bad Gateway" in str(error)


@pytest.mark.parametrize(("status", "name", "retryable"), [
    (429, "rate_limit_429.json", True), (500, "server_error_500.json", True), (503, None, True),
    (402, "payment_required_402.json", False), (403, "content_moderation_403.json", False),
    (400, "bad_request_400.json", False), (401, "unauthorized_401.json", False)])
def test_is_retryable(status: int, name: str | None, retryable: bool) -> None:
    content = data(name) if name else b""
    assert ADAPTER.is_retryable(WireResponse(status, {}, content)) is retryable


def test_malformed_success_bodies() -> None:
    with pytest.raises(ProviderError, match="empty body"):
        ADAPTER.parse_response(WireResponse(200, {"content-type": "image/png"}, b""), call_for("stable-image-core"))
    with pytest.raises(ProviderError, match="without an 'image'"):
        ADAPTER.parse_response(WireResponse(200, {"content-type": "application/json"}, b'{"x": 1}'),
                               call_for("stable-image-core"))
    with pytest.raises(ProviderError, match="not valid base64"):
        ADAPTER.parse_response(WireResponse(200, {"content-type": "application/json"}, b'{"image": "@@"}'),
                               call_for("stable-image-core"))


# -- conformance ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", sorted(CATALOGUE))
def test_catalogue_conformance(model: str) -> None:
    caps = CATALOGUE[model]
    assert caps.model == model and caps.family in ("v2beta", "v1")
    assert caps.quality_default is None or caps.quality_default in caps.qualities
    assert caps.style_default is None or caps.style_default in caps.styles
    assert caps.output_format_default is None or caps.output_format_default in caps.output_formats
    assert caps.max_images >= 1 and caps.lifecycle.source
    replacement = caps.lifecycle.replacement
    assert replacement is None or replacement in CATALOGUE or ":" in replacement
    assert not caps.lifecycle.is_shut_down()  # nothing Stability serves is known to be shut down
    if caps.family == "v2beta":
        assert caps.size.mode == "aspect_ratio" and caps.size.aspect_ratios == ASPECT_RATIOS
        assert caps.max_images == 1 and caps.seed_range == (0, 4294967294)
        assert caps.extra["path"] in {path for _, path, _ in V2_ROUTES}
    for price in caps.prices:
        assert price.usd > 0 and caps.price_source and caps.price_date
    check_lifecycle(caps, adapter="stability", default_service=True)  # never refused


def test_prices_are_credits_times_a_cent() -> None:
    prices = {model: caps.price_for(None, None) for model, caps in CATALOGUE.items()}
    assert prices == {"stable-image-ultra": 0.08, "stable-image-core": 0.03, "sd3.5-large": 0.065,
                      "sd3.5-large-turbo": 0.04, "sd3.5-medium": 0.035, "sd3.5-flash": None,
                      "stable-diffusion-xl-1024-v1-0": None, "stable-diffusion-v1-6": None}


def test_adapter_declaration() -> None:
    assert ADAPTER.name == "stability" and ADAPTER.default_base_url == BASE
    assert ADAPTER.key_env == ("STABILITY_API_KEY",) and ADAPTER.secret_headers == ("authorization",)
    assert ADAPTER.default_model in CATALOGUE
    assert "test-key" not in repr(ENDPOINT)


def test_unknown_model_is_routed_by_its_id() -> None:
    caps = ADAPTER.permissive_capabilities("sd3.7-large")
    prepared, _ = apply(ImageRequest(PROMPT, size="1792x1024"), caps, adapter="stability")
    wire = ADAPTER.build_request(prepared, ENDPOINT)
    assert wire.url == f"{BASE}/v2beta/stable-image/generate/sd3"
    assert wire.form == {"prompt": PROMPT, "aspect_ratio": "16:9", "model": "sd3.7-large"}
    assert json.dumps(wire.form)  # plain strings only


# -- end to end through the real client (httpx2.MockTransport: no socket, no network) -------------------------
def test_end_to_end_fan_out_and_moderation(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx2

    import imgsdk

    monkeypatch.setenv("STABILITY_API_KEY", "sk-e2e")
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        if b"forbidden" in request.content:
            return httpx2.Response(403, json=json.loads(data("content_moderation_403.json")))
        return httpx2.Response(200, content=PNG, headers={"content-type": "image/png", "finish-reason": "SUCCESS",
                                                          "seed": "5", "x-request-id": "r-e2e"})

    with imgsdk.Client({}, transport=httpx2.MockTransport(handler), sleep=lambda _: None) as client:
        result = client.generate(PROMPT, provider="stability:core", size="1792x1024", quality="hd",
                                 style="vivid", n=2)
        assert len(result.images) == 2 and result.cost_usd == 0.06 and result.request_id == "r-e2e"
        assert [(w.code, w.option) for w in result.warnings] == [("adapted", "size"), ("dropped", "quality"),
                                                                 ("dropped", "style")]
        assert result.to_node_output()["size"] == "8x8"
        request = seen[0]
        assert str(request.url) == f"{BASE}/v2beta/stable-image/generate/core"
        assert request.headers["authorization"] == "Bearer sk-e2e" and request.headers["accept"] == "image/*"
        assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
        assert b'name="aspect_ratio"\r\n\r\n16:9\r\n' in request.content
        with pytest.raises(ContentPolicyError) as caught:
            client.generate("forbidden", provider="stability:stable-image-ultra")
        assert caught.value.stage == "input" and len(seen) == 3  # moderation is never retried
        assert "sk-e2e" not in str(caught.value)
