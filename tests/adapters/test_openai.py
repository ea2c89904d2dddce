"""OpenAI adapter: declarations against the wire, the official SDK as an oracle, parsing, errors, retries."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from PIL import Image

import imgsdk
from imgsdk.adapter import Endpoint, Secret, WireResponse
from imgsdk.adapters.openai import MODELS, OpenAIAdapter
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
from imgsdk.policy import apply
from imgsdk.request import ImageRequest, PreparedRequest

DATA = Path(__file__).resolve().parent.parent / "data" / "openai"
PROMPT = "A photorealistic banner of a modern data centre at dawn"
BASE = "https://api.openai.com/v1"
adapter = OpenAIAdapter()


def data(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, format=fmt)
    return out.getvalue()


def endpoint(base_url: str = BASE, **settings: Any) -> Endpoint:
    return Endpoint(base_url=base_url, api_key=Secret("test-key"), settings=settings)


def prepare(model: str, request: ImageRequest, mode: str = "warn") -> tuple[PreparedRequest, list[Any]]:
    caps = adapter.capabilities(model, {})
    assert caps is not None
    return apply(request, caps, adapter="openai", mode=mode)  # type: ignore[arg-type]


def warnings_of(warnings: list[Any]) -> list[tuple[str, str, Any, Any]]:
    return [(w.code, w.option, w.requested, w.applied) for w in warnings]


def node_default() -> ImageRequest:
    return ImageRequest(PROMPT, size="1024x1024", soft=frozenset({"size"}))


def social() -> ImageRequest:
    return ImageRequest(PROMPT, size="1792x1024", quality="hd", style="vivid")


def response(body: Any, status: int = 200, **headers: str) -> WireResponse:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WireResponse(status, {k.replace("_", "-"): v for k, v in headers.items()}, content)


# -- mapping: exact wire per family ---------------------------------------------------------------------------
def test_dalle3_node_default_exact_wire() -> None:
    call, warnings = prepare("dall-e-3", node_default())
    wire = adapter.build_request(call, endpoint())
    assert (wire.method, wire.url, wire.params) == ("POST", f"{BASE}/images/generations", {})
    assert wire.headers == {"Authorization": "Bearer test-key"}
    assert wire.json == {"model": "dall-e-3", "prompt": PROMPT, "n": 1, "size": "1024x1024",
                         "response_format": "url"}
    assert warnings == []


def test_dalle3_social_example_sends_exactly_the_dalle_fields() -> None:
    request = ImageRequest(PROMPT, size="1792x1024", quality="hd", style="natural")
    call, warnings = prepare("dall-e-3", request)
    assert adapter.build_request(call, endpoint()).json == {
        "model": "dall-e-3", "prompt": PROMPT, "n": 1, "size": "1792x1024", "quality": "hd",
        "style": "natural", "response_format": "url"}
    assert warnings == []
    strict, _ = prepare("dall-e-3", request, mode="strict")  # everything is native: strict has nothing to refuse
    assert strict.quality == "hd"


def test_gpt_image_2_social_example_drops_style_and_translates_hd() -> None:
    call, warnings = prepare("gpt-image-2", social())
    assert adapter.build_request(call, endpoint()).json == {
        "model": "gpt-image-2", "prompt": PROMPT, "n": 1, "size": "1792x1024", "quality": "high"}
    assert warnings_of(warnings) == [("translated", "quality", "hd", "high"), ("dropped", "style", "vivid", None)]
    with pytest.raises(UnsupportedOptionError) as raised:
        prepare("gpt-image-2", social(), mode="strict")
    assert raised.value.option == "quality" and raised.value.value == "hd"


def test_gpt_image_2_node_default() -> None:
    call, warnings = prepare("gpt-image-2", node_default())
    assert adapter.build_request(call, endpoint()).json == {
        "model": "gpt-image-2", "prompt": PROMPT, "n": 1, "size": "1024x1024"}
    assert warnings == []


def test_gpt_image_1_5_social_example_adapts_size() -> None:
    call, warnings = prepare("gpt-image-1.5", social())
    assert adapter.build_request(call, endpoint()).json == {
        "model": "gpt-image-1.5", "prompt": PROMPT, "n": 1, "size": "1536x1024", "quality": "high"}
    assert warnings_of(warnings) == [("adapted", "size", "1792x1024", "1536x1024"),
                                     ("translated", "quality", "hd", "high"), ("dropped", "style", "vivid", None)]
    with pytest.raises(UnsupportedOptionError) as raised:
        prepare("gpt-image-1.5", social(), mode="strict")
    assert raised.value.option == "size"


def test_gpt_image_standard_quality_is_medium() -> None:
    call, warnings = prepare("gpt-image-1-mini", ImageRequest(PROMPT, quality="standard"))
    assert adapter.build_request(call, endpoint()).json == {
        "model": "gpt-image-1-mini", "prompt": PROMPT, "n": 1, "quality": "medium"}
    assert warnings_of(warnings) == [("translated", "quality", "standard", "medium")]


def test_dalle2_social_example() -> None:
    call, warnings = prepare("dall-e-2", social())
    assert adapter.build_request(call, endpoint()).json == {
        "model": "dall-e-2", "prompt": PROMPT, "n": 1, "size": "1024x1024", "response_format": "url"}
    assert warnings_of(warnings) == [("adapted", "size", "1792x1024", "1024x1024"),
                                     ("dropped", "quality", "hd", "standard"), ("dropped", "style", "vivid", None)]
    with pytest.raises(UnsupportedOptionError):
        prepare("dall-e-2", social(), mode="strict")


def test_dalle2_n_and_small_size() -> None:
    call, _ = prepare("dall-e-2", ImageRequest(PROMPT, size="256x256", n=3))
    assert adapter.build_request(call, endpoint()).json == {
        "model": "dall-e-2", "prompt": PROMPT, "n": 3, "size": "256x256", "response_format": "url"}


def test_dalle3_takes_one_image_per_call() -> None:
    with pytest.raises(InvalidRequestError, match="at most 1"):
        prepare("dall-e-3", ImageRequest(PROMPT, n=2))


def test_seed_and_negative_prompt_are_dropped_everywhere() -> None:
    for model in ("dall-e-3", "gpt-image-2"):
        call, warnings = prepare(model, ImageRequest(PROMPT, seed=7, negative_prompt="blur"))
        body = adapter.build_request(call, endpoint()).json
        assert "seed" not in body and "negative_prompt" not in body
        assert warnings_of(warnings) == [("dropped", "seed", 7, None), ("dropped", "negative_prompt", "blur", None)]


def test_gpt_image_output_format_background_and_options() -> None:
    request = ImageRequest(PROMPT, output_format="webp", background="transparent",
                           provider_options={"openai": {"moderation": "low", "output_compression": 80},
                                             "azure": {"ignored": True}})
    call, warnings = prepare("gpt-image-1.5", request)
    assert adapter.build_request(call, endpoint()).json == {
        "model": "gpt-image-1.5", "prompt": PROMPT, "n": 1, "output_format": "webp",
        "background": "transparent", "moderation": "low", "output_compression": 80}
    assert warnings == []


def test_dalle_never_gets_gpt_image_fields() -> None:
    request = ImageRequest(PROMPT, output_format="jpeg", background="transparent")
    call, warnings = prepare("dall-e-3", request)
    assert adapter.build_request(call, endpoint()).json == {
        "model": "dall-e-3", "prompt": PROMPT, "n": 1, "response_format": "url"}
    assert warnings_of(warnings) == [("dropped", "output_format", "jpeg", "png"),
                                     ("dropped", "background", "transparent", None)]
    png, warnings = prepare("dall-e-3", ImageRequest(PROMPT, output_format="png"))
    assert "output_format" not in adapter.build_request(png, endpoint()).json and warnings == []


def test_dalle_response_format_option_and_none_removes_a_field() -> None:
    request = ImageRequest(PROMPT, provider_options={"openai": {"response_format": "b64_json"}})
    call, _ = prepare("dall-e-3", request)
    assert adapter.build_request(call, endpoint()).json["response_format"] == "b64_json"
    request = ImageRequest(PROMPT, provider_options={"openai": {"response_format": None}})
    call, _ = prepare("dall-e-3", request)
    assert adapter.build_request(call, endpoint()).json == {"model": "dall-e-3", "prompt": PROMPT, "n": 1}


def test_stream_option_is_refused() -> None:
    call, _ = prepare("gpt-image-2", ImageRequest(PROMPT, provider_options={"openai": {"stream": True}}))
    with pytest.raises(InvalidRequestError, match="stream"):
        adapter.build_request(call, endpoint())


def test_sizes_auto_and_free_sizes() -> None:
    auto, _ = prepare("gpt-image-1.5", ImageRequest(PROMPT, size="auto"))
    assert adapter.build_request(auto, endpoint()).json["size"] == "auto"
    dalle_auto, _ = prepare("dall-e-3", ImageRequest(PROMPT, size="auto"))
    assert "size" not in adapter.build_request(dalle_auto, endpoint()).json
    wide, warnings = prepare("gpt-image-2", ImageRequest(PROMPT, size="2048x1152"))
    assert wide.size == "2048x1152" and warnings == []
    big, warnings = prepare("gpt-image-2", ImageRequest(PROMPT, size="3840x2160"))
    assert big.size == "3840x2160" and warnings == []
    tall, warnings = prepare("gpt-image-2", ImageRequest(PROMPT, size="1024x3072"))  # exactly 1:3
    assert tall.size == "1024x3072" and warnings == []
    odd, warnings = prepare("gpt-image-2", ImageRequest(PROMPT, size="1000x1000"))
    assert odd.size == "992x992" and warnings_of(warnings) == [("adapted", "size", "1000x1000", "992x992")]
    ratio, _ = prepare("gpt-image-2", ImageRequest(PROMPT, size="16:9"))  # no "auto" default to divide by
    assert ratio.width is not None and ratio.width % 16 == 0


def test_gpt_image_2_clamped_size_stays_inside_the_declared_ratio() -> None:
    clamped, warnings = prepare("gpt-image-2", ImageRequest(PROMPT, size="4000x1000"))
    width, height = clamped.width or 0, clamped.height or 0
    assert warnings_of(warnings)[0][:2] == ("adapted", "size")
    assert width % 16 == 0 and height % 16 == 0 and max(width, height) <= 3840
    assert width / height <= 3


def test_prompt_limits() -> None:
    with pytest.raises(InvalidRequestError, match="1000"):
        prepare("dall-e-2", ImageRequest("x" * 1001))
    prepare("dall-e-3", ImageRequest("x" * 4000))
    with pytest.raises(InvalidRequestError, match="4000"):
        prepare("dall-e-3", ImageRequest("x" * 4001))
    prepare("gpt-image-2", ImageRequest("x" * 32000))


def test_user_and_organization_headers() -> None:
    call, _ = prepare("gpt-image-2", ImageRequest(PROMPT, user="u-1"))
    wire = adapter.build_request(call, endpoint(organization="org-1", project="proj-1"))
    assert wire.json == {"model": "gpt-image-2", "prompt": PROMPT, "n": 1, "user": "u-1"}
    assert wire.headers == {"Authorization": "Bearer test-key", "OpenAI-Organization": "org-1",
                            "OpenAI-Project": "proj-1"}


# -- the oracle: the official openai SDK sends the same body ----------------------------------------------------
ORACLE = [
    ("dall-e-3", node_default(), dict(n=1, size="1024x1024", response_format="url")),
    ("dall-e-3", ImageRequest(PROMPT, size="1792x1024", quality="hd", style="natural"),
     dict(n=1, size="1792x1024", quality="hd", style="natural", response_format="url")),
    ("gpt-image-1.5", ImageRequest(PROMPT, output_format="jpeg", background="opaque", quality="high"),
     dict(n=1, output_format="jpeg", background="opaque", quality="high")),
    ("gpt-image-2", ImageRequest(PROMPT, size="2048x1152"), dict(n=1, size="2048x1152")),
    ("dall-e-2", ImageRequest(PROMPT, size="256x256", n=3), dict(n=3, size="256x256", response_format="url")),
    ("gpt-image-2", ImageRequest(PROMPT, user="u-1"), dict(n=1, user="u-1")),
    ("gpt-image-2", social(), dict(n=1, size="1792x1024", quality="high")),
    ("gpt-image-1-mini", ImageRequest(PROMPT, n=4, output_format="webp",
                                      provider_options={"openai": {"moderation": "low", "output_compression": 50}}),
     dict(n=4, output_format="webp", moderation="low", output_compression=50)),
    ("dall-e-3", ImageRequest(PROMPT, user="u-1", provider_options={"openai": {"response_format": "b64_json"}}),
     dict(n=1, user="u-1", response_format="b64_json")),
]


def sdk_request(**arguments: Any) -> httpx2.Request:
    captured: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        captured.append(request)
        return httpx2.Response(200, json={"created": 1, "data": [{"url": "https://example.test/a.png"}]})

    client = openai.OpenAI(api_key="test-key", base_url="http://testserver/v1", max_retries=0,
                           http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    client.images.generate(**arguments)
    assert len(captured) == 1
    return captured[0]


@pytest.mark.parametrize(("model", "request_", "sdk_arguments"), ORACLE,
                         ids=[f"{i}-{case[0]}" for i, case in enumerate(ORACLE)])
def test_body_matches_the_official_sdk(model: str, request_: ImageRequest, sdk_arguments: dict[str, Any]) -> None:
    call, _ = prepare(model, request_)
    ours = adapter.build_request(call, endpoint("http://testserver/v1"))
    theirs = sdk_request(model=model, prompt=PROMPT, **sdk_arguments)
    assert ours.json == json.loads(theirs.content)
    assert httpx2.URL(ours.url).path == theirs.url.path == "/v1/images/generations"
    assert ours.method == theirs.method
    assert ours.headers["Authorization"] == theirs.headers["authorization"] == "Bearer test-key"


# -- parsing ------------------------------------------------------------------------------------------------------
def test_dalle3_url_response() -> None:
    call, _ = prepare("dall-e-3", social())
    result = adapter.parse_response(response(data("dalle3_url.json"), x_request_id="req_1",
                                             date="Fri, 01 May 2026 10:00:00 GMT"), call)
    [image] = result.images
    assert image.url.startswith("https://oaidalleapiprodscus.blob.core.windows.net/")
    assert image.revised_prompt.startswith("A photorealistic wide banner")
    assert image.size == "1792x1024"
    assert image.expires_at == dt.datetime(2026, 5, 1, 11, 0, tzinfo=dt.UTC)
    assert result.request_id == "req_1" and result.usage is None and result.errors == []


def test_dalle_era_example_without_revised_prompt_or_date() -> None:
    call, _ = prepare("dall-e-2", ImageRequest(PROMPT, n=2))
    before = dt.datetime.now(dt.UTC)
    result = adapter.parse_response(response(data("dalle_era_urls.json")), call)
    assert [image.url for image in result.images] == ["https://...", "https://..."]
    assert all(image.revised_prompt == PROMPT and image.size == "1024x1024" for image in result.images)
    expires = result.images[0].expires_at
    assert expires is not None and dt.timedelta(minutes=59) < expires - before < dt.timedelta(minutes=61)


def test_gpt_image_base64_response_with_usage_and_cost() -> None:
    png = image_bytes()
    body = data("gpt_image_b64.json")
    body["data"][0]["b64_json"] = base64.b64encode(png).decode()
    call, _ = prepare("gpt-image-1", ImageRequest(PROMPT, quality="high"))
    result = adapter.parse_response(response(body), call)
    [image] = result.images
    assert image.data == png and image.media_type == "image/png" and image.size == "8x8"
    assert image.url.startswith("data:image/png;base64,") and image.expires_at is None
    assert image.revised_prompt == PROMPT
    assert image.metadata == {"response": {"size": "1024x1024", "quality": "high", "background": "transparent",
                                           "output_format": "png"}}
    assert result.usage == body["usage"]
    # 10 text tokens at $5/M + 40 image tokens at $10/M + 50 output tokens at $40/M
    assert result.cost_usd == pytest.approx(0.00245)


def test_gpt_image_jpeg_and_cost_unknown_without_prices() -> None:
    jpeg = image_bytes("JPEG", (16, 8))
    body = {"created": 1, "output_format": "jpeg", "data": [{"b64_json": base64.b64encode(jpeg).decode()}],
            "usage": {"input_tokens": 12, "output_tokens": 100, "total_tokens": 112,
                      "input_tokens_details": {"text_tokens": 12, "image_tokens": 0}}}
    call, _ = prepare("gpt-image-2", ImageRequest(PROMPT, output_format="jpeg"))
    result = adapter.parse_response(response(body), call)
    assert result.images[0].media_type == "image/jpeg" and result.images[0].size == "16x8"
    assert result.cost_usd is None  # gpt-image-2 has no declared token prices: never a guess
    mini, _ = prepare("gpt-image-1-mini", ImageRequest(PROMPT))
    assert adapter.parse_response(response(body), mini).cost_usd is None  # text-input price unknown


def test_malformed_success_bodies() -> None:
    call, _ = prepare("gpt-image-2", ImageRequest(PROMPT))
    with pytest.raises(ProviderError, match="base64") as raised:
        adapter.parse_response(response({"created": 1, "data": [{"b64_json": "not base64!"}]}, x_request_id="r"),
                               call)
    assert (raised.value.adapter, raised.value.model, raised.value.request_id) == ("openai", "gpt-image-2", "r")
    with pytest.raises(ProviderError, match="without any image"):
        adapter.parse_response(response({"created": 1, "data": []}), call)
    with pytest.raises(ProviderError, match="not JSON"):
        adapter.parse_response(response(b"<html>gateway</html>"), call)
    with pytest.raises(ContentPolicyError):  # an error envelope on HTTP 200 is still an error
        adapter.parse_response(response(data("error_moderation_blocked.json")), call)


# -- errors -------------------------------------------------------------------------------------------------------
def error(name: str, status: int = 400, **headers: str) -> ProviderError:
    call, _ = prepare("gpt-image-2", ImageRequest(PROMPT))
    return adapter.parse_error(response(data(name), status, x_request_id="req_9", **headers), call)


def test_dalle_content_policy_violation() -> None:
    raised = error("error_content_policy_violation.json")
    assert isinstance(raised, ContentPolicyError)
    assert (raised.stage, raised.reason, raised.code) == (None, "content_policy_violation", "content_policy_violation")
    assert (raised.adapter, raised.model, raised.status, raised.request_id) == ("openai", "gpt-image-2", 400, "req_9")
    assert "safety system" in str(raised) and raised.exit_code == 3


def test_gpt_image_moderation_blocked_reads_safety_violations() -> None:
    raised = error("error_moderation_blocked.json")
    assert isinstance(raised, ContentPolicyError)
    assert (raised.stage, raised.reason) == (None, "moderation_blocked: violence")


def test_moderation_details_give_stage_and_categories() -> None:
    raised = error("error_moderation_blocked_details.json")
    assert isinstance(raised, ContentPolicyError)
    assert (raised.stage, raised.reason) == ("output", "moderation_blocked: sexual, violence")


def test_insufficient_quota_on_any_status_is_not_retried() -> None:
    for status in (429, 400, 403):
        raised = error("error_insufficient_quota.json", status)
        assert isinstance(raised, QuotaExceededError) and raised.code == "insufficient_quota"
    assert not adapter.is_retryable(response(data("error_insufficient_quota.json"), 429))


def test_rate_limit_has_retry_after() -> None:
    raised = error("error_rate_limit.json", 429, retry_after_ms="1500")
    assert isinstance(raised, RateLimitError) and raised.retry_after == 1.5 and raised.request_id == "req_9"
    assert adapter.is_retryable(response(data("error_rate_limit.json"), 429, retry_after="3"))


def test_invalid_key_is_authentication_and_never_echoes_the_key() -> None:
    raised = error("error_invalid_api_key.json", 401)
    assert isinstance(raised, AuthenticationError) and raised.code == "invalid_api_key"
    assert "sk-" not in str(raised) and "wxyz" not in str(raised) and "sk-" not in json.dumps(raised.body)


def test_status_mapping() -> None:
    assert isinstance(error("error_model_not_found.json", 404), ModelNotFoundError)
    bad = error("error_model_not_found.json", 400)
    assert isinstance(bad, InvalidRequestError) and isinstance(bad, ProviderError)
    assert isinstance(error("error_server.json", 403), PermissionDeniedError)
    server = error("error_server.json", 500)
    assert isinstance(server, ServiceUnavailableError) and "had an error" in str(server)
    call, _ = prepare("gpt-image-2", ImageRequest(PROMPT))
    gateway = adapter.parse_error(response(b"Bad gateway", 502), call)
    assert isinstance(gateway, ServiceUnavailableError) and "Bad gateway" in str(gateway)


@pytest.mark.parametrize(("status", "headers", "expected"), [
    (408, {}, True), (409, {}, True), (429, {}, True), (500, {}, True), (503, {}, True),
    (400, {}, False), (401, {}, False), (404, {}, False),
    (400, {"x-should-retry": "true"}, True), (500, {"x-should-retry": "false"}, False),
    (429, {"retry-after": "121"}, False), (429, {"retry-after": "120"}, True),
    (503, {"retry-after-ms": "200000"}, False),
    (429, {"retry-after": "Wed, 21 Oct 2099 07:28:00 GMT"}, False),
])
def test_retry_rule_is_openai_pythons(status: int, headers: dict[str, str], expected: bool) -> None:
    assert adapter.is_retryable(WireResponse(status, headers, b"{}")) is expected


# -- declarations -------------------------------------------------------------------------------------------------
def test_catalogue_conformance() -> None:
    assert "chatgpt-image-latest" not in MODELS  # not a generations model [OAI-SPEC]
    assert adapter.default_model in MODELS and adapter.default_base_url == BASE
    for model, caps in MODELS.items():
        assert caps.model == model and caps.family in ("dalle", "gpt-image") and caps.user_field
        assert caps.max_images >= 1
        assert caps.quality_default is None or caps.quality_default in caps.qualities
        assert caps.style_default is None or caps.style_default in caps.styles
        assert caps.output_format_default is None or caps.output_format_default in caps.output_formats
        assert all(target in caps.qualities for target in caps.quality_aliases.values())
        assert caps.lifecycle.replacement is None or caps.lifecycle.replacement in MODELS
        assert caps.lifecycle.source
        for price in caps.prices:
            assert price.quality is None or price.quality in caps.qualities
            assert price.size is None or price.size in caps.size.sizes
        assert not caps.prices or (caps.price_source and caps.price_date)
        if caps.family == "gpt-image":
            assert caps.styles == () and caps.returns == "base64" and caps.prompt_max_chars == 32000
    assert MODELS["dall-e-3"].lifecycle.is_shut_down(dt.date(2026, 11, 29))
    assert MODELS["gpt-image-1"].lifecycle.is_shut_down(dt.date(2026, 11, 29))
    assert not MODELS["gpt-image-1.5"].lifecycle.is_shut_down(dt.date(2026, 11, 29))
    assert MODELS["gpt-image-1.5"].lifecycle.is_shut_down(dt.date(2026, 12, 1))
    assert "UNCONFIRMED" in (MODELS["gpt-image-2.6-flare"].lifecycle.note or "")


def test_dated_snapshots_inherit_their_declaration() -> None:
    snapshot = adapter.capabilities("gpt-image-2.5-flare-2026-09-08", {})
    assert snapshot is not None and snapshot.model == "gpt-image-2.5-flare-2026-09-08"
    assert snapshot.size == MODELS["gpt-image-2.5-flare"].size
    assert adapter.capabilities("gpt-image-9", {}) is None


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-5", "gpt-5.1-codex", "o1", "o3-mini",
                                   "o4-mini", "text-embedding-3-large", "whisper-1", "tts-1-hd", "gpt-realtime",
                                   "gpt-4o-mini-tts", "omni-moderation-latest", "sora-2"])
def test_non_image_models(model: str) -> None:
    assert adapter.non_image_model(model)


@pytest.mark.parametrize("model", ["gpt-image-2", "dall-e-3", "chatgpt-image-latest", "gpt-image-9",
                                   "my-finetune"])
def test_image_or_unknown_models_are_not_called_non_image(model: str) -> None:
    assert not adapter.non_image_model(model)


# -- end to end through imgsdk.Client (MockTransport, no network, no sleeping) -----------------------------------
def test_end_to_end_rate_limit_is_retried_then_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    body = data("gpt_image_b64.json")
    body["data"][0]["b64_json"] = base64.b64encode(image_bytes()).decode()
    replies = [httpx2.Response(429, json=data("error_rate_limit.json"), headers={"retry-after-ms": "250"}),
               httpx2.Response(200, json=body, headers={"x-request-id": "req_ok"})]
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return replies[len(seen) - 1]

    sleeps: list[float] = []
    with imgsdk.Client({}, transport=httpx2.MockTransport(handler), sleep=sleeps.append) as client:
        result = client.generate(PROMPT, provider="openai:gpt-image-2", size="1792x1024", quality="hd",
                                 style="vivid")
    assert len(seen) == 2 and sleeps == [0.25]
    assert json.loads(seen[1].content) == {"model": "gpt-image-2", "prompt": PROMPT, "n": 1, "size": "1792x1024",
                                           "quality": "high"}
    assert seen[1].headers["authorization"] == "Bearer env-key"
    assert result.request_id == "req_ok" and result.size == "8x8" and result.usage == body["usage"]
    assert [(w.code, w.option) for w in result.warnings] == [("translated", "quality"), ("dropped", "style")]


@pytest.mark.parametrize(("name", "status", "kind"), [
    ("error_moderation_blocked.json", 400, ContentPolicyError),
    ("error_insufficient_quota.json", 429, QuotaExceededError),
])
def test_end_to_end_moderation_and_quota_are_not_retried(monkeypatch: pytest.MonkeyPatch, name: str, status: int,
                                                         kind: type[ProviderError]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(status, json=data(name), headers={"x-request-id": "req_no"})

    client = imgsdk.Client({}, transport=httpx2.MockTransport(handler), sleep=lambda _: None)
    with client, pytest.raises(kind) as raised:
        client.generate(PROMPT, provider="openai:gpt-image-2")
    assert len(seen) == 1 and raised.value.request_id == "req_no"


def test_unknown_models_get_an_honest_permissive_profile() -> None:
    caps = adapter.permissive_capabilities("gpt-image-3")
    assert caps.declared_by == "permissive" and caps.family == ""
    call, warnings = apply(ImageRequest(PROMPT, size="1000x700", quality="hd", style="vivid", seed=5), caps,
                           adapter="openai")
    assert adapter.build_request(call, endpoint()).json == {
        "model": "gpt-image-3", "prompt": PROMPT, "n": 1, "size": "1000x700", "quality": "hd", "style": "vivid"}
    assert warnings_of(warnings) == [("dropped", "seed", 5, None)]  # OpenAI's images API has no seed field
