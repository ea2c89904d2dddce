"""OpenAI Images API: DALL·E 2/3 (retired) and the GPT-image models.

``POST {base_url}/images/generations`` with ``Authorization: Bearer <key>``; synchronous JSON
(providers.md §1). The wire format lives in :mod:`._openai_wire` (shared with azure and openai-compatible).

Per family, what the node's options become on the wire:

- ``dalle`` (dall-e-3, dall-e-2): ``model, prompt, n, size, quality, style, response_format="url", user``.
  Images come back as URLs valid 60 minutes.
- ``gpt-image`` (gpt-image-1/-1-mini/-1.5/-2/-2.5/-2.6): ``model, prompt, n, size, quality, output_format,
  background, user``; never ``style`` or ``response_format`` (not supported: the models always return base64).
  The node's ``hd``/``standard`` are sent as ``high``/``medium`` with a warning.

Provider options (``provider_options={"openai": {...}}``) are merged into the body last, e.g.
``moderation`` ("low"|"auto"), ``output_compression`` (0-100), ``response_format`` ("b64_json" for DALL·E),
``safety_identifier``, ``partial_images``; an option set to None removes that field. Optional profile keys
``organization`` and ``project`` add the ``OpenAI-Organization`` / ``OpenAI-Project`` headers, as
openai-python does.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from imgsdk.adapter import Adapter, Endpoint, Images, WireRequest, WireResponse
from imgsdk.capabilities import Lifecycle, ModelCapabilities, Price, SizeSpec, TokenPrices
from imgsdk.errors import ProviderError
from imgsdk.request import PreparedRequest

from . import _openai_wire as wire

__all__ = ["MODELS", "OpenAIAdapter"]

# -- lifecycle (providers.md §1 "Models"; openai-python 3.57 types/image_model.py docstring) -------------
_DALLE_RETIRED = Lifecycle(
    status="retired", shutdown_on="2026-05-12", replacement="gpt-image-2",
    note="DALL·E was removed from OpenAI's API; proxies or Azure deployments may still serve it",
    source="[OAI-MODELS] 'Shut down'; date from [DEVTO-DALLE] (third-party), nextcloud PR #370, and "
           "openai-python 3.57 ImageModel docstring ('retired on May 12, 2026')")
_GPT_IMAGE_1_RETIRED = Lifecycle(
    status="retired", shutdown_on="2026-10-23", replacement="gpt-image-2.5-sunburst",
    note="OpenAI names gpt-image-2.5-sunburst or gpt-image-2.5-flare as the replacement",
    source="[OAI-MODELS] ja-JP gpt-image-1 page; replacement from openai-python 3.57 ImageModel docstring")
_DEPRECATED_DEC_2026 = Lifecycle(
    status="deprecated", shutdown_on="2026-12-01", replacement="gpt-image-2.6-sunburst",
    note="OpenAI names gpt-image-2.6-sunburst or gpt-image-2.6-flare as the replacement",
    source="[OAI-DEPREC] deprecations page")
_ACTIVE = Lifecycle(status="active", source="[OAI-SPEC] f85dbe2 model enum; [OAI-MODELS] gpt-image-2.md")
_UNCONFIRMED = Lifecycle(
    status="active",
    note="UNCONFIRMED: named on OpenAI model/deprecation pages and in openai-python 3.57, but absent from "
         "the extracted OpenAPI spec; declared conservatively like gpt-image-2 (third parties report extra "
         "quality tiers xhigh/max and gif/svg output: pass them via provider_options if you need them)",
    source="[OAI-MODELS], [OAI-DEPREC]; parameters third-party (docs.oxen.ai, docs.laozhang.ai)")

# -- prices (providers.md §1 "Pricing"); non-square = 1536x1024 and 1024x1536 --------------------------------
_CANVAS = "kevinhermawan/Canvas model-info.json (third-party, UNCONFIRMED)"
_PRICE_DATE = "2026-11-29"  # the date the undated pages were read for the reference


def _tiered(table: Mapping[str, tuple[float, float]]) -> tuple[Price, ...]:
    """Per-image prices ``{quality: (square, non-square)}`` for the three fixed GPT-image sizes."""
    return tuple(price for quality, (square, wide) in table.items() for price in (
        Price(square, quality, "1024x1024"), Price(wide, quality, "1536x1024"),
        Price(wide, quality, "1024x1536")))


def _gpt_image(model: str, *, size: SizeSpec = wire.GPT_IMAGE_SIZE, lifecycle: Lifecycle = _ACTIVE,
               prices: tuple[Price, ...] = (), token_prices: TokenPrices | None = None,
               price_source: str | None = None, price_date: str | None = None) -> ModelCapabilities:
    """A GPT-image model: base64 only, no style, png/jpeg/webp, background, n ≤ 10, prompt ≤ 32000
    [OAI-SPEC]; quality low/medium/high/auto (default auto) with the node's hd/standard translated."""
    return ModelCapabilities(
        model=model, family=wire.GPT_IMAGE_FAMILY, size=size, qualities=wire.GPT_IMAGE_QUALITIES,
        quality_default="auto", quality_aliases=wire.NODE_QUALITY_ALIASES, styles=(), max_images=10,
        output_formats=("png", "jpeg", "webp"), output_format_default="png",
        background=wire.GPT_IMAGE_BACKGROUNDS, user_field=True, prompt_max_chars=32000, returns="base64",
        prices=prices, token_prices=token_prices, price_source=price_source, price_date=price_date,
        lifecycle=lifecycle)




def _gpt_image_1_5(model: str) -> ModelCapabilities:
    return _gpt_image(model, lifecycle=_DEPRECATED_DEC_2026,
                      prices=_tiered({"low": (0.009, 0.013), "medium": (0.034, 0.05), "high": (0.133, 0.20)}),
                      price_source="runware.ai (third-party, UNCONFIRMED)", price_date=_PRICE_DATE)


MODELS: Mapping[str, ModelCapabilities] = {caps.model: caps for caps in (
    ModelCapabilities(
        model="dall-e-3", family=wire.DALLE_FAMILY, size=wire.DALLE3_SIZE, qualities=("standard", "hd"),
        quality_default="standard", styles=wire.DALLE3_STYLES, style_default="vivid", max_images=1,
        output_formats=("png",), user_field=True, prompt_max_chars=4000, returns="url", url_ttl_seconds=3600,
        prices=(Price(0.040, "standard", "1024x1024"), Price(0.080, "standard", "1792x1024"),
                Price(0.080, "standard", "1024x1792"), Price(0.080, "hd", "1024x1024"),
                Price(0.120, "hd", "1792x1024"), Price(0.120, "hd", "1024x1792")),
        price_source=_CANVAS, price_date="2023-12-25",
        lifecycle=_DALLE_RETIRED),
    # dall-e-2: quality "standard" is its only value [OAI-SPEC `quality`]; no style; n up to 10.
    ModelCapabilities(
        model="dall-e-2", family=wire.DALLE_FAMILY, size=wire.DALLE2_SIZE, qualities=("standard",),
        quality_default="standard", styles=(), max_images=10, output_formats=("png",), user_field=True,
        prompt_max_chars=1000, returns="url", url_ttl_seconds=3600,
        prices=(Price(0.016, None, "256x256"), Price(0.018, None, "512x512"),
                Price(0.020, None, "1024x1024")),
        price_source=_CANVAS, price_date="2023-12-25",
        lifecycle=_DALLE_RETIRED),
    _gpt_image(
        "gpt-image-1", lifecycle=_GPT_IMAGE_1_RETIRED,
        prices=_tiered({"low": (0.011, 0.016), "medium": (0.042, 0.063), "high": (0.167, 0.25)}),
        token_prices=TokenPrices(text_input=5.0, image_input=10.0, image_output=40.0),
        price_source="[OAI-MODELS] ja-JP gpt-image-1 page", price_date=_PRICE_DATE),
    _gpt_image(
        "gpt-image-1-mini", lifecycle=_DEPRECATED_DEC_2026,
        prices=_tiered({"low": (0.005, 0.006), "medium": (0.011, 0.015), "high": (0.036, 0.052)}),
        token_prices=TokenPrices(image_output=8.0),  # text/image input prices not in the reference
        price_source="[OAI-MODELS] de-DE gpt-image-1-mini page", price_date=_PRICE_DATE),
    _gpt_image_1_5("gpt-image-1.5"),
    _gpt_image_1_5("gpt-image-1.5-2025-12-16"),
    # gpt-image-2 is token-priced; the pricing page is not in the corpus (UNCONFIRMED): no price declared.
    _gpt_image("gpt-image-2", size=wire.GPT_IMAGE_2_SIZE),
    _gpt_image("gpt-image-2-2026-04-21", size=wire.GPT_IMAGE_2_SIZE),
    *(_gpt_image(f"gpt-image-{version}-{variant}", size=wire.GPT_IMAGE_2_SIZE, lifecycle=_UNCONFIRMED)
      for version in ("2.5", "2.6") for variant in ("flare", "sunburst")),
)}

# Chat, text, audio, embedding, moderation and video models: "gpt-4o cannot generate images".
_NOT_IMAGE = re.compile(
    r"^(?:ft:)?(?:gpt-(?:3\.5|4|5)|o\d|chatgpt-4o|gpt-realtime|gpt-audio|gpt-oss|text-embedding|embedding|"
    r"text-(?:davinci|curie|babbage|ada|moderation)|davinci|babbage|whisper|tts|omni-moderation|"
    r"codex|computer-use|sora)", re.IGNORECASE)
_SNAPSHOT = re.compile(r"^(?P<base>.+)-\d{4}-\d{2}-\d{2}$")


class OpenAIAdapter(Adapter):
    """OpenAI's Images API (``https://api.openai.com/v1``)."""

    name: ClassVar[str] = "openai"
    label: ClassVar[str] = "OpenAI"
    default_base_url: ClassVar[str | None] = "https://api.openai.com/v1"
    key_env: ClassVar[tuple[str, ...]] = ("OPENAI_API_KEY",)
    key_required: ClassVar[bool] = True
    default_model: ClassVar[str | None] = "gpt-image-2"
    profile_keys: ClassVar[Mapping[str, str]] = {
        "organization": "OpenAI organization id, sent as the OpenAI-Organization header (optional)",
        "project": "OpenAI project id, sent as the OpenAI-Project header (optional)",
    }
    secret_headers: ClassVar[tuple[str, ...]] = ("authorization",)

    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        return MODELS

    def capabilities(self, model: str, settings: Mapping[str, Any]) -> ModelCapabilities | None:
        """The declaration for ``model``; a dated snapshot (``<model>-YYYY-MM-DD``) of a declared model
        inherits its declaration (e.g. ``gpt-image-2.5-flare-2026-09-08`` named by openai-python 3.57)."""
        if (caps := MODELS.get(model)) is not None:
            return caps
        match = _SNAPSHOT.match(model)
        base = MODELS.get(match.group("base")) if match else None
        return dataclasses.replace(base, model=model) if base is not None else None

    def permissive_capabilities(self, model: str) -> ModelCapabilities:
        """An unknown model (``allow_unknown_model``) passes the node's options through unchanged, minus what
        OpenAI's images API has no field for (seed, negative_prompt): see ``_openai_wire``."""
        return wire.permissive_capabilities(model)

    def non_image_model(self, model: str) -> bool:
        """True for chat/text/audio/embedding/video ids (gpt-4o, gpt-5*, o3, whisper...), by pattern.

        Anything with "image" or "dall-e" in its id is never called a non-image model.
        """
        lowered = model.lower()
        if "image" in lowered or "dall-e" in lowered:
            return False
        return _NOT_IMAGE.match(lowered) is not None

    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        headers: dict[str, str] = {}
        if endpoint.api_key:
            headers["Authorization"] = f"Bearer {endpoint.api_key.get()}"
        for key, header in (("organization", "OpenAI-Organization"), ("project", "OpenAI-Project")):
            if value := endpoint.settings.get(key):
                headers[header] = str(value)
        return WireRequest(method="POST", url=f"{endpoint.base_url.rstrip('/')}/images/generations",
                           headers=headers, json=wire.build_body(call, model=call.model))

    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Images:
        return wire.parse_images(response, call, adapter=self.name, request_id=self.request_id(response),
                            on_error=lambda failed: self.parse_error(failed, call))

    def parse_error(self, response: WireResponse, call: PreparedRequest | None) -> ProviderError:
        return wire.openai_error(response, call.model if call else None, adapter=self.name, label=self.label,
                            request_id=self.request_id(response))

    def is_retryable(self, response: WireResponse) -> bool:
        return wire.should_retry(response, quota=wire.is_quota(wire.read_error(response)))

    def request_id(self, response: WireResponse) -> str | None:
        return response.header("x-request-id")
