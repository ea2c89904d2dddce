"""Cassette scenarios: one call each, with the documented answer it was recorded from.

Shared by ``tests/record_cassettes.py`` (which writes ``cassettes/<adapter>/<name>.yaml``) and
``tests/test_cassettes.py`` (which replays them through the real client, network blocked). Every
``responses`` entry cites where the documented body comes from (``../shared/reference/providers.md``).
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field
from typing import Any

CANARY = {"openai": "sk-canary-OPENAI-0123456789abcdef", "azure": "canary-azure-key-0123456789abcdef"}


def png(width: int, height: int, colour: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    """A tiny valid PNG of the given size (a solid colour compresses to a few KB)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG", optimize=True)
    return out.getvalue()


def b64png(width: int, height: int) -> str:
    return base64.b64encode(png(width, height)).decode("ascii")


@dataclass
class Scenario:
    adapter: str
    name: str
    profile: dict[str, Any]
    call: dict[str, Any]
    responses: list[tuple[int, dict[str, str], Any]]
    expect: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def path(self) -> str:
        return f"{self.adapter}/{self.name}.yaml"

    def config(self, key: str | None) -> dict[str, Any]:
        profile = dict(self.profile)
        if key is not None:
            profile["api_key"] = key
        return {"providers": {"main": profile}}


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


OTTER = "A cute baby sea otter"
NODE = {"size": "1792x1024", "quality": "hd", "style": "natural"}
OPENAI = {"model": "openai:gpt-image-2"}
JSON = {"content-type": "application/json", "x-request-id": "req_doc_0001"}
AZURE_DALLE = {"model": "azure:dall-e-3", "base_url": "https://my-resource.openai.azure.com",
               "deployment": "dalle3", "api_version": "2024-10-21"}
AZURE_GPT = {"model": "azure:gpt-image-1", "base_url": "https://my-resource.openai.azure.com",
             "deployment": "gpt-image-1", "api_version": "2025-04-01-preview"}
SAFE = {"severity": "safe", "filtered": False}

SCENARIOS = [
    Scenario("openai", "gpt_image_2_basic", OPENAI, {"prompt": OTTER, "size": "1024x1024"},
             [(200, JSON, {"created": 1713833628, "data": [{"b64_json": b64png(1024, 1024)}],
                           "usage": {"total_tokens": 100, "input_tokens": 50, "output_tokens": 50,
                                     "input_tokens_details": {"text_tokens": 10, "image_tokens": 40}}})],
             {"size": "1024x1024", "revised_prompt": OTTER, "warnings": [], "usage_total": 100},
             "providers.md §1, official example response (x-oaiMeta of /images/generations)"),
    Scenario("openai", "gpt_image_2_node_example", OPENAI, {"prompt": "a lighthouse at dawn", **NODE},
             [(200, JSON, {"created": 1713833628, "data": [{"b64_json": b64png(1792, 1024)}],
                           "size": "1792x1024", "quality": "high", "output_format": "png"})],
             {"size": "1792x1024", "warnings": [("translated", "quality"), ("dropped", "style")]},
             "providers.md §1 (ImagesResponse with the GPT-image top-level fields)"),
    Scenario("openai", "moderation_blocked", OPENAI, {"prompt": "something the safety system refuses"},
             [(400, JSON, {"error": {"message": "Your request was rejected by the safety system. "
                                                "safety_violations=[violence].",
                                     "type": "image_generation_user_error", "param": "",
                                     "code": "moderation_blocked"}})],
             {"error": "ContentPolicyError"}, "providers.md §1 Errors (jeffstric/ZJT#480 body)"),
    Scenario("openai", "rate_limited_then_ok", OPENAI, {"prompt": OTTER},
             [(429, {**JSON, "retry-after": "1"},
               {"error": {"message": "Rate limit reached for requests", "type": "requests",
                          "param": None, "code": "rate_limit_exceeded"}}),
              (200, JSON, {"created": 1713833629, "data": [{"b64_json": b64png(1024, 1024)}]})],
             {"size": "1024x1024", "sleeps": [1.0]}, "providers.md §1 Errors and retry rules"),
    Scenario("openai", "dall_e_3_behind_gateway",
             {"model": "openai:dall-e-3", "base_url": "https://gateway.example.com/v1"},
             {"prompt": "a lighthouse at dawn", **NODE},
             [(200, JSON, {"created": 1589478378, "data": [{
                 "url": "https://images.example.com/dalle3/lighthouse.png",
                 "revised_prompt": "A lighthouse at dawn in soft, natural light."}]})],
             {"url": "https://images.example.com/dalle3/lighthouse.png",
              "revised_prompt": "A lighthouse at dawn in soft, natural light.", "warnings": []},
             "providers.md §1 DALL·E-era example response; dall-e-3 is shut down on api.openai.com, so "
             "this is a gateway that still serves it"),
    Scenario("azure", "dall_e_3_documented", AZURE_DALLE,
             {"prompt": "In the style of WordArt, Microsoft Clippy wearing a cowboy hat.", "style": "natural",
              "quality": "standard"},
             [(200, {"content-type": "application/json", "apim-request-id": "apim-doc-0001"},
               {"created": 1698342300, "data": [{
                   "revised_prompt": "A vivid, natural representation of Microsoft Clippy wearing a cowboy hat.",
                   "prompt_filter_results": {"sexual": SAFE, "violence": SAFE, "hate": SAFE, "self_harm": SAFE,
                                             "profanity": {"detected": False, "filtered": False}},
                   "url": "https://dalletipusw2.blob.core.windows.net/private/images/e5451cc6/generated_00.png"
                          "?se=2023-10-27T17%3A45%3A09Z",
                   "content_filter_results": {"sexual": SAFE, "violence": SAFE, "hate": SAFE,
                                              "self_harm": SAFE}}]})],
             {"revised_prompt": "A vivid, natural representation of Microsoft Clippy wearing a cowboy hat.",
              "metadata_key": "content_filter_results", "warnings": []},
             "providers.md §2, official Azure REST spec example 2024-10-21/examples/image_generation.json"),
    Scenario("azure", "gpt_image_1_documented", AZURE_GPT,
             {"prompt": "A multi-colored umbrella on the beach, disposable camera", "size": "1024x1024",
              "quality": "high"},
             [(200, {"content-type": "application/json"},
               {"created": 1698116662, "data": [{"b64_json": b64png(1024, 1024)}]})],
             {"size": "1024x1024", "warnings": []}, "providers.md §2, GPT-image-1 how-to example"),
    Scenario("azure", "content_filter_rejection", AZURE_DALLE, {"prompt": "a prompt the filter refuses"},
             [(400, {"content-type": "application/json"},
               {"created": 1698435368, "error": {"code": "contentFilter",
                                                 "message": "Your task failed as a result of our safety system."}})],
             {"error": "ContentPolicyError", "stage": "input"}, "providers.md §2 Errors, how-to example"),
]
