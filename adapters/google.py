"""Google Gemini API: Gemini image models (``:generateContent``) and legacy Imagen (``:predict``).

Facts: /work/shared/reference/providers.md §4 (tags resolved there); the catalogue is data in
:mod:`imgsdk.adapters.google_models`. No google-genai import: the wire mapping follows the SDK's own
converters ([GENAI-PY] ``_GenerateContentConfig_to_mldev``, ``_ImageConfig_to_mldev``, and the removed
``_GenerateImagesConfig_to_mldev``).

Auth is the ``x-goog-api-key`` header ("All requests to the Gemini API must include an x-goog-api-key header",
§4a); never a ``?key=`` query parameter, which ends up in access logs and proxies.

Wire, per family:

- ``gemini``: ``{"contents": [{"parts": [{"text": prompt}]}], "generationConfig": {"responseModalities":
  ["IMAGE"], "imageConfig": {"aspectRatio", "imageSize"?}, "seed"?}}``. ``["IMAGE"]`` (the §4b example)
  rather than ``["TEXT", "IMAGE"]``: the node wants an image, and image-only output keeps the model from
  answering in prose instead of drawing; refusals still arrive as ``finishReason``/``promptFeedback``.
- ``imagen``: ``{"instances": [{"prompt"}], "parameters": {"sampleCount", "aspectRatio"?, "sampleImageSize"?,
  "outputOptions"?, "includeRaiReason": true}}``. ``includeRaiReason`` makes filtered images report why.

Provider options (``provider_options={"google": {...}}``), applied last: ``response_modalities`` (e.g.
``["TEXT", "IMAGE"]`` to get commentary, kept in ``metadata["text"]``), ``image_size`` (``"1K"|"2K"|"4K"``,
Imagen ``sampleImageSize``), ``person_generation`` (Imagen); any other key is deep-merged into the body
(Gemini: e.g. ``{"generationConfig": {"temperature": 0.4}, "safetySettings": [...]}``) or into
``parameters`` (Imagen: e.g. ``{"safetySetting": "BLOCK_ONLY_HIGH"}``); a ``None`` value removes a field.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

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

from .google_models import CATALOGUE, GEMINI_RATIOS, IMAGEN_RATIOS

__all__ = ["GoogleAdapter"]

# Candidate finish reasons that mean a policy refused the output (§4b [GENAI-PY types.FinishReason]).
# NO_IMAGE, IMAGE_OTHER, OTHER, STOP are not moderation by themselves (see _parse_gemini).
_MODERATION_FINISH = frozenset({"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION",
                                "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION"})
_KEY_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_NOT_FOUND"})
# UNCONFIRMED (§4a): prompt refusals may come back as 400 INVALID_ARGUMENT (seen for a related Google image
# API). Both readings: such a 400 whose message speaks of safety/policy is moderation, any other stays an
# InvalidRequestError.
_MODERATION_WORDS = ("responsible ai", "sensitive words", "safety filter", "content policy",
                     "usage guidelines", "prohibited content")
_RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})  # google-genai's rule [GENAI-PY _api_client.py]


class GoogleAdapter(Adapter):
    """Google Gemini API: Nano Banana image models, and retired Imagen for custom endpoints."""

    name = "google"
    label = "Google Gemini API"
    default_base_url = "https://generativelanguage.googleapis.com/v1beta"
    key_env = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    key_required = True
    default_model = "gemini-3.1-flash-image"
    secret_headers = ("x-goog-api-key",)

    # -- declarations -----------------------------------------------------------------------------------
    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        return CATALOGUE

    def capabilities(self, model: str, settings: Mapping[str, Any]) -> ModelCapabilities | None:
        return CATALOGUE.get(model.removeprefix("models/"))

    def non_image_model(self, model: str) -> bool:
        # Gemini/Gemma text and embedding models answer generateContent with text only: say so up front.
        bare = model.removeprefix("models/")
        return bare.startswith(("gemini-", "gemma-", "text-embedding", "embedding-")) and "image" not in bare

    # -- requests ---------------------------------------------------------------------------------------
    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        base = endpoint.base_url.rstrip("/")
        model = call.model.removeprefix("models/")
        headers = {"x-goog-api-key": endpoint.api_key.get()} if endpoint.api_key else {}
        options = dict(call.options)
        if _family(call) == "imagen":
            return WireRequest("POST", f"{base}/models/{model}:predict", headers=headers,
                               json=_imagen_body(call, options))
        return WireRequest("POST", f"{base}/models/{model}:generateContent", headers=headers,
                           json=_gemini_body(call, options))

    # -- responses --------------------------------------------------------------------------------------
    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Images:
        body = response.json()
        if not isinstance(body, dict):
            raise self._error(ProviderError, response, call, "Google answered with a body that is not JSON; "
                              "no image was returned")
        if _family(call) == "imagen":
            return self._parse_imagen(body, response, call)
        return self._parse_gemini(body, response, call)

    def _parse_gemini(self, body: dict[str, Any], response: WireResponse, call: PreparedRequest) -> Images:
        images: list[tuple[bytes, str | None]] = []
        texts: list[str] = []
        finish: list[str] = []
        messages: list[str] = []
        for candidate in body.get("candidates") or []:
            if not isinstance(candidate, dict):
                continue
            if isinstance(reason := _field(candidate, "finishReason"), str):
                finish.append(reason)
            if isinstance(message := _field(candidate, "finishMessage"), str):
                messages.append(message)
            content = _dict(candidate.get("content"))
            for part in content.get("parts") or []:
                if not isinstance(part, dict) or part.get("thought"):
                    continue  # thinking output (interim "thought images" on 3.x) is not the answer
                inline = _field(part, "inlineData")  # REST camelCase; snake_case from SDK dumps too
                if isinstance(inline, dict) and isinstance(inline.get("data"), str):
                    mime = _field(inline, "mimeType")
                    images.append((self._decode(inline["data"], response, call),
                                   mime if isinstance(mime, str) else None))
                elif isinstance(part.get("text"), str) and part["text"].strip():
                    texts.append(part["text"].strip())
        text = "\n".join(texts) or None
        response_id = _field(body, "responseId")
        request_id = response_id if isinstance(response_id, str) else None
        request_id = request_id or self.request_id(response)
        if images:
            # A text part is commentary, never a rewrite of the prompt: revised_prompt = the prompt sent.
            metadata: dict[str, Any] = {"finish_reason": finish[0] if finish else None}
            if text:
                metadata["text"] = text
            usage = _field(body, "usageMetadata")
            generated = [GeneratedImage.from_bytes(data, call.prompt, media_type=mime,
                                                   metadata=dict(metadata)) for data, mime in images]
            return Images(generated, request_id=request_id, usage=usage if isinstance(usage, dict) else None)
        # Moderation arrives as a 200 without an image (§4b): the prompt blocked, the output withheld, or a
        # text-only refusal.
        context: dict[str, Any] = dict(request_id=request_id, body=body)
        feedback = _dict(_field(body, "promptFeedback"))
        block = _field(feedback, "blockReason")
        if isinstance(block, str) and block:
            detail = _field(feedback, "blockReasonMessage")
            raise self._error(ContentPolicyError, response, call,
                              f"Google blocked the prompt ({block}{f': {detail}' if detail else ''}); "
                              "rephrase it (retrying it unchanged will not help)",
                              stage="input", reason=block, code=block, **context)
        moderated = next((reason for reason in finish if reason in _MODERATION_FINISH), None)
        if moderated:
            said = "; ".join(messages + texts)
            raise self._error(ContentPolicyError, response, call,
                              f"Google withheld the image (finish reason {moderated}"
                              f"{f': {said}' if said else ''}); rephrase the prompt",
                              stage="output", reason=moderated, code=moderated, **context)
        code = finish[0] if finish else None
        if text:
            # A text-only answer is a refusal (or a question) in place of the image. Google does not say
            # whether the prompt or the output was at fault: stage None, the model's words as the reason.
            raise self._error(ContentPolicyError, response, call,
                              f"the model answered with text instead of an image: {text[:500]}",
                              stage=None, reason=text, code=code, **context)
        raise self._error(ProviderError, response, call,
                          f"Google returned no image (finish reason {code or 'none'}"
                          f"{': ' + '; '.join(messages) if messages else ''}); try again or rephrase",
                          code=code, **context)

    def _parse_imagen(self, body: dict[str, Any], response: WireResponse, call: PreparedRequest) -> Images:
        # {"predictions": [{"bytesBase64Encoded", "mimeType"} | {"raiFilteredReason"}]}; filtered images are
        # otherwise silently missing (§4a), so the shortfall against sampleCount is reported too.
        images: list[GeneratedImage] = []
        reasons: list[str] = []
        for prediction in body.get("predictions") or []:
            if not isinstance(prediction, dict):
                continue
            if isinstance(prediction.get("bytesBase64Encoded"), str):
                mime = prediction.get("mimeType")
                images.append(GeneratedImage.from_bytes(
                    self._decode(prediction["bytesBase64Encoded"], response, call), call.prompt,
                    media_type=mime if isinstance(mime, str) else None))
            elif isinstance(prediction.get("raiFilteredReason"), str):
                reasons.append(prediction["raiFilteredReason"])
        missing = call.n - len(images)
        if missing <= 0:
            return Images(images, request_id=self.request_id(response))
        reason = "; ".join(reasons) or None
        error = self._error(ContentPolicyError, response, call,
                            f"Imagen withheld {missing} of {call.n} image(s) "
                            f"({reason or 'no reason given: Imagen drops filtered images silently'})",
                            stage="output" if reason else None, reason=reason or "filtered", code="FILTERED",
                            body={key: value for key, value in body.items() if key != "predictions"})
        if not images:
            raise error
        return Images(images, request_id=self.request_id(response), errors=[error])

    def _decode(self, text: str, response: WireResponse, call: PreparedRequest) -> bytes:
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise self._error(ProviderError, response, call, "Google sent image data that is not valid "
                              "base64") from None

    def _error(self, kind: type[ProviderError], response: WireResponse, call: PreparedRequest | None,
               message: str, **context: Any) -> ProviderError:
        context.setdefault("request_id", self.request_id(response))
        return kind(message, adapter=self.name, model=call.model if call else None, status=response.status,
                    **context)

    # -- errors -----------------------------------------------------------------------------------------
    def parse_error(self, response: WireResponse, call: PreparedRequest | None) -> ProviderError:
        # {"error": {"code", "message", "status", "details": [...]}} (§4a [GENAI-PY errors.py]); streamed
        # answers wrap it in a list.
        raw = response.json()
        raw = raw[0] if isinstance(raw, list) and raw else raw
        envelope = raw.get("error") if isinstance(raw, dict) else None
        error = envelope if isinstance(envelope, dict) else {}
        status = error.get("status") if isinstance(error.get("status"), str) else None
        message = str(error.get("message") or response.text[:300].strip() or f"HTTP {response.status}")
        details = [d for d in error.get("details") or [] if isinstance(d, dict)]
        reasons = [d["reason"] for d in details if isinstance(d.get("reason"), str)]
        http = response.status
        key_reason = next((reason for reason in reasons if reason in _KEY_REASONS), None)
        body = raw if raw is not None else response.text[:2000]
        model = call.model if call else None
        code = key_reason or status or (reasons[0] if reasons else None)
        context: dict[str, Any] = dict(code=code, body=body)
        if key_reason or status == "UNAUTHENTICATED" or http == 401:
            # An invalid key is a 400 INVALID_ARGUMENT whose ErrorInfo reason is API_KEY_INVALID.
            return self._error(AuthenticationError, response, call, f"Google rejected the API key: {message} "
                               "Check GEMINI_API_KEY (sent as the x-goog-api-key header)", **context)
        if status == "RESOURCE_EXHAUSTED" or http == 429:
            if _is_quota(message, details):
                return self._error(QuotaExceededError, response, call, f"Google quota exhausted: {message} "
                                   "(retrying soon will not help: enable billing, or wait for the daily "
                                   "reset)",
                                   **context)
            return self._error(RateLimitError, response, call, f"Google rate limit: {message}",
                               retry_after=_retry_delay(details) or _header_seconds(response), **context)
        if status == "PERMISSION_DENIED" or http == 403:
            return self._error(PermissionDeniedError, response, call, f"Google refused this key: {message}",
                               **context)
        if status == "FAILED_PRECONDITION":
            # e.g. "User location is not supported for the API use" (a region refusal), or the free tier
            # unavailable without billing (a quota matter).
            billing = "billing" in message.lower()
            kind: type[ProviderError] = QuotaExceededError if billing else PermissionDeniedError
            return self._error(kind, response, call, f"Google: {message}", **context)
        if status == "INVALID_ARGUMENT" and any(word in message.lower() for word in _MODERATION_WORDS):
            return self._error(ContentPolicyError, response, call, f"Google refused the prompt: {message}",
                               stage="input", reason=message, **context)
        if http >= 500:
            return self._error(ServiceUnavailableError, response, call, f"Google server error: {message}",
                               **context)
        if (http == 404 or status == "NOT_FOUND") and call is not None:
            life = call.capabilities.lifecycle
            hint = f" (use {life.replacement} instead)" if life.replacement else ""
            message = f"{message}: Google does not serve '{model}' here (shut down or misspelt?){hint}"
        return error_for_status(response, self.name, model, message=f"Google: {message}", **context)

    def is_retryable(self, response: WireResponse) -> bool:
        if response.status == 429:
            return not isinstance(self.parse_error(response, None), QuotaExceededError)
        return response.status in _RETRYABLE


# -- wire bodies (pure functions) -----------------------------------------------------------------------
def _family(call: PreparedRequest) -> str:
    if call.capabilities.family:
        return call.capabilities.family
    return "imagen" if call.model.removeprefix("models/").startswith("imagen") else "gemini"


def _field(mapping: Mapping[str, Any], camel: str) -> Any:
    """``mapping[camel]``, else its snake_case spelling (``inlineData`` / ``inline_data``)."""
    if camel in mapping:
        return mapping[camel]
    return mapping.get("".join(f"_{c.lower()}" if c.isupper() else c for c in camel))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _ratio(call: PreparedRequest, ratios: tuple[str, ...]) -> str | None:
    if call.aspect_ratio:
        return call.aspect_ratio
    # Only for undeclared models (permissive capabilities give pixels): the nearest documented ratio.
    if call.width and call.height:
        return nearest_ratio(call.width, call.height, ratios)
    return None


def _gemini_body(call: PreparedRequest, options: dict[str, Any]) -> dict[str, Any]:
    modalities = options.pop("response_modalities", None) or ["IMAGE"]
    image_config: dict[str, Any] = {}
    if ratio := _ratio(call, GEMINI_RATIOS):
        image_config["aspectRatio"] = ratio
    if size := options.pop("image_size", None) or call.resolution:
        image_config["imageSize"] = size
    generation: dict[str, Any] = {"responseModalities": list(modalities)}
    if image_config:
        generation["imageConfig"] = image_config
    if call.seed is not None:
        generation["seed"] = call.seed
    body = {"contents": [{"parts": [{"text": call.prompt}]}], "generationConfig": generation}
    return _merge(body, options)


def _imagen_body(call: PreparedRequest, options: dict[str, Any]) -> dict[str, Any]:
    parameters: dict[str, Any] = {"sampleCount": call.n}
    if ratio := _ratio(call, IMAGEN_RATIOS):
        parameters["aspectRatio"] = ratio
    # The REST field is sampleImageSize (the SDK's image_size, §4a converter table).
    if size := options.pop("image_size", None) or call.resolution:
        parameters["sampleImageSize"] = size
    if person := options.pop("person_generation", None):
        parameters["personGeneration"] = person
    if call.output_format is not None:
        parameters["outputOptions"] = {"mimeType": f"image/{call.output_format}"}
    parameters["includeRaiReason"] = True
    return {"instances": [{"prompt": call.prompt}], "parameters": _merge(parameters, options)}


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge the user's options into a body: dicts merge, other values replace, None deletes."""
    merged = dict(base)
    for key, value in extra.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _is_quota(message: str, details: list[dict[str, Any]]) -> bool:
    """Whether a RESOURCE_EXHAUSTED is a quota that retrying within minutes cannot fix.

    Every Gemini 429 says "You exceeded your current quota, please check your plan and billing details"
    (google-gemini/gemini-cli#8437, js-genai#1322), per-minute limits included, so those words decide
    nothing. Decided on structure instead: ``limit: 0`` (the plan has no quota for this model: billing
    needed), a depleted prepaid balance, or only per-day quotas violated. Anything else is a rate limit
    (retried with RetryInfo's delay).
    """
    lowered = message.lower()
    if "limit: 0," in lowered or lowered.endswith("limit: 0") or "credits are depleted" in lowered:
        return True
    quota_ids = [str(violation.get("quotaId", "")) for detail in details
                 if str(detail.get("@type", "")).endswith("QuotaFailure")
                 for violation in detail.get("violations") or [] if isinstance(violation, dict)]
    return bool(quota_ids) and all("PerDay" in quota_id for quota_id in quota_ids)


def _retry_delay(details: list[dict[str, Any]]) -> float | None:
    for detail in details:
        if str(detail.get("@type", "")).endswith("RetryInfo"):
            delay = str(detail.get("retryDelay", "")).strip()
            try:
                return float(delay.removesuffix("s")) if delay else None
            except ValueError:
                return None
    return None


def _header_seconds(response: WireResponse) -> float | None:
    value = response.header("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None
