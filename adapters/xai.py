"""xAI image generation: ``POST {base_url}/images/generations`` (grok-imagine-image family; grok-2-image).

Facts come from /work/shared/reference/providers.md §9 unless a comment cites another source. The API is
OpenAI-shaped but not OpenAI-compatible in its options, so capabilities are declared per model and the policy
engine does the dropping:

- No ``size``, ``style``, ``seed`` or ``negative_prompt`` on any xAI model [XAI-COMFY; XAI-AISDK]: the
  grok-imagine models take ``aspect_ratio`` (SizeSpec mode "aspect_ratio": the node's 1792x1024 becomes 16:9
  with an "adapted" warning); grok-2-image takes no size at all (mode "none": size dropped with a warning).
- ``quality`` only means something on grok-imagine-image-2.0, where it picks the price tier low/medium
  (default medium); "other models currently ignore it" [XAI-COMFY], so only 2.0 declares it.
- ``resolution`` (1k|2k, default 1k) is a provider option: ``provider_options={"xai": {"resolution": "2k"}}``.
  It is not derived from the node's ``quality="hd"``: the policy engine has no quality→resolution rule, and
  2k changes the pixel count and the price, so imgsdk will not switch it on behind a warning. A policy-set
  ``PreparedRequest.resolution`` (if the core ever sets one) is sent lower-cased.
- ``response_format`` is a provider option too (``url`` by default, or ``b64_json``); both are parsed.
- Moderation is silent [vercel/ai#19168; XAI-SDK image.py]: HTTP 200 with an empty ``data``, an item with
  neither ``url`` nor ``b64_json``, or an item with ``respect_moderation: false``. All become
  ContentPolicyError; clean images of a partly moderated batch are kept, the rest go to ``Images.errors``.
- ``usage.cost_in_usd_ticks`` → ``Images.cost_usd``: 1 USD = 10^10 ticks. providers.md does not give the unit;
  xAI's own docs do ("cost_usd = cost_in_usd_ticks / 10,000,000,000", docs.x.ai/developers/cost-tracking),
  as do Comfy Router's mirror of the schema and ruby_llm (USD_PER_TICK = 1e-10).
- Error bodies come in two shapes (UNCONFIRMED, both parsed): OpenAI's ``{"error": {"message", "code"}}`` and
  xAI's ``{"code": "<gRPC status text>", "error": "<message>"}``.
- URL lifetime: "URLs are temporary" (docs.x.ai image-generation guide), no duration given → None.

Provider options (``provider_options["xai"]``) are merged into the body last, verbatim: ``response_format``,
``resolution``, ``aspect_ratio`` (overrides the adapted one), ``quality`` (any model), ``user``...
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.utils
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from imgsdk.adapter import Adapter, Endpoint, Images, WireRequest, WireResponse, error_for_status
from imgsdk.capabilities import Lifecycle, ModelCapabilities, Price, SizeSpec
from imgsdk.errors import AuthenticationError, ContentPolicyError, ProviderError, QuotaExceededError
from imgsdk.request import PreparedRequest
from imgsdk.result import GeneratedImage

from ._error_body import read_error

__all__ = ["MODELS", "XAIAdapter"]

TICKS_PER_USD = 10_000_000_000  # docs.x.ai/developers/cost-tracking: 1 USD = 10^10 ticks

# The 13 ratios (+ "auto", the default) of the grok-imagine schema [XAI-COMFY; providers.md §9]. "auto" is
# not a W:H ratio, so it is declared as the only entry of ``sizes``: the policy passes size="auto" through as
# PreparedRequest.size and build_request sends it as aspect_ratio "auto".
_IMAGINE_RATIOS = ("1:1", "3:4", "4:3", "9:16", "16:9", "2:3", "3:2", "9:19.5", "19.5:9", "9:20", "20:9",
                   "1:2", "2:1")
# grok-imagine-image-2.0 "additionally accepts ... the 21:9 and 5:2 aspect ratios"
# (docs.x.ai/developers/migration/imagine-image-quality-nov-2).
_IMAGINE_2_RATIOS = (*_IMAGINE_RATIOS, "21:9", "5:2")

_SDK_SOURCE = "providers.md §9 [XAI-SDK types/model.py @ 2026-08-18]"
_NOV2 = "docs.x.ai/developers/migration/imagine-image-quality-nov-2"


def _imagine(model: str, lifecycle: Lifecycle, *, ratios: tuple[str, ...] = _IMAGINE_RATIOS,
             qualities: tuple[str, ...] = (), quality_default: str | None = None,
             quality_aliases: Mapping[str, str] | None = None, prices: tuple[Price, ...] = (),
             price_source: str | None = None) -> ModelCapabilities:
    """One grok-imagine declaration: aspect ratios + 1k/2k, n ≤ 10, JPEG, URL by default."""
    return ModelCapabilities(
        model=model, family="grok-imagine",
        size=SizeSpec(mode="aspect_ratio", aspect_ratios=ratios, sizes=("auto",), resolutions=("1k", "2k"),
                      default="auto"),
        qualities=qualities, quality_default=quality_default, quality_aliases=quality_aliases or {},
        max_images=10,  # n 1–10 [XAI-COMFY]
        output_formats=("jpeg",), output_format_default="jpeg",  # the base64 image is "jpeg encoded"
        user_field=True, returns="url", url_ttl_seconds=None, protocol="sync",
        prices=prices, price_source=price_source or "exact per call: usage.cost_in_usd_ticks",
        price_date="2026-11" if prices else None, lifecycle=lifecycle)


def _grok2(model: str) -> ModelCapabilities:
    """grok-2-image and its aliases: no size, no quality, no style [open-webui#12116 quoting the xAI docs]."""
    return ModelCapabilities(
        model=model, family="grok-2", size=SizeSpec(mode="none"), max_images=10,
        output_formats=("jpeg",), output_format_default="jpeg", user_field=True, returns="url",
        # xAI's /image-generation-models listed max_prompt_length 1024 for grok-2-image-1212 (unit not given,
        # probably tokens), so no character limit is declared.
        prices=(Price(0.07),), price_source="commonly cited $0.07/image (providers.md §9, UNCONFIRMED)",
        price_date="2025",
        lifecycle=Lifecycle(
            status="retired", replacement="grok-imagine-image",
            note="grok-2-image, grok-2-image-1212 and grok-2-image-latest are aliases of one model",
            source="providers.md header and §9: no longer in the xAI SDK model list [XAI-SDK @ 2026-08-18]; "
                   "shutdown date UNCONFIRMED"))


MODELS: dict[str, ModelCapabilities] = {
    caps.model: caps for caps in (
        _imagine("grok-imagine-image", Lifecycle(
            status="active", source=f"{_SDK_SOURCE}; {_NOV2} ('grok-imagine-image (1.0) is not affected')"),
            prices=(Price(0.02),),
            price_source="$0.02/image: docs.x.ai cost-tracking example and resellers (UNCONFIRMED list "
                         "price); the exact cost comes back in usage.cost_in_usd_ticks"),
        # 2.0's quality is a price tier, low or medium (default medium) [XAI-COMFY]. The node's two tiers map
        # onto it faithfully: "standard" (faster, cheaper) → low, "hd" (more detail, dearer) → medium.
        _imagine("grok-imagine-image-2.0", Lifecycle(status="active", source=f"{_SDK_SOURCE}; {_NOV2}"),
                 ratios=_IMAGINE_2_RATIOS, qualities=("low", "medium"), quality_default="medium",
                 quality_aliases={"standard": "low", "hd": "medium"}),
        # Retired by xAI, but the slug still resolves (served by 2.0 at quality "low"), so it is "deprecated"
        # (still served) rather than "retired" (which would make imgsdk refuse a call that works).
        _imagine("grok-imagine-image-quality", Lifecycle(
            status="deprecated", deprecated_on="2026-09-02", replacement="grok-imagine-image-2.0",
            note="retired by xAI on 2026-11-02; the slug still resolves and is served by "
                 "grok-imagine-image-2.0 with quality 'low' (and billed as such)", source=_NOV2)),
        _imagine("grok-imagine-image-pro", Lifecycle(
            status="deprecated", deprecated_on="2026-05-15", replacement="grok-imagine-image-2.0",
            note="retired by xAI on 2026-05-15 and redirected to grok-imagine-image-quality, which now "
                 "redirects to grok-imagine-image-2.0 at quality 'low'",
            source=f"docs.x.ai/developers/migration/may-15-retirement; {_NOV2}; listed in [XAI-COMFY]")),
        _grok2("grok-2-image"),
        _grok2("grok-2-image-1212"),
        _grok2("grok-2-image-latest"),
    )
}

# Silent-moderation hints and error-text classifiers. xAI's HTTP moderation and credit errors are not
# documented (UNCONFIRMED); the credits text is the one reported in continuedev/continue#10373 (HTTP 429).
_MODERATION = re.compile(r"moderat|content polic|safety|usage guideline|nsfw|inappropriate|violates", re.I)
_QUOTA = re.compile(r"credits|spending limit|insufficient_quota|billing|payment required", re.I)
_BAD_KEY = re.compile(r"(incorrect|invalid|missing|no) api key|api key (is )?(invalid|incorrect|missing)",
                      re.I)
_HINTS = {
    401: "check the key: set XAI_API_KEY or the profile's api_key (keys are at console.x.ai)",
    403: "the key's team may not use this model or endpoint",
    404: "the model or endpoint does not exist on this service",
    429: "slow down, or raise the team's rate limit at console.x.ai",
}


class XAIAdapter(Adapter):
    """xAI's image API (grok-imagine-image family; grok-2-image is retired)."""

    name: ClassVar[str] = "xai"
    label: ClassVar[str] = "xAI"
    default_base_url: ClassVar[str | None] = "https://api.x.ai/v1"
    key_env: ClassVar[tuple[str, ...]] = ("XAI_API_KEY",)
    key_required: ClassVar[bool] = True
    default_model: ClassVar[str | None] = "grok-imagine-image"
    secret_headers: ClassVar[tuple[str, ...]] = ("authorization",)

    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        return MODELS

    def non_image_model(self, model: str) -> bool:
        # grok chat models (grok-4.3, grok-3...) and the video model share the key but not this endpoint.
        return model.startswith("grok-") and "image" not in model

    # -- request --------------------------------------------------------------------------------------
    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        body: dict[str, Any] = {"model": call.model, "prompt": call.prompt, "n": call.n,
                                "response_format": "url"}
        if call.capabilities.family != "grok-2":  # grok-2-image takes no ratio, resolution or quality
            if call.aspect_ratio is not None:
                body["aspect_ratio"] = call.aspect_ratio
            elif call.size == "auto":
                body["aspect_ratio"] = "auto"
            if call.resolution is not None:
                body["resolution"] = call.resolution.lower()
            if call.quality is not None:
                body["quality"] = call.quality
        if call.user is not None:
            body["user"] = call.user
        body.update(call.options)  # the user's explicit escape hatch, last
        return WireRequest("POST", f"{endpoint.base_url.rstrip('/')}/images/generations",
                           headers=_auth_headers(endpoint), json=body)

    # -- response -------------------------------------------------------------------------------------
    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Images:
        body = response.json()
        if not isinstance(body, dict):
            raise ProviderError("xAI answered HTTP 200 with a body that is not a JSON object",
                                **self._context(response, call.model, None))
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else None
        items = body.get("data")
        if not isinstance(items, list) or not items:
            reason = _block_reason(body)
            raise self._moderated(
                response, call, body, stage="input" if reason else "output",
                reason=reason or "xAI returned HTTP 200 with no image (empty data): xAI moderates silently, "
                                 "so the request or its images were withheld")
        images: list[GeneratedImage] = []
        errors: list[ProviderError] = []
        when = _response_time(response)
        for index, item in enumerate(items):
            image = self._image(item, call, when)
            if image is None:
                errors.append(self._moderated(
                    response, call, item, stage="output",
                    reason=f"image {index} came back without url or b64_json"
                           f"{' (respect_moderation: false)' if _disrespected(item) else ''}: "
                           "xAI withholds moderated images silently"))
            else:
                images.append(image)
        if not images:
            raise errors[0] if len(errors) == 1 else self._moderated(
                response, call, body, stage="output",
                reason=f"all {len(errors)} images came back without url or b64_json: xAI withholds moderated "
                       "images silently")
        return Images(images, request_id=self.request_id(response), usage=usage, cost_usd=_cost_usd(usage),
                      errors=errors)

    def _image(self, item: Any, call: PreparedRequest, when: dt.datetime) -> GeneratedImage | None:
        if not isinstance(item, dict) or _disrespected(item):
            return None
        revised = item.get("revised_prompt") or call.prompt
        metadata = {key: value for key, value in item.items()
                    if key not in ("url", "b64_json", "revised_prompt")}
        mime_type = item.get("mime_type") if isinstance(item.get("mime_type"), str) else None
        encoded = item.get("b64_json")
        if isinstance(encoded, str) and encoded:
            # REST sends plain base64; the SDK's gRPC form is a data: URL. Accept both.
            payload = encoded.split("base64,", 1)[1] if encoded.startswith("data:") else encoded
            try:
                data = base64.b64decode(payload)
            except (binascii.Error, ValueError) as error:
                raise ProviderError("xAI returned b64_json that is not valid base64", adapter=self.name,
                                    model=call.model, status=200) from error
            return GeneratedImage.from_bytes(data, revised, media_type=mime_type or "image/jpeg",
                                             metadata=metadata)
        url = item.get("url")
        if isinstance(url, str) and url:
            ttl = call.capabilities.url_ttl_seconds
            expires = when + dt.timedelta(seconds=ttl) if ttl else None
            return GeneratedImage(url=url, revised_prompt=revised, media_type=mime_type, expires_at=expires,
                                  metadata=metadata)
        return None

    def _moderated(self, response: WireResponse, call: PreparedRequest, body: Any, *, stage: str,
                   reason: str) -> ContentPolicyError:
        return ContentPolicyError(
            f"xAI moderation withheld the result ({stage}): {reason}. Rephrase the prompt; retrying it "
            "unchanged will not help",
            stage=stage, reason=reason, **self._context(response, call.model, body))

    # -- errors ---------------------------------------------------------------------------------------
    def parse_error(self, response: WireResponse, call: PreparedRequest | None) -> ProviderError:
        body = response.json()
        message, code = read_error(body, response.text)
        model = call.model if call else None
        status = response.status
        hint = _HINTS.get(status)
        text = f"xAI answered HTTP {status}" + (f": {message}" if message else "")
        text += f" ({hint})" if hint else ""
        words = f"{code or ''} {message or ''}"
        if status in (400, 403, 422) and _MODERATION.search(words):
            return ContentPolicyError(text, stage="input", reason=message or code,
                                      **self._context(response, model, body, code))
        if status in (402, 403, 429) and _QUOTA.search(words):
            return QuotaExceededError(
                f"{text}; buy credits or raise the spending limit at console.x.ai (retrying will not help)",
                **self._context(response, model, body, code))
        if status == 400 and _BAD_KEY.search(words):  # xAI has answered a bad key with 400 (UNCONFIRMED)
            return AuthenticationError(f"{text} ({_HINTS[401]})",
                                       **self._context(response, model, body, code))
        return error_for_status(response, self.name, model, message=text, code=code, body=body)

    def _context(self, response: WireResponse, model: str | None, body: Any,
                 code: str | None = None) -> dict[str, Any]:
        return dict(adapter=self.name, model=model, status=response.status,
                    request_id=self.request_id(response), code=code, body=body)


# -- helpers (module-level, pure) ---------------------------------------------------------------------
def _auth_headers(endpoint: Endpoint) -> dict[str, str]:
    if endpoint.token_provider is not None:
        return {"Authorization": f"Bearer {endpoint.token_provider()}"}
    if endpoint.api_key:
        return {"Authorization": f"Bearer {endpoint.api_key.get()}"}
    return {}


def _disrespected(item: Any) -> bool:
    """The SDK's ``respect_moderation`` flag, False when the image broke the rules [XAI-SDK image.py]."""
    return isinstance(item, dict) and item.get("respect_moderation") is False


def _block_reason(body: Mapping[str, Any]) -> str | None:
    """The input-moderation "block reason" string [XAI-COMFY]. Its field name is not shown in the sources
    (UNCONFIRMED), so any top-level string field whose name mentions block or moderation is read."""
    for key, value in body.items():
        if ("block" in key.lower() or "moderation" in key.lower()) and isinstance(value, str) and value:
            return value
    return None


def _cost_usd(usage: Mapping[str, Any] | None) -> float | None:
    """``usage.cost_in_usd_ticks`` in dollars; None when absent, negative or not a number."""
    ticks = usage.get("cost_in_usd_ticks") if usage else None
    if isinstance(ticks, str):
        try:
            ticks = float(ticks)
        except ValueError:
            return None
    if isinstance(ticks, bool) or not isinstance(ticks, int | float) or ticks < 0:
        return None
    return ticks / TICKS_PER_USD


def _response_time(response: WireResponse) -> dt.datetime:
    """The response's Date header (UTC), else now: the start of a URL's lifetime."""
    date = response.header("date")
    if date:
        try:
            return email.utils.parsedate_to_datetime(date).astimezone(dt.UTC)
        except (TypeError, ValueError):
            pass
    return dt.datetime.now(dt.UTC)
