"""Stability AI model catalogue, as data (read by :mod:`imgsdk.adapters.stability`).

Sources are the tags of /work/shared/reference/providers.md §3: [SAI-V2-DOCS] (copies of the
platform.stability.ai reference text), [SAI-COMFY] (Stability's own ComfyUI node, ``stability_api.py``),
[SAI-V1-SPEC] (the official v1 OpenAPI, 2023 snapshot) and [SAI-V1-DIMS] (the v1 dimension rules).

Two wire families:

- ``"v2beta"``: ``POST /v2beta/stable-image/generate/{ultra|core|sd3}``, multipart form, one image
  per request, an aspect ratio instead of pixels. ``extra["path"]`` is the endpoint and
  ``extra["form_model"]`` the ``model`` form field on ``/sd3`` (the SD3.x model goes in the form, NOT
  in the path: a ``/generate/sd3.5-flash`` path is reported to 404, §3a).
- ``"v1"``: the legacy ``POST /v1/generation/{engine}/text-to-image``, JSON, fixed sizes, ``samples`` ≤ 10.
"""

from __future__ import annotations

from imgsdk.capabilities import Lifecycle, ModelCapabilities, Price, SizeSpec

__all__ = ["ALIASES", "ASPECT_RATIOS", "CATALOGUE", "SDXL_SIZES", "STYLE_PRESETS"]

# §3a: the nine ratios every v2beta generate endpoint accepts (default 1:1). The node's pixel sizes are mapped
# to the nearest one by the policy engine, with a warning.
ASPECT_RATIOS = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")

# §3b [SAI-V1-DIMS] "Engine-specific dimension validation": SDXL 1.0 accepts exactly these nine sizes.
SDXL_SIZES = ("1024x1024", "1152x896", "1216x832", "1344x768", "1536x640", "640x1536", "768x1344", "832x1216",
              "896x1152")

# §3a: the 17 ``style_preset`` values (also on v1). Documentation only: style_preset is a provider option
# passed through as given (Stability validates it); the node's vivid/natural is NOT one of them.
STYLE_PRESETS = ("3d-model", "analog-film", "anime", "cinematic", "comic-book", "digital-art", "enhance",
                 "fantasy-art", "isometric", "line-art", "low-poly", "modeling-compound", "neon-punk",
                 "origami", "photographic", "pixel-art", "tile-texture")

# Prices: credits per image × $0.01 per credit (§3a "Pricing"; third-party pages, no official table in the
# corpus). sd3.5-flash has no known price: no line, so cost is None rather than a guess.
_PRICE_SOURCE = ("providers.md §3a: developer.puter.com Stability pricing (third-party), aicredits.dev; "
                 "1 credit = $0.01")
_PRICE_DATE = "2026-06"

_V2_SIZE = SizeSpec(mode="aspect_ratio", aspect_ratios=ASPECT_RATIOS, default="1:1")
_V2_SOURCE = "providers.md §3a [SAI-V2-DOCS; SAI-COMFY]"


def _v2(model: str, path: str, *, credits: float | None, form_model: str | None = None,
        negative_prompt: bool = True, output_formats: tuple[str, ...] = ("png", "jpeg", "webp"),
        source: str = _V2_SOURCE, note: str | None = None) -> ModelCapabilities:
    return ModelCapabilities(
        model=model, family="v2beta", size=_V2_SIZE,
        # No quality knob: the tier IS the endpoint/model (§12 "(tier = endpoint/model)"). The node's
        # hd/standard has no faithful equivalent, so qualities=() and the policy drops it with a warning.
        qualities=(),
        # style_preset is a different vocabulary (17 looks, §3a); vivid/natural is not one of them: drop it.
        styles=(),
        max_images=1,  # §3a "No n/samples": one image per request; the core fans out.
        seed=True, seed_range=(0, 4294967294),  # §3a: 0–4294967294, 0 = random
        negative_prompt=negative_prompt,
        output_formats=output_formats, output_format_default="png",
        prompt_max_chars=10000,  # §3a: 1–10000 characters
        returns="bytes",  # accept: image/* by default (base64 JSON with the "accept": "json" option)
        protocol="sync",
        prices=(Price(usd=round(credits * 0.01, 4)),) if credits is not None else (),
        price_source=_PRICE_SOURCE if credits is not None else "unknown (providers.md §3a: UNCONFIRMED)",
        price_date=_PRICE_DATE if credits is not None else None,
        lifecycle=Lifecycle(status="active", source=source, note=note),
        extra={"path": path, "form_model": form_model},
    )


_SD3 = "/v2beta/stable-image/generate/sd3"

# SD3 output formats: the third-party spec lists webp, Stability's own node offers only png/jpeg for /sd3
# [SAI-COMFY] (UNCONFIRMED either way, §3a). Defensive reading: declare png/jpeg, so a webp request is
# dropped to png with a warning rather than risking a 400; `provider_options={"stability": {"output_format":
# "webp"}}` still forces it.
_SD3_FORMATS = ("png", "jpeg")

_V2_MODELS = (
    _v2("stable-image-ultra", "/v2beta/stable-image/generate/ultra", credits=8),
    _v2("stable-image-core", "/v2beta/stable-image/generate/core", credits=3),
    _v2("sd3.5-large", _SD3, form_model="sd3.5-large", credits=6.5, output_formats=_SD3_FORMATS),
    # §3a: Stability's node strips negative_prompt for turbo models ("turbo models ignore it"), so declare
    # none: the policy drops it with a warning instead of sending text that has no effect.
    _v2("sd3.5-large-turbo", _SD3, form_model="sd3.5-large-turbo", credits=4, negative_prompt=False,
        output_formats=_SD3_FORMATS),
    _v2("sd3.5-medium", _SD3, form_model="sd3.5-medium", credits=3.5, output_formats=_SD3_FORMATS),
    # sd3.5-flash: id from third-party code only (§3a). It is a few-step distilled model like turbo; whether
    # it honours negative_prompt is UNCONFIRMED, so it is declared unsupported (dropped with a warning; the
    # option `negative_prompt` in provider_options forces it). Price UNCONFIRMED.
    _v2("sd3.5-flash", _SD3, form_model="sd3.5-flash", credits=None, negative_prompt=False,
        output_formats=_SD3_FORMATS, source="providers.md §3a (model id from third-party code; UNCONFIRMED)"),
)


def _v1(model: str, size: SizeSpec, note: str, source: str) -> ModelCapabilities:
    return ModelCapabilities(
        model=model, family="v1", size=size, qualities=(), styles=(),
        max_images=10,  # §3b: samples 1–10 (>1 needs accept: application/json, which v1 sends by default)
        seed=True, seed_range=(0, 4294967295),  # §3b [SAI-V1-SPEC Seed]: 0–4294967295, 0 = random
        negative_prompt=True,  # §3b: sent as a second text_prompts entry with a negative weight
        output_formats=("png",), output_format_default="png",  # v1 returns PNG only (image/png or JSON)
        prompt_max_chars=2000,  # §3b [SAI-V1-SPEC TextPrompt.text maxLength]
        returns="base64", protocol="sync",
        # §3b: v1 is step-priced; exact credits UNCONFIRMED, so no price line (cost None, never a guess).
        price_source="unknown (providers.md §3b: step-priced, UNCONFIRMED)",
        # §3b: Stability calls v1 "legacy" (agentic-delivery-os#31, 2026-03); no shutdown date is known, so
        # the model is marked deprecated without one and is never refused. The replacement is imgsdk's
        # suggestion.
        lifecycle=Lifecycle(status="deprecated", replacement="stable-image-core", note=note, source=source),
        extra={"path": f"/v1/generation/{model}/text-to-image"},
    )


_V1_MODELS = (
    _v1("stable-diffusion-xl-1024-v1-0", SizeSpec(mode="fixed", sizes=SDXL_SIZES, default="1024x1024"),
        "legacy v1 API (SDXL 1.0), no shutdown date known; the replacement is imgsdk's suggestion, not "
        "Stability's", "providers.md §3b [SAI-V1-SPEC; SAI-V1-DIMS; agentic-delivery-os#31]"),
    # SD 1.6: "between 320x320 and 1536x1536" [SAI-V1-DIMS], multiples of 64 [SAI-V1-SPEC]. The engine id is
    # UNCONFIRMED in the corpus (§3b); a wrong id answers 404 not_found -> ModelNotFoundError.
    _v1("stable-diffusion-v1-6", SizeSpec(mode="free", sizes=("512x512", "1024x1024"), min_side=320,
                                          max_side=1536, multiple=64, default="512x512"),
        "legacy v1 API (SD 1.6; engine id UNCONFIRMED), no shutdown date known; the replacement is imgsdk's "
        "suggestion, not Stability's", "providers.md §3b [SAI-V1-DIMS] (engine id UNCONFIRMED)"),
)

CATALOGUE: dict[str, ModelCapabilities] = {caps.model: caps for caps in (*_V2_MODELS, *_V1_MODELS)}

# Short names people use for the two tiers that have no model id of their own on the wire.
ALIASES = {"ultra": "stable-image-ultra", "core": "stable-image-core",
           "sdxl": "stable-diffusion-xl-1024-v1-0"}
