"""Stability AI REST API: Stable Image Ultra / Core / SD3.5 (v2beta) and legacy SDXL (v1).

Facts: /work/shared/reference/providers.md §3 (tags resolved there). The catalogue is data in
:mod:`imgsdk.adapters.stability_models`. No stability-sdk: it speaks only the old gRPC API (design card).

Wire, per family (``ModelCapabilities.family``):

- ``v2beta``: ``POST {base}/v2beta/stable-image/generate/{ultra|core|sd3}`` as multipart/form-data,
  even without a file (§3a: the body must be multipart; ``WireRequest(form=..., multipart=True)``).
  Fields: ``prompt``, ``aspect_ratio`` (from the policy), ``negative_prompt``, ``seed``, ``output_format``,
  and on ``/sd3`` the ``model``. ``accept: image/*`` (raw bytes + ``finish-reason``/``seed`` headers)
  unless the provider option ``accept: "json"`` asks for ``application/json`` (``{image, finish_reason,
  seed}``). Both are parsed.
- ``v1``: ``POST {base}/v1/generation/{engine}/text-to-image`` with a JSON body: ``text_prompts`` (the
  negative prompt as a second entry with weight -1), ``width``/``height`` (one of the nine SDXL sizes),
  ``samples``, ``seed``; ``accept: application/json`` so several samples and their ``finishReason`` come
  back.

Provider options (``provider_options={"stability": {...}}``), merged into the form / JSON body last, as given:
``style_preset`` (one of ``STYLE_PRESETS``), ``cfg_scale`` (SD3: 1–10; v1: 0–35), ``steps``, ``sampler``,
``clip_guidance_preset`` (v1), or any other documented field; a ``None`` value removes a field. Two options
are read by the adapter and not sent as fields: ``accept`` (``"json"`` | ``"image"`` or a media type) and
``client_id`` / ``client_user_id`` / ``client_version`` (the optional ``stability-client-*`` headers).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from imgsdk import media
from imgsdk.adapter import Adapter, Endpoint, Images, WireRequest, WireResponse, error_for_status
from imgsdk.capabilities import ModelCapabilities
from imgsdk.errors import (
    AuthenticationError,
    ContentPolicyError,
    PermissionDeniedError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    ServiceUnavailableError,
)
from imgsdk.policy import nearest_ratio
from imgsdk.request import PreparedRequest
from imgsdk.result import GeneratedImage

from .stability_models import ALIASES, ASPECT_RATIOS, CATALOGUE

__all__ = ["StabilityAdapter"]

_ACCEPT = {"json": "application/json", "image": "image/*", "bytes": "image/*"}
_HEADER_OPTIONS = {"client_id": "stability-client-id", "client_user_id": "stability-client-user-id",
                   "client_version": "stability-client-version"}
_ADAPTER_OPTIONS = frozenset({"accept", *_HEADER_OPTIONS})
# Error ``name`` values (§3a/§3b) that mean moderation refused the request, whatever the status: 403
# content_moderation on v2beta, 400 invalid_prompts ("prompts contain filtered words") on v1.
_MODERATION_NAMES = frozenset({"content_moderation", "invalid_prompts"})
_QUOTA_NAMES = frozenset({"payment_required", "insufficient_balance"})


class StabilityAdapter(Adapter):
    """Stability AI: Stable Image Ultra/Core and SD3.5 (v2beta, multipart) plus legacy SDXL (v1, JSON)."""

    name = "stability"
    label = "Stability AI"
    default_base_url = "https://api.stability.ai"
    key_env = ("STABILITY_API_KEY",)
    key_required = True
    default_model = "stable-image-core"
    secret_headers = ("authorization",)

    # -- declarations -----------------------------------------------------------------------------------
    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        return CATALOGUE

    def capabilities(self, model: str, settings: Mapping[str, Any]) -> ModelCapabilities | None:
        return CATALOGUE.get(ALIASES.get(model, model))

    # -- requests ---------------------------------------------------------------------------------------
    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        base = endpoint.base_url.rstrip("/")
        options = dict(call.options)
        headers = {"accept": self._accept(options, _family(call) == "v1")}
        if endpoint.api_key:
            headers["authorization"] = f"Bearer {endpoint.api_key.get()}"
        for option, header in _HEADER_OPTIONS.items():
            if options.get(option):
                headers[header] = str(options[option])
        extra = {key: value for key, value in options.items() if key not in _ADAPTER_OPTIONS}
        if _family(call) == "v1":
            return WireRequest("POST", f"{base}{_v1_path(call)}", headers=headers, json=_v1_body(call, extra))
        form: dict[str, str] = {"prompt": call.prompt}
        ratio = call.aspect_ratio or _ratio_from_pixels(call)
        if ratio:
            form["aspect_ratio"] = ratio
        if call.negative_prompt is not None:
            form["negative_prompt"] = call.negative_prompt
        if call.seed is not None:
            form["seed"] = str(call.seed)
        if call.output_format is not None:
            form["output_format"] = call.output_format
        path, form_model = _v2_route(call)
        if form_model:
            form["model"] = form_model
        for key, value in extra.items():  # the user's escape hatch, last
            if value is None:
                form.pop(key, None)
            else:
                form[key] = _form_value(value)
        return WireRequest("POST", f"{base}{path}", headers=headers, form=form, multipart=True)

    @staticmethod
    def _accept(options: Mapping[str, Any], v1: bool) -> str:
        # v2beta defaults to image/* (bytes, §3a); v1 to JSON, the only form that carries several samples and
        # a finishReason per image (§3b). v1's only image type is image/png.
        wanted = options.get("accept")
        if wanted is None:
            return "application/json" if v1 else "image/*"
        value = _ACCEPT.get(str(wanted).lower(), str(wanted))
        return "image/png" if v1 and value == "image/*" else value

    # -- responses --------------------------------------------------------------------------------------
    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Images:
        request_id = self.request_id(response)
        content_type = (response.header("content-type") or "").lower()
        if content_type.startswith("application/json"):
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("artifacts"), list):
                return self._parse_artifacts(body["artifacts"], response, call, request_id)
            if not isinstance(body, dict) or not isinstance(body.get("image"), str):
                raise self._malformed(response, call, "a JSON body without an 'image' field")
            # accept: application/json -> {"image": b64, "finish_reason", "seed"}; the media type rides in
            # the content type as "application/json; type=image/png" (§3a).
            media_type = _json_media_type(content_type)
            image = self._image(_b64(body["image"], self, response, call), body.get("finish_reason"),
                                body.get("seed"), media_type, response, call, request_id)
            return Images([image], request_id=request_id)
        if not response.content:
            raise self._malformed(response, call, "an empty body")
        kind = content_type.split(";")[0].strip()
        if not kind.startswith("image/") and media.sniff_media_type(response.content) is None:
            # An HTML error page or a proxy's text is not an image, whatever the status says.
            raise self._malformed(response, call, f"a {kind or 'untyped'} body that is not an image")
        # accept: image/* -> the bytes; finish-reason and seed are headers (§3a; v1 image/png: same, §3b).
        image = self._image(response.content, response.header("finish-reason"), response.header("seed"),
                            content_type.split(";")[0] or None, response, call, request_id)
        return Images([image], request_id=request_id)

    def _image(self, data: bytes, finish_reason: Any, seed: Any, media_type: str | None,
               response: WireResponse, call: PreparedRequest, request_id: str | None) -> GeneratedImage:
        error = self._finish_error(finish_reason, seed, response, call, request_id)
        if error is not None:
            raise error
        return GeneratedImage.from_bytes(data, call.prompt, media_type=media_type, seed=_int(seed),
                                         metadata={"finish_reason": finish_reason or "SUCCESS"})

    def _parse_artifacts(self, artifacts: list[Any], response: WireResponse, call: PreparedRequest,
                         request_id: str | None) -> Images:
        # v1 JSON: {"artifacts": [{"base64", "seed", "finishReason": SUCCESS|ERROR|CONTENT_FILTERED}]} (§3b).
        # Filtered or failed samples become errors next to the images that worked; none at all -> raise.
        images: list[GeneratedImage] = []
        errors: list[ProviderError] = []
        for artifact in artifacts:
            if not isinstance(artifact, dict):
                continue
            reason, seed = artifact.get("finishReason"), artifact.get("seed")
            error = self._finish_error(reason, seed, response, call, request_id)
            if error is not None:
                errors.append(error)
            elif isinstance(artifact.get("base64"), str):
                images.append(GeneratedImage.from_bytes(
                    _b64(artifact["base64"], self, response, call), call.prompt, media_type="image/png",
                    seed=_int(seed), metadata={"finish_reason": reason or "SUCCESS"}))
        if not images:
            raise errors[0] if errors else self._malformed(response, call, "no artifacts")
        return Images(images, request_id=request_id, errors=errors)

    def _finish_error(self, reason: Any, seed: Any, response: WireResponse, call: PreparedRequest,
                      request_id: str | None) -> ProviderError | None:
        context: dict[str, Any] = dict(adapter=self.name, model=call.model, status=response.status,
                                       request_id=request_id, code=reason,
                                       body={"finish_reason": reason, "seed": _int(seed)})
        if reason == "CONTENT_FILTERED":
            # A 200 whose image violated the content policy (it may come back blurred, §3a/§3b): the image is
            # not delivered. Not retried: the same prompt would be filtered again.
            return ContentPolicyError(
                "Stability's content filter withheld the generated image (finish reason CONTENT_FILTERED); "
                "rephrase the prompt", stage="output", reason="CONTENT_FILTERED", **context)
        if reason == "ERROR":
            return ProviderError("Stability reported a failed generation (finish reason ERROR); try again",
                                 **context)
        return None

    def _malformed(self, response: WireResponse, call: PreparedRequest, what: str) -> ProviderError:
        return ProviderError(f"Stability answered HTTP {response.status} with {what}; no image was returned",
                             adapter=self.name, model=call.model, status=response.status,
                             request_id=self.request_id(response))

    # -- errors -----------------------------------------------------------------------------------------
    def parse_error(self, response: WireResponse, call: PreparedRequest | None) -> ProviderError:
        # v2beta: {"id", "name", "errors": [str]}; v1: {"id", "name", "message"} (§3a/§3b). Branch on the
        # name first: Stability answers 403 for moderation too, which must not look like a bad key (§3a).
        body = response.json()
        fields = body if isinstance(body, dict) else {}
        name = fields.get("name") if isinstance(fields.get("name"), str) else None
        text = _error_text(fields) or response.text[:300].strip() or f"HTTP {response.status}"
        model = call.model if call else None
        context: dict[str, Any] = dict(adapter=self.name, model=model, status=response.status,
                                       request_id=self.request_id(response), code=name,
                                       body=body if body is not None else response.text[:2000])
        status = response.status
        if name in _MODERATION_NAMES:
            return ContentPolicyError(f"Stability's content moderation refused the request: {text}. Rephrase "
                                      "the prompt (retrying it unchanged will not help)",
                                      stage="input", reason=text, **context)
        if name in _QUOTA_NAMES or status == 402:
            return QuotaExceededError(f"the Stability account is out of credits: {text}. Add credits at "
                                      "platform.stability.ai/account/credits", **context)
        if name == "unauthorized" or status == 401:
            return AuthenticationError(f"Stability rejected the API key: {text}. Check STABILITY_API_KEY "
                                       "(sent as 'authorization: Bearer ...')", **context)
        if name == "permission_denied" or status == 403:
            return PermissionDeniedError(f"Stability refused this key access: {text}", **context)
        if status == 429:
            return RateLimitError(f"Stability rate limit: {text}", retry_after=_retry_after(response),
                                  **context)
        if status >= 500:
            return ServiceUnavailableError(f"Stability server error: {text}", **context)
        if status == 404 and model:
            text = f"{text} (is '{model}' a Stability model id this endpoint serves?)"
        return _with_request_id(error_for_status(response, self.name, model, message=f"Stability: {text}",
                                                 code=name, body=context["body"]), context["request_id"])

    def is_retryable(self, response: WireResponse) -> bool:
        # §3a "Retry 429/500 only": the documented transient answers. 502/503/504 are added because they come
        # from the gateway in front of the API, never from a decision about the request. Never 402/403/4xx.
        if response.status == 429:
            return not isinstance(self.parse_error(response, None), QuotaExceededError)
        return response.status in (500, 502, 503, 504)

    def request_id(self, response: WireResponse) -> str | None:
        # Errors carry their own id in the body (§3a/§3b); successes only have the x-request-id header.
        if response.status >= 400:
            body = response.json()
            identifier = body.get("id") if isinstance(body, dict) else None
            if isinstance(identifier, str) and identifier:
                return identifier
        return super().request_id(response)


# -- helpers (pure functions) ---------------------------------------------------------------------------
def _family(call: PreparedRequest) -> str:
    family = call.capabilities.family
    if family:
        return family
    # An undeclared model passed through (allow_unknown_model): route by its id.
    return "v1" if call.model.startswith("stable-diffusion") else "v2beta"


def _v2_route(call: PreparedRequest) -> tuple[str, str | None]:
    extra = call.capabilities.extra
    path = extra.get("path")
    if isinstance(path, str):
        form_model = extra.get("form_model")
        return path, form_model if isinstance(form_model, str) else None
    model = call.model
    if model in ("ultra", "stable-image-ultra", "core", "stable-image-core"):
        return f"/v2beta/stable-image/generate/{model.rsplit('-', 1)[-1]}", None
    return "/v2beta/stable-image/generate/sd3", model  # e.g. a newer "sd3.x-..." model id


def _v1_path(call: PreparedRequest) -> str:
    path = call.capabilities.extra.get("path")
    if isinstance(path, str):
        return str(path)
    return f"/v1/generation/{call.model}/text-to-image"


def _v1_body(call: PreparedRequest, extra: Mapping[str, Any]) -> dict[str, Any]:
    # A negative weight makes a text prompt negative (§3b, TextPrompt.weight description).
    prompts: list[dict[str, Any]] = [{"text": call.prompt, "weight": 1}]
    if call.negative_prompt is not None:
        prompts.append({"text": call.negative_prompt, "weight": -1})
    body: dict[str, Any] = {"text_prompts": prompts, "samples": call.n}
    if call.width is not None and call.height is not None:
        body["width"], body["height"] = call.width, call.height
    if call.seed is not None:
        body["seed"] = call.seed
    for key, value in extra.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def _ratio_from_pixels(call: PreparedRequest) -> str | None:
    # Only for undeclared models (permissive capabilities give pixels): the nearest documented ratio.
    if call.width and call.height:
        return nearest_ratio(call.width, call.height, ASPECT_RATIOS)
    return None


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value)


def _json_media_type(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        key, _, value = parameter.strip().partition("=")
        if key == "type" and value.startswith("image/"):
            return value
    return None


def _b64(text: str, adapter: StabilityAdapter, response: WireResponse, call: PreparedRequest) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise adapter._malformed(response, call, "an image that is not valid base64") from None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _error_text(fields: Mapping[str, Any]) -> str:
    errors = fields.get("errors")
    if isinstance(errors, list) and errors:
        return "; ".join(str(item) for item in errors)
    for key in ("message", "error"):
        if isinstance(fields.get(key), str) and fields[key]:
            return str(fields[key])
    return ""


def _retry_after(response: WireResponse) -> float | None:
    value = response.header("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _with_request_id(error: ProviderError, request_id: str | None) -> ProviderError:
    """error_for_status reads the request id from headers only; rebuild it with the body's id."""
    if request_id is None or error.request_id == request_id:
        return error
    return type(error)(error.detail, adapter=error.adapter, model=error.model, status=error.status,
                       request_id=request_id, code=error.code, body=error.body)
