"""AUTOMATIC1111 / Forge adapter: exact txt2img bodies, info parsing, errors (providers.md §10)."""

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
from imgsdk.adapter import Endpoint, Images, Secret, WireRequest, WireResponse
from imgsdk.adapters.automatic1111 import DEFAULT, Automatic1111Adapter
from imgsdk.errors import (
    AuthenticationError,
    ConfigError,
    InvalidRequestError,
    ModelNotFoundError,
    ProviderError,
    ServiceUnavailableError,
    UnsupportedOptionError,
)
from imgsdk.policy import apply
from imgsdk.request import ImageRequest, PreparedRequest, RequestWarning

DATA = Path(__file__).resolve().parent.parent / "data" / "automatic1111"
BASE = "http://127.0.0.1:7860"
URL = f"{BASE}/sdapi/v1/txt2img"
ADAPTER = Automatic1111Adapter()
ENDPOINT = Endpoint(base_url=BASE)
PROMPT = "a red fox in the snow"
NODE_DEFAULT: dict[str, Any] = {"size": "1024x1024", "soft": frozenset({"size"})}
SEED_EXAMPLE: dict[str, Any] = {"size": "1792x1024", "quality": "hd", "style": "vivid"}


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def png(width: int = 8, height: int = 8, colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def prepare(model: str = "default", mode: str = "warn", **fields: Any) -> tuple[PreparedRequest,
                                                                                list[RequestWarning]]:
    caps = ADAPTER.capabilities(model, {})
    assert caps is not None
    return apply(ImageRequest(PROMPT, **fields), caps, adapter="automatic1111", mode=mode)  # type: ignore[arg-type]


def build(model: str = "default", endpoint: Endpoint = ENDPOINT, **fields: Any) -> tuple[WireRequest,
                                                                                         list[RequestWarning]]:
    call, warnings = prepare(model, **fields)
    return ADAPTER.build_request(call, endpoint), warnings


def respond(body: Any, status: int = 200, **headers: str) -> WireResponse:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WireResponse(status, {"content-type": "application/json", **headers}, content, URL)


def success(images: list[bytes], info: Any) -> WireResponse:
    return respond({"images": [b64(image) for image in images], "parameters": {"prompt": PROMPT},
                    "info": info if not isinstance(info, dict) else json.dumps(info)})


def summary(warnings: list[RequestWarning]) -> list[tuple[str, str, Any, Any]]:
    return [(w.code, w.option, w.requested, w.applied) for w in warnings]


# -- mapping --------------------------------------------------------------------------------------------------
def test_node_default_call_exact_body() -> None:
    wire, warnings = build(**NODE_DEFAULT)
    assert (wire.method, wire.url, wire.headers, wire.params) == ("POST", URL, {}, {})
    assert wire.json == {"prompt": PROMPT, "width": 1024, "height": 1024, "seed": -1, "batch_size": 1,
                         "n_iter": 1}
    assert warnings == []


def test_seed_example_keeps_1792x1024_and_drops_quality_and_style_with_warnings() -> None:
    wire, warnings = build(**SEED_EXAMPLE)
    assert wire.json == {"prompt": PROMPT, "width": 1792, "height": 1024, "seed": -1, "batch_size": 1,
                         "n_iter": 1}
    assert warnings == [
        RequestWarning("dropped", "quality", "hd", None,
                       "quality 'hd' dropped: this model has no quality setting [automatic1111:default]"),
        RequestWarning("dropped", "style", "vivid", None,
                       "style 'vivid' dropped: this model has no style setting [automatic1111:default]"),
    ]


def test_seed_example_strict_mode_refuses_quality() -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        prepare(mode="strict", **SEED_EXAMPLE)
    assert (caught.value.option, caught.value.value, caught.value.allowed) == ("quality", "hd", ())
    assert caught.value.adapter == "automatic1111"


def test_seed_negative_prompt_n_checkpoint_profile_defaults_and_basic_auth() -> None:
    endpoint = Endpoint(base_url=BASE + "/", settings={"username": "alice", "password": "s3cret",
                                                       "sampler": "DPM++ 2M", "steps": 28, "cfg_scale": 6.5})
    wire, warnings = build("dreamshaper_8.safetensors", endpoint, size="768x1152", seed=42,
                           negative_prompt="blurry, text", n=4)
    assert wire.url == URL
    assert wire.headers == {"authorization": "Basic " + b64(b"alice:s3cret")}
    assert wire.json == {"prompt": PROMPT, "negative_prompt": "blurry, text", "width": 768, "height": 1152,
                         "seed": 42, "batch_size": 4, "n_iter": 1, "sampler_name": "DPM++ 2M", "steps": 28,
                         "cfg_scale": 6.5,
                         "override_settings": {"sd_model_checkpoint": "dreamshaper_8.safetensors"}}
    assert warnings == []


def test_provider_options_merge_last_and_override_settings_merge_by_key() -> None:
    options = {"automatic1111": {"styles": ["cinematic"], "scheduler": "Karras", "steps": 12,
                                 "override_settings": {"CLIP_stop_at_last_layers": 2}}}
    wire, _ = build("sd_xl_base_1.0.safetensors [31e35c80fc]", Endpoint(BASE, settings={"steps": 30}),
                    provider_options=options)
    assert wire.json == {"prompt": PROMPT, "seed": -1, "batch_size": 1, "n_iter": 1, "steps": 12,
                         "styles": ["cinematic"], "scheduler": "Karras",
                         "override_settings": {"sd_model_checkpoint": "sd_xl_base_1.0.safetensors [31e35c80fc]",
                                               "CLIP_stop_at_last_layers": 2}}


def test_password_from_api_key_and_bearer_key_without_username() -> None:
    with_user = Endpoint(BASE, api_key=Secret("pw-from-key"), settings={"username": "bob"})
    assert build(endpoint=with_user)[0].headers == {"authorization": "Basic " + b64(b"bob:pw-from-key")}
    proxy = Endpoint(BASE, api_key=Secret("test-key"))
    assert build(endpoint=proxy)[0].headers == {"authorization": "Bearer test-key"}
    assert "authorization" in Automatic1111Adapter.secret_headers


def test_username_without_password_is_a_config_error_that_names_no_secret() -> None:
    with pytest.raises(ConfigError, match="password"):
        build(endpoint=Endpoint(BASE, settings={"username": "bob"}))


@pytest.mark.parametrize(("size", "sent"), [("1000x700", "1000x704"), ("4096x4096", "2048x2048"),
                                            ("30x30", "64x64")])
def test_sizes_snap_to_the_ui_grid_with_a_warning(size: str, sent: str) -> None:
    wire, warnings = build(size=size)
    width, height = (int(side) for side in sent.split("x"))
    assert (wire.json["width"], wire.json["height"]) == (width, height)
    assert summary(warnings) == [("adapted", "size", size, sent)]


def test_output_format_cannot_be_chosen_per_request() -> None:
    wire, warnings = build(output_format="webp")
    assert "output_format" not in wire.json and "samples_format" not in json.dumps(wire.json)
    assert summary(warnings) == [("dropped", "output_format", "webp", None)]


def test_seed_out_of_32_bit_range_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="seed"):
        prepare(seed=2**32)


def test_n_above_the_batch_limit_is_refused_per_call() -> None:
    with pytest.raises(InvalidRequestError, match="at most 8"):
        prepare(n=9)


# -- parsing --------------------------------------------------------------------------------------------------
def test_success_parses_the_info_json_string_per_image() -> None:
    first, second = png(8, 8), png(8, 8, (10, 10, 200))
    call, _ = prepare("dreamshaper_8.safetensors", n=2)
    outcome = ADAPTER.parse_response(success([first, second], load("info.json")), call)
    assert isinstance(outcome, Images) and outcome.warnings == []
    assert [image.data for image in outcome.images] == [first, second]
    assert [image.media_type for image in outcome.images] == ["image/png", "image/png"]
    assert [image.size for image in outcome.images] == ["8x8", "8x8"]
    assert [image.seed for image in outcome.images] == [1234567890, 1234567891]
    # revised_prompt is the prompt A1111 actually used (the saved style "cinematic" applied)
    assert [image.revised_prompt for image in outcome.images] == ["a red fox in the snow, cinematic"] * 2
    assert outcome.images[0].url.startswith("data:image/png;base64,")
    assert outcome.images[1].metadata["infotext"].endswith("Seed: 1234567891, Size: 1024x1024, Model hash: "
                                                           "879db523c3, Model: dreamshaper_8, Version: v1.10.1")
    assert outcome.images[0].metadata["sd_model_name"] == "dreamshaper_8"


def test_real_size_is_read_from_the_bytes() -> None:
    call, _ = prepare(size="1792x1024")
    info = {"seed": 7, "all_seeds": [7], "all_prompts": [PROMPT]}
    outcome = ADAPTER.parse_response(success([png(1792, 1024)], info), call)
    assert isinstance(outcome, Images)
    assert (outcome.images[0].size, outcome.images[0].seed, outcome.images[0].revised_prompt) == (
        "1792x1024", 7, PROMPT)


def test_info_as_an_object_and_without_all_seeds_numbers_the_batch() -> None:
    call, _ = prepare(n=2)
    outcome = ADAPTER.parse_response(success([png(), png()], {"seed": 100}), call)  # a dict, not a string
    assert isinstance(outcome, Images)
    assert [image.seed for image in outcome.images] == [100, 101]
    assert [image.revised_prompt for image in outcome.images] == [PROMPT, PROMPT]


@pytest.mark.parametrize("info", ["not json", "", None, "[1, 2]"])
def test_unreadable_info_still_returns_the_images(info: Any) -> None:
    call, _ = prepare()
    body = {"images": [b64(png())], "parameters": {}, "info": info}
    outcome = ADAPTER.parse_response(respond(body), call)
    assert isinstance(outcome, Images)
    assert (outcome.images[0].seed, outcome.images[0].revised_prompt, outcome.images[0].size) == (
        None, PROMPT, "8x8")


def test_grid_first_and_script_extras_after_are_not_returned() -> None:
    grid, one, two, control_map = png(16, 8), png(8, 8), png(8, 8, (0, 0, 0)), png(4, 4)
    call, _ = prepare(n=2)
    info = {"seed": 5, "all_seeds": [5, 6], "index_of_first_image": 1,
            "infotexts": ["grid text", "Seed: 5", "Seed: 6"]}  # A1111 inserts the grid's infotext first
    outcome = ADAPTER.parse_response(success([grid, one, two, control_map], info), call)
    assert isinstance(outcome, Images)
    assert [image.data for image in outcome.images] == [one, two]
    assert [(image.seed, image.metadata["infotext"]) for image in outcome.images] == [(5, "Seed: 5"),
                                                                                       (6, "Seed: 6")]


def test_checkpoint_fallback_is_reported_as_a_warning() -> None:
    call, _ = prepare("juggernautXL_v9.safetensors")
    info = {"seed": 1, "all_seeds": [1], "sd_model_name": "v1-5-pruned-emaonly", "sd_model_hash": "6ce0161689"}
    outcome = ADAPTER.parse_response(success([png()], info), call)
    assert isinstance(outcome, Images)
    assert summary(outcome.warnings) == [("provider", "model", "juggernautXL_v9.safetensors",
                                          "v1-5-pruned-emaonly")]
    assert "is not on the server" in outcome.warnings[0].message


@pytest.mark.parametrize("model", ["dreamshaper_8", "dreamshaper_8.safetensors",
                                   "dreamshaper_8.safetensors [879db523c3]", "879db523c3"])
def test_every_checkpoint_alias_matches_without_warning(model: str) -> None:
    call, _ = prepare(model)
    outcome = ADAPTER.parse_response(success([png()], load("info.json")), call)
    assert isinstance(outcome, Images) and outcome.warnings == []


def test_subfolder_checkpoint_matches_its_model_name() -> None:
    call, _ = prepare("sdxl/animagine.safetensors")
    outcome = ADAPTER.parse_response(success([png()], {"sd_model_name": "sdxl_animagine"}), call)
    assert isinstance(outcome, Images) and outcome.warnings == []


@pytest.mark.parametrize("body", [{"images": [], "parameters": {}, "info": "{}"}, {"detail": "odd"}, b"<html>"])
def test_no_images_or_unexpected_bodies_are_provider_errors(body: Any) -> None:
    call, _ = prepare()
    with pytest.raises(ProviderError) as caught:
        ADAPTER.parse_response(respond(body), call)
    assert (caught.value.adapter, caught.value.model, caught.value.status) == ("automatic1111", "default", 200)


# -- errors ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "status", "kind", "code", "words"), [
    ("error_422_validation.json", 422, InvalidRequestError, "validation_error",
     ["width: value is not a valid integer", "cfg_scale: value is not a valid float"]),
    ("error_422_validation_pydantic2.json", 422, InvalidRequestError, "validation_error",
     ["steps: Input should be a valid integer"]),
    ("error_422_script.json", 422, InvalidRequestError, "HTTPException", ["Script 'nope' not found"]),
    ("error_404_sampler.json", 404, InvalidRequestError, "HTTPException", ["Sampler not found", "samplers"]),
    ("error_404_route.json", 404, InvalidRequestError, "not_found", ["--api", "base_url"]),
    ("error_404_model.json", 404, ModelNotFoundError, "HTTPException", ["Model not found", "sd-models"]),
    ("error_401.json", 401, AuthenticationError, "HTTPException", ["Incorrect username or password",
                                                                   "--api-auth"]),
    ("error_500_oom.json", 500, ServiceUnavailableError, "OutOfMemoryError", ["CUDA out of memory"]),
    ("error_500_invalid_image.json", 500, ServiceUnavailableError, "HTTPException", ["Invalid encoded image"]),
])
def test_error_bodies_map_to_typed_errors(name: str, status: int, kind: type[Exception], code: str,
                                          words: list[str]) -> None:
    call, _ = prepare("dreamshaper_8")
    error = ADAPTER.parse_error(respond(load(name), status, **{"x-request-id": "req-1"}), call)
    assert isinstance(error, kind) and isinstance(error, ProviderError)
    assert (error.adapter, error.model, error.status, error.code, error.request_id) == (
        "automatic1111", "dreamshaper_8", status, code, "req-1")
    assert error.body == load(name)
    for word in words:
        assert word in str(error)


def test_sampler_404_is_not_a_missing_model() -> None:
    call, _ = prepare("dreamshaper_8")
    error = ADAPTER.parse_error(respond(load("error_404_sampler.json"), 404), call)
    assert not isinstance(error, ModelNotFoundError)
    assert getattr(error, "option", None) == "sampler_name"


def test_gateway_error_without_json_is_service_unavailable() -> None:
    error = ADAPTER.parse_error(respond(b"<html>502 Bad Gateway</html>", 502), None)
    assert isinstance(error, ServiceUnavailableError)
    assert (error.status, error.model, error.body) == (502, None, "<html>502 Bad Gateway</html>")


def test_error_messages_never_contain_credentials() -> None:
    endpoint = Endpoint(BASE, settings={"username": "alice", "password": "s3cret"})
    wire, _ = build(endpoint=endpoint)
    error = ADAPTER.parse_error(respond(load("error_401.json"), 401), None)
    assert "s3cret" not in str(error) and wire.headers["authorization"] not in str(error)


@pytest.mark.parametrize(("status", "body", "retry"), [
    (500, "error_500_oom.json", False), (500, b"Internal Server Error", True), (502, b"bad gateway", True),
    (503, b"", True), (504, b"", True), (408, b"", True), (422, "error_422_validation.json", False),
    (404, "error_404_sampler.json", False), (401, "error_401.json", False),
])
def test_retry_rule(status: int, body: Any, retry: bool) -> None:
    content = load(body) if isinstance(body, str) else body
    assert ADAPTER.is_retryable(respond(content, status)) is retry


def test_a_blocking_post_is_only_resent_when_it_never_reached_the_server() -> None:
    assert Automatic1111Adapter.post_retry_statuses == frozenset({502, 503})


# -- declarations ---------------------------------------------------------------------------------------------
def test_catalogue_conformance() -> None:
    for model, caps in ADAPTER.catalogue().items():
        assert caps.model == model and caps.max_images >= 1
        assert caps.quality_default is None or caps.quality_default in caps.qualities
        assert caps.style_default is None or caps.style_default in caps.styles
        assert caps.lifecycle.replacement is None
        assert caps.lifecycle.status == "active" and not caps.lifecycle.is_shut_down()
        assert caps.size.default is not None and caps.size.mode == "free"
    assert ADAPTER.default_model in ADAPTER.catalogue()


def test_any_checkpoint_name_gets_the_same_declaration() -> None:
    caps = ADAPTER.capabilities("juggernautXL_v9.safetensors", {})
    assert caps is not None and caps.model == "juggernautXL_v9.safetensors" and caps.declared_by == "adapter"
    assert (caps.size, caps.max_images, caps.seed_range, caps.styles) == (
        DEFAULT.size, DEFAULT.max_images, DEFAULT.seed_range, ())
    assert ADAPTER.capabilities("default", {}) is DEFAULT


# -- end to end through the client and a mock transport ----------------------------------------------------------
def test_client_end_to_end_with_a_mock_transport() -> None:
    sent: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        info = {"seed": 9, "all_seeds": [9], "all_prompts": [PROMPT], "sd_model_name": "dreamshaper_8"}
        return httpx2.Response(200, json={"images": [b64(png(1792, 1024))], "parameters": {},
                                          "info": json.dumps(info)})

    config = {"providers": {"a1111": {"model": "automatic1111:default", "base_url": BASE,
                                      "username": "alice", "password": "s3cret", "steps": 20}}}
    with imgsdk.Client(config, transport=httpx2.MockTransport(handler), sleep=lambda _: None) as client:
        result = client.generate(PROMPT, provider="a1111", **SEED_EXAMPLE)
    assert len(sent) == 1 and str(sent[0].url) == URL
    assert sent[0].headers["authorization"] == "Basic " + b64(b"alice:s3cret")
    assert json.loads(sent[0].content) == {"prompt": PROMPT, "width": 1792, "height": 1024, "seed": -1,
                                           "batch_size": 1, "n_iter": 1, "steps": 20}
    assert result.to_node_output()["size"] == "1792x1024"
    assert result.revised_prompt == PROMPT and result.images[0].seed == 9
    assert summary(result.warnings) == [("dropped", "quality", "hd", None), ("dropped", "style", "vivid", None)]
    assert result.cost_usd == 0.0
