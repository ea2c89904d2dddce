"""Black Forest Labs (BFL) FLUX API: submit a task, then poll its ``polling_url``.

Facts from providers.md §5 ([BFL-OAS] = api.bfl.ai/openapi.json vendored 2026-04-23, verbatim excerpt in
``bfl-openapi-excerpt.json``; [BFL-SKILL] = black-forest-labs/skills 2026-02-03):

- ``POST {base}/v1/{model}`` with header ``x-key``; the answer is ``{id, polling_url, cost?}`` (cost in
  credits, 1 credit = $0.01). Every model is asynchronous.
- ``GET polling_url`` (absolute, possibly a regional host: never rebuilt) answers ``{status, result, progress,
  details}``; ``status`` ∈ Pending, Ready, Request Moderated, Content Moderated, Error, Task not found.
  Third-party clients also see Failed / Reasoning / Generating: unknown values count as pending.
- ``result.sample`` is a signed URL that expires 10 minutes after the result is ready.
- One image per task, no negative prompt, no quality, no style: the policy drops those with warnings.
- Provider options (``provider_options={"bfl": {...}}``) are merged into the body last: ``safety_tolerance``
  (0–6, FLUX.2 0–5), ``prompt_upsampling``, ``raw`` (ultra), ``steps``/``guidance`` (dev, flex),
  ``image_prompt``, ``input_image``…, ``output_format``, ``webhook_url``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Mapping
from typing import Any, ClassVar

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
from imgsdk.errors import ContentPolicyError, ProviderError, QuotaExceededError, RateLimitError
from imgsdk.request import PreparedRequest
from imgsdk.result import GeneratedImage

__all__ = ["MODELS", "BFLAdapter"]

_SOURCE = "providers.md §5 [BFL-OAS 2026-04-23; BFL-SKILL 2026-02-03]"
_PRICE_DATE = "2026-02-03"
USD_PER_CREDIT = 0.01  # [BFL-SKILL] "1 credit = $0.01"; the submit answer's `cost` is in credits
URL_TTL_SECONDS = 600  # [BFL-SKILL] "Result URLs expire after 10 minutes"
_TRUSTED_HOSTS = ("bfl.ai", "bfl.ml")  # polling URLs may name a regional host (api.eu.bfl.ai...)
_MODERATED = {"Request Moderated": "input", "Content Moderated": "output"}
_FAILED = ("Error", "Failed", "Task not found")  # "Failed": seen in third-party clients (UNCONFIRMED)

# Ultra and Kontext take `aspect_ratio` "between 21:9 and 9:21" [BFL-OAS]. The schema is a free string; the
# list below is the set other FLUX front-ends offer (UNCONFIRMED that any other ratio string is accepted).
RATIOS = ("21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16", "9:21")
# FLUX1.1 [pro] / [dev]: width/height 256–1440, multiple of 32, default 1024x768 [BFL-OAS FluxPro11Inputs].
FLUX1_SIZE = SizeSpec(mode="free", sizes=("1024x1024", "1024x768", "768x1024"), min_side=256, max_side=1440,
                      multiple=32, default="1024x768")
# FLUX.2: width/height ≥ 64 [BFL-OAS], multiple of 16 and ≤ 4 MP [BFL-SKILL]. 4 MP read as 2048x2048
# (BFL's own example); the 2048 side cap is UNCONFIRMED (Comfy's BFL node caps each side at 2048).
# The schema default 0 presumably means "match the input image" (UNCONFIRMED): with no size and no
# input image the adapter sends the declared default 1024x1024 rather than rely on it.
FLUX2_SIZE = SizeSpec(mode="free", sizes=("1024x1024",), min_side=64, max_side=2048, multiple=16,
                      max_pixels=2048 * 2048, default="1024x1024")


def _model(model: str, family: str, size: SizeSpec, *, usd: float | None = None, fmt: str = "jpeg",
           note: str | None = None, replacement: str | None = None, **extra: Any) -> ModelCapabilities:
    return ModelCapabilities(
        model=model, family=family, size=size, max_images=1, seed=True,
        output_formats=("jpeg", "png", "webp"),  # OutputFormat enum [BFL-OAS]
        output_format_default=fmt, returns="url", url_ttl_seconds=URL_TTL_SECONDS, protocol="poll",
        prices=(Price(usd),) if usd is not None else (),
        price_source=f"{_SOURCE}; cost also from the submit answer", price_date=_PRICE_DATE,
        lifecycle=Lifecycle(status="active", replacement=replacement, note=note, source=_SOURCE), extra=extra)


_RATIO = SizeSpec(mode="aspect_ratio", aspect_ratios=RATIOS, default="16:9")
_KONTEXT = SizeSpec(mode="aspect_ratio", aspect_ratios=RATIOS)  # default unset in the schema
_KONTEXT_NOTE = "legacy per BFL's OpenAPI ('use FLUX.2 [PRO] for editing'); no shutdown announced"
_PREVIEW = "preview endpoint listed in providers.md §5; not in the OpenAPI excerpt"


def _flux2(model: str, first_mp_cents: float, extra_mp_cents: float,
           note: str | None = None) -> ModelCapabilities:
    # FLUX.2 is priced per megapixel [BFL-SKILL]: no flat per-image line; the submit answer's cost is used.
    return _model(model, "flux2", FLUX2_SIZE, note=note, price_cents_first_mp=first_mp_cents,
                  price_cents_per_extra_mp=extra_mp_cents)


MODELS: dict[str, ModelCapabilities] = {caps.model: caps for caps in (
    _model("flux-pro-1.1", "flux1", FLUX1_SIZE, usd=0.04),
    _model("flux-dev", "flux1", FLUX1_SIZE),  # no list price in [BFL-SKILL]
    _model("flux-pro-1.1-ultra", "ratio", _RATIO, usd=0.06),
    _model("flux-kontext-pro", "ratio", _KONTEXT, usd=0.04, fmt="png", note=_KONTEXT_NOTE,
           replacement="flux-2-pro"),
    _model("flux-kontext-max", "ratio", _KONTEXT, usd=0.08, fmt="png", note=_KONTEXT_NOTE,
           replacement="flux-2-pro"),
    _flux2("flux-2-pro", 3, 1.5),
    _flux2("flux-2-max", 7, 3),
    _flux2("flux-2-flex", 5, 5),
    _flux2("flux-2-klein-4b", 1.4, 0.1),
    _flux2("flux-2-klein-9b", 1.5, 0.2),
    _flux2("flux-2-pro-preview", 3, 1.5, note=_PREVIEW),  # price assumed = flux-2-pro (UNCONFIRMED)
    _flux2("flux-2-klein-9b-preview", 1.5, 0.2, note=_PREVIEW),
)}


def response_time(response: WireResponse) -> dt.datetime:
    """The response's Date header as UTC, else now (the base for expires_at)."""
    value = response.header("date")
    if value:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
            return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        except (TypeError, ValueError):
            pass
    return dt.datetime.now(dt.UTC)


def error_text(body: Any, fallback: str) -> tuple[str, str | None]:
    """Message and code from a BFL error body: FastAPI ``{"detail": [...] | str}`` [BFL-OAS] or the skill's
    ``{"error", "message"}`` (UNCONFIRMED which one is real: both are read)."""
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, list) and detail:
            parts = []
            for item in detail:
                if isinstance(item, dict):
                    loc = [str(p) for p in item.get("loc", []) if p != "body"]
                    parts.append(f"{'.'.join(loc)}: {item.get('msg')}" if loc else str(item.get("msg")))
            first = detail[0].get("type") if isinstance(detail[0], dict) else None
            return "; ".join(parts) or fallback, str(first) if first else None
        if isinstance(detail, str) and detail:
            return detail, None
        message, error = body.get("message"), body.get("error")
        if isinstance(message, str) and message:
            return message, error if isinstance(error, str) else None
        if isinstance(error, str) and error:
            return error, None
    return fallback, None


def _pixel_default(call: PreparedRequest) -> str | None:
    """The declared default size when it is in pixels (ratio models leave the pixel size to BFL)."""
    default = call.capabilities.size.default
    return default if default and "x" in default else None


class BFLAdapter(Adapter):
    """FLUX on api.bfl.ai: submit, then poll ``polling_url`` until Ready (the core polls)."""

    name: ClassVar[str] = "bfl"
    label: ClassVar[str] = "Black Forest Labs"
    default_base_url: ClassVar[str | None] = "https://api.bfl.ai"  # EU/US: api.eu.bfl.ai, api.us.bfl.ai
    key_env: ClassVar[tuple[str, ...]] = ("BFL_API_KEY",)
    default_model: ClassVar[str | None] = "flux-2-pro"  # BFL's recommended default [BFL-OAS summary]
    secret_headers: ClassVar[tuple[str, ...]] = ("x-key",)
    # The core strips credentials from any request outside base_url and these hosts (engine.keep_credentials_home).
    trusted_hosts: ClassVar[tuple[str, ...]] = _TRUSTED_HOSTS
    # A submit is paid: it is re-sent only on answers that say it was not accepted (429: concurrency limit)
    # or the 5xx BFL says to retry [BFL-SKILL]. Declaring the set also stops the engine from re-sending a
    # POST after a connection that broke mid-request (that could create a second, paid task).
    post_retry_statuses: ClassVar[frozenset[int] | None] = frozenset({429, 500, 502, 503, 504})

    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        return MODELS

    # -- requests ---------------------------------------------------------------------------------------
    def _headers(self, endpoint: Endpoint, url: str | None = None) -> dict[str, str]:
        """``x-key``, unless ``url`` points outside BFL and the configured base (never leak the key)."""
        if endpoint.api_key is None:
            return {}
        return {"x-key": endpoint.api_key.get()}

    @staticmethod
    def _size(call: PreparedRequest) -> tuple[int, int] | None:
        """Width and height to send: the policy's, else the FLUX.2 default (see FLUX2_SIZE)."""
        if call.width and call.height:
            return call.width, call.height
        has_input = any(key.startswith("input_image") for key in call.options)
        default = call.capabilities.size.default
        if call.capabilities.family == "flux2" and call.aspect_ratio is None and not has_input and default:
            width, _, height = default.partition("x")
            return int(width), int(height)
        return None

    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        body: dict[str, Any] = {"prompt": call.prompt}
        size = self._size(call)
        if call.aspect_ratio is not None:
            body["aspect_ratio"] = call.aspect_ratio
        elif size is not None:
            body["width"], body["height"] = size
        if call.seed is not None:
            body["seed"] = call.seed
        if call.output_format is not None:
            body["output_format"] = call.output_format
        body.update(call.options)  # the user's explicit escape hatch, last
        return WireRequest("POST", f"{endpoint.base_url}/v1/{call.model}", headers=self._headers(endpoint),
                           json=body)

    def poll_request(self, handle: JobHandle, endpoint: Endpoint) -> WireRequest:
        url = handle.data.get("polling_url")
        if isinstance(url, str) and url:
            return WireRequest("GET", url, headers=self._headers(endpoint, url))
        # A webhook submission answers without polling_url: get_result?id= is the documented fallback.
        return WireRequest("GET", f"{endpoint.base_url}/v1/get_result", headers=self._headers(endpoint),
                           params={"id": handle.job_id})

    # BFL has no cancel endpoint (providers.md §5): cancel_request stays the base class's None.

    # -- responses --------------------------------------------------------------------------------------
    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Images | Pending:
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise ProviderError("BFL accepted the request but sent no task id; the answer was not "
                                "understood", adapter=self.name, model=call.model, status=response.status,
                                request_id=self.request_id(response), body=body)
        cost = body.get("cost")
        size = self._size(call)
        data = {
            "polling_url": body.get("polling_url"),
            "prompt": call.prompt,
            # no size sent: the model makes its documented default (FLUX1.1: 1024x768) [BFL-OAS]
            "size": f"{size[0]}x{size[1]}" if size else _pixel_default(call),
            "cost_usd": round(float(cost) * USD_PER_CREDIT, 6) if isinstance(cost, int | float) else None,
        }
        return Pending(JobHandle(self.name, call.model, body["id"], data), status="Pending")

    def parse_poll(self, response: WireResponse, handle: JobHandle, call: PreparedRequest | None
                   ) -> Images | Pending:
        body = response.json()
        body = body if isinstance(body, dict) else {}
        status = str(body.get("status") or "")
        context: dict[str, Any] = dict(
            adapter=self.name, model=handle.model, status=response.status,
            request_id=self.request_id(response) or handle.job_id, code=status or None, body=body)
        if status == "Ready":
            return self._images(response, body, handle)
        if status in _MODERATED:
            stage = _MODERATED[status]
            what = "the prompt (or an input image)" if stage == "input" else "the generated image"
            raise ContentPolicyError(
                f"BFL moderation refused {what} ({status}); rephrase the prompt, or raise the "
                "safety_tolerance provider option (0 strictest … 6, FLUX.2 5); retrying unchanged will "
                "not help",
                stage=stage, reason=_moderation_reason(body) or status, **context)
        if status in _FAILED:
            message, _ = error_text(body, "")
            details = body.get("details")
            message = message or (str(details) if details else "no reason given")
            if status == "Task not found":
                message = (f"BFL no longer knows task {handle.job_id} ({message}); results are kept only "
                           "briefly, so the job must be submitted again")
            raise ProviderError(f"BFL task {handle.job_id} ended with status {status}: {message}", **context)
        progress = body.get("progress")
        return Pending(handle, progress=_fraction(progress), status=status or None)

    def _images(self, response: WireResponse, body: Mapping[str, Any], handle: JobHandle) -> Images:
        result = body.get("result")
        result = result if isinstance(result, dict) else {}
        sample = result.get("sample")
        if not isinstance(sample, str) or not sample:
            raise ProviderError(f"BFL task {handle.job_id} is Ready but has no result.sample URL",
                                adapter=self.name, model=handle.model, status=response.status,
                                request_id=handle.job_id, body=body)
        revised = result.get("prompt")
        seed = result.get("seed")
        metadata = {key: value for key, value in result.items() if key not in ("sample", "prompt", "seed")}
        metadata["task_id"] = handle.job_id
        image = GeneratedImage(
            url=sample, revised_prompt=revised if isinstance(revised, str) and revised.strip()
            else str(handle.data.get("prompt") or ""),
            reported_size=handle.data.get("size"), seed=seed if isinstance(seed, int) else None,
            expires_at=response_time(response) + dt.timedelta(seconds=URL_TTL_SECONDS), metadata=metadata)
        cost = handle.data.get("cost_usd")
        return Images([image], request_id=handle.job_id, cost_usd=float(cost) if cost is not None else None)

    # -- errors -----------------------------------------------------------------------------------------
    def is_retryable(self, response: WireResponse) -> bool:
        """[BFL-SKILL error-handling]: 429 (too many concurrent tasks) and 500/502/503 retry with backoff."""
        if response.status == 429:
            return not isinstance(self.parse_error(response, None), QuotaExceededError)
        return response.status in (408, 500, 502, 503, 504)

    def parse_error(self, response: WireResponse, call: PreparedRequest | None) -> ProviderError:
        body = response.json()
        text, code = error_text(body, response.text.strip()[:300] or "no error text")
        hint = {401: " (check BFL_API_KEY)", 402: " (out of credits: top up at dashboard.bfl.ai)",
                429: " (BFL allows 24 concurrent tasks per key; lower the concurrency)"}
        message = f"BFL answered HTTP {response.status}: {text}{hint.get(response.status, '')}"
        model = call.model if call else None
        if response.status in (402, 429) and "credit" in text.lower():
            return QuotaExceededError(message, adapter=self.name, model=model, status=response.status,
                                      request_id=self.request_id(response), code=code, body=body)
        error = error_for_status(response, self.name, model, message=message, code=code, body=body)
        if isinstance(error, RateLimitError) and error.retry_after is None and isinstance(body, dict):
            hint_seconds = body.get("retry_after")  # the skill's body shape (UNCONFIRMED)
            if isinstance(hint_seconds, int | float):
                error.retry_after = float(hint_seconds)
        return error


def _fraction(value: Any) -> float | None:
    """BFL's progress as 0..1 (documented as 0–1 by Comfy's BFL proxy; a 0–100 value is scaled)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return max(0.0, min(1.0, value / 100 if value > 1 else float(value)))


def _moderation_reason(body: Mapping[str, Any]) -> str | None:
    """Reasons BFL attaches to a moderated task (``details`` e.g. ``{"Moderation Reasons": [...]}``)."""
    details = body.get("details")
    if not isinstance(details, dict):
        return None
    reasons: list[str] = []
    for value in details.values():
        if isinstance(value, list):
            reasons.extend(str(item) for item in value)
        elif isinstance(value, str):
            reasons.append(value)
    return ", ".join(reasons) or None
