"""Azure OpenAI adapter: deployment URL, api-key / Entra auth, no model in the body, filter results, errors."""

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
from imgsdk.adapters.azure import API_VERSIONS, MODELS, AzureAdapter
from imgsdk.errors import (
    ConfigError,
    ContentPolicyError,
    ModelNotFoundError,
    QuotaExceededError,
    RateLimitError,
    UnsupportedOptionError,
)
from imgsdk.policy import apply
from imgsdk.request import ImageRequest, PreparedRequest

DATA = Path(__file__).resolve().parent.parent / "data" / "azure"
PROMPT = "A photorealistic banner of a modern data centre at dawn"
RESOURCE = "https://contoso.openai.azure.com"
adapter = AzureAdapter()


def data(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def png(size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def endpoint(base_url: str = RESOURCE, *, token: str | None = None, **settings: Any) -> Endpoint:
    if token is not None:
        return Endpoint(base_url=base_url, token_provider=lambda: token, default_service=False, settings=settings)
    return Endpoint(base_url=base_url, api_key=Secret("test-key"), default_service=False, settings=settings)


def prepare(model: str, request: ImageRequest, mode: str = "warn") -> tuple[PreparedRequest, list[Any]]:
    caps = adapter.capabilities(model, {})
    assert caps is not None
    return apply(request, caps, adapter="azure", mode=mode)  # type: ignore[arg-type]


def warnings_of(warnings: list[Any]) -> list[tuple[str, str, Any, Any]]:
    return [(w.code, w.option, w.requested, w.applied) for w in warnings]


def response(body: Any, status: int = 200, **headers: str) -> WireResponse:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WireResponse(status, {k.replace("_", "-"): v for k, v in headers.items()}, content)


# -- mapping ------------------------------------------------------------------------------------------------------
def test_dalle3_deployment_url_api_key_and_no_model() -> None:
    call, warnings = prepare("dall-e-3", ImageRequest(PROMPT, size="1024x1024", soft=frozenset({"size"})))
    wire = adapter.build_request(call, endpoint(deployment="dalle3-prod"))
    assert wire.method == "POST"
    assert wire.url == f"{RESOURCE}/openai/deployments/dalle3-prod/images/generations"
    assert wire.params == {"api-version": "2024-02-01"}
    assert wire.headers == {"api-key": "test-key"}
    assert wire.json == {"prompt": PROMPT, "n": 1, "size": "1024x1024", "response_format": "url"}
    assert warnings == []


def test_dalle3_social_example() -> None:
    call, warnings = prepare("dall-e-3", ImageRequest(PROMPT, size="1792x1024", quality="hd", style="vivid"))
    assert adapter.build_request(call, endpoint()).json == {
        "prompt": PROMPT, "n": 1, "size": "1792x1024", "quality": "hd", "style": "vivid",
        "response_format": "url"}
    assert warnings == []


def test_gpt_image_1_social_example_and_default_deployment_name() -> None:
    request = ImageRequest(PROMPT, size="1792x1024", quality="hd", style="vivid")
    call, warnings = prepare("gpt-image-1", request)
    wire = adapter.build_request(call, endpoint())
    assert wire.url == f"{RESOURCE}/openai/deployments/gpt-image-1/images/generations"
    assert wire.params == {"api-version": "2025-04-01-preview"}
    assert wire.json == {"prompt": PROMPT, "n": 1, "size": "1536x1024", "quality": "high"}
    assert warnings_of(warnings) == [("adapted", "size", "1792x1024", "1536x1024"),
                                     ("translated", "quality", "hd", "high"), ("dropped", "style", "vivid", None)]
    with pytest.raises(UnsupportedOptionError, match="strict mode"):
        prepare("gpt-image-1", request, mode="strict")


def test_webp_is_dropped_on_gpt_image_deployments() -> None:
    for model in ("gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2"):
        call, warnings = prepare(model, ImageRequest(PROMPT, output_format="webp", background="transparent"))
        assert adapter.build_request(call, endpoint(deployment="img")).json == {
            "prompt": PROMPT, "n": 1, "background": "transparent"}
        assert warnings_of(warnings) == [("dropped", "output_format", "webp", "png")]
        assert "png, jpeg" in warnings[0].message
    jpeg, warnings = prepare("gpt-image-1", ImageRequest(PROMPT, output_format="jpeg",
                                                         provider_options={"azure": {"output_compression": 70}}))
    assert adapter.build_request(jpeg, endpoint()).json == {
        "prompt": PROMPT, "n": 1, "output_format": "jpeg", "output_compression": 70}
    assert warnings == []


def test_entra_token_is_fetched_per_request() -> None:
    tokens = iter(["token-1", "token-2"])
    entra = Endpoint(base_url=RESOURCE, token_provider=lambda: next(tokens), default_service=False,
                     settings={"deployment": "img", "api_version": "2025-06-01"})
    call, _ = prepare("gpt-image-1-mini", ImageRequest(PROMPT))
    first, second = adapter.build_request(call, entra), adapter.build_request(call, entra)
    assert first.headers == {"Authorization": "Bearer token-1"}
    assert second.headers == {"Authorization": "Bearer token-2"}
    assert first.params == {"api-version": "2025-06-01"}
    assert "api-key" in adapter.secret_headers and "authorization" in adapter.secret_headers


def test_no_credentials_is_a_config_error() -> None:
    call, _ = prepare("gpt-image-1", ImageRequest(PROMPT))
    with pytest.raises(ConfigError, match="AZURE_OPENAI_API_KEY"):
        adapter.build_request(call, Endpoint(base_url=RESOURCE, default_service=False))


def test_base_url_variants() -> None:
    call, _ = prepare("gpt-image-1", ImageRequest(PROMPT))
    trailing = adapter.build_request(call, endpoint(f"{RESOURCE}/openai/", deployment="a b"))
    assert trailing.url == f"{RESOURCE}/openai/deployments/a%20b/images/generations"
    pinned = adapter.build_request(call, endpoint(f"{RESOURCE}/openai/deployments/pinned", deployment="x"))
    assert pinned.url == f"{RESOURCE}/openai/deployments/pinned/images/generations"
    v1 = adapter.build_request(call, endpoint(f"{RESOURCE}/openai/v1", deployment="img"))
    assert (v1.url, v1.params) == (f"{RESOURCE}/openai/v1/images/generations", {})
    assert v1.json == {"model": "img", "prompt": PROMPT, "n": 1}


@pytest.mark.parametrize(("model", "version", "arguments"), [
    ("gpt-image-1", "2025-04-01-preview", dict(n=1, quality="high", size="1536x1024")),
    ("dall-e-3", "2024-02-01", dict(n=1, size="1792x1024", quality="hd", style="natural", response_format="url")),
])
def test_url_headers_and_body_match_the_official_azure_client(model: str, version: str,
                                                               arguments: dict[str, Any]) -> None:
    captured: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        captured.append(request)
        return httpx2.Response(200, json={"created": 1, "data": [{"url": "https://example.test/a.png"}]})

    client = openai.AzureOpenAI(api_key="test-key", api_version=version, azure_endpoint=RESOURCE, max_retries=0,
                                http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    client.images.generate(model="deploy-1", prompt=PROMPT, **arguments)
    [theirs] = captured
    request = ImageRequest(PROMPT, size=arguments["size"], quality=arguments["quality"], style=arguments.get("style"))
    call, _ = prepare(model, request)
    ours = adapter.build_request(call, endpoint(deployment="deploy-1"))
    assert str(httpx2.URL(ours.url, params=ours.params)) == str(theirs.url)
    assert ours.headers["api-key"] == theirs.headers["api-key"] == "test-key"
    sent = json.loads(theirs.content)
    assert sent.pop("model") == "deploy-1"  # the official client keeps it; the deployment decides anyway
    assert ours.json == sent


# -- parsing ------------------------------------------------------------------------------------------------------
def test_dalle3_spec_example_keeps_filter_results_and_24h_url() -> None:
    body = data("image_generation_dalle3.json")
    call, _ = prepare("dall-e-3", ImageRequest(PROMPT, style="natural", quality="standard"))
    result = adapter.parse_response(response(body, apim_request_id="apim-1", x_request_id="x-1",
                                              date="Thu, 26 Oct 2023 17:45:00 GMT"), call)
    [image] = result.images
    item = body["data"][0]
    assert image.url == item["url"] and image.revised_prompt == item["revised_prompt"]
    assert image.metadata == {"content_filter_results": item["content_filter_results"],
                              "prompt_filter_results": item["prompt_filter_results"]}
    assert image.expires_at == dt.datetime(2023, 10, 27, 17, 45, tzinfo=dt.UTC)
    assert image.size == "1024x1024" and result.request_id == "apim-1"


def test_gpt_image_base64() -> None:
    body = data("gpt_image_1.json")
    raw = png((8, 4))
    body["data"][0]["b64_json"] = base64.b64encode(raw).decode()
    body["data"][0]["content_filter_results"] = {"violence": {"severity": "safe", "filtered": False}}
    call, _ = prepare("gpt-image-1", ImageRequest(PROMPT))
    result = adapter.parse_response(response(body, x_request_id="x-2"), call)
    [image] = result.images
    assert image.data == raw and image.size == "8x4" and image.media_type == "image/png"
    assert image.metadata == {"content_filter_results": {"violence": {"severity": "safe", "filtered": False}}}
    assert result.request_id == "x-2" and image.revised_prompt == PROMPT


def test_a_filtered_item_becomes_an_output_content_policy_error() -> None:
    raw = base64.b64encode(png()).decode()
    blocked = {"content_filter_results": {"sexual": {"severity": "high", "filtered": True}}}
    call, _ = prepare("gpt-image-1", ImageRequest(PROMPT, n=2))
    partial = adapter.parse_response(response({"created": 1, "data": [{"b64_json": raw}, blocked]}), call)
    assert len(partial.images) == 1
    [withheld] = partial.errors
    assert isinstance(withheld, ContentPolicyError) and withheld.stage == "output"
    assert withheld.reason == "content_filter_results: sexual (high)"
    with pytest.raises(ContentPolicyError):
        adapter.parse_response(response({"created": 1, "data": [blocked]}), call)


# -- errors -------------------------------------------------------------------------------------------------------
def error(name: str, status: int = 400) -> Any:
    call, _ = prepare("dall-e-3", ImageRequest(PROMPT))
    return adapter.parse_error(response(data(name), status, apim_request_id="apim-9"), call)


def test_content_filter_input_and_output() -> None:
    refused = error("error_content_filter_input.json")
    assert isinstance(refused, ContentPolicyError)
    assert (refused.stage, refused.reason, refused.code, refused.request_id) == (
        "input", "contentFilter", "contentFilter", "apim-9")
    withheld = error("error_content_filter_output.json")
    assert isinstance(withheld, ContentPolicyError) and withheld.stage == "output"


def test_inner_error_spelling_from_the_spec() -> None:
    refused = error("error_inner_error.json")
    assert isinstance(refused, ContentPolicyError)
    assert (refused.stage, refused.reason) == ("input", "ResponsibleAIPolicyViolation: violence (high)")
    assert refused.code == "content_policy_violation" and refused.adapter == "azure" and refused.model == "dall-e-3"


def test_innererror_spelling_from_real_bodies() -> None:
    refused = error("error_innererror.json")
    assert isinstance(refused, ContentPolicyError)
    assert refused.reason == "ResponsibleAIPolicyViolation: jailbreak (detected), sexual (medium)"
    assert refused.stage == "input" and refused.code == "content_filter"


def test_openai_style_moderation_blocked_through_azure() -> None:
    refused = error("error_moderation_blocked.json")
    assert isinstance(refused, ContentPolicyError) and refused.reason == "moderation_blocked: sexual"


def test_a_200_carrying_a_content_filter_error_is_raised() -> None:
    call, _ = prepare("dall-e-3", ImageRequest(PROMPT))
    with pytest.raises(ContentPolicyError) as raised:
        adapter.parse_response(response(data("error_content_filter_output.json")), call)
    assert raised.value.stage == "output"


def test_status_errors() -> None:
    missing = error("error_deployment_not_found.json", 404)
    assert isinstance(missing, ModelNotFoundError) and "deployment name" in str(missing)
    limited = adapter.parse_error(response({"error": {"code": "429", "message": "Requests to the Images_Generations"
                                                      " Operation have exceeded call rate limit"}}, 429,
                                           retry_after="7"), None)
    assert isinstance(limited, RateLimitError) and limited.retry_after == 7
    quota = adapter.parse_error(response({"error": {"code": "insufficient_quota", "message": "quota"}}, 429), None)
    assert isinstance(quota, QuotaExceededError)


@pytest.mark.parametrize(("status", "headers", "body", "expected"), [
    (429, {}, {"error": {"code": "429", "message": "rate"}}, True),
    (429, {}, {"error": {"code": "insufficient_quota", "message": "q"}}, False),
    (500, {}, {}, True), (408, {}, {}, True), (400, {}, {}, False),
    (400, {"x-should-retry": "true"}, {}, True), (503, {"x-should-retry": "false"}, {}, False),
])
def test_retry_rule(status: int, headers: dict[str, str], body: Any, expected: bool) -> None:
    assert adapter.is_retryable(WireResponse(status, headers, json.dumps(body).encode())) is expected


# -- declarations -------------------------------------------------------------------------------------------------
def test_catalogue_conformance() -> None:
    assert set(MODELS) == {"dall-e-3", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2"}
    assert adapter.default_base_url is None and adapter.default_model in MODELS
    assert set(adapter.profile_keys) == {"deployment", "api_version"}
    assert API_VERSIONS == {"dalle": "2024-02-01", "gpt-image": "2025-04-01-preview"}
    for model, caps in MODELS.items():
        assert caps.model == model and caps.max_images >= 1 and caps.user_field
        assert caps.quality_default is None or caps.quality_default in caps.qualities
        assert caps.style_default is None or caps.style_default in caps.styles
        assert caps.output_format_default in caps.output_formats
        assert caps.lifecycle.status == "active" and caps.lifecycle.replacement is None
        if caps.family == "gpt-image":
            assert "webp" not in caps.output_formats and caps.styles == ()
    assert MODELS["dall-e-3"].url_ttl_seconds == 24 * 3600
    assert "UNCONFIRMED" in (MODELS["dall-e-3"].lifecycle.note or "")
    assert (MODELS["gpt-image-1"].quality_default, MODELS["gpt-image-1-mini"].quality_default) == ("high", "medium")
    assert MODELS["gpt-image-2"].size.mode == "free"


# -- end to end through imgsdk.Client (MockTransport, no network, no sleeping) -----------------------------------
def test_end_to_end_entra_token_deployment_and_filter_results() -> None:
    body = data("image_generation_dalle3.json")
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=body, headers={"apim-request-id": "apim-e2e"})

    config = {"providers": {"az": {"model": "azure:dall-e-3", "base_url": RESOURCE, "deployment": "d3",
                                   "token_provider": lambda: "entra-token"}}}
    with imgsdk.Client(config, transport=httpx2.MockTransport(handler), sleep=lambda _: None) as client:
        result = client.generate(PROMPT, provider="az", size="1792x1024", quality="hd", style="natural")
    [request] = seen
    assert str(request.url) == f"{RESOURCE}/openai/deployments/d3/images/generations?api-version=2024-02-01"
    assert request.headers["authorization"] == "Bearer entra-token" and "api-key" not in request.headers
    assert json.loads(request.content) == {"prompt": PROMPT, "n": 1, "size": "1792x1024", "quality": "hd",
                                           "style": "natural", "response_format": "url"}
    assert result.warnings == [] and result.request_id == "apim-e2e"
    assert result.to_node_output() == {"url": body["data"][0]["url"],
                                       "revised_prompt": body["data"][0]["revised_prompt"], "size": "1792x1024"}
    assert result.images[0].metadata["content_filter_results"]["violence"] == {"severity": "safe",
                                                                                "filtered": False}
