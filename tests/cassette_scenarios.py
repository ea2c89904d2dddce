"""Cassette scenarios: one call each (or a node run), with the scripted documented answers it was recorded from.

Shared by ``tests/record_cassettes.py`` (which writes ``cassettes/<adapter>/<name>.yaml`` through the real
client and imgsdk.testing's recorder) and ``tests/test_cassettes.py`` (which replays them, network guarded).

A scenario's ``answers`` are the whole exchange, in order: the submit answer, every poll answer (pending ×k,
then done) and the image downloads the client makes (``fetch``: the images whose bytes the scenario reads, e.g.
ComfyUI's ``/view``). Each :class:`Answer` names the request it answers (``expect``: method and a URL fragment),
so a recording fails when imgsdk sends something else. Bodies come from ``tests/data/<adapter>/`` (their
READMEs cite the documentation) or from ``/work/shared/reference/providers.md``; ``source`` says which. Images
are valid images of the documented size and format; the recorder shrinks them to tiny stand-ins of that size and
format.

``via="node"`` runs the workflow node's semantics (:mod:`imgsdk.node`: the node's soft defaults) and records
its three outputs; ``"client"`` calls ``client.generate`` with ``call``.
"""

from __future__ import annotations

import base64
import copy
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"

#: The environment variable each scenario's key comes from (the profile says ``api_key = "${VAR}"``).
KEY_VARIABLE = {"openai": "OPENAI_API_KEY", "azure": "AZURE_OPENAI_API_KEY",
                "openai-compatible": "OPENAI_COMPATIBLE_API_KEY", "stability": "STABILITY_API_KEY",
                "google": "GEMINI_API_KEY", "xai": "XAI_API_KEY", "together": "TOGETHER_API_KEY",
                "bfl": "BFL_API_KEY", "replicate": "REPLICATE_API_TOKEN", "fal": "FAL_KEY",
                "comfyui": "COMFYUI_TOKEN", "automatic1111": "A1111_PASSWORD"}
#: Canary keys used while recording, shaped like each provider's real keys: none may appear in a cassette.
CANARY = {"openai": "sk-canary-OPENAI-0123456789abcdef", "azure": "canaryAZURE0123456789abcdef01234",
          "openai-compatible": "sk-canary-GATEWAY-0123456789abcdef", "stability": "sk-canary-STABILITY-0123456789",
          "google": "AIzaCanaryGOOGLE0123456789abcdefghijkl", "xai": "xai-canaryXAI0123456789abcdefghij",
          "together": "tgp_v1_canaryTOGETHER0123456789abcdef", "bfl": "bfl-canary-0123-4567-89ab-cdef01234567",
          "replicate": "r8_canaryREPLICATE0123456789abcdef",
          "fal": "0b2c6f1e-5d2a-4c5e-9a3b-1f2e3d4c5b6a:0123456789abcdef0123456789abcdef",
          "comfyui": "comfy-canary-token-0123456789abcdef", "automatic1111": "a1111-canary-password-0123456789"}
A1111_USER = "imgsdk"
#: Every form a canary can take on the wire (A1111's password travels inside ``Basic base64(user:password)``).
CANARY_FORMS = (*CANARY.values(),
                base64.b64encode(f"{A1111_USER}:{CANARY['automatic1111']}".encode()).decode("ascii"))


def image(width: int, height: int, fmt: str = "PNG") -> bytes:
    """A valid image of the documented size and format (solid colour; the recorder shrinks it anyway)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, format=fmt)
    return out.getvalue()


def b64(width: int, height: int, fmt: str = "PNG") -> str:
    return base64.b64encode(image(width, height, fmt)).decode("ascii")


def data(adapter: str, name: str) -> Any:
    """A documented body of tests/data/<adapter>/ (see that folder's README for its source)."""
    return json.loads((DATA / adapter / name).read_text())


def fill(value: Any, placeholder: str, replacement: Any) -> Any:
    if value == placeholder:
        return replacement
    if isinstance(value, dict):
        return {key: fill(item, placeholder, replacement) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, placeholder, replacement) for item in value]
    return value


@dataclass
class Answer:
    """One scripted answer to the request ``expect`` names (``"POST /v1/flux-2-pro"``: method, URL fragment)."""

    expect: str
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})

    def content(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()


def raw(expect: str, content: bytes, kind: str = "image/png", **headers: str) -> Answer:
    return Answer(expect, content, headers={"content-type": kind, **headers})


@dataclass
class Scenario:
    adapter: str
    name: str
    profile: dict[str, Any]
    call: dict[str, Any]
    answers: list[Answer]
    expect: dict[str, Any]
    source: str
    via: str = "client"
    fetch: tuple[int, ...] = ()

    @property
    def path(self) -> str:
        return f"{self.adapter}/{self.name}.yaml"

    def config(self) -> dict[str, Any]:
        """The config, with the key taken from the environment as users should write it."""
        profile = dict(self.profile)
        variable = KEY_VARIABLE[self.adapter]
        if self.adapter == "automatic1111":
            profile.update(username=A1111_USER, password=f"${{{variable}}}")
        elif profile.pop("keyless", False) is False:
            profile["api_key"] = f"${{{variable}}}"
        return {"providers": {"main": profile}}


@dataclass
class Outcome:
    """What one scenario run produced: the result (or the error), the node's outputs, the downloads."""

    result: Any = None
    error: Exception | None = None
    node: dict[str, Any] | None = None
    fetched: list[tuple[str | None, str | None]] = field(default_factory=list)


def run(scenario: Scenario, client: Any) -> Outcome:
    """Make the scenario's call on ``client`` (recording or replaying alike)."""
    from imgsdk.errors import ImgSDKError
    from imgsdk.node import _request  # the node's own field handling (soft defaults), as node.run uses it

    outcome = Outcome()
    try:
        if scenario.via == "node":
            provider, prompt, options = _request({"provider": "main", **scenario.call}, None)
            outcome.result = client.generate(prompt, provider=provider, **options)
            outcome.node = outcome.result.to_node_output()  # before any download, as the node returns it
        else:
            outcome.result = client.generate(provider="main", **scenario.call)
        for index in scenario.fetch:
            picture = outcome.result.images[index]
            picture.data  # noqa: B018 - reading the bytes downloads them (and records the GET)
            outcome.fetched.append((picture.size, picture.media_type))
    except ImgSDKError as error:
        outcome.error = error
    return outcome


# -- shared bits ---------------------------------------------------------------------------------------------
NODE_DEFAULT = {"prompt": "A lighthouse on a cliff at dawn"}                       # the node with its defaults
NODE_SOCIAL = {"prompt": "A photorealistic header for an article about quantum networking, modern and clean",
               "size": "1792x1024", "quality": "hd"}                            # the seed's social-media example
SOCIAL_WARNINGS = [("dropped", "quality")]
OTTER = "A cute baby sea otter"
JSON = {"content-type": "application/json"}
AZURE = "https://my-resource.openai.azure.com"
AZURE_DALLE = {"model": "azure:dall-e-3", "base_url": AZURE, "deployment": "dalle3", "api_version": "2024-10-21"}
AZURE_GPT = {"model": "azure:gpt-image-1", "base_url": AZURE, "deployment": "gpt-image-1",
             "api_version": "2025-04-01-preview"}
GATEWAY = {"model": "openai-compatible:dall-e-3", "base_url": "https://llm-gateway.example.com/v1"}
COMFY = "http://127.0.0.1:8188"
PID = "5e1f0b8c-3a2d-4c1e-9f7a-2b6d8e4c1a90"


def _gpt_image(width: int, height: int) -> dict[str, Any]:
    body = fill(data("openai", "gpt_image_b64.json"), "...", b64(width, height))
    body.update(size=f"{width}x{height}")
    return body


def _replicate(name: str, outputs: list[str] | None = None) -> dict[str, Any]:
    body = data("replicate", name)
    if outputs is not None:
        body["output"] = outputs
    return body


def _fal_result(width: int, height: int, prompt: str) -> dict[str, Any]:
    body = data("fal", "result.json")
    body["images"][0].update(width=width, height=height)
    body["prompt"] = prompt
    return body


def _comfy_history(width: int, height: int, files: int, prompt: str) -> dict[str, Any]:
    body = copy.deepcopy(data("comfyui", "history_success.json"))
    entry = body[PID]
    graph = entry["prompt"][2]
    graph["5"]["inputs"].update(width=width, height=height, batch_size=files)
    graph["6"]["inputs"]["text"] = prompt
    entry["outputs"]["9"]["images"] = entry["outputs"]["9"]["images"][:files]
    return body


def _together(width: int, height: int) -> dict[str, Any]:
    """The API reference example with its ``<string>`` placeholders filled (a JPEG: the default output_format)."""
    body = data("together", "success_b64.json")
    body.update(id="oFuwv7Y-2kFHot-99170ebf9e84e0ce-SJC", model="black-forest-labs/FLUX.1-schnell")
    body["data"][0].update(index=0, b64_json=b64(width, height, "JPEG"))
    return body


def _a1111(prompt: str, width: int, height: int) -> dict[str, Any]:
    info = data("automatic1111", "info.json")
    info.update(prompt=prompt, all_prompts=[prompt], all_negative_prompts=[""], negative_prompt="", width=width,
                height=height, batch_size=1, all_seeds=[info["seed"]], all_subseeds=[info["subseed"]],
                infotexts=[f"{prompt}\nSteps: 20, Sampler: DPM++ 2M, CFG scale: 7.0, Seed: {info['seed']}, Size: "
                           f"{width}x{height}, Model: dreamshaper_8"], styles=[])
    return {"images": [b64(width, height)], "parameters": {"prompt": prompt, "width": width, "height": height},
            "info": json.dumps(info)}


# -- the scenarios, per adapter ------------------------------------------------------------------------------
OPENAI = {"model": "openai:gpt-image-2"}
STABILITY = {"model": "stability:stable-image-core"}
GOOGLE = {"model": "google:gemini-3.1-flash-image"}
XAI = {"model": "xai:grok-imagine-image"}
TOGETHER = {"model": "together:black-forest-labs/FLUX.1-schnell"}
BFL = {"model": "bfl:flux-2-pro"}
REPLICATE = {"model": "replicate:black-forest-labs/flux-schnell"}
FAL = {"model": "fal:fal-ai/flux/dev"}
COMFYUI = {"model": "comfyui:default"}
A1111 = {"model": "automatic1111:default"}
OPENAI_POST = "POST api.openai.com/v1/images/generations"
SERENE = "A serene mountain landscape at sunset"  # the BFL skill's own example prompt (providers.md §5)
FOX = "a red fox in snow"                          # Replicate's flux-schnell curl example (providers.md §6)
FAL_ID = "764cabcf-b745-4b3e-ae38-1200304cf45b"
FAL_JOB = f"queue.fal.run/fal-ai/flux/requests/{FAL_ID}"
REP_GET = "GET api.replicate.com/v1/predictions/q8v2hc3m9drj00cm4k8ssx4w2c"
USAGE = {"total_tokens": 100, "input_tokens": 50, "output_tokens": 50,
         "input_tokens_details": {"text_tokens": 10, "image_tokens": 40}}


def _bfl_ready(prompt: str) -> dict[str, Any]:
    body = data("bfl", "poll_ready.json")
    body["result"]["prompt"] = prompt
    return body


def _bfl_job(prompt: str, width: int, height: int) -> list[Answer]:
    return [Answer("POST api.bfl.ai/v1/flux-2-pro", data("bfl", "submit.json")),
            Answer("GET api.bfl.ai/v1/get_result?id=abc123", data("bfl", "poll_pending.json")),
            Answer("GET api.bfl.ai/v1/get_result?id=abc123", data("bfl", "poll_pending_progress.json")),
            Answer("GET api.bfl.ai/v1/get_result?id=abc123", _bfl_ready(prompt)),
            raw("GET bfldeliveryprod.blob.core.windows.net/results/abc123/sample.jpeg", image(width, height, "JPEG"),
                "image/jpeg")]


def _fal_job(prompt: str, width: int, height: int) -> list[Answer]:
    return [Answer("POST queue.fal.run/fal-ai/flux/dev", data("fal", "submit_flux_dev.json")),
            Answer(f"GET {FAL_JOB}/status", data("fal", "status_in_queue.json")),
            Answer(f"GET {FAL_JOB}/status", data("fal", "status_in_progress.json")),
            Answer(f"GET {FAL_JOB}/status", data("fal", "status_completed.json")),
            Answer(f"GET {FAL_JOB}$", _fal_result(width, height, prompt)),
            raw("GET v3.fal.media/files/rabbit/abc/image.jpg", image(width, height, "JPEG"), "image/jpeg")]


def _comfy_job(prompt: str, width: int, height: int, files: int) -> list[Answer]:
    views = [raw(f"GET 127.0.0.1:8188/view?filename=imgsdk_0000{index + 1}_.png", image(width, height))
             for index in range(files)]
    return [Answer("POST 127.0.0.1:8188/prompt", data("comfyui", "submit_ok.json")),
            Answer(f"GET 127.0.0.1:8188/history/{PID}", data("comfyui", "history_pending.json")),
            Answer(f"GET 127.0.0.1:8188/history/{PID}", data("comfyui", "history_pending.json")),
            Answer(f"GET 127.0.0.1:8188/history/{PID}", _comfy_history(width, height, files, prompt)), *views]


def _node(size: str | None, revised: str, url_prefix: str | None = None, url: str | None = None) -> dict[str, Any]:
    return {"size": size, "revised_prompt": revised, "url_prefix": url_prefix, "url": url}


SOCIAL = NODE_SOCIAL["prompt"]
LIGHTHOUSE = NODE_DEFAULT["prompt"]
POLLS = [0.5, 0.75, 1.125]  # the engine's poll backoff: asked for, recorded, never slept on replay

SCENARIOS = [
    # -- openai (providers.md §1) --------------------------------------------------------------------------
    Scenario("openai", "gpt_image_2_basic", OPENAI, {"prompt": OTTER, "size": "1024x1024"},
             [Answer(OPENAI_POST, {"created": 1713833628, "data": [{"b64_json": b64(1024, 1024)}], "usage": USAGE},
                     headers={**JSON, "x-request-id": "req_doc_0001"})],
             {"size": "1024x1024", "media_type": "image/png", "revised_prompt": OTTER, "warnings": [],
              "usage_total": 100}, "providers.md §1, official example response (x-oaiMeta of /images/generations)"),
    Scenario("openai", "node_default", OPENAI, NODE_DEFAULT, [Answer(OPENAI_POST, _gpt_image(1024, 1024))],
             {"node": _node("1024x1024", LIGHTHOUSE, "data:image/png;base64,"), "warnings": []},
             "tests/data/openai/gpt_image_b64.json (ImagesResponse example [OAI-SPEC])", via="node"),
    Scenario("openai", "node_social", OPENAI, NODE_SOCIAL, [Answer(OPENAI_POST, _gpt_image(1792, 1024))],
             {"node": _node("1792x1024", SOCIAL, "data:image/png;base64,"), "warnings": [("translated", "quality")]},
             "tests/data/openai/gpt_image_b64.json; gpt-image-2 takes any WxH (÷16), so 1792x1024 is sent as is",
             via="node"),
    Scenario("openai", "moderation_blocked", OPENAI, {"prompt": "something the safety system refuses"},
             [Answer(OPENAI_POST, data("openai", "error_moderation_blocked.json"), 400)],
             {"error": "ContentPolicyError"}, "tests/data/openai/error_moderation_blocked.json (jeffstric/ZJT#480)"),
    Scenario("openai", "rate_limited_then_ok", OPENAI, {"prompt": OTTER},
             [Answer(OPENAI_POST, data("openai", "error_rate_limit.json"), 429, {**JSON, "retry-after": "1"}),
              Answer(OPENAI_POST, {"created": 1713833629, "data": [{"b64_json": b64(1024, 1024)}]})],
             {"size": "1024x1024", "sleeps": [1.0], "warnings": []},
             "providers.md §1 Errors and retry rules; tests/data/openai/error_rate_limit.json"),
    Scenario("openai", "dall_e_3_behind_gateway",
             {"model": "openai:dall-e-3", "base_url": "https://gateway.example.com/v1"},
             {"prompt": "a lighthouse at dawn", "size": "1792x1024", "quality": "hd", "style": "natural"},
             [Answer("POST gateway.example.com/v1/images/generations", data("openai", "dalle3_url.json"))],
             {"url": data("openai", "dalle3_url.json")["data"][0]["url"],
              "revised_prompt": data("openai", "dalle3_url.json")["data"][0]["revised_prompt"], "warnings": [],
              "expires": True},
             "tests/data/openai/dalle3_url.json; dall-e-3 is shut down on api.openai.com, so a gateway serves it"),
    # -- azure (providers.md §2) ---------------------------------------------------------------------------
    Scenario("azure", "dall_e_3_documented", AZURE_DALLE,
             {"prompt": "In the style of WordArt, Microsoft Clippy wearing a cowboy hat.", "style": "natural",
              "quality": "standard"},
             [Answer("POST my-resource.openai.azure.com/openai/deployments/dalle3/images/generations",
                     data("azure", "image_generation_dalle3.json"), headers={**JSON, "apim-request-id": "a-1"})],
             {"revised_prompt": data("azure", "image_generation_dalle3.json")["data"][0]["revised_prompt"],
              "metadata_key": "content_filter_results", "warnings": []},
             "tests/data/azure/image_generation_dalle3.json (Azure REST spec example 2024-10-21)"),
    Scenario("azure", "gpt_image_1_documented", AZURE_GPT,
             {"prompt": "A multi-colored umbrella on the beach, disposable camera", "size": "1024x1024",
              "quality": "high"},
             [Answer("POST /openai/deployments/gpt-image-1/images/generations",
                     fill(data("azure", "gpt_image_1.json"), "<base64 image data>", b64(1024, 1024)))],
             {"size": "1024x1024", "media_type": "image/png", "warnings": []},
             "tests/data/azure/gpt_image_1.json (GPT-image-1 how-to example)"),
    Scenario("azure", "content_filter_rejection", AZURE_DALLE, {"prompt": "a prompt the filter refuses"},
             [Answer("POST /openai/deployments/dalle3/images/generations",
                     data("azure", "error_content_filter_input.json"), 400)],
             {"error": "ContentPolicyError", "stage": "input"},
             "tests/data/azure/error_content_filter_input.json (how-to contentFilter example)"),
    Scenario("azure", "node_default", AZURE_GPT, NODE_DEFAULT,
             [Answer("POST /openai/deployments/gpt-image-1/images/generations",
                     fill(data("azure", "gpt_image_1.json"), "<base64 image data>", b64(1024, 1024)))],
             {"node": _node("1024x1024", LIGHTHOUSE, "data:image/png;base64,"), "warnings": []},
             "tests/data/azure/gpt_image_1.json", via="node"),
    Scenario("azure", "node_social", AZURE_DALLE, NODE_SOCIAL,
             [Answer("POST /openai/deployments/dalle3/images/generations",
                     data("azure", "image_generation_dalle3.json"))],
             {"node": _node("1792x1024", data("azure", "image_generation_dalle3.json")["data"][0]["revised_prompt"],
                            "https://dalletipusw2.blob.core.windows.net/"), "warnings": []},
             "tests/data/azure/image_generation_dalle3.json: DALL·E 3 takes 1792x1024 and hd natively", via="node"),
    # -- openai-compatible: a gateway relaying OpenAI's answers (bodies of tests/data/openai) ------------------
    Scenario("openai-compatible", "node_default", GATEWAY, NODE_DEFAULT,
             [Answer("POST llm-gateway.example.com/v1/images/generations", data("openai", "dalle3_url.json"))],
             {"node": _node("1024x1024", data("openai", "dalle3_url.json")["data"][0]["revised_prompt"],
                            "https://oaidalleapiprodscus.blob.core.windows.net/"),
              "warnings": [("unknown_model", "model")]},
             "tests/data/openai/dalle3_url.json; an undeclared model passes the node's options unchecked", via="node"),
    Scenario("openai-compatible", "node_social", GATEWAY, NODE_SOCIAL,
             [Answer("POST llm-gateway.example.com/v1/images/generations",
                     {"created": 1713833628, "data": [{"b64_json": b64(1792, 1024), "revised_prompt": SOCIAL}]})],
             {"node": _node("1792x1024", SOCIAL, "data:image/png;base64,"), "warnings": [("unknown_model", "model")]},
             "the Image schema's b64_json and revised_prompt fields [OAI-SPEC]", via="node"),
    Scenario("openai-compatible", "moderation", GATEWAY, {"prompt": "something the safety system refuses"},
             [Answer("POST llm-gateway.example.com/v1/images/generations",
                     data("openai", "error_content_policy_violation.json"), 400)],
             {"error": "ContentPolicyError"}, "tests/data/openai/error_content_policy_violation.json, relayed"),
    # -- stability (providers.md §3a; Core's pixel sizes per Stability's own ComfyUI node labels, UNCONFIRMED) --
    Scenario("stability", "node_default", STABILITY, NODE_DEFAULT,
             [raw("POST api.stability.ai/v2beta/stable-image/generate/core", image(1536, 1536),
                  **{"finish-reason": "SUCCESS", "seed": "1050625087"})],
             {"node": _node("1536x1536", LIGHTHOUSE, "data:image/png;base64,"), "warnings": []},
             "providers.md §3a accept image/* (bytes + finish-reason/seed headers); Core 1:1 = 1536x1536 [SAI-COMFY]",
             via="node"),
    Scenario("stability", "node_social", STABILITY, NODE_SOCIAL,
             [raw("POST api.stability.ai/v2beta/stable-image/generate/core", image(2016, 1152),
                  **{"finish-reason": "SUCCESS", "seed": "1050625088"})],
             {"node": _node("2016x1152", SOCIAL, "data:image/png;base64,"),
              "warnings": [("adapted", "size"), ("dropped", "quality")]},
             "providers.md §3a; 1792x1024 is sent as 16:9; Core 16:9 = 2016x1152 [SAI-COMFY]", via="node"),
    Scenario("stability", "moderation", STABILITY, {"prompt": "something moderation refuses"},
             [Answer("POST /v2beta/stable-image/generate/core", data("stability", "content_moderation_403.json"), 403)],
             {"error": "ContentPolicyError", "stage": "input"}, "tests/data/stability/content_moderation_403.json"),
    # -- google (providers.md §4b; 1K pixel sizes per the Gemini image docs, UNCONFIRMED in providers.md) --------
    Scenario("google", "node_default", GOOGLE, NODE_DEFAULT,
             [Answer("POST /v1beta/models/gemini-3.1-flash-image:generateContent",
                     fill(data("google", "gemini_image.json"), "__PNG_BASE64__", b64(1024, 1024)))],
             {"node": _node("1024x1024", LIGHTHOUSE, "data:image/png;base64,"), "warnings": []},
             "tests/data/google/gemini_image.json (§4b response shape)", via="node"),
    Scenario("google", "node_social", GOOGLE, NODE_SOCIAL,
             [Answer("POST /v1beta/models/gemini-3.1-flash-image:generateContent",
                     fill(data("google", "gemini_image.json"), "__PNG_BASE64__", b64(1344, 768)))],
             {"node": _node("1344x768", SOCIAL, "data:image/png;base64,"),
              "warnings": [("adapted", "size"), ("dropped", "quality")]},
             "tests/data/google/gemini_image.json; 16:9 at 1K is 1344x768", via="node"),
    Scenario("google", "moderation", GOOGLE, {"prompt": "a prompt the safety filter blocks"},
             [Answer("POST /v1beta/models/gemini-3.1-flash-image:generateContent",
                     data("google", "gemini_prompt_blocked.json"))],
             {"error": "ContentPolicyError", "stage": "input"}, "tests/data/google/gemini_prompt_blocked.json"),
    # -- xai (providers.md §9; URL answers, downloaded; pixel sizes illustrative, xAI documents none) ----------
    Scenario("xai", "node_default", XAI, NODE_DEFAULT,
             [Answer("POST api.x.ai/v1/images/generations", data("xai", "success_url.json")),
              raw("GET imgen.x.ai/xai-imgen/", image(1024, 1024, "JPEG"), "image/jpeg")],
             {"node": _node("1024x1024", data("xai", "success_url.json")["data"][0]["revised_prompt"],
                            "https://imgen.x.ai/"),
              "fetched": [("1024x1024", "image/jpeg")], "warnings": []},
             "tests/data/xai/success_url.json; no size in the answer: the node's size is read from the image, "
             "downloaded once",
             via="node", fetch=(0,)),
    Scenario("xai", "node_social", XAI, NODE_SOCIAL,
             [Answer("POST api.x.ai/v1/images/generations", data("xai", "success_url.json")),
              raw("GET imgen.x.ai/xai-imgen/", image(1280, 720, "JPEG"), "image/jpeg")],
             {"fetched": [("1280x720", "image/jpeg")], "warnings": [("adapted", "size"), ("dropped", "quality")]},
             "tests/data/xai/success_url.json; 1792x1024 is sent as aspect_ratio 16:9", via="node", fetch=(0,)),
    Scenario("xai", "moderation", XAI, {"prompt": "a prompt xAI moderates"},
             [Answer("POST api.x.ai/v1/images/generations", data("xai", "moderated_empty_data.json"))],
             {"error": "ContentPolicyError"}, "tests/data/xai/moderated_empty_data.json (vercel/ai#19168)"),
    # -- together (providers.md §8) --------------------------------------------------------------------------
    Scenario("together", "node_default", TOGETHER, NODE_DEFAULT,
             [Answer("POST api.together.xyz/v1/images/generations",
                     _together(1024, 1024))],
             {"node": _node("1024x1024", LIGHTHOUSE, "data:image/jpeg;base64,"), "warnings": []},
             "tests/data/together/success_b64.json (API reference example, placeholders filled)", via="node"),
    Scenario("together", "node_social", TOGETHER, NODE_SOCIAL,
             [Answer("POST api.together.xyz/v1/images/generations",
                     _together(1792, 1024))],
             {"node": _node("1792x1024", SOCIAL, "data:image/jpeg;base64,"), "warnings": [("dropped", "quality")]},
             "tests/data/together/success_b64.json", via="node"),
    Scenario("together", "moderation", TOGETHER, {"prompt": "a prompt the safety checker refuses"},
             [Answer("POST api.together.xyz/v1/images/generations", data("together", "error_422_safety.json"), 422)],
             {"error": "ContentPolicyError", "stage": "input"}, "tests/data/together/error_422_safety.json"),
    # -- bfl: submit → Pending ×2 → Ready → download (providers.md §5) ----------------------------------------
    Scenario("bfl", "node_default", BFL, {"prompt": SERENE}, _bfl_job(SERENE, 1024, 1024),
             {"node": _node("1024x1024", SERENE, "https://bfldeliveryprod.blob.core.windows.net/"),
              "fetched": [("1024x1024", "image/jpeg")], "sleeps": POLLS, "warnings": []},
             "tests/data/bfl submit/poll_pending/poll_pending_progress/poll_ready (the skill's curl example is this "
             "exact request)", via="node", fetch=(0,)),
    Scenario("bfl", "node_social", BFL, NODE_SOCIAL, _bfl_job(SOCIAL, 1792, 1024),
             {"node": _node("1792x1024", SOCIAL, "https://bfldeliveryprod.blob.core.windows.net/"),
              "fetched": [("1792x1024", "image/jpeg")], "sleeps": POLLS, "warnings": [("dropped", "quality")]},
             "tests/data/bfl poll sequence; FLUX.2 takes 1792x1024 (÷16, ≤ 4 MP) as is", via="node", fetch=(0,)),
    Scenario("bfl", "moderation", BFL, {"prompt": "a prompt BFL moderates"},
             [Answer("POST api.bfl.ai/v1/flux-2-pro", data("bfl", "submit.json")),
              Answer("GET api.bfl.ai/v1/get_result?id=abc123", data("bfl", "poll_request_moderated.json"))],
             {"error": "ContentPolicyError", "stage": "input", "sleeps": [0.5]},
             "tests/data/bfl/poll_request_moderated.json ('Request Moderated' status [BFL-OAS])"),
    # -- replicate: Prefer: wait timed out → processing → succeeded → downloads (providers.md §6) -------------
    Scenario("replicate", "documented_example", REPLICATE,
             {"prompt": FOX, "size": "16:9", "n": 2, "output_format": "png"},
             [Answer("POST api.replicate.com/v1/models/black-forest-labs/flux-schnell/predictions",
                     data("replicate", "prediction_processing_flux.json"), 201),
              Answer(REP_GET, data("replicate", "prediction_processing_flux.json")),
              Answer(REP_GET, data("replicate", "prediction_succeeded_flux.json")),
              raw("GET replicate.delivery/xezq/abc/out-0.png", image(1344, 768)),
              raw("GET replicate.delivery/xezq/def/out-1.png", image(1344, 768))],
             {"images": 2, "fetched": [("1344x768", "image/png")] * 2, "sleeps": [0.5, 0.75], "warnings": []},
             "providers.md §6 flux-schnell curl example (this exact input); tests/data/replicate prediction_*_flux",
             fetch=(0, 1)),
    Scenario("replicate", "node_default", REPLICATE, NODE_DEFAULT,
             [Answer("POST /v1/models/black-forest-labs/flux-schnell/predictions",
                     data("replicate", "prediction_processing_flux.json"), 201),
              Answer(REP_GET, _replicate("prediction_succeeded_flux.json",
                                         ["https://replicate.delivery/xezq/abc/out-0.webp"])),
              raw("GET replicate.delivery/xezq/abc/out-0.webp", image(1024, 1024, "WEBP"), "image/webp")],
             {"node": _node("1024x1024", LIGHTHOUSE, "https://replicate.delivery/"), "sleeps": [0.5],
              "fetched": [("1024x1024", "image/webp")], "warnings": []},
             "tests/data/replicate prediction_*_flux (one output, the default webp); no size in the answer: the "
             "node's size is read from the image, downloaded once", via="node", fetch=(0,)),
    Scenario("replicate", "node_social", REPLICATE, NODE_SOCIAL,
             [Answer("POST /v1/models/black-forest-labs/flux-schnell/predictions",
                     data("replicate", "prediction_processing_flux.json"), 201),
              Answer(REP_GET, _replicate("prediction_succeeded_flux.json",
                                         ["https://replicate.delivery/xezq/abc/out-0.webp"])),
              raw("GET replicate.delivery/xezq/abc/out-0.webp", image(1344, 768, "WEBP"), "image/webp")],
             {"fetched": [("1344x768", "image/webp")], "sleeps": [0.5],
              "warnings": [("adapted", "size"), ("dropped", "quality")]},
             "tests/data/replicate prediction_*_flux; 1792x1024 is sent as aspect_ratio 16:9", via="node",
             fetch=(0,)),
    Scenario("replicate", "moderation", REPLICATE, {"prompt": "a prompt the safety checker flags"},
             [Answer("POST /v1/models/black-forest-labs/flux-schnell/predictions",
                     data("replicate", "prediction_processing_flux.json"), 201),
              Answer(REP_GET, data("replicate", "prediction_failed_nsfw.json"))],
             {"error": "ContentPolicyError", "stage": "output", "sleeps": [0.5]},
             "tests/data/replicate/prediction_failed_nsfw.json (cog-flux safety checker message)"),
    # -- fal: submit → IN_QUEUE → IN_PROGRESS → COMPLETED → result → download (providers.md §7) --------------
    Scenario("fal", "node_default", FAL, NODE_DEFAULT, _fal_job(LIGHTHOUSE, 1024, 1024),
             {"node": _node("1024x1024", LIGHTHOUSE, "https://v3.fal.media/"),
              "fetched": [("1024x1024", "image/jpeg")], "sleeps": POLLS, "warnings": []},
             "tests/data/fal submit_flux_dev/status_*/result (queue docs example; result values illustrative)",
             via="node", fetch=(0,)),
    Scenario("fal", "node_social", FAL, NODE_SOCIAL, _fal_job(SOCIAL, 1792, 1024),
             {"node": _node("1792x1024", SOCIAL, "https://v3.fal.media/"), "fetched": [("1792x1024", "image/jpeg")],
              "sleeps": POLLS, "warnings": [("dropped", "quality")]},
             "tests/data/fal queue sequence; image_size {width: 1792, height: 1024}", via="node", fetch=(0,)),
    Scenario("fal", "moderation", FAL, {"prompt": "a prompt the content checker flags"},
             [Answer("POST queue.fal.run/fal-ai/flux/dev", data("fal", "error_422_content_policy.json"), 422)],
             {"error": "ContentPolicyError", "stage": "input"}, "tests/data/fal/error_422_content_policy.json"),
    # -- comfyui: /prompt → /history {} ×2 → done → /view downloads (providers.md §11; no moderation) ----------
    Scenario("comfyui", "node_default", COMFYUI, NODE_DEFAULT, _comfy_job(LIGHTHOUSE, 1024, 1024, 1),
             {"node": _node("1024x1024", LIGHTHOUSE, f"{COMFY}/view?filename=imgsdk_00001_.png"),
              "fetched": [("1024x1024", "image/png")], "sleeps": POLLS, "warnings": []},
             "tests/data/comfyui submit_ok/history_pending/history_success (graph and files adapted to the call)",
             via="node", fetch=(0,)),
    Scenario("comfyui", "social_batch", COMFYUI, {**NODE_SOCIAL, "n": 2}, _comfy_job(SOCIAL, 1792, 1024, 2),
             {"images": 2, "size": "1792x1024", "fetched": [("1792x1024", "image/png")] * 2, "sleeps": POLLS,
              "warnings": [("dropped", "quality")]},
             "tests/data/comfyui/history_success.json (two saved images of 1792x1024, as documented)",
             fetch=(0, 1)),
    # -- automatic1111: one blocking txt2img call, HTTP Basic auth (providers.md §10; no moderation) ----------
    Scenario("automatic1111", "node_default", A1111, NODE_DEFAULT,
             [Answer("POST 127.0.0.1:7860/sdapi/v1/txt2img", _a1111(LIGHTHOUSE, 1024, 1024))],
             {"node": _node("1024x1024", LIGHTHOUSE, "data:image/png;base64,"), "warnings": []},
             "TextToImageResponse shape (§10) with tests/data/automatic1111/info.json's keys", via="node"),
    Scenario("automatic1111", "node_social", A1111, NODE_SOCIAL,
             [Answer("POST 127.0.0.1:7860/sdapi/v1/txt2img", _a1111(SOCIAL, 1792, 1024))],
             {"node": _node("1792x1024", SOCIAL, "data:image/png;base64,"), "warnings": [("dropped", "quality")]},
             "TextToImageResponse shape (§10); the web UI takes 1792x1024 (÷8) as is", via="node"),
]
ADAPTERS = sorted({scenario.adapter for scenario in SCENARIOS})
