"""Replicate predictions API: create a prediction (``Prefer: wait``), poll ``urls.get`` if it is not done.

Facts from providers.md §6 ([REP-DOCS] replicate.com docs; [REP-JS] replicate-javascript 2025-11-17;
[REP-PY] replicate-python 2025-06-02) and replicate.com's per-version API pages:

- Official models: ``POST /v1/models/{owner}/{name}/predictions`` ``{"input": {...}}`` (model id
  ``owner/name``). Any version: ``POST /v1/predictions`` ``{"version": <64-hex>, "input": {...}}`` (model id
  ``owner/name:<version>`` or a bare 64-hex version id).
- ``Prefer: wait`` holds the request up to 60 s; an unfinished prediction is polled through ``urls.get``
  (absolute) and cancelled through ``POST urls.cancel``. Statuses: starting, processing, succeeded, failed,
  canceled, aborted. Output is a URL string or a list of URLs, removed with all prediction data after 1 hour.
- Each model has its own input schema: the wire names of the common fields live in ``capabilities.extra``
  (``inputs``, ``output_format_values``, ``custom_aspect_ratio``), so a model declared in config can say
  e.g. ``extra = {inputs = {n = "num_images"}}``. Defaults: see DEFAULT_INPUTS.
- Provider options ``provider_options={"replicate": {...}}``: ``wait`` (True / seconds / False: the Prefer
  header), ``webhook`` and ``webhook_events_filter`` (top-level body fields); every other key is a model
  input merged into ``input`` last (``go_fast``, ``megapixels``, ``output_quality``, ``safety_tolerance``...).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import math
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from imgsdk import media
from imgsdk.adapter import (
    Adapter,
    Endpoint,
    Images,
    JobHandle,
    Pending,
    WireRequest,
    WireResponse,
    error_for_status,
)
from imgsdk.capabilities import Lifecycle, ModelCapabilities, Price, SizeSpec
from imgsdk.errors import ContentPolicyError, ImageExpiredError, ProviderError
from imgsdk.request import PreparedRequest
from imgsdk.result import GeneratedImage

__all__ = ["DEFAULT_INPUTS", "MODELS", "ReplicateAdapter"]

_SOURCE = "providers.md §6 [REP-DOCS; REP-JS 2025-11-17]; replicate.com version API pages"
DATA_TTL_SECONDS = 3600  # "automatically removed after an hour" [REP-DOCS data-retention]
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CONTROL_OPTIONS = ("wait", "webhook", "webhook_events_filter")
_MAX_WAIT = 60  # seconds a bare ``Prefer: wait`` holds the request [providers.md §6 "Sync mode"]
_WAIT_MARGIN = 5  # seconds left, after the wait, for the answer to arrive before the call's deadline
_TRUSTED_HOSTS = ("replicate.com",)
# Moderation in failed predictions: cog safety checkers raise "NSFW content detected…", proxied official
# models fail with "The input or output was flagged as sensitive (E005)" (exact strings UNCONFIRMED).
_MODERATION = re.compile(r"nsfw|flagged|sensitive|content polic|moderat|safety", re.IGNORECASE)
_CODE = re.compile(r"\((E\d{3,4})\)")

# Wire names of the common fields; a model's extra["inputs"] overrides them (None = never send the field).
DEFAULT_INPUTS: Mapping[str, str | None] = {
    "prompt": "prompt", "n": "num_outputs", "seed": "seed", "aspect_ratio": "aspect_ratio",
    "width": "width", "height": "height", "output_format": "output_format",
    "negative_prompt": "negative_prompt", "quality": "quality", "style": "style",
}
# aspect_ratio enum of flux-schnell / flux-dev / flux-1.1-pro-ultra (providers.md §6; version API pages).
RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")


def _model(model: str, size: SizeSpec, *, max_images: int, formats: tuple[str, ...], default_format: str,
           usd: float | None = None, price_source: str | None = None, **extra: Any) -> ModelCapabilities:
    extra.setdefault("output_format_values", {"jpeg": "jpg"})  # Replicate FLUX spells it "jpg"
    return ModelCapabilities(
        model=model, family="flux", size=size, max_images=max_images, seed=True, output_formats=formats,
        output_format_default=default_format, returns="url", url_ttl_seconds=DATA_TTL_SECONDS,
        protocol="poll", prices=(Price(usd),) if usd is not None else (), price_source=price_source,
        price_date="2026-05-01" if usd is not None else None,
        lifecycle=Lifecycle(status="active", source=_SOURCE), extra=extra)


_RATIO_SIZE = SizeSpec(mode="aspect_ratio", aspect_ratios=RATIOS, default="1:1")
_THIRD_PARTY_PRICE = "UNCONFIRMED third-party figure (workflowlab.dev, May 2026), providers.md §6"

MODELS: dict[str, ModelCapabilities] = {caps.model: caps for caps in (
    # flux-schnell: num_outputs 1–4, output webp|jpg|png (default webp), array output.
    _model("black-forest-labs/flux-schnell", _RATIO_SIZE, max_images=4, formats=("webp", "jpeg", "png"),
           default_format="webp", usd=0.003, price_source=_THIRD_PARTY_PRICE,
           options=("num_inference_steps", "output_quality", "disable_safety_checker", "go_fast",
                    "megapixels")),
    _model("black-forest-labs/flux-dev", _RATIO_SIZE, max_images=4, formats=("webp", "jpeg", "png"),
           default_format="webp", usd=0.025, price_source=_THIRD_PARTY_PRICE,
           options=("num_inference_steps", "guidance", "image", "prompt_strength", "output_quality",
                    "disable_safety_checker", "go_fast", "megapixels")),
    # flux-1.1-pro: width/height 256–1440 (multiple of 32; some versions say 16: 32 satisfies both) only
    # with aspect_ratio "custom"; one image, a single URI string.
    _model("black-forest-labs/flux-1.1-pro",
           SizeSpec(mode="free", sizes=("1024x1024",), min_side=256, max_side=1440, multiple=32,
                    default="1024x1024"),
           max_images=1, formats=("webp", "jpeg", "png"), default_format="webp", inputs={"n": None},
           custom_aspect_ratio="custom",
           options=("image_prompt", "safety_tolerance", "prompt_upsampling", "output_quality")),
    # flux-1.1-pro-ultra: aspect_ratio enum (no custom), output jpg|png (default jpg), a single URI.
    _model("black-forest-labs/flux-1.1-pro-ultra", _RATIO_SIZE, max_images=1, formats=("jpeg", "png"),
           default_format="jpeg", inputs={"n": None},
           options=("image_prompt", "image_prompt_strength", "safety_tolerance", "raw")),
)}


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _response_time(response: WireResponse) -> dt.datetime:
    try:
        return email.utils.parsedate_to_datetime(response.header("date") or "").astimezone(dt.UTC)
    except (TypeError, ValueError):
        return dt.datetime.now(dt.UTC)


class ReplicateAdapter(Adapter):
    """Replicate predictions (official-model and version routes); the core polls ``urls.get``."""

    name: ClassVar[str] = "replicate"
    label: ClassVar[str] = "Replicate"
    default_base_url: ClassVar[str | None] = "https://api.replicate.com"
    key_env: ClassVar[tuple[str, ...]] = ("REPLICATE_API_TOKEN", "REPLICATE_API_KEY")
    default_model: ClassVar[str | None] = "black-forest-labs/flux-schnell"
    secret_headers: ClassVar[tuple[str, ...]] = ("authorization",)
    # The core strips credentials from any request outside base_url and these hosts (engine.keep_credentials_home).
    trusted_hosts: ClassVar[tuple[str, ...]] = _TRUSTED_HOSTS
    # [REP-JS lib/util.js]: a POST is retried only on 429; a GET on 429 and 5xx.
    post_retry_statuses: ClassVar[frozenset[int] | None] = frozenset({429})

    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        return MODELS

    def capabilities(self, model: str, settings: Mapping[str, Any]) -> ModelCapabilities | None:
        """``owner/name:version`` uses the ``owner/name`` declaration, keeping the pinned id."""
        base, pinned, _ = model.partition(":")
        caps = MODELS.get(model) or (MODELS.get(base) if pinned else None)
        return dataclasses.replace(caps, model=model) if caps is not None and caps.model != model else caps

    # -- requests ---------------------------------------------------------------------------------------
    def _headers(self, endpoint: Endpoint, url: str | None = None) -> dict[str, str]:
        if endpoint.api_key is None:
            return {}
        return {"Authorization": f"Bearer {endpoint.api_key.get()}"}

    @staticmethod
    def route(model: str) -> tuple[str, str | None]:
        """``(path, version)``: the official-model route, or /v1/predictions with a version id."""
        if _HEX64.match(model):
            return "/v1/predictions", model
        owner_name, pinned, version = model.partition(":")
        if pinned:
            return "/v1/predictions", version
        return f"/v1/models/{owner_name}/predictions", None

    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        extra = call.capabilities.extra
        names = {**DEFAULT_INPUTS, **_mapping(extra.get("inputs"))}
        formats = _mapping(extra.get("output_format_values"))
        model_input: dict[str, Any] = {}

        def put(field: str, value: Any) -> None:
            name = names.get(field)
            if name and value is not None:
                model_input[name] = value

        put("prompt", call.prompt)
        if call.aspect_ratio is not None:
            put("aspect_ratio", call.aspect_ratio)
        elif call.width is not None and call.height is not None:
            put("aspect_ratio", extra.get("custom_aspect_ratio"))
            put("width", call.width)
            put("height", call.height)
        if call.n != 1:
            put("n", call.n)
        put("seed", call.seed)
        if call.output_format is not None:
            put("output_format", formats.get(call.output_format, call.output_format))
        put("negative_prompt", call.negative_prompt)
        put("quality", call.quality)
        put("style", call.style)
        options = dict(call.options)
        control = {key: options.pop(key) for key in _CONTROL_OPTIONS if key in options}
        model_input.update(options)  # the user's explicit escape hatch, last
        path, version = self.route(call.model)
        body: dict[str, Any] = {"version": version} if version else {}
        body["input"] = model_input
        body.update({key: value for key, value in control.items() if key != "wait" and value is not None})
        headers = self._headers(endpoint)
        wait = control.get("wait", True)
        if wait is True:
            headers["Prefer"] = "wait"  # up to 60 s; fit_to_deadline shortens it when the call has less time
        elif isinstance(wait, int | float) and not isinstance(wait, bool) and wait > 0:
            headers["Prefer"] = f"wait={max(1, min(60, int(wait)))}"  # [REP-JS] clamps to ≥ 1; max 60
        return WireRequest("POST", f"{endpoint.base_url}{path}", headers=headers, json=body)

    def fit_to_deadline(self, request: WireRequest, seconds_left: float) -> WireRequest:
        """``Prefer: wait`` no longer than the call's time left, less a margin for the answer to arrive.

        The server holds the create request up to the wait (60 s when unset) [providers.md §6 "Sync mode"]. A
        client read timeout shorter than that drops the request while the prediction, created and billed, runs
        on: its id is lost. A shorter wait is always safe (an unfinished prediction is polled); under 1 s, no
        wait is asked.
        """
        prefer = request.headers.get("Prefer")
        if prefer is None or not prefer.startswith("wait") or not math.isfinite(seconds_left):
            return request
        _, _, value = prefer.partition("=")
        asked = int(value) if value.strip().isdigit() else _MAX_WAIT
        allowed = int(seconds_left - _WAIT_MARGIN)
        if asked <= allowed:
            return request
        headers = {key: value for key, value in request.headers.items() if key != "Prefer"}
        if allowed >= 1:
            headers["Prefer"] = f"wait={allowed}"
        return dataclasses.replace(request, headers=headers)

    def poll_request(self, handle: JobHandle, endpoint: Endpoint) -> WireRequest:
        url = handle.data.get("get_url") or f"{endpoint.base_url}/v1/predictions/{handle.job_id}"
        return WireRequest("GET", str(url), headers=self._headers(endpoint, str(url)))

    def cancel_request(self, handle: JobHandle, endpoint: Endpoint) -> WireRequest | None:
        url = handle.data.get("cancel_url") or f"{endpoint.base_url}/v1/predictions/{handle.job_id}/cancel"
        return WireRequest("POST", str(url), headers=self._headers(endpoint, str(url)))

    # -- responses --------------------------------------------------------------------------------------
    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Images | Pending:
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise ProviderError("Replicate answered without a prediction id; the answer was not understood",
                                adapter=self.name, model=call.model, status=response.status,
                                request_id=self.request_id(response), body=body)
        urls = _mapping(body.get("urls"))
        data = {"get_url": urls.get("get"), "cancel_url": urls.get("cancel"), "prompt": call.prompt,
                "size": f"{call.width}x{call.height}" if call.width and call.height else None,
                "n": call.n, "created_at": body.get("created_at")}
        return self._outcome(response, body, JobHandle(self.name, call.model, body["id"], data))

    def parse_poll(self, response: WireResponse, handle: JobHandle, call: PreparedRequest | None
                   ) -> Images | Pending:
        body = response.json()
        if not isinstance(body, dict):
            raise ProviderError("Replicate sent a prediction that is not JSON", adapter=self.name,
                                model=handle.model, status=response.status, request_id=handle.job_id)
        return self._outcome(response, body, handle)

    def _outcome(self, response: WireResponse, body: Mapping[str, Any], handle: JobHandle
                 ) -> Images | Pending:
        status = str(body.get("status") or "")
        context: dict[str, Any] = dict(adapter=self.name, model=handle.model, status=response.status,
                                       request_id=self.request_id(response) or handle.job_id,
                                       code=status or None, body=body)
        if status == "succeeded":
            return self._images(response, body, handle, context)
        if status == "failed":
            message = str(body.get("error") or "no error message")
            code = _CODE.search(message)
            context["code"] = code.group(1) if code else "failed"
            if _MODERATION.search(message):
                lower = message.lower()
                stage = (None if "input or output" in lower else "output"
                         if "nsfw" in lower or "output" in lower else "input" if "input" in lower else None)
                raise ContentPolicyError(
                    f"Replicate prediction {handle.job_id} was refused by moderation: {message} (change the "
                    "prompt or the seed; retrying unchanged rarely helps)",
                    stage=stage, reason=code.group(1) if code else message, **context)
            raise ProviderError(f"Replicate prediction {handle.job_id} failed: {message}", **context)
        if status in ("canceled", "aborted"):
            raise ProviderError(f"Replicate prediction {handle.job_id} was {status} before it finished"
                                f"{': ' + str(body['error']) if body.get('error') else ''}", **context)
        return Pending(handle, status=status or None)  # starting, processing, or a status unknown today

    def _images(self, response: WireResponse, body: Mapping[str, Any], handle: JobHandle,
                context: dict[str, Any]) -> Images:
        output = body.get("output")
        if isinstance(output, str):
            urls = [output]
        else:
            urls = [url for url in output if isinstance(url, str)] if isinstance(output, list) else []
        prompt = str(handle.data.get("prompt") or "")
        created = _time(handle.data.get("created_at")) or _time(body.get("created_at"))
        # The hour is counted from creation (the earlier reading; UNCONFIRMED whether from completion).
        expires = (created or _response_time(response)) + dt.timedelta(seconds=DATA_TTL_SECONDS)
        if not urls:
            if body.get("data_removed"):
                raise ImageExpiredError(
                    f"Replicate removed prediction {handle.job_id}'s output (data is kept one hour)",
                    expired_at=expires.isoformat(), **context)
            raise ProviderError(f"Replicate prediction {handle.job_id} succeeded without an image URL",
                                **context)
        logs = str(body.get("logs") or "")
        seed_match = re.search(r"Using seed: (\d+)", logs)
        metrics = _mapping(body.get("metrics"))
        metadata = {"prediction_id": handle.job_id,
                    **{key: value for key, value in metrics.items() if key.endswith("_time")}}
        images = []
        for url in urls:
            fields: dict[str, Any] = dict(reported_size=handle.data.get("size"), metadata=dict(metadata),
                                          seed=int(seed_match.group(1)) if seed_match else None)
            if url.startswith("data:"):  # some sync answers inline the file
                data, media_type = media.decode_data_url(url)
                images.append(GeneratedImage.from_bytes(data, prompt, media_type=media_type, **fields))
            else:
                images.append(GeneratedImage(url=url, revised_prompt=prompt, expires_at=expires, **fields))
        errors: list[ProviderError] = []
        missing = int(handle.data.get("n") or 1) - len(images)
        if missing > 0:  # cog-flux drops NSFW images from a batch and only fails when all are NSFW
            message = f"Replicate returned {len(images)} of {len(images) + missing} images"
            if "nsfw" in logs.lower():
                errors.append(ContentPolicyError(f"{message}; the safety checker withheld the rest",
                                                 stage="output", reason="nsfw", **context))
            else:
                errors.append(ProviderError(message, **context))
        return Images(images, request_id=handle.job_id, errors=errors)

    # -- errors -----------------------------------------------------------------------------------------
    def is_retryable(self, response: WireResponse) -> bool:
        """429 and 5xx; POSTs are limited to 429 by ``post_retry_statuses`` (the engine applies it)."""
        return response.status == 429 or response.status >= 500

    def parse_error(self, response: WireResponse, call: PreparedRequest | None) -> ProviderError:
        """Problem details ``{"type", "title", "status", "detail"}`` [REP-PY exceptions.py]."""
        body = response.json()
        text = None
        if isinstance(body, dict):
            text = " — ".join(str(body[key]) for key in ("title", "detail") if body.get(key))
        text = text or response.text.strip()[:300] or "no error text"
        hint = {401: " (check REPLICATE_API_TOKEN)", 402: " (insufficient credit: add billing at "
                "replicate.com/account/billing)"}.get(response.status, "")
        code = str(body.get("title")) if isinstance(body, dict) and body.get("title") else None
        return error_for_status(response, self.name, call.model if call else None,
                                message=f"Replicate answered HTTP {response.status}: {text}{hint}", code=code,
                                body=body)
