"""Google Gemini API image models, as data (read by :mod:`imgsdk.adapters.google`).

Sources: /work/shared/reference/providers.md §4 ([GENAI-PY] the official google-genai SDK converters,
[FIREBASE-MIG] the Imagen migration page, [IMAGEN-REF-3P]) and the Gemini deprecations page
(ai.google.dev/gemini-api/docs/deprecations, snapshots found in the docs corpus, 2025-12 to 2026-06).

Two wire families:

- ``"gemini"``: ``POST {base}/models/{model}:generateContent`` — the "Nano Banana" models, one image a call.
- ``"imagen"``: ``POST {base}/models/{model}:predict`` — every Imagen model is shut down on Google's service
  (2026-08-17, [FIREBASE-MIG]); declared so a custom base_url (a proxy still serving it) keeps working and the
  default service refuses it with the replacement named.

Quality: the node's ``hd``/``standard`` is NOT mapped to ``imageSize``. DALL·E 3's hd means "finer details at
the same pixel size"; imageSize 1K/2K/4K changes the resolution (and, on gemini-3-pro-image, the price), and
§4 gives no source equating the two. So ``qualities=()``: the policy drops quality with a warning. The
resolution tiers are declared in ``SizeSpec.resolutions`` and sent when the request carries a ``resolution``
(or the ``image_size`` provider option).
"""

from __future__ import annotations

from imgsdk.capabilities import Lifecycle, ModelCapabilities, Price, SizeSpec

__all__ = ["CATALOGUE", "GEMINI_RATIOS", "IMAGEN_RATIOS"]

# §4b [GENAI-PY ImageConfig docstring]. Puter lists 1:4, 4:1, 1:8 for 3.1-flash (third-party, UNCONFIRMED):
# not declared, so such sizes map to the nearest safe ratio with a warning; the provider option
# `{"generationConfig": {"imageConfig": {"aspectRatio": "1:4"}}}` still sends one.
GEMINI_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "9:16", "16:9", "21:9")
# §4a [GENAI-PY generate_images docstring].
IMAGEN_RATIOS = ("1:1", "3:4", "4:3", "9:16", "16:9")

_DEPRECATIONS = "ai.google.dev/gemini-api/docs/deprecations (docs corpus snapshots)"
_PRICE_SOURCE = "providers.md §4b: HeyPuter/puter PR #2562 cost map (third-party, UNCONFIRMED)"
_IMAGEN_PRICE_SOURCE = "providers.md §4a: third-party resellers (UNCONFIRMED against ai.google.dev/pricing)"


def _gemini(model: str, *, resolutions: tuple[str, ...], prices: tuple[Price, ...],
            lifecycle: Lifecycle) -> ModelCapabilities:
    return ModelCapabilities(
        model=model, family="gemini",
        size=SizeSpec(mode="aspect_ratio", aspect_ratios=GEMINI_RATIOS, resolutions=resolutions,
                      default="1:1"),
        qualities=(), styles=(),  # no quality or style knob (see the module docstring)
        max_images=1,  # §4b: no sampleCount; one image per call, the core fans out
        # generationConfig.seed is an int32 field; whether it makes images reproducible is UNCONFIRMED (§12).
        seed=True, seed_range=(-(2**31), 2**31 - 1),
        negative_prompt=False,  # §12: not available on Gemini image models
        # outputMimeType is Vertex-only (§4b): nothing to send; images come back as PNG inlineData.
        output_formats=("png",), output_format_default="png",
        returns="base64", protocol="sync",
        prices=prices, price_source=_PRICE_SOURCE if prices else None, price_date="2026" if prices else None,
        lifecycle=lifecycle,
    )


_FIREBASE = ("providers.md §4 [FIREBASE-MIG]: all Imagen models shut down on 2026-08-17 (Gemini "
             "Developer API and Vertex)")


def _imagen(model: str, *, resolutions: tuple[str, ...], usd: float, replacement: str, note: str,
            shutdown_on: str = "2026-08-17", source: str = _FIREBASE) -> ModelCapabilities:
    return ModelCapabilities(
        model=model, family="imagen",
        size=SizeSpec(mode="aspect_ratio", aspect_ratios=IMAGEN_RATIOS, resolutions=resolutions,
                      default="1:1"),
        qualities=(), styles=(),
        max_images=4,  # §4a: sampleCount 1–4
        # §4a: seed and negative_prompt raise "only supported in Vertex mode" on the Gemini API.
        seed=False, negative_prompt=False,
        output_formats=("png", "jpeg"), output_format_default="png",  # parameters.outputOptions.mimeType
        # The prompt limit is 480 *tokens* (§4a), not characters: not declared, the API enforces it.
        returns="base64", protocol="sync",
        prices=(Price(usd=usd),), price_source=_IMAGEN_PRICE_SOURCE, price_date="2026-05",
        lifecycle=Lifecycle(status="retired", shutdown_on=shutdown_on, replacement=replacement, note=note,
                            source=source),
    )


_MODELS = (
    # GA 2026-05-28, no shutdown announced (deprecations page). imageSize 1K/2K/4K [GENAI-PY]; a 0.5K tier is
    # reported for 3.1-flash by third parties (UNCONFIRMED, wire spelling unknown): not declared.
    _gemini("gemini-3.1-flash-image", resolutions=("1K", "2K", "4K"),
            # Only the 1K (default) price is known; 2K/4K prices are UNCONFIRMED.
            prices=(Price(usd=0.067),),
            lifecycle=Lifecycle(status="active", note="GA since 2026-05-28 ('Nano Banana 2')",
                                source=_DEPRECATIONS)),
    _gemini("gemini-3-pro-image", resolutions=("1K", "2K", "4K"),
            prices=(Price(usd=0.24, size="4K"), Price(usd=0.134)),
            lifecycle=Lifecycle(status="active", note="GA since 2026-05-28 ('Nano Banana Pro')",
                                source=_DEPRECATIONS)),
    # No imageSize on 2.5 (fixed ~1024 px output; imageSize arrived with the 3.x models, §4b pricing is flat).
    _gemini("gemini-2.5-flash-image", resolutions=(), prices=(Price(usd=0.039),),
            lifecycle=Lifecycle(
                status="deprecated", shutdown_on="2026-10-02",
                replacement="gemini-3.1-flash-image",
                note="Google named gemini-3.1-flash-image-preview as the replacement; that preview is itself "
                     "shut down, so its GA id is given. Google lists the date as the earliest shutdown",
                source=f"{_DEPRECATIONS}; aifreeapi.com and dev.to migration notes (third-party)")),
    _gemini("gemini-3.1-flash-image-preview", resolutions=("1K", "2K", "4K"), prices=(),
            lifecycle=Lifecycle(status="retired", shutdown_on="2026-06-25",
                                replacement="gemini-3.1-flash-image", source=_DEPRECATIONS)),
    _gemini("gemini-3-pro-image-preview", resolutions=("1K", "2K", "4K"), prices=(),
            lifecycle=Lifecycle(status="retired", shutdown_on="2026-06-25", replacement="gemini-3-pro-image",
                                source=_DEPRECATIONS)),
    # The earlier preview of 2.5-flash-image (§4b); its GA successor is itself past its shutdown date.
    _gemini("gemini-2.5-flash-image-preview", resolutions=(), prices=(),
            lifecycle=Lifecycle(status="retired", replacement="gemini-3.1-flash-image",
                                note="preview superseded by gemini-2.5-flash-image (GA 2025-10-02); exact "
                                     "shutdown date not in the sources",
                                source="providers.md §4b; js-genai#1322 (2026-02: 'being shut down')")),
    # Imagen: replacement map [FIREBASE-MIG]. sampleImageSize is "not available for Fast" [IMAGEN-REF-3P].
    _imagen("imagen-4.0-generate-001", resolutions=("1K", "2K"), usd=0.04,
            replacement="gemini-3.1-flash-image",
            note="Google's map: gemini-3.1-flash-image with thinking level HIGH"),
    _imagen("imagen-4.0-ultra-generate-001", resolutions=("1K", "2K"), usd=0.06,
            replacement="gemini-3-pro-image", note="Google's map: gemini-3-pro-image"),
    _imagen("imagen-4.0-fast-generate-001", resolutions=(), usd=0.02, replacement="gemini-3.1-flash-image",
            note="Google's map: gemini-3.1-flash-image with thinking level MINIMAL"),
    # "image_size ... not supported for Imagen 3 models" [GENAI-PY]. Shut down 2025-11-10 with Google naming
    # imagen-4.0-generate-001, itself shut down since: the live successor is given instead.
    _imagen("imagen-3.0-generate-002", resolutions=(), usd=0.03, replacement="gemini-3.1-flash-image",
            shutdown_on="2025-11-10", source=f"{_DEPRECATIONS} (2025-12 snapshot); {_FIREBASE}",
            note="Google named imagen-4.0-generate-001 (shut down 2026-08-17); its replacement is given"),
)

CATALOGUE: dict[str, ModelCapabilities] = {caps.model: caps for caps in _MODELS}
