"""Google adapter: the exact wire for Gemini (generateContent) and Imagen (predict), parsing of every documented
answer, moderation in every form, errors and retries (providers.md §4). No network."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imgsdk.adapter import Endpoint, Secret, WireRequest, WireResponse
from imgsdk.adapters.google import GoogleAdapter
from imgsdk.adapters.google_models import CATALOGUE, GEMINI_RATIOS, IMAGEN_RATIOS
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

DATA = Path(__file__).resolve().parent.parent / "data" / "google"
BASE = "https://generativelanguage.googleapis.com/v1beta"
PROMPT = "A photorealistic lighthouse on a cliff at dawn, modern tech-blog header"
ADAPTER = GoogleAdapter()
ENDPOINT = Endpoint(base_url=BASE, api_key=Secret("test-key"), settings={})
HEADERS = {"x-goog-api-key": "test-key"}
FLASH, PRO, FLASH_25, IMAGEN = ("gemini-3.1-flash-image", "gemini-3-pro-image", "gemini-2.5-flash-image",
                                "imagen-4.0-generate-001")


def png(width: int = 8, height: int = 8, colour: tuple[int, int, int] = (20, 90, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = png()
THOUGHT = png(4, 4, (0, 0, 0))


def data(name: str) -> bytes:
    raw = (DATA / name).read_bytes().replace(b"__PNG_BASE64__", base64.b64encode(PNG))
    return raw.replace(b"__THOUGHT_BASE64__", base64.b64encode(THOUGHT))


def node_default(**changes: Any) -> ImageRequest:
    return ImageRequest(PROMPT, size="1024x1024", soft=frozenset({"size"}), **changes)


def social(**changes: Any) -> ImageRequest:
    return ImageRequest(PROMPT, size="1792x1024", quality="hd", style="vivid", **changes)


def build(request: ImageRequest, model: str, mode: str = "warn", n: int | None = None,
          **prepared_changes: Any) -> tuple[WireRequest, list[tuple[Any, ...]]]:
    prepared, warnings = apply(request, CATALOGUE[model], adapter="google", mode=mode, n=n)  # type: ignore[arg-type]
    wire = ADAPTER.build_request(prepared.with_(**prepared_changes), ENDPOINT)
    return wire, [(w.code, w.option, w.requested, w.applied) for w in warnings]


def call_for(model: str, **changes: Any) -> PreparedRequest:
    prepared, _ = apply(ImageRequest(PROMPT, **changes), CATALOGUE[model], adapter="google",
                        n=changes.get("n"))
    return prepared


def gemini_body(image_config: dict[str, Any] | None = None, **generation: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"responseModalities": ["IMAGE"]}
    if image_config:
        config["imageConfig"] = image_config
    config.update(generation)
    return {"contents": [{"parts": [{"text": PROMPT}]}], "generationConfig": config}


SOCIAL_WARNINGS = [("adapted", "size", "1792x1024", "16:9"), ("dropped", "quality", "hd", None),
                   ("dropped", "style", "vivid", None)]


# -- Gemini mapping ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", [FLASH, PRO, FLASH_25])
def test_gemini_node_default_call(model: str) -> None:
    wire, warnings = build(node_default(), model)
    assert warnings == []
    assert wire.method == "POST"
    assert wire.url == f"{BASE}/models/{model}:generateContent"
    assert wire.headers == HEADERS
    assert wire.params == {}  # the key is never a ?key= query parameter
    assert "key=" not in wire.url and "test-key" not in wire.url
    assert wire.form is None and wire.multipart is False
    assert wire.json == gemini_body({"aspectRatio": "1:1"})


@pytest.mark.parametrize("model", [FLASH, PRO, FLASH_25])
def test_gemini_social_media_example(model: str) -> None:
    wire, warnings = build(social(), model)
    # hd is NOT turned into a bigger imageSize (not a faithful translation): dropped with a warning.
    assert warnings == SOCIAL_WARNINGS
    assert wire.json == gemini_body({"aspectRatio": "16:9"})


def test_gemini_social_media_warning_messages() -> None:
    _, warnings = apply(social(), CATALOGUE[FLASH], adapter="google")
    assert [w.message for w in warnings] == [
        "size 1792x1024 sent as aspect ratio 16:9 (the model takes ratios, not pixels; allowed: "
        f"{', '.join(GEMINI_RATIOS)}); the provider picks the pixel size [google:{FLASH}]",
        f"quality 'hd' dropped: this model has no quality setting [google:{FLASH}]",
        f"style 'vivid' dropped: this model has no style setting [google:{FLASH}]"]


@pytest.mark.parametrize("model", [FLASH, IMAGEN])
def test_strict_mode_refuses_the_social_media_example(model: str) -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        build(social(), model, mode="strict")
    assert caught.value.option == "size"
    with pytest.raises(UnsupportedOptionError) as caught:
        build(ImageRequest(PROMPT, size="16:9", quality="hd"), model, mode="strict")
    assert caught.value.option == "quality"
    with pytest.raises(UnsupportedOptionError) as caught:
        build(ImageRequest(PROMPT, size="16:9", style="vivid"), model, mode="strict")
    assert caught.value.option == "style"
    _, warnings = build(node_default(), model, mode="strict")
    assert warnings == []


def test_gemini_seed_negative_prompt_and_n() -> None:
    wire, warnings = build(ImageRequest(PROMPT, size="21:9", seed=42, negative_prompt="text"), PRO)
    assert warnings == [("dropped", "negative_prompt", "text", None)]  # no negative prompt on Gemini
    assert wire.json == gemini_body({"aspectRatio": "21:9"}, seed=42)
    with pytest.raises(InvalidRequestError, match="at most 1 per call"):
        apply(ImageRequest(PROMPT, n=2), CATALOGUE[FLASH], adapter="google", n=2)
    _, warnings = build(ImageRequest(PROMPT, output_format="jpeg"), FLASH)
    assert warnings == [("dropped", "output_format", "jpeg", "png")]  # outputMimeType is Vertex-only


def test_gemini_resolution_and_options() -> None:
    # A resolution chosen upstream is sent as imageSize on models that have tiers.
    wire, _ = build(ImageRequest(PROMPT, size="4:3"), PRO, resolution="2K")
    assert wire.json == gemini_body({"aspectRatio": "4:3", "imageSize": "2K"})
    options = {"google": {"image_size": "4K", "response_modalities": ["TEXT", "IMAGE"],
                          "generationConfig": {"temperature": 0.4, "imageConfig": {"aspectRatio": "1:4"}},
                          "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT",
                                              "threshold": "BLOCK_ONLY_HIGH"}]}}
    wire, _ = build(ImageRequest(PROMPT, size="16:9", provider_options=options), FLASH)
    assert wire.json == {
        "contents": [{"parts": [{"text": PROMPT}]}],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"], "temperature": 0.4,
                             "imageConfig": {"aspectRatio": "1:4", "imageSize": "4K"}},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]}


def test_custom_base_url_and_models_prefix() -> None:
    assert ADAPTER.capabilities(f"models/{FLASH}", {}) is CATALOGUE[FLASH]
    prepared, _ = apply(node_default(), CATALOGUE[FLASH], adapter="google")
    wire = ADAPTER.build_request(prepared, Endpoint(base_url="https://gw.example/v1beta/",
                                                    api_key=Secret("k2"), default_service=False))
    assert wire.url == f"https://gw.example/v1beta/models/{FLASH}:generateContent"
    assert wire.headers == {"x-goog-api-key": "k2"}


# -- Imagen mapping --------------------------------------------------------------------------------------------
def test_imagen_node_default_call() -> None:
    wire, warnings = build(node_default(), IMAGEN)
    assert warnings == []
    assert (wire.method, wire.url, wire.headers, wire.params) == ("POST", f"{BASE}/models/{IMAGEN}:predict",
                                                                  HEADERS, {})
    assert wire.json == {"instances": [{"prompt": PROMPT}],
                         "parameters": {"sampleCount": 1, "aspectRatio": "1:1", "includeRaiReason": True}}


def test_imagen_social_media_example() -> None:
    wire, warnings = build(social(), IMAGEN)
    assert warnings == SOCIAL_WARNINGS
    assert wire.json == {"instances": [{"prompt": PROMPT}],
                         "parameters": {"sampleCount": 1, "aspectRatio": "16:9", "includeRaiReason": True}}


def test_imagen_n_format_size_and_options() -> None:
    request = ImageRequest(PROMPT, size="1024x1792", n=3, seed=1, negative_prompt="x", output_format="jpg",
                           provider_options={"google": {"person_generation": "dont_allow", "image_size": "2K",
                                                        "safetySetting": "BLOCK_ONLY_HIGH"}})
    wire, warnings = build(request, IMAGEN, n=3)
    assert warnings == [("adapted", "size", "1024x1792", "9:16"), ("dropped", "seed", 1, None),
                        ("dropped", "negative_prompt", "x", None)]
    assert wire.json == {"instances": [{"prompt": PROMPT}], "parameters": {
        "sampleCount": 3, "aspectRatio": "9:16", "sampleImageSize": "2K", "personGeneration": "dont_allow",
        "outputOptions": {"mimeType": "image/jpeg"}, "includeRaiReason": True, "safetySetting": "BLOCK_ONLY_HIGH"}}
    with pytest.raises(InvalidRequestError, match="at most 4"):
        apply(ImageRequest(PROMPT, n=5), CATALOGUE[IMAGEN], adapter="google", n=5)


# -- lifecycle ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("model", "replacement"), [
    ("imagen-4.0-generate-001", "gemini-3.1-flash-image"), ("imagen-4.0-ultra-generate-001", "gemini-3-pro-image"),
    ("imagen-4.0-fast-generate-001", "gemini-3.1-flash-image"), ("imagen-3.0-generate-002", "gemini-3.1-flash-image"),
    ("gemini-3.1-flash-image-preview", "gemini-3.1-flash-image"), ("gemini-3-pro-image-preview", "gemini-3-pro-image"),
    ("gemini-2.5-flash-image", "gemini-3.1-flash-image")])
def test_shut_down_models_are_refused_on_google_but_not_behind_a_custom_base_url(model: str,
                                                                                 replacement: str) -> None:
    caps = CATALOGUE[model]
    with pytest.raises(ModelRetiredError) as caught:
        check_lifecycle(caps, adapter="google", default_service=True)
    assert caught.value.replacement == replacement
    check_lifecycle(caps, adapter="google", default_service=False)  # a proxy may still serve it


def test_imagen_shutdown_date() -> None:
    assert {CATALOGUE[m].lifecycle.shutdown_on for m in CATALOGUE if m.startswith("imagen-4")} == {"2026-08-17"}
    for model in (FLASH, PRO):
        assert not CATALOGUE[model].lifecycle.is_shut_down()
        check_lifecycle(CATALOGUE[model], adapter="google", default_service=True)


# -- parsing: success ------------------------------------------------------------------------------------------
def ok(name: str) -> WireResponse:
    return WireResponse(200, {"content-type": "application/json; charset=UTF-8"}, data(name))


def test_parse_gemini_image_with_commentary() -> None:
    result = ADAPTER.parse_response(ok("gemini_image.json"), call_for(FLASH))
    [image] = result.images
    assert image.data == PNG and image.media_type == "image/png" and image.size == "8x8"
    assert image.revised_prompt == PROMPT  # the text part is commentary, not a rewrite
    assert image.metadata == {"finish_reason": "STOP", "text": "Here is a lighthouse at dawn."}
    assert result.request_id == "resp-8f2a" and result.errors == []
    assert result.usage == {"promptTokenCount": 9, "candidatesTokenCount": 1290, "totalTokenCount": 1299}


def test_parse_gemini_snake_case_inline_data() -> None:
    [image] = ADAPTER.parse_response(ok("gemini_image_snake_case.json"), call_for(FLASH)).images
    assert image.data == PNG and image.media_type == "image/png"
    assert image.metadata == {"finish_reason": "STOP"}


def test_parse_gemini_skips_thought_parts() -> None:
    [image] = ADAPTER.parse_response(ok("gemini_thought_then_image.json"), call_for(PRO)).images
    assert image.data == PNG and image.size == "8x8" and "text" not in image.metadata


def test_parse_imagen_predictions() -> None:
    result = ADAPTER.parse_response(ok("imagen_predictions.json"), call_for(IMAGEN, n=2))
    assert [image.data for image in result.images] == [PNG, PNG] and result.errors == []
    assert all(image.media_type == "image/png" and image.revised_prompt == PROMPT for image in result.images)


# -- moderation, every form -------------------------------------------------------------------------------------
def policy_error(name: str, model: str = FLASH, **changes: Any) -> ContentPolicyError:
    with pytest.raises(ContentPolicyError) as caught:
        ADAPTER.parse_response(ok(name), call_for(model, **changes))
    assert caught.value.status == 200 and caught.value.adapter == "google" and caught.value.model == model
    return caught.value


def test_prompt_blocked_is_input_moderation() -> None:
    error = policy_error("gemini_prompt_blocked.json")
    assert (error.stage, error.reason, error.code) == ("input", "PROHIBITED_CONTENT", "PROHIBITED_CONTENT")
    assert error.request_id == "resp-blocked"


def test_image_safety_finish_reason_is_output_moderation() -> None:
    error = policy_error("gemini_image_safety.json")
    assert (error.stage, error.reason, error.code) == ("output", "IMAGE_SAFETY", "IMAGE_SAFETY")
    assert "Prohibited Use policy" in str(error)


@pytest.mark.parametrize("reason", ["SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION",
                                    "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION"])
def test_every_moderation_finish_reason(reason: str) -> None:
    body = f'{{"candidates": [{{"content": {{"role": "model"}}, "finishReason": "{reason}"}}]}}'.encode()
    with pytest.raises(ContentPolicyError) as caught:
        ADAPTER.parse_response(WireResponse(200, {}, body), call_for(FLASH))
    assert caught.value.stage == "output" and caught.value.reason == reason


def test_text_only_refusal_carries_the_text() -> None:
    error = policy_error("gemini_text_refusal.json")
    assert error.stage is None and error.code == "STOP"
    assert error.reason == ("I can't create that image because the request violated a policy on depicting real "
                            "people.")


def test_no_image_without_text_is_a_provider_error_not_moderation() -> None:
    with pytest.raises(ProviderError) as caught:
        ADAPTER.parse_response(ok("gemini_no_image.json"), call_for(FLASH))
    assert not isinstance(caught.value, ContentPolicyError) and caught.value.code == "NO_IMAGE"


def test_imagen_partially_filtered_keeps_the_image() -> None:
    result = ADAPTER.parse_response(ok("imagen_partially_filtered.json"), call_for(IMAGEN, n=2))
    assert [image.data for image in result.images] == [PNG]
    [error] = result.errors
    assert isinstance(error, ContentPolicyError) and error.stage == "output"
    assert error.reason == ("The image you requested was filtered by our safety filters (Support codes: "
                            "56562880).")


def test_imagen_all_filtered_raises() -> None:
    error = policy_error("imagen_all_filtered.json", IMAGEN)
    assert error.stage == "output" and "56562880" in (error.reason or "")


def test_imagen_silently_empty_raises() -> None:
    with pytest.raises(ContentPolicyError) as caught:
        ADAPTER.parse_response(WireResponse(200, {}, b"{}"), call_for(IMAGEN, n=2))
    assert caught.value.stage is None and caught.value.reason == "filtered"


def test_imagen_prompt_refused_with_400() -> None:
    error = error_for("imagen_sensitive_words_400.json", 400, IMAGEN)
    assert isinstance(error, ContentPolicyError) and error.stage == "input" and error.code == "INVALID_ARGUMENT"
    assert "Responsible AI" in (error.reason or "")


# -- errors -------------------------------------------------------------------------------------------------------
def error_for(name: str, status: int, model: str = FLASH, headers: dict[str, str] | None = None) -> ProviderError:
    response = WireResponse(status, {"content-type": "application/json", **(headers or {})}, data(name))
    return ADAPTER.parse_error(response, call_for(model))


def test_invalid_key_400_is_authentication() -> None:
    error = error_for("api_key_invalid_400.json", 400)
    assert isinstance(error, AuthenticationError) and error.code == "API_KEY_INVALID" and error.status == 400
    assert "test-key" not in str(error)


def test_unauthenticated_401() -> None:
    error = error_for("unauthenticated_401.json", 401)
    assert isinstance(error, AuthenticationError) and error.code == "UNAUTHENTICATED"


def test_permission_denied_403() -> None:
    error = error_for("permission_denied_403.json", 403)
    assert type(error) is PermissionDeniedError and error.code == "PERMISSION_DENIED"


def test_location_failed_precondition_is_permission_denied() -> None:
    assert type(error_for("location_400.json", 400)) is PermissionDeniedError


def test_per_minute_quota_is_a_rate_limit_with_retry_info() -> None:
    response = WireResponse(429, {}, data("rate_limit_429.json"))
    error = ADAPTER.parse_error(response, call_for(FLASH))
    assert isinstance(error, RateLimitError) and error.retry_after == 19.0 and error.code == "RESOURCE_EXHAUSTED"
    assert ADAPTER.is_retryable(response)


def test_bare_resource_exhausted_is_a_rate_limit() -> None:
    response = WireResponse(429, {"retry-after": "7"}, data("resource_exhausted_bare_429.json"))
    error = ADAPTER.parse_error(response, None)
    assert isinstance(error, RateLimitError) and error.retry_after == 7.0 and ADAPTER.is_retryable(response)


@pytest.mark.parametrize("name", ["quota_limit_zero_429.json", "quota_per_day_429.json"])
def test_quotas_retrying_cannot_fix(name: str) -> None:
    response = WireResponse(429, {}, data(name))
    error = ADAPTER.parse_error(response, call_for(FLASH))
    assert isinstance(error, QuotaExceededError) and not isinstance(error, RateLimitError)
    assert not ADAPTER.is_retryable(response)


def test_not_found_is_model_not_found_with_the_replacement() -> None:
    error = error_for("not_found_404.json", 404, IMAGEN)
    assert isinstance(error, ModelNotFoundError) and isinstance(error, ProviderError)
    assert error.code == "NOT_FOUND" and "use gemini-3.1-flash-image instead" in str(error)


def test_invalid_argument_is_an_invalid_request() -> None:
    error = error_for("invalid_argument_400.json", 400)
    assert isinstance(error, InvalidRequestError) and isinstance(error, ProviderError)
    assert not isinstance(error, ContentPolicyError) and error.code == "INVALID_ARGUMENT"


@pytest.mark.parametrize(("name", "status"), [("internal_500.json", 500), ("unavailable_503.json", 503)])
def test_server_errors(name: str, status: int) -> None:
    error = error_for(name, status)
    assert isinstance(error, ServiceUnavailableError)
    assert ADAPTER.is_retryable(WireResponse(status, {}, data(name)))


@pytest.mark.parametrize(("status", "retryable"), [(408, True), (429, True), (500, True), (502, True), (503, True),
                                                   (504, True), (501, False), (400, False), (401, False),
                                                   (403, False), (404, False), (409, False)])
def test_is_retryable_follows_google_genai(status: int, retryable: bool) -> None:
    assert ADAPTER.is_retryable(WireResponse(status, {}, b"")) is retryable


def test_malformed_bodies() -> None:
    with pytest.raises(ProviderError, match="not JSON"):
        ADAPTER.parse_response(WireResponse(200, {}, b"<html>"), call_for(FLASH))
    body = b'{"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "@@"}}]}}]}'
    with pytest.raises(ProviderError, match="not valid base64"):
        ADAPTER.parse_response(WireResponse(200, {}, body), call_for(FLASH))


# -- conformance ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", sorted(CATALOGUE))
def test_catalogue_conformance(model: str) -> None:
    caps = CATALOGUE[model]
    assert caps.model == model and caps.family in ("gemini", "imagen")
    assert caps.quality_default is None or caps.quality_default in caps.qualities
    assert caps.style_default is None or caps.style_default in caps.styles
    assert caps.qualities == () and caps.styles == ()
    assert caps.output_format_default in caps.output_formats
    assert caps.max_images >= 1 and caps.lifecycle.source
    replacement = caps.lifecycle.replacement
    assert replacement is None or replacement in CATALOGUE or ":" in replacement
    if replacement:
        assert not CATALOGUE[replacement].lifecycle.is_shut_down()  # never point at another dead model
    assert caps.size.mode == "aspect_ratio"
    assert caps.size.aspect_ratios == (GEMINI_RATIOS if caps.family == "gemini" else IMAGEN_RATIOS)
    assert set(caps.size.resolutions) <= {"1K", "2K", "4K"}
    assert caps.max_images == (1 if caps.family == "gemini" else 4)


def test_prices() -> None:
    assert CATALOGUE[PRO].price_for(None, "4K") == 0.24
    assert CATALOGUE[PRO].price_for(None, "1:1") == 0.134
    assert CATALOGUE[FLASH].price_for(None, "1:1") == 0.067
    assert CATALOGUE[IMAGEN].price_for(None, None) == 0.04


def test_adapter_declaration() -> None:
    assert ADAPTER.name == "google" and ADAPTER.default_base_url == BASE
    assert ADAPTER.key_env == ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    assert ADAPTER.secret_headers == ("x-goog-api-key",)
    assert ADAPTER.default_model == FLASH
    assert ADAPTER.non_image_model("gemini-2.5-flash") and ADAPTER.non_image_model("models/gemini-3.5-flash")
    assert not ADAPTER.non_image_model(FLASH) and not ADAPTER.non_image_model(IMAGEN)


def test_unknown_model_passthrough_routes_by_id() -> None:
    for model, suffix in (("imagen-5.0-generate-001", ":predict"), ("gemini-4-flash-image", ":generateContent")):
        caps = ADAPTER.permissive_capabilities(model)
        prepared, _ = apply(ImageRequest(PROMPT, size="1792x1024"), caps, adapter="google")
        wire = ADAPTER.build_request(prepared, ENDPOINT)
        assert wire.url == f"{BASE}/models/{model}{suffix}"
        assert "16:9" in str(wire.json)


# -- end to end through the real client (httpx2.MockTransport: no socket, no network) -------------------------
def test_end_to_end_gemini_and_retired_imagen(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx2

    import imgsdk

    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", "g-e2e")
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        name = "imagen_predictions.json" if request.url.path.endswith(":predict") else "gemini_image.json"
        return httpx2.Response(200, content=data(name), headers={"content-type": "application/json"})

    with imgsdk.Client({}, transport=httpx2.MockTransport(handler), sleep=lambda _: None) as client:
        result = client.generate(PROMPT, provider="google", size="1792x1024", quality="hd")
        assert result.provider == f"google:{FLASH}" and result.cost_usd == 0.067
        assert result.images[0].metadata["text"] == "Here is a lighthouse at dawn."
        assert seen[0].headers["x-goog-api-key"] == "g-e2e" and "key=" not in str(seen[0].url)
        with pytest.raises(ModelRetiredError):
            client.generate(PROMPT, provider=f"google:{IMAGEN}")
        assert len(seen) == 1  # refused before the network
    config = {"providers": {"legacy": {"model": f"google:{IMAGEN}", "base_url": "https://gw.example/v1beta"}}}
    with imgsdk.Client(config, transport=httpx2.MockTransport(handler), sleep=lambda _: None) as client:
        result = client.generate(PROMPT, provider="legacy", n=2)
        assert len(result.images) == 2 and str(seen[-1].url) == f"https://gw.example/v1beta/models/{IMAGEN}:predict"
