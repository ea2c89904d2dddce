"""fal adapter: queue submit, status stage → result stage, NSFW flags, errors, retry rule (providers.md §7)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imgsdk.adapter import Endpoint, Images, JobHandle, Pending, Secret, WireRequest, WireResponse
from imgsdk.adapters.fal import MODELS, FalAdapter
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

DATA = Path(__file__).resolve().parent.parent / "data" / "fal"
BASE = "https://queue.fal.run"
ADAPTER = FalAdapter()
ENDPOINT = Endpoint(base_url=BASE, api_key=Secret("test-key"))
AUTH = {"Authorization": "Key test-key"}
PROMPT = "a cat"
DEV = "fal-ai/flux/dev"
REQUEST = "764cabcf-b745-4b3e-ae38-1200304cf45b"
STATUS_URL = f"{BASE}/fal-ai/flux/requests/{REQUEST}/status"
RESPONSE_URL = f"{BASE}/fal-ai/flux/requests/{REQUEST}"
NODE_DEFAULT = {"size": "1024x1024", "soft": frozenset({"size"})}
SEED_EXAMPLE = {"size": "1792x1024", "quality": "hd", "style": "vivid"}
DROPPED = [("dropped", "quality", "hd", None), ("dropped", "style", "vivid", None)]


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def respond(name: str | None = None, status: int = 200, body: Any = None, **headers: str) -> WireResponse:
    payload = load(name) if name else body
    return WireResponse(status, dict(headers), json.dumps(payload).encode())


def prepare(model: str = DEV, mode: str = "warn", **fields: Any) -> tuple[PreparedRequest, list[RequestWarning]]:
    return apply(ImageRequest(PROMPT, **fields), MODELS[model], adapter="fal", mode=mode)  # type: ignore[arg-type]


def build(model: str = DEV, **fields: Any) -> tuple[WireRequest, list[RequestWarning]]:
    call, warnings = prepare(model, **fields)
    return ADAPTER.build_request(call, ENDPOINT), warnings


def summary(warnings: list[RequestWarning]) -> list[tuple[str, str, Any, Any]]:
    return [(w.code, w.option, w.requested, w.applied) for w in warnings]


# -- mapping -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", list(MODELS))
def test_node_default_posts_to_the_model_id_with_width_height(model: str) -> None:
    wire, warnings = build(model, **NODE_DEFAULT)
    assert (wire.method, wire.url, wire.headers, wire.params) == ("POST", f"{BASE}/{model}", AUTH, {})
    assert wire.json == {"prompt": PROMPT, "image_size": {"width": 1024, "height": 1024}}
    assert warnings == []


@pytest.mark.parametrize("model", list(MODELS))
def test_seed_example_keeps_1792x1024_and_drops_quality_and_style(model: str) -> None:
    wire, warnings = build(model, **SEED_EXAMPLE)
    assert wire.json == {"prompt": PROMPT, "image_size": {"width": 1792, "height": 1024}}
    assert summary(warnings) == DROPPED


def test_sizes_snap_to_the_16_pixel_grid_and_ratios_become_pixels() -> None:
    wire, warnings = build(size="1010x750")
    assert wire.json["image_size"] == {"width": 1008, "height": 752}
    assert summary(warnings) == [("adapted", "size", "1010x750", "1008x752")]
    wire, warnings = build(size="16:9")
    assert wire.json["image_size"] == {"width": 1184, "height": 672}  # the default 1024x768 area at 16:9
    assert summary(warnings) == [("adapted", "size", "16:9", "1184x672")]


def test_no_size_sends_no_image_size_and_provider_options_go_last() -> None:
    options = {"fal": {"enable_safety_checker": False, "sync_mode": True, "image_size": "landscape_16_9",
                       "num_inference_steps": 12}}
    wire, warnings = build(seed=5, n=3, output_format="png", provider_options=options)
    assert wire.json == {"prompt": PROMPT, "num_images": 3, "seed": 5, "output_format": "png",
                         "enable_safety_checker": False, "sync_mode": True, "image_size": "landscape_16_9",
                         "num_inference_steps": 12}
    assert warnings == []


def test_webp_and_negative_prompt_are_dropped_and_n_is_bounded() -> None:
    wire, warnings = build(output_format="webp", negative_prompt="blurry")
    assert wire.json == {"prompt": PROMPT}
    assert summary(warnings) == [("dropped", "negative_prompt", "blurry", None),
                                 ("dropped", "output_format", "webp", "jpeg")]
    with pytest.raises(InvalidRequestError):
        prepare(n=5)
    with pytest.raises(InvalidRequestError):
        prepare("fal-ai/flux-pro/v1.1", n=2)


def test_strict_mode_refuses_the_seed_example() -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        prepare(mode="strict", **SEED_EXAMPLE)
    assert caught.value.option == "quality"
    prepare(mode="strict", **NODE_DEFAULT)


# -- submit, status stage, result stage ----------------------------------------------------------------------
def submit(name: str = "submit_flux_dev.json", **fields: Any) -> Pending:
    call, _ = prepare(**(fields or NODE_DEFAULT))
    outcome = ADAPTER.parse_response(respond(name), call)
    assert isinstance(outcome, Pending)
    return outcome


def test_submit_answer_is_pending_with_the_returned_urls_in_the_handle() -> None:
    pending = submit()
    assert (pending.queue_position, pending.status) == (2, "IN_QUEUE")
    assert pending.handle == JobHandle("fal", DEV, REQUEST, {
        "prompt": PROMPT, "n": 1, "size": "1024x1024", "stage": "status", "status_url": STATUS_URL,
        "response_url": RESPONSE_URL, "cancel_url": f"{RESPONSE_URL}/cancel"})


def test_status_url_is_never_rebuilt_from_the_model_id() -> None:
    handle = submit().handle
    wire = ADAPTER.poll_request(handle, ENDPOINT)
    assert (wire.method, wire.url, wire.headers, wire.params, wire.json) == ("GET", STATUS_URL, AUTH, {}, None)
    assert "/fal-ai/flux/dev/" not in wire.url  # the sub-path is not part of the status URL


def test_the_docs_example_submit_answer() -> None:
    pending = submit("submit_fast_sdxl.json")
    assert pending.queue_position is None and pending.status == "IN_QUEUE"
    assert pending.handle.job_id == "80e732af-660e-45cd-bd63-580e4f2a94cc"


def test_queue_and_progress_statuses_stay_pending() -> None:
    handle = submit().handle
    assert ADAPTER.parse_poll(respond("status_in_queue.json"), handle, None) == Pending(
        handle, queue_position=0, status="IN_QUEUE")
    assert ADAPTER.parse_poll(respond("status_in_progress.json"), handle, None) == Pending(
        handle, status="IN_PROGRESS")
    assert ADAPTER.parse_poll(respond("status_unknown.json"), handle, None) == Pending(
        handle, status="STARTING_WORKER")


def test_completed_moves_the_handle_to_the_result_stage() -> None:
    handle = submit().handle
    outcome = ADAPTER.parse_poll(respond("status_completed.json"), handle, None)
    assert isinstance(outcome, Pending) and (outcome.retry_after, outcome.status) == (0, "COMPLETED")
    assert outcome.handle == JobHandle("fal", DEV, REQUEST, {**handle.data, "stage": "result"})
    wire = ADAPTER.poll_request(outcome.handle, ENDPOINT)
    assert (wire.method, wire.url, wire.headers) == ("GET", RESPONSE_URL, AUTH)


def result_handle(**fields: Any) -> JobHandle:
    pending = ADAPTER.parse_poll(respond("status_completed.json"), submit(**fields).handle, None)
    assert isinstance(pending, Pending)
    return pending.handle


def test_result_stage_gives_images_with_reported_size_and_seed() -> None:
    outcome = ADAPTER.parse_poll(respond("result.json", **{"x-fal-request-id": REQUEST}), result_handle(), None)
    assert isinstance(outcome, Images) and outcome.errors == []
    (image,) = outcome.images
    assert image.url == "https://v3.fal.media/files/rabbit/abc/image.jpg"
    assert (image.media_type, image.reported_size, image.seed) == ("image/jpeg", "1024x768", 123456)
    assert image.revised_prompt == PROMPT and image.expires_at is None  # retention UNCONFIRMED
    assert outcome.request_id == REQUEST


def test_flagged_image_is_withheld_and_reported_while_clean_ones_are_kept() -> None:
    handle = result_handle(size="1792x1024", n=2)
    outcome = ADAPTER.parse_poll(respond("result_two_one_flagged.json"), handle, None)
    assert isinstance(outcome, Images)
    assert [image.url for image in outcome.images] == ["https://v3.fal.media/files/koala/one/image.jpg"]
    assert outcome.images[0].seed is None and outcome.images[0].metadata["batch_seed"] == 99
    (error,) = outcome.errors
    assert isinstance(error, ContentPolicyError)
    assert (error.stage, error.reason, error.adapter, error.model) == ("output", "has_nsfw_concepts", "fal", DEV)
    assert "image 2 of 2" in str(error)


def test_all_images_flagged_raises() -> None:
    with pytest.raises(ContentPolicyError) as caught:
        ADAPTER.parse_poll(respond("result_all_flagged.json"), result_handle(), None)
    assert (caught.value.stage, caught.value.reason) == ("output", "has_nsfw_concepts")


def test_result_without_images_is_an_error() -> None:
    with pytest.raises(ProviderError, match="without an image"):
        ADAPTER.parse_poll(respond(body={"images": [], "seed": 1}), result_handle(), None)


def test_sync_mode_data_uri_becomes_bytes() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 8), (10, 200, 10)).save(buffer, "PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    body = {**load("result.json"), "images": [{"url": data_url, "width": 16, "height": 8,
                                               "content_type": "image/png"}]}
    outcome = ADAPTER.parse_poll(respond(body=body), result_handle(), None)
    assert isinstance(outcome, Images)
    image = outcome.images[0]
    assert (image.data, image.media_type, image.size) == (buffer.getvalue(), "image/png", "16x8")


def test_sync_host_answer_with_images_is_done_at_once() -> None:
    call, _ = prepare(**NODE_DEFAULT)
    outcome = ADAPTER.parse_response(respond("result.json", **{"x-fal-request-id": "sync-1"}), call)
    assert isinstance(outcome, Images) and outcome.request_id == "sync-1"


def test_submit_without_status_url_is_an_error() -> None:
    call, _ = prepare()
    with pytest.raises(ProviderError, match="sub-path"):
        ADAPTER.parse_response(respond(body={"request_id": "x"}), call)


@pytest.mark.parametrize(("name", "kind"), [("status_completed_error.json", ProviderError),
                                            ("status_completed_policy.json", ContentPolicyError),
                                            ("status_failed.json", ProviderError)])
def test_failed_runs_reported_by_the_status_raise(name: str, kind: type[ProviderError]) -> None:
    with pytest.raises(kind) as caught:
        ADAPTER.parse_poll(respond(name), submit().handle, None)
    assert load(name)["error"] in str(caught.value)


def test_handle_round_trips_through_json_in_both_stages_without_the_call() -> None:
    handle = submit().handle
    restored = JobHandle.from_json(handle.to_json())
    assert restored == handle and ADAPTER.poll_request(restored, ENDPOINT).url == STATUS_URL
    moved = ADAPTER.parse_poll(respond("status_completed.json"), restored, None)
    assert isinstance(moved, Pending)
    again = JobHandle.from_json(moved.handle.to_json())
    assert ADAPTER.poll_request(again, ENDPOINT).url == RESPONSE_URL
    outcome = ADAPTER.parse_poll(respond("result.json"), again, None)
    assert isinstance(outcome, Images) and outcome.images[0].revised_prompt == PROMPT


def test_cancel_uses_cancel_url_or_the_status_url_base() -> None:
    cancel = ADAPTER.cancel_request(submit().handle, ENDPOINT)
    assert cancel is not None
    assert (cancel.method, cancel.url, cancel.headers, cancel.json) == (
        "PUT", f"{RESPONSE_URL}/cancel", AUTH, None)
    bare = JobHandle("fal", DEV, REQUEST, {"status_url": STATUS_URL, "stage": "status"})
    cancel = ADAPTER.cancel_request(bare, ENDPOINT)
    assert cancel is not None and cancel.url == f"{RESPONSE_URL}/cancel"
    assert ADAPTER.cancel_request(JobHandle("fal", DEV, REQUEST, {}), ENDPOINT) is None


def test_urls_outside_fal_get_no_key() -> None:
    handle = JobHandle("fal", DEV, "x", {"stage": "status", "status_url": "https://evil.example/x/status"})
    assert keep_credentials_home(ADAPTER, ENDPOINT, ADAPTER.poll_request(handle, ENDPOINT)).headers == {}
    backup = JobHandle("fal", DEV, "x", {"stage": "status", "status_url": "https://queue.falrun.com/a/status"})
    assert keep_credentials_home(ADAPTER, ENDPOINT, ADAPTER.poll_request(backup, ENDPOINT)).headers == AUTH


# -- errors and retry rule -----------------------------------------------------------------------------------
def test_validation_error_list_is_an_invalid_request() -> None:
    call, _ = prepare()
    error = ADAPTER.parse_error(respond("error_422_validation.json", status=422), call)
    assert isinstance(error, InvalidRequestError) and isinstance(error, ProviderError)
    assert "num_images: Input should be less than or equal to 4" in str(error)
    assert (error.code, error.model) == ("less_than_equal", DEV)


def test_content_policy_violation_422_is_input_moderation() -> None:
    response = respond("error_422_content_policy.json", status=422, **{"x-fal-request-id": "r-9"})
    error = ADAPTER.parse_error(response, None)
    assert isinstance(error, ContentPolicyError)
    assert (error.stage, error.reason, error.code, error.request_id) == (
        "input", "sexual", "content_policy_violation", "r-9")
    assert not ADAPTER.is_retryable(response)


def test_exhausted_balance_is_quota() -> None:
    error = ADAPTER.parse_error(respond("error_403_balance.json", status=403), None)
    assert isinstance(error, QuotaExceededError) and "Exhausted balance" in str(error)


def test_string_detail_errors_carry_the_fal_request_id() -> None:
    error = ADAPTER.parse_error(respond("error_401.json", status=401, **{"x-fal-request-id": "r-1"}), None)
    assert isinstance(error, AuthenticationError) and error.request_id == "r-1"
    assert "r-1" in str(error) and "test-key" not in str(error) and "FAL_KEY" in str(error)
    error = ADAPTER.parse_error(respond("error_429.json", status=429, **{"retry-after": "3"}), None)
    assert isinstance(error, RateLimitError) and error.retry_after == 3.0
    assert isinstance(ADAPTER.parse_error(respond("error_500.json", status=500), None), ServiceUnavailableError)


def test_retry_rule_is_fal_clients() -> None:
    for status in (408, 409, 429):
        assert ADAPTER.is_retryable(respond(body={"detail": "x"}, status=status))
    ingress = WireResponse(502, {}, b"<html><center>nginx</center></html>")
    assert ADAPTER.is_retryable(ingress)
    assert not ADAPTER.is_retryable(WireResponse(502, {"x-fal-request-id": "r"}, b"nginx"))  # from the app
    assert not ADAPTER.is_retryable(WireResponse(504, {"x-fal-request-timeout-type": "user"}, b"nginx"))
    assert not ADAPTER.is_retryable(respond("error_500.json", status=500))
    assert not ADAPTER.is_retryable(respond("error_422_validation.json", status=422))


# -- conformance ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("caps", MODELS.values(), ids=list(MODELS))
def test_catalogue_conformance(caps: Any) -> None:
    assert caps.max_images >= 1 and caps.protocol == "poll" and caps.returns == "url"
    assert caps.output_format_default in caps.output_formats and caps.seed and not caps.negative_prompt
    assert caps.quality_default is None and caps.style_default is None
    assert caps.lifecycle.replacement is None and caps.lifecycle.source
    assert caps.size.mode == "free" and caps.size.default == "1024x768"  # landscape_4_3, fal's default


def test_adapter_class_contract() -> None:
    assert (FalAdapter.name, FalAdapter.default_base_url, FalAdapter.key_env, FalAdapter.secret_headers) == (
        "fal", "https://queue.fal.run", ("FAL_KEY",), ("authorization",))
    assert FalAdapter.default_model in MODELS


# -- end to end through the real client (no network: httpx2.MockTransport) ----------------------------------
def test_end_to_end_status_then_result_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    httpx2 = pytest.importorskip("httpx2")
    from imgsdk.client import Client

    monkeypatch.setenv("FAL_KEY", "test-key")
    seen: list[tuple[str, str, str | None]] = []
    statuses = iter(["status_in_queue.json", "status_in_progress.json", "status_completed.json"])

    def handler(request: Any) -> Any:
        seen.append((request.method, str(request.url), request.headers.get("authorization")))
        if request.method == "POST":
            return httpx2.Response(200, json=load("submit_flux_dev.json"))
        if str(request.url).endswith("/status"):
            return httpx2.Response(200, json=load(next(statuses)))
        return httpx2.Response(200, json=load("result_two_one_flagged.json"))

    progress: list[Any] = []
    with Client({}, transport=httpx2.MockTransport(handler), sleep=lambda seconds: None) as client:
        result = client.generate(PROMPT, provider=f"fal:{DEV}", size="1792x1024", n=2, on_progress=progress.append)
    assert [image.url for image in result.images] == ["https://v3.fal.media/files/koala/one/image.jpg"]
    assert [type(error).__name__ for error in result.errors] == ["ContentPolicyError"]
    assert seen == [("POST", f"{BASE}/{DEV}", "Key test-key"), ("GET", STATUS_URL, "Key test-key"),
                    ("GET", STATUS_URL, "Key test-key"), ("GET", STATUS_URL, "Key test-key"),
                    ("GET", RESPONSE_URL, "Key test-key")]
    assert [(p.status, p.queue_position) for p in progress] == [
        ("IN_QUEUE", 2), ("IN_QUEUE", 0), ("IN_PROGRESS", None), ("COMPLETED", None)]


def test_submit_is_resent_only_on_statuses_that_mean_not_accepted() -> None:
    assert FalAdapter.post_retry_statuses == frozenset({408, 409, 429})
