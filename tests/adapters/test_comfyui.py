"""ComfyUI adapter: exact /prompt bodies for the default and custom workflows, polling, errors (§11)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from PIL import Image

import imgsdk
from imgsdk.adapter import Endpoint, Images, JobHandle, Pending, Secret, WireRequest, WireResponse
from imgsdk.adapters.comfyui import ComfyUIAdapter
from imgsdk.adapters.comfyui_workflow import DEFAULT_SEED, default_workflow
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

DATA = Path(__file__).resolve().parent.parent / "data" / "comfyui"
BASE = "http://127.0.0.1:8188"
PID = "5e1f0b8c-3a2d-4c1e-9f7a-2b6d8e4c1a90"
ADAPTER = ComfyUIAdapter()
ENDPOINT = Endpoint(base_url=BASE)
PROMPT = "a lighthouse at dusk"
NODE_DEFAULT: dict[str, Any] = {"size": "1024x1024", "soft": frozenset({"size"})}
SEED_EXAMPLE: dict[str, Any] = {"size": "1792x1024", "quality": "hd", "style": "vivid"}
SDXL = {"workflow": str(DATA / "workflow_sdxl_api.json"),
        "workflow_mapping": json.loads((DATA / "workflow_sdxl_mapping.json").read_text())}


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def respond(body: Any, status: int = 200, url: str = f"{BASE}/prompt", **headers: str) -> WireResponse:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WireResponse(status, {"content-type": "application/json", **headers}, content, url)


def prepare(model: str = "default", settings: dict[str, Any] | None = None, mode: str = "warn",
            **fields: Any) -> tuple[PreparedRequest, list[RequestWarning]]:
    caps = ADAPTER.capabilities(model, settings or {})
    assert caps is not None
    return apply(ImageRequest(PROMPT, **fields), caps, adapter="comfyui", mode=mode)  # type: ignore[arg-type]


def build(model: str = "default", settings: dict[str, Any] | None = None, api_key: str | None = None,
          **fields: Any) -> tuple[WireRequest, list[RequestWarning]]:
    call, warnings = prepare(model, settings, **fields)
    endpoint = Endpoint(BASE, api_key=Secret(api_key) if api_key else None, settings=settings or {})
    return ADAPTER.build_request(call, endpoint), warnings


def graph(**inputs: Any) -> dict[str, Any]:
    """The default workflow with ``node__input=value`` changes (``n6__text="..."``)."""
    result: dict[str, Any] = default_workflow()
    for key, value in inputs.items():
        node, name = key[1:].split("__")
        result[node]["inputs"][name] = value
    return result


def summary(warnings: list[RequestWarning]) -> list[tuple[str, str, Any, Any]]:
    return [(w.code, w.option, w.requested, w.applied) for w in warnings]


def handle(model: str = "default") -> JobHandle:
    return JobHandle("comfyui", model, PID, {"base_url": BASE, "number": 3, "prompt": PROMPT})


def history(name: str) -> WireResponse:
    return respond(load(name), url=f"{BASE}/history/{PID}")


# -- mapping: default workflow --------------------------------------------------------------------------------
def test_node_default_call_exact_body() -> None:
    wire, warnings = build(**NODE_DEFAULT)
    assert (wire.method, wire.url, wire.headers, wire.params) == ("POST", f"{BASE}/prompt", {}, {})
    assert wire.json == {"prompt": graph(n6__text=PROMPT, n5__width=1024, n5__height=1024, n5__batch_size=1),
                         "client_id": ADAPTER.client_id}
    assert wire.json["prompt"]["3"]["inputs"]["seed"] == DEFAULT_SEED  # no seed given: the workflow's stays
    assert warnings == []


def test_seed_example_sends_1792x1024_and_drops_quality_and_style_with_warnings() -> None:
    wire, warnings = build(**SEED_EXAMPLE)
    assert wire.json == {"prompt": graph(n6__text=PROMPT, n5__width=1792, n5__height=1024, n5__batch_size=1),
                         "client_id": ADAPTER.client_id}
    assert warnings == [
        RequestWarning("dropped", "quality", "hd", None,
                       "quality 'hd' dropped: this model has no quality setting [comfyui:default]"),
        RequestWarning("dropped", "style", "vivid", None,
                       "style 'vivid' dropped: this model has no style setting [comfyui:default]"),
    ]


def test_seed_example_strict_mode_refuses_quality() -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        prepare(mode="strict", **SEED_EXAMPLE)
    assert (caught.value.option, caught.value.value, caught.value.adapter) == ("quality", "hd", "comfyui")


def test_seed_negative_n_checkpoint_options_and_bearer_token() -> None:
    options = {"comfyui": {"steps": 30, "cfg": 6.5, "sampler_name": "dpmpp_2m", "scheduler": "karras",
                           "inputs": {"9": {"filename_prefix": "fox"}}, "extra_data": {"tag": "x"},
                           "front": True}}
    wire, warnings = build("sd_xl_base_1.0.safetensors", api_key="test-key", size="832x1216", seed=2**64 - 1,
                           negative_prompt="blurry", n=3, provider_options=options)
    assert wire.headers == {"authorization": "Bearer test-key"}
    assert wire.json == {
        "prompt": graph(n6__text=PROMPT, n7__text="blurry", n5__width=832, n5__height=1216, n5__batch_size=3,
                        n3__seed=2**64 - 1, n4__ckpt_name="sd_xl_base_1.0.safetensors", n3__steps=30,
                        n3__cfg=6.5, n3__sampler_name="dpmpp_2m", n3__scheduler="karras",
                        n9__filename_prefix="fox"),
        "client_id": ADAPTER.client_id, "extra_data": {"tag": "x"}, "front": True}
    assert warnings == []


def test_profile_checkpoint_is_used_for_default_and_the_model_id_wins() -> None:
    settings = {"checkpoint": "dreamshaper_8.safetensors"}
    wire, _ = build(settings=settings)
    assert wire.json["prompt"]["4"]["inputs"]["ckpt_name"] == "dreamshaper_8.safetensors"
    wire, _ = build("juggernautXL_v9.safetensors", settings=settings)
    assert wire.json["prompt"]["4"]["inputs"]["ckpt_name"] == "juggernautXL_v9.safetensors"


def test_fan_out_calls_without_a_seed_get_distinct_deterministic_seeds() -> None:
    call, _ = prepare()
    seeds = [ADAPTER.build_request(call.with_(index=index), ENDPOINT).json["prompt"]["3"]["inputs"]["seed"]
             for index in range(3)]
    assert seeds == [DEFAULT_SEED, DEFAULT_SEED + 1, DEFAULT_SEED + 2]
    seeded, _ = prepare(seed=5)
    assert ADAPTER.build_request(seeded.with_(index=1), ENDPOINT).json["prompt"]["3"]["inputs"]["seed"] == 5


def test_the_template_is_never_mutated() -> None:
    build(seed=1, size="64x64")
    assert default_workflow()["3"]["inputs"]["seed"] == DEFAULT_SEED
    assert build()[0].json["prompt"]["3"]["inputs"]["seed"] == DEFAULT_SEED


# -- mapping: a user's own workflow ---------------------------------------------------------------------------
def test_custom_workflow_file_and_mapping_exact_body() -> None:
    wire, warnings = build(settings=SDXL, size="1152x896", seed=7, negative_prompt="cartoon", n=2,
                           provider_options={"comfyui": {"steps": 40}})
    expected = load("workflow_sdxl_api.json")
    expected["12"]["inputs"].update(text_g=PROMPT, text_l=PROMPT, width=1152, height=896, target_width=1152,
                                    target_height=896)
    expected["5"]["inputs"].update(width=1152, height=896, batch_size=2)
    expected["10"]["inputs"].update(noise_seed=7, steps=40)
    assert wire.json == {"prompt": expected, "client_id": ADAPTER.client_id}
    # the mapping has no negative_prompt entry, so the declaration has none and the policy drops it
    assert summary(warnings) == [("dropped", "negative_prompt", "cartoon", None)]


@pytest.mark.parametrize("form", ["dict", "json", "path"])
def test_workflow_given_as_dict_json_string_or_path(form: str) -> None:
    text = (DATA / "workflow_sdxl_api.json").read_text()
    value = {"dict": json.loads(text), "json": text, "path": Path(DATA / "workflow_sdxl_api.json")}[form]
    settings = {"workflow": value, "workflow_mapping": SDXL["workflow_mapping"]}
    wire, _ = build(settings=settings)
    assert wire.json["prompt"]["12"]["inputs"]["text_l"] == PROMPT
    assert wire.json["prompt"]["10"]["inputs"]["noise_seed"] == 42  # the workflow's own seed


def test_capabilities_follow_the_mapping() -> None:
    minimal = {"workflow_mapping": {"prompt": ["6", "text"]}}
    caps = ADAPTER.capabilities("default", minimal)
    assert caps is not None
    assert (caps.negative_prompt, caps.seed, caps.max_images, caps.size.mode) == (False, False, 1, "none")
    full = ADAPTER.capabilities("default", {})
    assert full is not None
    assert (full.negative_prompt, full.seed, full.max_images, full.size.mode, full.seed_range) == (
        True, True, 8, "free", (0, 2**64 - 1))
    wire, warnings = build(settings=minimal, size="1024x1024", seed=3, n=1)
    assert wire.json["prompt"] == graph(n6__text=PROMPT)
    assert summary(warnings) == [("dropped", "size", "1024x1024", None), ("dropped", "seed", 3, None)]


def test_seed_above_64_bits_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="seed"):
        prepare(seed=2**64)


@pytest.mark.parametrize(("settings", "options", "words"), [
    ({"workflow": str(DATA / "workflow_ui_format.json")}, {}, "Save (API Format)"),
    ({"workflow": str(DATA / "missing.json")}, {}, "cannot read the workflow file"),
    ({"workflow": "{not json"}, {}, "not valid JSON"),
    ({"workflow": {"3": {"inputs": {}}}}, {}, "not an API-format node"),
    ({"workflow_mapping": {"prompt": ["99", "text"]}}, {}, "node '99' is not in the workflow"),
    ({"workflow_mapping": {"prompt": ["6", "txt"]}}, {}, "has no input 'txt'"),
    ({}, {"stepz": 3}, "unknown ComfyUI option(s) stepz"),
    ({}, {"inputs": {"42": {"x": 1}}}, "node '42' is not in the workflow"),
])
def test_workflow_configuration_errors(settings: dict[str, Any], options: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build(settings=settings, provider_options={"comfyui": options})
    assert words in str(caught.value)


@pytest.mark.parametrize("mapping", [{"seed": ["3", "seed"]}, {"prompt": "6.text"}, {"prompt": []}, ["6"]])
def test_bad_mappings_are_config_errors(mapping: Any) -> None:
    with pytest.raises(ConfigError):
        ADAPTER.capabilities("default", {"workflow_mapping": mapping})


def test_a_checkpoint_model_without_a_checkpoint_mapping_is_refused() -> None:
    with pytest.raises(ConfigError, match="'checkpoint'"):
        build("other.safetensors", settings={"workflow_mapping": {"prompt": ["6", "text"]}})


# -- submit -----------------------------------------------------------------------------------------------------
def test_submit_answer_becomes_a_pending_job() -> None:
    call, _ = prepare()
    outcome = ADAPTER.parse_response(respond(load("submit_ok.json")), call)
    assert isinstance(outcome, Pending) and outcome.status == "queued"
    assert outcome.handle == JobHandle("comfyui", "default", PID, {"base_url": BASE, "number": 3,
                                                                    "prompt": PROMPT})


def test_api_prefix_base_url_is_kept_for_polling() -> None:
    call, _ = prepare()
    outcome = ADAPTER.parse_response(respond(load("submit_ok.json"), url=f"{BASE}/api/prompt"), call)
    assert isinstance(outcome, Pending)
    assert ADAPTER.poll_request(outcome.handle, ENDPOINT).url == f"{BASE}/api/history/{PID}"


def test_node_errors_in_a_200_answer_are_an_invalid_request() -> None:
    call, _ = prepare()
    with pytest.raises(InvalidRequestError) as caught:
        ADAPTER.parse_response(respond(load("submit_partial_node_errors.json")), call)
    error = caught.value
    assert isinstance(error, ProviderError)
    assert "node 12 (SaveImage): Required input is missing: images" in str(error)
    assert PID in str(error)
    assert (error.adapter, error.model, error.status, error.code, error.request_id) == (
        "comfyui", "default", 200, "node_errors", PID)


@pytest.mark.parametrize(("name", "code", "words"), [
    ("submit_400_validation.json", "prompt_outputs_failed_validation",
     ["Prompt outputs failed validation", "node 4 (CheckpointLoaderSimple): Value not in list: ckpt_name: "
      "'missing.safetensors' not in ['sd_xl_base_1.0.safetensors', 'v1-5-pruned-emaonly.safetensors']"]),
    ("submit_400_no_prompt.json", "no prompt", ["no prompt"]),
    ("submit_400_invalid_prompt.json", "invalid_prompt",
     ["Cannot execute because node FooSampler does not exist. (Node ID '#3')"]),
])
def test_400_validation_errors_name_node_class_and_message(name: str, code: str, words: list[str]) -> None:
    call, _ = prepare("missing.safetensors")
    error = ADAPTER.parse_error(respond(load(name), 400), call)
    assert isinstance(error, InvalidRequestError) and isinstance(error, ProviderError)
    assert (error.adapter, error.model, error.status, error.code, error.body) == (
        "comfyui", "missing.safetensors", 400, code, load(name))
    for word in words:
        assert word in str(error)


def test_404_means_base_url_is_not_comfyui_not_a_missing_model() -> None:
    call, _ = prepare()
    error = ADAPTER.parse_error(respond(b"404: Not Found", 404), call)
    assert (error.status, error.model) == (404, "default")
    assert isinstance(error, InvalidRequestError) and not isinstance(error, ModelNotFoundError)
    assert "base_url" in str(error)


@pytest.mark.parametrize(("status", "kind"), [(500, ServiceUnavailableError), (502, ServiceUnavailableError),
                                              (401, AuthenticationError)])
def test_other_statuses(status: int, kind: type[Exception]) -> None:
    error = ADAPTER.parse_error(respond(b"500 Internal Server Error", status), None)
    assert isinstance(error, kind)
    assert ADAPTER.is_retryable(respond(b"", status)) is (status >= 500)


def test_submit_is_resent_only_when_it_never_arrived() -> None:
    assert ComfyUIAdapter.post_retry_statuses == frozenset({502, 503})


# -- polling ----------------------------------------------------------------------------------------------------
def test_poll_request_uses_the_jobs_server_and_the_token() -> None:
    wire = ADAPTER.poll_request(handle(), Endpoint("http://elsewhere:1", api_key=Secret("test-key")))
    assert (wire.method, wire.url, wire.headers, wire.json) == (
        "GET", f"{BASE}/history/{PID}", {"authorization": "Bearer test-key"}, None)


def test_empty_history_is_pending() -> None:
    outcome = ADAPTER.parse_poll(history("history_pending.json"), handle(), None)
    assert isinstance(outcome, Pending) and outcome.handle == handle()


def test_history_success_gives_view_urls_without_fetching() -> None:
    call, _ = prepare(size="1792x1024", n=2)
    outcome = ADAPTER.parse_poll(history("history_success.json"), handle(), call)
    assert isinstance(outcome, Images) and outcome.request_id == PID
    assert [image.url for image in outcome.images] == [
        f"{BASE}/view?filename=imgsdk_00001_.png&subfolder=&type=output",
        f"{BASE}/view?filename=imgsdk_00002_.png&subfolder=&type=output"]  # the temp preview is left out
    first = outcome.images[0]
    assert (first.revised_prompt, first.seed, first.size, first.expires_at) == (PROMPT, DEFAULT_SEED,
                                                                                "1792x1024", None)
    assert first.metadata == {"node_id": "9", "prompt_id": PID, "filename": "imgsdk_00001_.png",
                              "subfolder": "", "type": "output"}
    assert first._data is None  # the core fetches the bytes lazily


def test_view_urls_are_url_encoded_and_previews_count_when_nothing_was_saved() -> None:
    body = {PID: {"outputs": {"10": {"images": [{"filename": "my fox&1.png", "subfolder": "a/b c",
                                                 "type": "temp"}]}},
                  "status": {"status_str": "success", "completed": True, "messages": []}}}
    outcome = ADAPTER.parse_poll(respond(body, url=f"{BASE}/history/{PID}"), handle(), None)
    assert isinstance(outcome, Images)
    url = outcome.images[0].url
    assert url == f"{BASE}/view?filename=my%20fox%261.png&subfolder=a%2Fb%20c&type=temp"
    assert parse_qs(urlsplit(url).query) == {"filename": ["my fox&1.png"], "subfolder": ["a/b c"],
                                             "type": ["temp"]}
    assert (outcome.images[0].seed, outcome.images[0].size) == (None, None)  # no graph in the entry


def test_history_without_images_is_an_error() -> None:
    body = {PID: {"outputs": {}, "status": {"status_str": "success", "completed": True, "messages": []}}}
    with pytest.raises(ProviderError, match="without images"):
        ADAPTER.parse_poll(respond(body, url=f"{BASE}/history/{PID}"), handle(), None)


@pytest.mark.parametrize(("name", "kind", "code", "words"), [
    ("history_error.json", ServiceUnavailableError, "torch.OutOfMemoryError",
     ["node 3 (KSampler)", "Allocation on device would exceed allowed memory. (out of memory)"]),
    ("history_error_value.json", ProviderError, "RuntimeError",
     ["node 8 (VAEDecode): RuntimeError: Expected all tensors to be on the same device"]),
    ("history_interrupted.json", ProviderError, "execution_interrupted", ["interrupted", "node 3 (KSampler)"]),
])
def test_history_errors_quote_the_node_exception(name: str, kind: type[ProviderError], code: str,
                                                 words: list[str]) -> None:
    with pytest.raises(kind) as caught:
        ADAPTER.parse_poll(history(name), handle("sd_xl_base_1.0.safetensors"), None)
    error = caught.value
    assert (error.adapter, error.model, error.code, error.request_id) == (
        "comfyui", "sd_xl_base_1.0.safetensors", code, PID)
    assert "traceback" not in json.dumps(error.body)
    for word in words:
        assert word in str(error)
    if kind is ProviderError:
        assert not isinstance(error, ServiceUnavailableError)


def test_job_handle_round_trip_polls_the_same_without_the_call() -> None:
    call, _ = prepare(size="1792x1024", n=2)
    submitted = ADAPTER.parse_response(respond(load("submit_ok.json")), call)
    assert isinstance(submitted, Pending)
    restored = JobHandle.from_json(submitted.handle.to_json())
    assert restored == submitted.handle
    with_call = ADAPTER.parse_poll(history("history_success.json"), submitted.handle, call)
    without = ADAPTER.parse_poll(history("history_success.json"), restored, None)
    assert isinstance(with_call, Images) and isinstance(without, Images)
    assert [(i.url, i.revised_prompt, i.seed, i.size, i.metadata) for i in without.images] == [
        (i.url, i.revised_prompt, i.seed, i.size, i.metadata) for i in with_call.images]


def test_cancel_dequeues_then_interrupts_that_prompt() -> None:
    endpoint = Endpoint(BASE, api_key=Secret("test-key"))
    requests = ADAPTER.cancel_request(handle(), endpoint)
    assert isinstance(requests, list)
    dequeue, interrupt = requests
    assert (dequeue.method, dequeue.url, dequeue.headers, dequeue.json) == (
        "POST", f"{BASE}/queue", {"authorization": "Bearer test-key"}, {"delete": [PID]})
    assert (interrupt.method, interrupt.url, interrupt.headers, interrupt.json) == (
        "POST", f"{BASE}/interrupt", {"authorization": "Bearer test-key"}, {"prompt_id": PID})
    assert ADAPTER.auth_headers(endpoint) == {"authorization": "Bearer test-key"}


# -- declarations -----------------------------------------------------------------------------------------------
def test_catalogue_conformance() -> None:
    for model, caps in ADAPTER.catalogue().items():
        assert caps.model == model and caps.max_images >= 1
        assert caps.quality_default is None or caps.quality_default in caps.qualities
        assert caps.style_default is None or caps.style_default in caps.styles
        assert caps.lifecycle.replacement is None and not caps.lifecycle.is_shut_down()
        assert (caps.protocol, caps.returns) == ("poll", "file")
    assert ADAPTER.default_model in ADAPTER.catalogue()
    caps = ADAPTER.capabilities("anything.safetensors", {})
    assert caps is not None and caps.model == "anything.safetensors"


def test_one_client_id_per_adapter_instance() -> None:
    assert ADAPTER.client_id == ADAPTER.client_id and ComfyUIAdapter().client_id != ADAPTER.client_id


# -- end to end through the client and a mock transport ----------------------------------------------------------
def test_client_end_to_end_submit_poll_and_lazy_fetch() -> None:
    image = io.BytesIO()
    Image.new("RGB", (64, 32), (10, 20, 30)).save(image, "PNG")
    polls: list[int] = []
    seen: list[tuple[str, str]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append((request.method, request.url.path))
        if request.url.path == "/prompt":
            body = json.loads(request.content)
            assert body["prompt"]["5"]["inputs"] == {"batch_size": 1, "height": 32, "width": 64}
            return httpx2.Response(200, json=load("submit_ok.json"))
        if request.url.path == f"/history/{PID}":
            polls.append(1)
            if len(polls) == 1:
                return httpx2.Response(200, json={})
            entry = load("history_success.json")
            entry[PID]["outputs"]["9"]["images"] = entry[PID]["outputs"]["9"]["images"][:1]
            return httpx2.Response(200, json=entry)
        assert request.url.path == "/view" and request.url.params["filename"] == "imgsdk_00001_.png"
        return httpx2.Response(200, content=image.getvalue(), headers={"content-type": "image/png"})

    config = {"providers": {"comfy": {"model": "comfyui:default", "base_url": BASE}}}
    with imgsdk.Client(config, transport=httpx2.MockTransport(handler), sleep=lambda _: None) as client:
        result = client.generate(PROMPT, provider="comfy", size="64x32", quality="hd")
        assert [path for _, path in seen] == ["/prompt", f"/history/{PID}", f"/history/{PID}"]
        assert result.url == f"{BASE}/view?filename=imgsdk_00001_.png&subfolder=&type=output"
        assert result.images[0].data == image.getvalue()  # fetched on first use
        assert result.images[0].size == "64x32"
    assert summary(result.warnings) == [("dropped", "quality", "hd", None)]
