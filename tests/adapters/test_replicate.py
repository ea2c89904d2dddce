"""Replicate adapter: routes, per-model input names, Prefer: wait, polling, failures (providers.md §6)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imgsdk.adapter import Endpoint, Images, JobHandle, Pending, Secret, WireRequest, WireResponse
from imgsdk.adapters.replicate import MODELS, ReplicateAdapter
from imgsdk.capabilities import ModelCapabilities, SizeSpec
from imgsdk.engine import keep_credentials_home
from imgsdk.errors import (
    AuthenticationError,
    ContentPolicyError,
    ImageExpiredError,
    InvalidRequestError,
    ModelNotFoundError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedOptionError,
)
from imgsdk.policy import apply
from imgsdk.request import ImageRequest, PreparedRequest, RequestWarning

DATA = Path(__file__).resolve().parent.parent / "data" / "replicate"
BASE = "https://api.replicate.com"
ADAPTER = ReplicateAdapter()
ENDPOINT = Endpoint(base_url=BASE, api_key=Secret("test-key"))
AUTH = {"Authorization": "Bearer test-key"}
WAIT = {**AUTH, "Prefer": "wait"}
PROMPT = "a red fox in snow"
SCHNELL, DEV = "black-forest-labs/flux-schnell", "black-forest-labs/flux-dev"
PRO, ULTRA = "black-forest-labs/flux-1.1-pro", "black-forest-labs/flux-1.1-pro-ultra"
VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"
NODE_DEFAULT = {"size": "1024x1024", "soft": frozenset({"size"})}
SEED_EXAMPLE = {"size": "1792x1024", "quality": "hd", "style": "vivid"}
DROPPED = [("dropped", "quality", "hd", None), ("dropped", "style", "vivid", None)]
DATE = "Sun, 29 Nov 2026 12:00:00 GMT"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def respond(name: str | None = None, status: int = 200, body: Any = None, **headers: str) -> WireResponse:
    payload = load(name) if name else body
    return WireResponse(status, {"date": DATE, **headers}, json.dumps(payload).encode())


def caps_for(model: str) -> ModelCapabilities:
    caps = ADAPTER.capabilities(model, {})
    assert caps is not None
    return caps


def prepare(model: str, mode: str = "warn", caps: ModelCapabilities | None = None,
            **fields: Any) -> tuple[PreparedRequest, list[RequestWarning]]:
    return apply(ImageRequest(PROMPT, **fields), caps or caps_for(model), adapter="replicate",
                 mode=mode)  # type: ignore[arg-type]


def build(model: str, **fields: Any) -> tuple[WireRequest, list[RequestWarning]]:
    call, warnings = prepare(model, **fields)
    return ADAPTER.build_request(call, ENDPOINT), warnings


def summary(warnings: list[RequestWarning]) -> list[tuple[str, str, Any, Any]]:
    return [(w.code, w.option, w.requested, w.applied) for w in warnings]


# -- mapping -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", [SCHNELL, DEV, ULTRA])
def test_ratio_models_node_default_on_the_official_model_route(model: str) -> None:
    wire, warnings = build(model, **NODE_DEFAULT)
    assert (wire.method, wire.url, wire.headers, wire.params) == (
        "POST", f"{BASE}/v1/models/{model}/predictions", WAIT, {})
    assert wire.json == {"input": {"prompt": PROMPT, "aspect_ratio": "1:1"}}
    assert warnings == []


@pytest.mark.parametrize("model", [SCHNELL, DEV, ULTRA])
def test_ratio_models_seed_example(model: str) -> None:
    wire, warnings = build(model, **SEED_EXAMPLE)
    assert wire.json == {"input": {"prompt": PROMPT, "aspect_ratio": "16:9"}}
    assert summary(warnings) == [("adapted", "size", "1792x1024", "16:9"), *DROPPED]


def test_flux_11_pro_sends_custom_width_height() -> None:
    wire, warnings = build(PRO, **NODE_DEFAULT)
    assert wire.json == {"input": {"prompt": PROMPT, "aspect_ratio": "custom", "width": 1024, "height": 1024}}
    assert warnings == []
    wire, warnings = build(PRO, **SEED_EXAMPLE)
    assert wire.json == {"input": {"prompt": PROMPT, "aspect_ratio": "custom", "width": 1440, "height": 832}}
    assert summary(warnings) == [("adapted", "size", "1792x1024", "1440x832"), *DROPPED]


def test_the_curl_example_of_providers_md() -> None:
    wire, warnings = build(SCHNELL, size="16:9", n=2, output_format="png")
    assert wire.json == {"input": {"prompt": PROMPT, "aspect_ratio": "16:9", "num_outputs": 2,
                                   "output_format": "png"}}
    assert warnings == []


def test_seed_jpeg_spelled_jpg_and_model_options_merged_into_input_last() -> None:
    options = {"replicate": {"go_fast": False, "megapixels": "1", "output_quality": 90, "num_outputs": 3}}
    wire, _ = build(DEV, seed=42, output_format="jpeg", n=4, provider_options=options)
    assert wire.json == {"input": {"prompt": PROMPT, "num_outputs": 3, "seed": 42, "output_format": "jpg",
                                   "go_fast": False, "megapixels": "1", "output_quality": 90}}


def test_ultra_has_no_num_outputs_and_no_webp() -> None:
    wire, warnings = build(ULTRA, output_format="webp", negative_prompt="blur")
    assert wire.json == {"input": {"prompt": PROMPT}}
    assert summary(warnings) == [("dropped", "negative_prompt", "blur", None),
                                 ("dropped", "output_format", "webp", "jpeg")]
    with pytest.raises(InvalidRequestError):
        prepare(ULTRA, n=2)
    with pytest.raises(InvalidRequestError):
        prepare(SCHNELL, n=5)


def test_strict_mode_refuses_the_seed_example() -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        prepare(SCHNELL, mode="strict", **SEED_EXAMPLE)
    assert (caught.value.option, caught.value.value) == ("size", "1792x1024")
    with pytest.raises(UnsupportedOptionError):
        prepare(SCHNELL, mode="strict", size="16:9", quality="hd")
    prepare(SCHNELL, mode="strict", **NODE_DEFAULT)


def test_prefer_wait_option_changes_or_disables_the_header_and_webhook_is_top_level() -> None:
    call, _ = prepare(SCHNELL, provider_options={"replicate": {"wait": 30, "webhook": "https://h.example/r",
                                                                "webhook_events_filter": ["completed"]}})
    wire = ADAPTER.build_request(call, ENDPOINT)
    assert wire.headers == {**AUTH, "Prefer": "wait=30"}
    assert wire.json == {"input": {"prompt": PROMPT}, "webhook": "https://h.example/r",
                         "webhook_events_filter": ["completed"]}
    call, _ = prepare(SCHNELL, provider_options={"replicate": {"wait": False}})
    assert ADAPTER.build_request(call, ENDPOINT).headers == AUTH
    call, _ = prepare(SCHNELL, provider_options={"replicate": {"wait": 600}})
    assert ADAPTER.build_request(call, ENDPOINT).headers["Prefer"] == "wait=60"


@pytest.mark.parametrize(("prefer", "seconds_left", "sent"), [
    ("wait", 600.0, "wait"),        # time enough: unchanged
    ("wait", 30.0, "wait=25"),      # held no longer than the time left, less 5 s for the answer
    ("wait=10", 30.0, "wait=10"),   # already short enough
    ("wait=45", 20.5, "wait=15"),
    ("wait", 5.5, None),            # under 1 s of wait: none asked, the prediction is polled
    (None, 2.0, None),              # no Prefer header: nothing to fit
    ("wait", float("inf"), "wait"),  # timeout=math.inf: no deadline
])
def test_prefer_wait_is_fitted_to_the_calls_deadline(prefer: str | None, seconds_left: float,
                                                     sent: str | None) -> None:
    request = WireRequest("POST", f"{BASE}/v1/models/{SCHNELL}/predictions",
                          headers={**AUTH, **({"Prefer": prefer} if prefer else {})}, json={"input": {}})
    fitted = ADAPTER.fit_to_deadline(request, seconds_left)
    assert fitted.headers.get("Prefer") == sent
    assert {k: v for k, v in fitted.headers.items() if k != "Prefer"} == AUTH
    assert fitted.json == request.json


def test_a_short_client_timeout_shortens_the_wait_on_the_wire(monkeypatch: pytest.MonkeyPatch) -> None:
    """With timeout=20 the create request must not be held 60 s: the read would time out while the prediction,
    created and billed, runs on with its id lost."""
    import httpx2

    import imgsdk

    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_test-key-0123456789")
    seen: list[str | None] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.method == "POST":
            seen.append(request.headers.get("prefer"))
            return httpx2.Response(201, json=load("prediction_succeeded_flux.json"), headers={"date": DATE})
        return httpx2.Response(200, content=b"\x89PNG\r\n\x1a\n" + b"\0" * 64, headers={"content-type": "image/png"})

    with imgsdk.Client({}, transport=httpx2.MockTransport(handler), timeout=20) as client:
        client.generate(PROMPT, provider=f"replicate:{SCHNELL}", size="16:9", n=2)
    [prefer] = seen
    assert prefer is not None and prefer.startswith("wait=") and 10 <= int(prefer.split("=")[1]) <= 15


def test_pinned_version_uses_the_version_route_and_the_base_declaration() -> None:
    caps = caps_for(f"{SCHNELL}:{VERSION}")
    assert caps.model == f"{SCHNELL}:{VERSION}" and caps.max_images == 4
    wire, _ = build(f"{SCHNELL}:{VERSION}", size="16:9")
    assert (wire.url, wire.headers) == (f"{BASE}/v1/predictions", WAIT)
    assert wire.json == {"version": VERSION, "input": {"prompt": PROMPT, "aspect_ratio": "16:9"}}


def test_bare_version_id_with_permissive_capabilities() -> None:
    caps = ADAPTER.permissive_capabilities(VERSION)
    call, _ = prepare(VERSION, caps=caps, size="768x512", n=2, seed=1, negative_prompt="blur")
    wire = ADAPTER.build_request(call, ENDPOINT)
    assert wire.url == f"{BASE}/v1/predictions"
    assert wire.json == {"version": VERSION, "input": {
        "prompt": PROMPT, "width": 768, "height": 512, "num_outputs": 2, "seed": 1, "negative_prompt": "blur"}}


def test_config_declared_model_renames_inputs_through_extra() -> None:
    caps = ModelCapabilities(
        model="someone/sdxl-like", size=SizeSpec(mode="free", min_side=512, max_side=2048, multiple=8),
        max_images=4, seed=True, negative_prompt=True, output_formats=("png", "jpeg"), declared_by="config",
        extra={"inputs": {"n": "num_images", "negative_prompt": "neg", "seed": None},
               "output_format_values": {"jpeg": "jpg"}})
    call, warnings = prepare(caps.model, caps=caps, size="1024x768", n=2, seed=3, negative_prompt="ugly",
                             output_format="jpeg")
    wire = ADAPTER.build_request(call, ENDPOINT)
    assert wire.url == f"{BASE}/v1/models/someone/sdxl-like/predictions"
    assert wire.json == {"input": {"prompt": PROMPT, "width": 1024, "height": 768, "num_images": 2,
                                   "output_format": "jpg", "neg": "ugly"}}
    assert warnings == []


# -- submit, poll, statuses ----------------------------------------------------------------------------------
def submit(name: str = "prediction_starting.json", model: str = SCHNELL, **fields: Any) -> Images | Pending:
    call, _ = prepare(model, **(fields or NODE_DEFAULT))
    return ADAPTER.parse_response(respond(name, status=201), call)


def pending(name: str = "prediction_starting.json", model: str = SCHNELL, **fields: Any) -> Pending:
    outcome = submit(name, model, **fields)
    assert isinstance(outcome, Pending)
    return outcome


def test_unfinished_create_answer_is_pending_with_absolute_urls() -> None:
    outcome = pending()
    assert outcome.status == "starting"
    assert outcome.handle == JobHandle("replicate", SCHNELL, "ufawqhfynnddngldkgtslldrkq", {
        "get_url": "https://api.replicate.com/v1/predictions/ufawqhfynnddngldkgtslldrkq",
        "cancel_url": "https://api.replicate.com/v1/predictions/ufawqhfynnddngldkgtslldrkq/cancel",
        "prompt": PROMPT, "size": None, "n": 1, "created_at": "2022-04-26T22:13:06.224088Z"})


def test_poll_and_cancel_requests_use_urls_get_and_urls_cancel() -> None:
    handle = pending().handle
    wire = ADAPTER.poll_request(handle, ENDPOINT)
    assert (wire.method, wire.url, wire.headers, wire.json) == (
        "GET", "https://api.replicate.com/v1/predictions/ufawqhfynnddngldkgtslldrkq", AUTH, None)
    cancel = ADAPTER.cancel_request(handle, ENDPOINT)
    assert cancel is not None
    assert (cancel.method, cancel.url, cancel.headers) == (
        "POST", "https://api.replicate.com/v1/predictions/ufawqhfynnddngldkgtslldrkq/cancel", AUTH)


def test_poll_urls_outside_replicate_get_no_token() -> None:
    handle = JobHandle("replicate", SCHNELL, "x", {"get_url": "https://elsewhere.example/p/x"})
    assert keep_credentials_home(ADAPTER, ENDPOINT, ADAPTER.poll_request(handle, ENDPOINT)).headers == {}


def test_processing_and_unknown_statuses_are_pending() -> None:
    handle = pending("prediction_processing_flux.json").handle
    assert ADAPTER.parse_poll(respond("prediction_processing_flux.json"), handle, None) == Pending(
        handle, status="processing")
    assert ADAPTER.parse_poll(respond(body={"id": "x", "status": "queued"}), handle, None) == Pending(
        handle, status="queued")


def test_prefer_wait_finished_prediction_is_images_at_once() -> None:
    outcome = submit("prediction_succeeded_flux.json", size="16:9", n=2, output_format="png")
    assert isinstance(outcome, Images) and outcome.errors == []
    assert [image.url for image in outcome.images] == ["https://replicate.delivery/xezq/abc/out-0.png",
                                                      "https://replicate.delivery/xezq/def/out-1.png"]
    created = dt.datetime(2026, 11, 29, 11, 59, 58, 120000, tzinfo=dt.UTC)
    for image in outcome.images:
        assert image.expires_at == created + dt.timedelta(hours=1)
        assert (image.revised_prompt, image.seed, image.reported_size) == (PROMPT, 1417805390, None)
        assert image.metadata == {"prediction_id": "q8v2hc3m9drj00cm4k8ssx4w2c", "predict_time": 1.47,
                                  "total_time": 1.75}
    assert outcome.request_id == "q8v2hc3m9drj00cm4k8ssx4w2c"


def test_polled_success_with_the_js_client_fixture() -> None:
    handle = pending().handle
    outcome = ADAPTER.parse_poll(respond("prediction_succeeded.json"), handle, None)
    assert isinstance(outcome, Images)
    (image,) = outcome.images
    assert image.url.endswith("/out-0.png") and image.seed == 36941
    # the hour is counted from the handle's created_at (the submit answer's)
    assert image.expires_at == dt.datetime(2022, 4, 26, 23, 13, 6, 224088, tzinfo=dt.UTC)


def test_single_string_output_and_custom_size() -> None:
    handle = pending(model=PRO, size="1440x832").handle
    outcome = ADAPTER.parse_poll(respond("prediction_succeeded_string_output.json"), handle, None)
    assert isinstance(outcome, Images)
    (image,) = outcome.images
    assert (image.url, image.reported_size) == ("https://replicate.delivery/czjl/xyz/output.jpg", "1440x832")


def test_inline_data_url_output_becomes_bytes() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    body = {**load("prediction_succeeded_flux.json"), "output": [data_url]}
    outcome = ADAPTER.parse_poll(respond(body=body), pending().handle, None)
    assert isinstance(outcome, Images)
    image = outcome.images[0]
    assert (image.data, image.media_type, image.size) == (buffer.getvalue(), "image/png", "8x8")


def test_batch_with_an_nsfw_image_dropped_reports_it_in_errors() -> None:
    handle = pending(model=DEV, n=2).handle
    outcome = ADAPTER.parse_poll(respond("prediction_succeeded_one_nsfw_dropped.json"), handle, None)
    assert isinstance(outcome, Images) and len(outcome.images) == 1
    (error,) = outcome.errors
    assert isinstance(error, ContentPolicyError) and (error.stage, error.reason) == ("output", "nsfw")
    quiet = {**load("prediction_succeeded_one_nsfw_dropped.json"), "logs": ""}
    outcome = ADAPTER.parse_poll(respond(body=quiet), handle, None)
    assert isinstance(outcome, Images) and type(outcome.errors[0]) is ProviderError


def test_failed_prediction_carries_the_model_error() -> None:
    with pytest.raises(ProviderError) as caught:
        ADAPTER.parse_poll(respond("prediction_failed.json"), pending().handle, None)
    assert not isinstance(caught.value, ContentPolicyError)
    assert "CUDA out of memory" in str(caught.value) and caught.value.code == "failed"


@pytest.mark.parametrize(("name", "stage", "reason"), [
    ("prediction_failed_nsfw.json", "output",
     "NSFW content detected in all outputs. Try running it again, or try a different prompt."),
    ("prediction_failed_e005.json", None, "E005"),
])
def test_moderation_failures_are_content_policy_errors(name: str, stage: str | None, reason: str) -> None:
    with pytest.raises(ContentPolicyError) as caught:
        ADAPTER.parse_poll(respond(name), pending().handle, None)
    assert (caught.value.stage, caught.value.reason) == (stage, reason)


@pytest.mark.parametrize("name", ["prediction_canceled.json", "prediction_aborted.json"])
def test_canceled_and_aborted_are_provider_errors(name: str) -> None:
    with pytest.raises(ProviderError) as caught:
        ADAPTER.parse_poll(respond(name), pending().handle, None)
    assert caught.value.code == load(name)["status"] and load(name)["status"] in str(caught.value)


def test_failure_at_submit_with_prefer_wait_raises_at_once() -> None:
    with pytest.raises(ContentPolicyError):
        submit("prediction_failed_nsfw.json")


def test_removed_data_is_an_expired_image() -> None:
    with pytest.raises(ImageExpiredError) as caught:
        ADAPTER.parse_poll(respond("prediction_data_removed.json"), pending().handle, None)
    assert caught.value.expired_at == "2022-04-26T23:13:06.224088+00:00"


def test_handle_round_trips_through_json_and_polls_without_the_call() -> None:
    handle = pending("prediction_processing_flux.json", size="16:9", n=2).handle
    restored = JobHandle.from_json(handle.to_json())
    assert restored == handle
    assert ADAPTER.poll_request(restored, ENDPOINT).url == handle.data["get_url"]
    outcome = ADAPTER.parse_poll(respond("prediction_succeeded_flux.json"), restored, None)
    assert isinstance(outcome, Images) and len(outcome.images) == 2
    assert outcome.images[0].revised_prompt == PROMPT


def test_handle_without_urls_falls_back_to_the_documented_paths() -> None:
    handle = JobHandle("replicate", SCHNELL, "abc", {"prompt": PROMPT})
    assert ADAPTER.poll_request(handle, ENDPOINT).url == f"{BASE}/v1/predictions/abc"
    cancel = ADAPTER.cancel_request(handle, ENDPOINT)
    assert cancel is not None and cancel.url == f"{BASE}/v1/predictions/abc/cancel"


# -- errors and retry rule -----------------------------------------------------------------------------------
def test_402_is_quota_with_the_detail() -> None:
    error = ADAPTER.parse_error(respond("error_402.json", status=402), None)
    assert isinstance(error, QuotaExceededError)
    assert "Insufficient credit" in str(error) and error.code == "Insufficient credit"


def test_422_and_400_are_invalid_requests_with_the_detail() -> None:
    call, _ = prepare(SCHNELL)
    error = ADAPTER.parse_error(respond("error_422.json", status=422), call)
    assert isinstance(error, InvalidRequestError) and isinstance(error, ProviderError)
    assert "input.num_outputs: Must be less than or equal to 4" in str(error) and error.model == SCHNELL
    assert "Invalid input" in str(ADAPTER.parse_error(respond("error_400.json", status=400), call))


def test_404_names_the_model() -> None:
    call, _ = prepare(SCHNELL)
    assert isinstance(ADAPTER.parse_error(respond("error_404.json", status=404), call), ModelNotFoundError)


def test_429_rate_limit_with_retry_after_and_the_retry_rule() -> None:
    response = respond("error_429.json", status=429, **{"retry-after": "1"})
    error = ADAPTER.parse_error(response, None)
    assert isinstance(error, RateLimitError) and error.retry_after == 1.0 and "Too many requests" in str(error)
    assert ADAPTER.is_retryable(response)
    assert ADAPTER.is_retryable(respond("error_500.json", status=500))  # GET rule; POSTs use the class var
    assert ReplicateAdapter.post_retry_statuses == frozenset({429})
    assert not ADAPTER.is_retryable(respond("error_422.json", status=422))
    assert not ADAPTER.is_retryable(respond("error_402.json", status=402))


def test_auth_and_server_errors() -> None:
    error = ADAPTER.parse_error(respond(body={"detail": "Unauthenticated"}, status=401), None)
    assert isinstance(error, AuthenticationError) and "REPLICATE_API_TOKEN" in str(error)
    assert "test-key" not in str(error)
    assert isinstance(ADAPTER.parse_error(respond("error_500.json", status=500), None), ServiceUnavailableError)


# -- conformance ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("caps", MODELS.values(), ids=list(MODELS))
def test_catalogue_conformance(caps: ModelCapabilities) -> None:
    assert caps.max_images >= 1 and caps.protocol == "poll" and caps.returns == "url"
    assert caps.url_ttl_seconds == 3600 and caps.seed
    assert caps.output_format_default in caps.output_formats
    assert caps.quality_default is None and caps.style_default is None
    assert caps.lifecycle.replacement is None and caps.lifecycle.source
    inputs = dict(caps.extra.get("inputs", {}))  # type: ignore[call-overload]
    assert (inputs.get("n", "num_outputs") is None) == (caps.max_images == 1)
    assert isinstance(caps.extra.get("options"), tuple)
    if caps.size.mode == "aspect_ratio":
        assert caps.size.default in caps.size.aspect_ratios


def test_per_model_limits_and_adapter_contract() -> None:
    assert {model: caps.max_images for model, caps in MODELS.items()} == {SCHNELL: 4, DEV: 4, PRO: 1, ULTRA: 1}
    assert (ReplicateAdapter.name, ReplicateAdapter.default_base_url, ReplicateAdapter.key_env) == (
        "replicate", "https://api.replicate.com", ("REPLICATE_API_TOKEN", "REPLICATE_API_KEY"))
    assert ReplicateAdapter.default_model in MODELS
    assert dataclasses.replace(MODELS[SCHNELL]) == caps_for(SCHNELL)


# -- end to end through the real client (no network: httpx2.MockTransport) ----------------------------------
def test_end_to_end_prefer_wait_then_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    httpx2 = pytest.importorskip("httpx2")
    from imgsdk.client import Client

    monkeypatch.delenv("REPLICATE_API_KEY", raising=False)
    monkeypatch.setenv("REPLICATE_API_TOKEN", "test-key")
    seen: list[tuple[str, str, str | None, str | None, Any]] = []
    answers = iter([(201, "prediction_processing_flux.json"), (200, "prediction_processing_flux.json"),
                    (503, None), (200, "prediction_succeeded_flux.json")])

    def handler(request: Any) -> Any:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, str(request.url), request.headers.get("authorization"),
                     request.headers.get("prefer"), body))
        status, name = next(answers)
        return httpx2.Response(status, json=load(name) if name else {"detail": "Service unavailable"})

    with Client({}, transport=httpx2.MockTransport(handler), sleep=lambda seconds: None) as client:
        result = client.generate(PROMPT, provider=f"replicate:{SCHNELL}", size="16:9", n=2,
                                 output_format="png")
    assert len(result.images) == 2 and result.errors == []
    assert result.cost_usd == 0.006  # the declared per-image price (UNCONFIRMED figure) x 2
    get = "https://api.replicate.com/v1/predictions/q8v2hc3m9drj00cm4k8ssx4w2c"
    assert seen == [
        ("POST", f"{BASE}/v1/models/{SCHNELL}/predictions", "Bearer test-key", "wait",
         {"input": {"prompt": PROMPT, "aspect_ratio": "16:9", "num_outputs": 2, "output_format": "png"}}),
        ("GET", get, "Bearer test-key", None, None),
        ("GET", get, "Bearer test-key", None, None),  # a 503 while polling is retried, never re-submitted
        ("GET", get, "Bearer test-key", None, None)]
