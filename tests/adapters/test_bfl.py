"""BFL adapter: exact wire requests, polling statuses, moderation, errors (providers.md §5)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from imgsdk.adapter import Endpoint, Images, JobHandle, Pending, Secret, WireRequest, WireResponse
from imgsdk.adapters.bfl import MODELS, BFLAdapter
from imgsdk.engine import keep_credentials_home
from imgsdk.errors import (
    AuthenticationError,
    ContentPolicyError,
    InvalidRequestError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedOptionError,
)
from imgsdk.policy import apply
from imgsdk.request import ImageRequest, PreparedRequest, RequestWarning

DATA = Path(__file__).resolve().parent.parent / "data" / "bfl"
BASE = "https://api.bfl.ai"
ADAPTER = BFLAdapter()
ENDPOINT = Endpoint(base_url=BASE, api_key=Secret("test-key"))
KEY = {"x-key": "test-key"}
PROMPT = "A serene mountain landscape at sunset"
DATE = "Sun, 29 Nov 2026 12:00:00 GMT"
NOON = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def respond(name: str | None = None, status: int = 200, body: Any = None, **headers: str) -> WireResponse:
    payload = load(name) if name else body
    return WireResponse(status, {"date": DATE, **headers}, json.dumps(payload).encode())


def prepare(model: str, mode: str = "warn", **fields: Any) -> tuple[PreparedRequest, list[RequestWarning]]:
    return apply(ImageRequest(PROMPT, **fields), MODELS[model], adapter="bfl", mode=mode)  # type: ignore[arg-type]


def build(model: str, **fields: Any) -> tuple[WireRequest, list[RequestWarning]]:
    call, warnings = prepare(model, **fields)
    return ADAPTER.build_request(call, ENDPOINT), warnings


def summary(warnings: list[RequestWarning]) -> list[tuple[str, str, Any, Any]]:
    return [(w.code, w.option, w.requested, w.applied) for w in warnings]


NODE_DEFAULT = {"size": "1024x1024", "soft": frozenset({"size"})}
SEED_EXAMPLE = {"size": "1792x1024", "quality": "hd", "style": "vivid"}
DROPPED = [("dropped", "quality", "hd", None), ("dropped", "style", "vivid", None)]


# -- mapping: node default call and the seed's social-media example, per family ------------------------------
@pytest.mark.parametrize("model", ["flux-pro-1.1", "flux-dev"])
def test_flux1_node_default(model: str) -> None:
    wire, warnings = build(model, **NODE_DEFAULT)
    assert (wire.method, wire.url, wire.headers, wire.params) == ("POST", f"{BASE}/v1/{model}", KEY, {})
    assert wire.json == {"prompt": PROMPT, "width": 1024, "height": 1024}
    assert warnings == []


def test_flux1_seed_example_adapts_size_to_multiples_of_32_and_drops_quality_style() -> None:
    wire, warnings = build("flux-pro-1.1", **SEED_EXAMPLE)
    assert wire.json == {"prompt": PROMPT, "width": 1440, "height": 832}
    assert summary(warnings) == [("adapted", "size", "1792x1024", "1440x832"), *DROPPED]
    assert "nearest size the model accepts" in warnings[0].message


@pytest.mark.parametrize("model", ["flux-pro-1.1-ultra", "flux-kontext-pro", "flux-kontext-max"])
def test_ratio_models_node_default_sends_aspect_ratio(model: str) -> None:
    wire, warnings = build(model, **NODE_DEFAULT)
    assert wire.url == f"{BASE}/v1/{model}"
    assert wire.json == {"prompt": PROMPT, "aspect_ratio": "1:1"}
    assert warnings == []  # the size is a soft default: translated silently


def test_ultra_seed_example_sends_nearest_ratio() -> None:
    wire, warnings = build("flux-pro-1.1-ultra", **SEED_EXAMPLE)
    assert wire.json == {"prompt": PROMPT, "aspect_ratio": "16:9"}
    assert summary(warnings) == [("adapted", "size", "1792x1024", "16:9"), *DROPPED]


@pytest.mark.parametrize("model", ["flux-2-pro", "flux-2-max", "flux-2-flex", "flux-2-klein-4b",
                                   "flux-2-klein-9b", "flux-2-pro-preview", "flux-2-klein-9b-preview"])
def test_flux2_node_default(model: str) -> None:
    wire, warnings = build(model, **NODE_DEFAULT)
    assert (wire.method, wire.url, wire.headers) == ("POST", f"{BASE}/v1/{model}", KEY)
    assert wire.json == {"prompt": PROMPT, "width": 1024, "height": 1024}
    assert warnings == []


def test_flux2_seed_example_keeps_1792x1024_which_fits_multiples_of_16() -> None:
    wire, warnings = build("flux-2-pro", **SEED_EXAMPLE)
    assert wire.json == {"prompt": PROMPT, "width": 1792, "height": 1024}
    assert summary(warnings) == DROPPED


def test_flux2_adapts_to_multiples_of_16_and_4_megapixels() -> None:
    wire, warnings = build("flux-2-pro", size="1000x1000")
    assert wire.json == {"prompt": PROMPT, "width": 992, "height": 992}
    assert summary(warnings) == [("adapted", "size", "1000x1000", "992x992")]
    wire, _ = build("flux-2-max", size="4096x4096")
    assert (wire.json["width"], wire.json["height"]) == (2048, 2048)


def test_flux2_without_size_sends_declared_default_unless_an_input_image_is_given() -> None:
    wire, _ = build("flux-2-pro")
    assert wire.json == {"prompt": PROMPT, "width": 1024, "height": 1024}
    call, _ = prepare("flux-2-pro", provider_options={"bfl": {"input_image": "https://example.com/a.png"}})
    assert ADAPTER.build_request(call, ENDPOINT).json == {"prompt": PROMPT,
                                                          "input_image": "https://example.com/a.png"}


def test_flux1_without_size_sends_no_size() -> None:
    assert build("flux-pro-1.1")[0].json == {"prompt": PROMPT}


def test_seed_output_format_and_provider_options_last() -> None:
    options = {"bfl": {"safety_tolerance": 4, "prompt_upsampling": True, "raw": True, "output_format": "webp"}}
    wire, warnings = build("flux-pro-1.1-ultra", size="16:9", seed=7, output_format="png",
                           provider_options=options)
    assert wire.json == {"prompt": PROMPT, "aspect_ratio": "16:9", "seed": 7, "output_format": "webp",
                         "safety_tolerance": 4, "prompt_upsampling": True, "raw": True}
    assert warnings == []


def test_output_format_jpg_is_normalised_and_negative_prompt_dropped() -> None:
    wire, warnings = build("flux-dev", output_format="jpg", negative_prompt="blurry")
    assert wire.json == {"prompt": PROMPT, "output_format": "jpeg"}
    assert summary(warnings) == [("dropped", "negative_prompt", "blurry", None)]


def test_strict_mode_refuses_the_seed_example() -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        prepare("flux-pro-1.1", mode="strict", **SEED_EXAMPLE)
    assert caught.value.option == "size"
    with pytest.raises(UnsupportedOptionError) as caught:
        prepare("flux-2-pro", mode="strict", **SEED_EXAMPLE)
    assert caught.value.option == "quality"
    prepare("flux-2-pro", mode="strict", **NODE_DEFAULT)  # the soft default never raises


def test_one_image_per_task() -> None:
    with pytest.raises(InvalidRequestError):
        prepare("flux-2-pro", n=2)


# -- submit answer, handle, polling --------------------------------------------------------------------------
def submit(name: str = "submit.json", model: str = "flux-2-pro", **fields: Any) -> Pending:
    call, _ = prepare(model, **(fields or NODE_DEFAULT))
    outcome = ADAPTER.parse_response(respond(name), call)
    assert isinstance(outcome, Pending)
    return outcome


def test_parse_response_returns_pending_with_the_polling_url_and_prompt() -> None:
    pending = submit()
    assert pending.handle == JobHandle("bfl", "flux-2-pro", "abc123", {
        "polling_url": "https://api.bfl.ai/v1/get_result?id=abc123", "prompt": PROMPT, "size": "1024x1024",
        "cost_usd": None})
    assert pending.status == "Pending"


def test_poll_request_uses_the_returned_polling_url_as_is() -> None:
    handle = submit("submit_regional_cost.json").handle
    wire = ADAPTER.poll_request(handle, ENDPOINT)
    assert (wire.method, wire.url, wire.headers, wire.params, wire.json) == (
        "GET", "https://api.us1.bfl.ai/v1/get_result?id=7f3c2a10-5b8e-4c47-9d1e-2f6a8b9c0d11", KEY, {}, None)


def test_poll_request_never_sends_the_key_outside_bfl() -> None:
    handle = JobHandle("bfl", "flux-2-pro", "x", {"polling_url": "https://evil.example/v1/get_result?id=x"})
    # The engine strips the key from every request outside base_url and BFL's own hosts.
    assert keep_credentials_home(ADAPTER, ENDPOINT, ADAPTER.poll_request(handle, ENDPOINT)).headers == {}
    proxy = Endpoint(base_url="https://bfl-proxy.internal", api_key=Secret("test-key"))
    handle = JobHandle("bfl", "flux-2-pro", "x", {"polling_url": "https://bfl-proxy.internal/v1/get_result"})
    assert keep_credentials_home(ADAPTER, proxy, ADAPTER.poll_request(handle, proxy)).headers == KEY
    regional = JobHandle("bfl", "flux-2-pro", "x", {"polling_url": "https://api.eu.bfl.ai/v1/get_result?id=x"})
    assert keep_credentials_home(ADAPTER, ENDPOINT, ADAPTER.poll_request(regional, ENDPOINT)).headers == KEY


def test_webhook_submission_polls_get_result_by_id() -> None:
    handle = submit("submit_webhook.json").handle
    assert handle.data["cost_usd"] == 0.04
    wire = ADAPTER.poll_request(handle, ENDPOINT)
    assert (wire.url, wire.params, wire.headers) == (f"{BASE}/v1/get_result", {"id": "wh-001"}, KEY)


def test_no_cancel_endpoint() -> None:
    assert ADAPTER.cancel_request(submit().handle, ENDPOINT) is None


def test_pending_statuses_and_progress() -> None:
    handle = submit().handle
    outcome = ADAPTER.parse_poll(respond("poll_pending.json"), handle, None)
    assert outcome == Pending(handle, status="Pending")
    outcome = ADAPTER.parse_poll(respond("poll_pending_progress.json"), handle, None)
    assert isinstance(outcome, Pending) and outcome.progress == 0.42
    outcome = ADAPTER.parse_poll(respond("poll_unknown_status.json"), handle, None)
    assert outcome == Pending(handle, progress=0.35, status="Generating")  # unknown = pending; 0-100 scaled


def test_ready_gives_the_signed_url_expiring_after_ten_minutes_and_the_cost() -> None:
    pending = submit("submit_regional_cost.json", model="flux-pro-1.1", size="1792x1024")
    outcome = ADAPTER.parse_poll(respond("poll_ready.json"), pending.handle, None)
    assert isinstance(outcome, Images)
    (image,) = outcome.images
    assert image.url == load("poll_ready.json")["result"]["sample"]
    assert image.expires_at == NOON + dt.timedelta(minutes=10)
    assert (image.revised_prompt, image.seed, image.reported_size) == (PROMPT, 1234567890, "1440x832")
    assert outcome.cost_usd == 0.045  # 4.5 credits at $0.01
    assert outcome.request_id == "7f3c2a10-5b8e-4c47-9d1e-2f6a8b9c0d11"
    assert outcome.errors == []


def test_ready_with_upsampled_prompt_reports_it_as_revised_prompt() -> None:
    outcome = ADAPTER.parse_poll(respond("poll_ready_upsampled.json"), submit().handle, None)
    assert isinstance(outcome, Images)
    image = outcome.images[0]
    assert image.revised_prompt.startswith("A serene alpine landscape")
    assert image.metadata == {"start_time": 1764417000.1, "end_time": 1764417006.4, "duration": 6.3,
                              "task_id": "abc123"}


def test_ready_without_a_date_header_expires_ten_minutes_from_now() -> None:
    body = json.dumps(load("poll_ready.json")).encode()
    before = dt.datetime.now(dt.UTC)
    outcome = ADAPTER.parse_poll(WireResponse(200, {}, body), submit().handle, None)
    assert isinstance(outcome, Images) and outcome.images[0].expires_at is not None
    assert before + dt.timedelta(minutes=10) <= outcome.images[0].expires_at


@pytest.mark.parametrize(("name", "stage", "reason"), [
    ("poll_request_moderated.json", "input", "Derivative Works"),
    ("poll_content_moderated.json", "output", "NSFW"),
    ("poll_content_moderated_bare.json", "output", "Content Moderated"),
])
def test_moderation_statuses_raise_content_policy_errors(name: str, stage: str, reason: str) -> None:
    with pytest.raises(ContentPolicyError) as caught:
        ADAPTER.parse_poll(respond(name), submit().handle, None)
    error = caught.value
    assert (error.stage, error.reason, error.adapter, error.model) == (stage, reason, "bfl", "flux-2-pro")
    assert "safety_tolerance" in str(error)


@pytest.mark.parametrize(("name", "text"), [
    ("poll_error_skill.json", "Error description"),
    ("poll_error_details.json", "generation failed on worker"),
    ("poll_failed.json", "no reason given"),
    ("poll_task_not_found.json", "submitted again"),
])
def test_failed_statuses_raise_provider_errors_with_the_message(name: str, text: str) -> None:
    with pytest.raises(ProviderError) as caught:
        ADAPTER.parse_poll(respond(name), submit().handle, None)
    assert not isinstance(caught.value, ContentPolicyError)
    assert text in str(caught.value) and caught.value.code == load(name)["status"]


def test_ready_without_sample_is_an_error() -> None:
    with pytest.raises(ProviderError, match=r"no result\.sample"):
        ADAPTER.parse_poll(respond(body={"status": "Ready", "result": {}}), submit().handle, None)


def test_submit_answer_without_id_is_an_error() -> None:
    call, _ = prepare("flux-2-pro")
    with pytest.raises(ProviderError, match="no task id"):
        ADAPTER.parse_response(respond(body={"detail": "?"}), call)


def test_handle_round_trips_through_json_and_polls_without_the_call() -> None:
    handle = submit("submit_regional_cost.json", model="flux-pro-1.1", size="1792x1024").handle
    restored = JobHandle.from_json(handle.to_json())
    assert restored == handle
    assert ADAPTER.poll_request(restored, ENDPOINT).url == handle.data["polling_url"]
    outcome = ADAPTER.parse_poll(respond("poll_ready.json"), restored, None)
    assert isinstance(outcome, Images)
    assert (outcome.images[0].revised_prompt, outcome.cost_usd) == (PROMPT, 0.045)


# -- errors and retry rule -----------------------------------------------------------------------------------
def test_422_validation_is_an_invalid_request_with_the_field() -> None:
    call, _ = prepare("flux-pro-1.1")
    error = ADAPTER.parse_error(respond("error_422_validation.json", status=422), call)
    assert isinstance(error, InvalidRequestError) and isinstance(error, ProviderError)
    assert "width: Input should be a multiple of 32" in str(error)
    assert (error.code, error.status, error.model) == ("multiple_of", 422, "flux-pro-1.1")


def test_402_is_quota_and_never_retried() -> None:
    response = respond("error_402_credits.json", status=402)
    error = ADAPTER.parse_error(response, None)
    assert isinstance(error, QuotaExceededError) and "Insufficient credits" in str(error)
    assert not ADAPTER.is_retryable(response)


def test_429_is_a_rate_limit_with_retry_after_from_header_or_body() -> None:
    response = respond("error_429_skill.json", status=429)
    error = ADAPTER.parse_error(response, None)
    assert isinstance(error, RateLimitError) and error.retry_after == 5.0
    assert "24 concurrent" in str(error) and error.code == "rate_limit_exceeded"
    assert ADAPTER.is_retryable(response)
    error = ADAPTER.parse_error(respond("error_429_skill.json", status=429, **{"retry-after": "2"}), None)
    assert isinstance(error, RateLimitError) and error.retry_after == 2.0


def test_auth_and_server_errors() -> None:
    error = ADAPTER.parse_error(respond("error_401.json", status=401, **{"x-request-id": "req-1"}), None)
    assert isinstance(error, AuthenticationError) and error.request_id == "req-1"
    assert "test-key" not in str(error)
    response = respond("error_500.json", status=500)
    assert isinstance(ADAPTER.parse_error(response, None), ServiceUnavailableError)
    assert ADAPTER.is_retryable(response) and ADAPTER.is_retryable(respond(body={}, status=503))
    assert not ADAPTER.is_retryable(respond("error_422_validation.json", status=422))


def test_non_json_error_body_is_quoted() -> None:
    error = ADAPTER.parse_error(WireResponse(502, {}, b"<html>Bad gateway</html>"), None)
    assert isinstance(error, ServiceUnavailableError) and "Bad gateway" in str(error)


# -- conformance ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("caps", MODELS.values(), ids=list(MODELS))
def test_catalogue_conformance(caps: Any) -> None:
    assert caps.max_images == 1 and caps.protocol == "poll" and caps.returns == "url"
    assert caps.url_ttl_seconds == 600 and caps.qualities == () and caps.styles == ()
    assert caps.output_format_default in caps.output_formats
    assert caps.quality_default is None and caps.style_default is None
    replacement = caps.lifecycle.replacement
    assert replacement is None or replacement in MODELS or ":" in replacement
    assert caps.lifecycle.source and caps.lifecycle.status == "active"
    if caps.size.mode == "free":
        assert caps.size.default is not None
        width, height = (int(side) for side in caps.size.default.split("x"))
        assert width % caps.size.multiple == 0 and height % caps.size.multiple == 0
    else:
        assert caps.size.default is None or caps.size.default in caps.size.aspect_ratios


def test_adapter_class_contract() -> None:
    assert (BFLAdapter.name, BFLAdapter.default_base_url, BFLAdapter.key_env, BFLAdapter.secret_headers) == (
        "bfl", "https://api.bfl.ai", ("BFL_API_KEY",), ("x-key",))
    assert BFLAdapter.default_model in MODELS


# -- end to end through the real client (no network: httpx2.MockTransport) ----------------------------------
def test_end_to_end_submit_poll_and_resume(monkeypatch: pytest.MonkeyPatch) -> None:
    httpx2 = pytest.importorskip("httpx2")
    from imgsdk.client import Client

    monkeypatch.setenv("BFL_API_KEY", "test-key")
    seen: list[tuple[str, str, str | None, Any]] = []
    polls = iter(["poll_pending_progress.json", "poll_unknown_status.json", "poll_ready.json"])

    def handler(request: Any) -> Any:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, str(request.url), request.headers.get("x-key"), body))
        if request.method == "POST":
            return httpx2.Response(200, json=load("submit_regional_cost.json"))
        return httpx2.Response(200, json=load(next(polls)), headers={"date": DATE})

    progress: list[Any] = []
    with Client({}, transport=httpx2.MockTransport(handler), sleep=lambda seconds: None) as client:
        result = client.generate(PROMPT, provider="bfl:flux-pro-1.1", size="1792x1024", quality="hd",
                                 on_progress=progress.append)
    assert result.url == load("poll_ready.json")["result"]["sample"]
    assert (result.revised_prompt, result.size) == (PROMPT, "1440x832")
    assert [(w.code, w.option) for w in result.warnings] == [("adapted", "size"), ("dropped", "quality")]
    poll_url = load("submit_regional_cost.json")["polling_url"]
    assert seen == [
        ("POST", f"{BASE}/v1/flux-pro-1.1", "test-key", {"prompt": PROMPT, "width": 1440, "height": 832}),
        ("GET", poll_url, "test-key", None), ("GET", poll_url, "test-key", None),
        ("GET", poll_url, "test-key", None)]
    assert [p.status for p in progress] == ["Pending", "Pending", "Generating"]

    handle = JobHandle("bfl", "flux-pro-1.1", "abc123", {"polling_url": poll_url, "prompt": PROMPT})
    polls = iter(["poll_ready.json"])
    with Client({}, transport=httpx2.MockTransport(handler), sleep=lambda seconds: None) as client:
        resumed = client.resume(handle.to_json())
    assert resumed.url == result.url and resumed.revised_prompt == PROMPT


def test_submit_is_resent_only_on_statuses_that_mean_not_accepted() -> None:
    assert BFLAdapter.post_retry_statuses == frozenset({429, 500, 502, 503, 504})
