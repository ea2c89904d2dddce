"""Together AI image generation: ``POST {base_url}/images/generations``, synchronous, bearer auth.

Facts come from /work/shared/reference/providers.md §8 ([TOG-PY], [TOG-DOCS]) unless a comment cites another
source. What the adapter relies on:

- Request: ``model``, ``prompt``, ``width``/``height`` (pixels, default 1024×1024), ``n`` (1–4), ``steps``,
  ``seed``, ``negative_prompt``, ``guidance_scale``, ``output_format`` (jpeg|png, default jpeg),
  ``response_format`` (**"base64"** or "url"), ``image_url``, ``image_loras``, ``disable_safety_checker``.
  imgsdk asks for ``response_format: "base64"``; the response field is nevertheless ``b64_json``.
  ``url`` responses (the user's ``response_format: "url"`` option) are parsed too.
- Size: free width×height for FLUX.1 [schnell]/[dev]. Bounds are UNCONFIRMED: Together only says "keep
  dimensions to multiples of 8" (docs.together.ai/docs/inference/images/parameters); imgsdk declares
  256–1792 px in multiples of 16 (FLUX's latent grid; every multiple of 16 is one of 8). FLUX1.1 [pro] is
  BFL's model, declared with BFL's own bounds (256–1440, ÷32, providers.md §5; UNCONFIRMED on Together). The
  Kontext models take ``aspect_ratio`` ("Kontext [Pro/Max/Dev] models use the aspect_ratio parameter",
  TOG-DOCS images-overview). The same sentence names Flux Schnell too, while the API reference, the SDK and
  its examples send width/height to schnell: imgsdk sends width/height (UNCONFIRMED which reading is current;
  pass ``provider_options={"together": {"aspect_ratio": "16:9"}}`` to send a ratio instead).
- The node's quality and style mean nothing here: no model declares them, so the policy drops them with
  warnings. ``steps`` is sent with the model's documented default (schnell: 4, TOG-DOCS) because the API's own
  default is 20 [TOG API reference], five times schnell's; a ``steps`` option overrides it.
- Moderation: "a built in safety checker that detects NSFW words ... If the safety checker is triggered and
  not disabled, it will return a 422 Unprocessable Entity" (TOG-DOCS images-overview) → ContentPolicyError
  (stage "input"). A 422 whose message reads like a validation error stays an InvalidRequestError. Per-image
  NSFW flags are not documented (UNCONFIRMED): an item without image data, or flagged by a field such as
  ``has_nsfw``/``nsfw``/``finish_reason: "content_filter"``, is treated as withheld; clean images are kept
  and the withheld ones become ContentPolicyError entries in ``Images.errors``.
- Errors [TOG-DOCS error-codes]: 400, 401, 402 (spend limit → QuotaExceededError), 403, 404, 429, 500,
  503 (engine overloaded). Bodies are not shown in the docs (likely OpenAI-style; UNCONFIRMED, parsed
  defensively). Retries follow the Stainless SDK rule: 408/409/429/5xx (the core's default).
- URL expiry: UNCONFIRMED → None. Together's CDN refuses downloads with an empty User-Agent (HTTP 403,
  TOG-DOCS images-overview): fetch URLs with a User-Agent.

Provider options (``provider_options["together"]``) are merged last, verbatim: ``steps``, ``guidance_scale``
(``guidance`` is accepted as BFL's name for it), ``disable_safety_checker``, ``image_url``, ``image_loras``,
``aspect_ratio``, ``response_format``...
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
from imgsdk.errors import ContentPolicyError, ProviderError, QuotaExceededError
from imgsdk.request import PreparedRequest
from imgsdk.result import GeneratedImage

from ._error_body import read_error

__all__ = ["MODELS", "TogetherAdapter"]

_DOCS = "TOG-DOCS images-overview (2026)"
# BFL Kontext takes any ratio "between 21:9 and 9:21" (providers.md §5); these are the usual steps inside it.
_KONTEXT_RATIOS = ("21:9", "16:9", "3:2", "4:3", "1:1", "3:4", "2:3", "9:16", "9:21")


def _flux(model: str, *, size: SizeSpec, max_images: int, negative_prompt: bool, lifecycle: Lifecycle,
          family: str = "flux-pixels", steps: tuple[int, int] | None = None,
          prices: tuple[Price, ...] = (), price_source: str | None = None) -> ModelCapabilities:
    """One FLUX declaration. ``steps`` = (default, max) when the model takes steps, recorded in ``extra``."""
    extra: dict[str, object] = {"steps_default": steps[0], "steps_max": steps[1]} if steps else {}
    return ModelCapabilities(
        model=model, family=family, size=size, max_images=max_images, seed=True,
        negative_prompt=negative_prompt, output_formats=("jpeg", "png"), output_format_default="jpeg",
        returns="base64", url_ttl_seconds=None, protocol="sync", prices=prices, price_source=price_source,
        price_date="2026-05" if prices else None, lifecycle=lifecycle, extra=extra)


# FLUX.1 [schnell]/[dev] on Together's own GPUs: free size (bounds UNCONFIRMED, see the module docstring).
_OPEN_SIZE = SizeSpec(mode="free", sizes=("1024x1024",), min_side=256, max_side=1792, multiple=16,
                      default="1024x1024")
_THIRD_PARTY_PRICE = "workflowlab.dev, May 2026 (third-party, UNCONFIRMED)"

MODELS: dict[str, ModelCapabilities] = {
    caps.model: caps for caps in (
        # "Fastest; default 4 steps" (TOG-DOCS). Max 12 steps: fal's schema for the same model (UNCONFIRMED).
        _flux("black-forest-labs/FLUX.1-schnell", size=_OPEN_SIZE, max_images=4, negative_prompt=True,
              steps=(4, 12), prices=(Price(0.0027),), price_source=_THIRD_PARTY_PRICE,
              lifecycle=Lifecycle(source=_DOCS)),
        _flux("black-forest-labs/FLUX.1-schnell-Free", size=_OPEN_SIZE, max_images=4, negative_prompt=True,
              steps=(4, 12), lifecycle=Lifecycle(
                  note="the safety checker cannot be disabled on it; absent from the 2026 overview table",
                  source="[TOG-PY] model literal; availability in 2026 UNCONFIRMED")),
        # Steps 1–50, default 28: BFL's own FluxDevInputs (providers.md §5); Together's default UNCONFIRMED.
        _flux("black-forest-labs/FLUX.1-dev", size=_OPEN_SIZE, max_images=4, negative_prompt=True,
              steps=(28, 50), prices=(Price(0.0154),), price_source=_THIRD_PARTY_PRICE,
              lifecycle=Lifecycle(source="providers.md §8 pricing; TOG-DOCS parameters page")),
        # BFL's models, proxied: BFL's inputs have no steps and no negative prompt, and BFL returns one image
        # per task, so n is declared 1 (UNCONFIRMED on Together; the core fans out, losing nothing).
        _flux("black-forest-labs/FLUX.1.1-pro", max_images=1, negative_prompt=False,
              size=SizeSpec(mode="free", sizes=("1024x1024",), min_side=256, max_side=1440, multiple=32,
                            default="1024x1024"),
              lifecycle=Lifecycle(note="the safety checker cannot be disabled on Flux Pro", source=_DOCS)),
        *(_flux(model, family="flux-ratio", max_images=1, negative_prompt=False,
                size=SizeSpec(mode="aspect_ratio", aspect_ratios=_KONTEXT_RATIOS, default="1:1"),
                lifecycle=Lifecycle(source=_DOCS))
          for model in ("black-forest-labs/FLUX.1-kontext-pro", "black-forest-labs/FLUX.1-kontext-max")),
    )
}

# 422 safety-checker answers vs. validation 422s; credit wording on 429. UNCONFIRMED (no bodies documented).
_MODERATION = re.compile(r"nsfw|safety|unsafe|inappropriate|flagged|moderat|content polic|explicit", re.I)
_QUOTA = re.compile(r"insufficient_quota|credit|spend(ing)? limit|billing|payment", re.I)
# Per-image flags some FLUX hosts send (fal: has_nsfw_concepts); none is documented for Together.
_NSFW_FLAGS = ("has_nsfw", "has_nsfw_concept", "has_nsfw_concepts", "nsfw", "is_nsfw")
_FILTERED_REASONS = {"content_filter", "content_filtered", "nsfw", "safety"}
_HINTS = {
    401: "check the key: set TOGETHER_API_KEY or the profile's api_key",
    402: "the account reached its spend limit or has no credit: add credit or raise the limit at "
         "api.together.ai (retrying will not help)",
    403: "the key may not use this model",
    404: "the model or endpoint does not exist on Together (see docs.together.ai serverless models)",
    429: "slow down or raise the account's rate limit",
    503: "the engine is overloaded; imgsdk retries it",
}


class TogetherAdapter(Adapter):
    """Together AI's images endpoint (FLUX models)."""

    name: ClassVar[str] = "together"
    label: ClassVar[str] = "Together AI"
    default_base_url: ClassVar[str | None] = "https://api.together.xyz/v1"
    key_env: ClassVar[tuple[str, ...]] = ("TOGETHER_API_KEY",)
    key_required: ClassVar[bool] = True
    default_model: ClassVar[str | None] = "black-forest-labs/FLUX.1-schnell"
    secret_headers: ClassVar[tuple[str, ...]] = ("authorization",)

    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        return MODELS

    # -- request --------------------------------------------------------------------------------------
    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        caps = call.capabilities
        body: dict[str, Any] = {"model": call.model, "prompt": call.prompt, "n": call.n,
                                "response_format": "base64"}
        if call.width is not None and call.height is not None:
            body["width"], body["height"] = call.width, call.height
        if call.aspect_ratio is not None:
            body["aspect_ratio"] = call.aspect_ratio
        steps = caps.extra.get("steps_default")
        if isinstance(steps, int):
            body["steps"] = steps
        if call.seed is not None:
            body["seed"] = call.seed
        if call.negative_prompt is not None:
            body["negative_prompt"] = call.negative_prompt
        if call.output_format is not None:
            body["output_format"] = call.output_format
        options = dict(call.options)
        if "guidance" in options and "guidance_scale" not in options:  # BFL's name for Together's field
            options["guidance_scale"] = options.pop("guidance")
        body.update(options)  # the user's explicit escape hatch, last
        return WireRequest("POST", f"{endpoint.base_url.rstrip('/')}/images/generations",
                           headers=_auth_headers(endpoint), json=body)

    # -- response -------------------------------------------------------------------------------------
    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Images:
        body = response.json()
        items = body.get("data") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise ProviderError(
                "Together answered HTTP 200 without any image (no 'data'); the request may be retried",
                **self._context(response, call.model, body))
        images: list[GeneratedImage] = []
        errors: list[ProviderError] = []
        for position, item in enumerate(items):
            index = item.get("index", position) if isinstance(item, dict) else position
            flag = _withheld(item)
            image = None if flag else self._image(item, call, response)
            if image is None:
                reason = flag or "no b64_json or url: assumed withheld by the safety checker (UNCONFIRMED)"
                errors.append(self._moderated(response, call, item, f"image {index}: {reason}"))
            else:
                images.append(image)
        if not images:
            raise errors[0] if len(errors) == 1 else self._moderated(
                response, call, body, f"all {len(errors)} images were withheld")
        request_id = body.get("id") if isinstance(body.get("id"), str) else None
        return Images(images, request_id=request_id or self.request_id(response), errors=errors)

    def _image(self, item: Mapping[str, Any], call: PreparedRequest,
               response: WireResponse) -> GeneratedImage | None:
        # Together generates exactly the width×height asked for; it does not report a size itself.
        default = call.capabilities.size.default  # no size sent: Together makes its documented default [TOG-DOCS]
        size = call.size if call.width is not None else (default if default and "x" in default else None)
        metadata = {key: value for key, value in item.items() if key not in ("b64_json", "url")}
        encoded = item.get("b64_json")
        if isinstance(encoded, str) and encoded:
            try:
                data = base64.b64decode(encoded.split("base64,", 1)[-1])
            except (binascii.Error, ValueError) as error:
                raise ProviderError("Together returned b64_json that is not valid base64",
                                    **self._context(response, call.model, None)) from error
            media_type = "image/png" if call.output_format == "png" else "image/jpeg"
            return GeneratedImage.from_bytes(data, call.prompt, media_type=media_type, reported_size=size,
                                             metadata=metadata)
        url = item.get("url")
        if isinstance(url, str) and url:
            ttl = call.capabilities.url_ttl_seconds  # None here (UNCONFIRMED); config may set it
            expires = _response_time(response) + dt.timedelta(seconds=ttl) if ttl else None
            return GeneratedImage(url=url, revised_prompt=call.prompt, reported_size=size, expires_at=expires,
                                  metadata=metadata)
        return None

    def _moderated(self, response: WireResponse, call: PreparedRequest, body: Any,
                   reason: str) -> ContentPolicyError:
        return ContentPolicyError(
            f"Together's safety checker withheld the image ({reason}). Rephrase the prompt, or pass "
            "provider_options={'together': {'disable_safety_checker': True}} where your use allows it",
            stage="output", reason=reason, **self._context(response, call.model, body))

    # -- errors ---------------------------------------------------------------------------------------
    def parse_error(self, response: WireResponse, call: PreparedRequest | None) -> ProviderError:
        body = response.json()
        message, code = read_error(body, response.text)
        model = call.model if call else None
        status = response.status
        hint = _HINTS.get(status)
        text = f"Together answered HTTP {status}" + (f": {message}" if message else "")
        text += f" ({hint})" if hint else ""
        words = f"{code or ''} {message or ''}"
        if (status == 422 and (message is None or _MODERATION.search(words))) or (
                status == 400 and _MODERATION.search(words)):
            reason = message or code or "safety checker triggered (HTTP 422)"
            return ContentPolicyError(
                f"Together's safety checker refused the prompt: {reason}. Rephrase it, or pass "
                "provider_options={'together': {'disable_safety_checker': True}} (not available on "
                "FLUX.1-schnell-Free or Flux Pro)",
                stage="input", reason=reason, **self._context(response, model, body, code))
        if status == 429 and _QUOTA.search(words):
            return QuotaExceededError(text, **self._context(response, model, body, code))
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


def _response_time(response: WireResponse) -> dt.datetime:
    """The response's Date header (UTC), else now: the start of a URL's lifetime."""
    try:
        return email.utils.parsedate_to_datetime(response.header("date") or "").astimezone(dt.UTC)
    except (TypeError, ValueError):
        return dt.datetime.now(dt.UTC)


def _withheld(item: Any) -> str | None:
    """Why an item counts as moderated (a flag set), or None. Not documented by Together (UNCONFIRMED)."""
    if not isinstance(item, dict):
        return "the item is not an object"
    for flag in _NSFW_FLAGS:
        value = item.get(flag)
        if value is True or (isinstance(value, list) and any(v is True for v in value)):
            return f"{flag}: true"
    reason = item.get("finish_reason")
    if isinstance(reason, str) and reason.lower() in _FILTERED_REASONS:
        return f"finish_reason: {reason}"
    return None
