"""fal.ai queue API (FLUX models): submit, poll ``status_url``, then GET ``response_url``.

Facts from providers.md §7 ([FAL-DOCS] docs.fal.ai model-endpoints/queue + queue.json; [FAL-PY] fal_client
``client.py``; fal model llms.txt pages):

- ``POST {base}/{model_id}`` with ``Authorization: Key <FAL_KEY>``; the answer carries ``request_id``,
  ``status_url``, ``response_url``, ``cancel_url`` (and ``queue_position`` in newer docs).
- Status and result live *without* the model's sub-path (``fal-ai/flux/dev`` → ``fal-ai/flux/requests/…``),
  so they are never rebuilt from the model id: the returned URLs are stored in the job handle.
- ``GET status_url``: IN_QUEUE (``queue_position``), IN_PROGRESS, COMPLETED. After COMPLETED the handle moves
  to its "result" stage and the core GETs ``response_url`` (a handle stage change, ``retry_after=0``).
- Sizes: ``image_size`` is an enum (square_hd, square, portrait_4_3, portrait_16_9, landscape_4_3,
  landscape_16_9) or ``{width, height}``. Decision: the adapter always sends ``{width, height}``, the exact
  size the policy chose, so no request depends on the enum's pixel meaning; a user who wants a preset passes
  ``provider_options={"fal": {"image_size": "landscape_16_9"}}`` (options are merged last).
- Moderation: with the safety checker on, ``has_nsfw_concepts[i]`` flags image i; flagged images are
  withheld (a ContentPolicyError each in ``Images.errors``); all flagged → ContentPolicyError. A refused
  input answers HTTP 422 ``{"detail": [{"type": "content_policy_violation", ...}]}`` (fal's error reference
  as quoted by third parties, UNCONFIRMED).
- Provider options: ``sync_mode``, ``enable_safety_checker``, ``num_inference_steps``, ``guidance_scale``,
  ``safety_tolerance`` (pro, a string "1"–"6"), ``enhance_prompt``, ``image_size``, ``acceleration``.
"""

from __future__ import annotations

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
from imgsdk.capabilities import Lifecycle, ModelCapabilities, SizeSpec
from imgsdk.errors import ContentPolicyError, ImgSDKError, ProviderError, QuotaExceededError
from imgsdk.request import PreparedRequest
from imgsdk.result import GeneratedImage

__all__ = ["MODELS", "SIZE", "FalAdapter"]

_SOURCE = "providers.md §7 [FAL-DOCS queue; FAL-PY client.py; fal.ai/models/*/llms.txt]"
_TRUSTED_HOSTS = ("fal.run", "falrun.com", "fal.ai")  # queue.fal.run, backup queue.falrun.com
_QUOTA_WORDS = ("exhausted balance", "insufficient balance", "billing", "locked")
# fal's shared ImageSize schema: 0 < width, height ≤ 14142 (fal OpenAPI copies). FLUX works on a 16-pixel
# grid, so sizes are snapped to multiples of 16 and the delivered size is the requested one (whether fal
# rounds other sizes itself is UNCONFIRMED). The 64 px floor is a sane minimum, not a documented one.
SIZE = SizeSpec(mode="free", sizes=("1024x1024", "1024x768", "768x1024", "1024x576", "576x1024", "512x512"),
                min_side=64, max_side=14142, multiple=16, max_pixels=14142 * 14142, default="1024x768")


def _model(model: str, *, max_images: int, usd_per_megapixel: float | None, price_source: str,
           **extra: Any) -> ModelCapabilities:
    return ModelCapabilities(
        model=model, family="flux", size=SIZE, max_images=max_images, seed=True,
        output_formats=("jpeg", "png"), output_format_default="jpeg", returns="url",
        url_ttl_seconds=None,  # CDN retention is UNCONFIRMED (providers.md §7): no expires_at is claimed
        protocol="poll", price_source=price_source, price_date="2026-11-22" if usd_per_megapixel else None,
        lifecycle=Lifecycle(status="active", source=_SOURCE),
        # Billed per megapixel, not per image: kept as data, not as a flat Price line.
        extra={"usd_per_megapixel": usd_per_megapixel, **extra})


_DEV_OPTIONS = ("num_inference_steps", "guidance_scale", "sync_mode", "enable_safety_checker", "acceleration")
MODELS: dict[str, ModelCapabilities] = {caps.model: caps for caps in (
    # num_images: default 1, max UNCONFIRMED ("commonly 4", providers.md §7; copies of fal's schema say
    # 1–4 for dev and schnell). The pro endpoint's maximum is not documented anywhere: 1 (fan-out instead).
    _model("fal-ai/flux/dev", max_images=4, usd_per_megapixel=0.025,
           price_source="fal-ai/flux-1/dev llms.txt ($0.025/MP); assumed the same for fal-ai/flux/dev",
           options=_DEV_OPTIONS),
    _model("fal-ai/flux-1/dev", max_images=4, usd_per_megapixel=0.025,
           price_source="fal.ai/models/fal-ai/flux-1/dev/llms.txt", options=_DEV_OPTIONS),
    _model("fal-ai/flux/schnell", max_images=4, usd_per_megapixel=0.003,
           price_source="UNCONFIRMED third-party ($0.003/MP)", options=_DEV_OPTIONS),
    _model("fal-ai/flux-pro/v1.1", max_images=1, usd_per_megapixel=None, price_source="UNCONFIRMED",
           options=("safety_tolerance", "enhance_prompt", "sync_mode", "enable_safety_checker")),
)}


def _detail(body: Any) -> tuple[str | None, list[dict[str, Any]]]:
    """fal's ``{"detail": str | [{loc, msg, type, ...}]}``: a message and the structured entries."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail, []
    if isinstance(detail, list):
        entries = [item for item in detail if isinstance(item, dict)]
        parts = []
        for item in entries:
            loc = [str(part) for part in item.get("loc", []) if part != "body"]
            parts.append(f"{'.'.join(loc)}: {item.get('msg')}" if loc else str(item.get("msg")))
        return "; ".join(parts) or None, entries
    return None, []


def _policy_entry(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((item for item in entries if item.get("type") == "content_policy_violation"), None)


class FalAdapter(Adapter):
    """fal.ai queue: submit, poll ``status_url``, fetch ``response_url`` (the core drives the polling)."""

    name: ClassVar[str] = "fal"
    label: ClassVar[str] = "fal.ai"
    default_base_url: ClassVar[str | None] = "https://queue.fal.run"  # backup: https://queue.falrun.com
    key_env: ClassVar[tuple[str, ...]] = ("FAL_KEY",)
    default_model: ClassVar[str | None] = "fal-ai/flux/dev"
    secret_headers: ClassVar[tuple[str, ...]] = ("authorization",)
    # The core strips credentials from any request outside base_url and these hosts (engine.keep_credentials_home).
    trusted_hosts: ClassVar[tuple[str, ...]] = _TRUSTED_HOSTS
    # A submit is paid: re-sent only on 408/409/429 (never accepted). The ingress-only 502/503/504 rule
    # needs the body, which this set cannot express, so it applies to GETs (is_retryable). Declaring the set
    # also stops the engine from re-sending a POST after a connection broke mid-request.
    post_retry_statuses: ClassVar[frozenset[int] | None] = frozenset({408, 409, 429})

    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        return MODELS

    def request_id(self, response: WireResponse) -> str | None:
        return response.header("x-fal-request-id") or super().request_id(response)

    # -- requests ---------------------------------------------------------------------------------------
    def _headers(self, endpoint: Endpoint, url: str | None = None) -> dict[str, str]:
        if endpoint.api_key is None:
            return {}
        return {"Authorization": f"Key {endpoint.api_key.get()}"}

    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        body: dict[str, Any] = {"prompt": call.prompt}
        if call.width is not None and call.height is not None:
            body["image_size"] = {"width": call.width, "height": call.height}
        if call.n != 1:
            body["num_images"] = call.n
        if call.seed is not None:
            body["seed"] = call.seed
        if call.output_format is not None:
            body["output_format"] = call.output_format
        body.update(call.options)  # the user's explicit escape hatch, last
        return WireRequest("POST", f"{endpoint.base_url}/{call.model}", headers=self._headers(endpoint),
                           json=body)

    def poll_request(self, handle: JobHandle, endpoint: Endpoint) -> WireRequest:
        key = "response_url" if handle.data.get("stage") == "result" else "status_url"
        url = str(handle.data[key])
        return WireRequest("GET", url, headers=self._headers(endpoint, url))

    def cancel_request(self, handle: JobHandle, endpoint: Endpoint) -> WireRequest | None:
        """``PUT …/requests/{id}/cancel`` (only effective before the job starts) [FAL-DOCS]."""
        url = handle.data.get("cancel_url")
        status_url = str(handle.data.get("status_url") or "")
        if not url and status_url.endswith("/status"):
            url = status_url.removesuffix("/status") + "/cancel"
        return WireRequest("PUT", str(url), headers=self._headers(endpoint, str(url))) if url else None

    # -- responses --------------------------------------------------------------------------------------
    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Images | Pending:
        body = response.json()
        data: dict[str, Any] = {"prompt": call.prompt, "n": call.n,
                                "size": f"{call.width}x{call.height}" if call.width and call.height else None}
        if isinstance(body, dict) and isinstance(body.get("images"), list):  # the sync host (fal.run)
            request_id = self.request_id(response) or ""
            return self._images(response, body, JobHandle(self.name, call.model, request_id, data))
        if not isinstance(body, dict) or not body.get("request_id") or not body.get("status_url"):
            raise ProviderError(
                "fal accepted the request but sent no request_id/status_url, and status URLs cannot be "
                "derived from the model id (sub-path rule)", adapter=self.name, model=call.model,
                status=response.status, request_id=self.request_id(response), body=body)
        data.update(stage="status", status_url=body["status_url"], response_url=body.get("response_url"),
                    cancel_url=body.get("cancel_url"))
        handle = JobHandle(self.name, call.model, str(body["request_id"]), data)
        position = body.get("queue_position")
        return Pending(handle, queue_position=position if isinstance(position, int) else None,
                       status=str(body.get("status") or "IN_QUEUE"))

    def parse_poll(self, response: WireResponse, handle: JobHandle, call: PreparedRequest | None
                   ) -> Images | Pending:
        body = response.json()
        body = body if isinstance(body, dict) else {}
        if handle.data.get("stage") == "result":
            return self._images(response, body, handle)
        status = str(body.get("status") or "")
        context: dict[str, Any] = dict(adapter=self.name, model=handle.model, status=response.status,
                                       request_id=handle.job_id, code=status or None, body=body)
        if status == "COMPLETED":
            error = body.get("error")  # newer status bodies may carry the failure (UNCONFIRMED)
            if error:
                error_type = body.get("error_type")
                if error_type == "content_policy_violation":
                    raise ContentPolicyError(f"fal refused request {handle.job_id}: {error}", stage=None,
                                             reason=str(error_type), **context)
                raise ProviderError(f"fal request {handle.job_id} failed: {error}", **context)
            response_url = handle.data.get("response_url") or body.get("response_url")
            result = JobHandle(handle.adapter, handle.model, handle.job_id,
                               {**handle.data, "stage": "result", "response_url": response_url})
            return Pending(result, retry_after=0, status=status)
        if status in ("FAILED", "ERROR", "CANCELED", "CANCELLED"):  # third-party schemas only (UNCONFIRMED)
            detail = body.get("error") or body.get("detail") or "no reason given"
            raise ProviderError(f"fal request {handle.job_id} ended {status}: {detail}", **context)
        position = body.get("queue_position")
        return Pending(handle, queue_position=position if isinstance(position, int) else None,
                       status=status or None)  # IN_QUEUE, IN_PROGRESS, or a status unknown today

    def _images(self, response: WireResponse, body: Mapping[str, Any], handle: JobHandle) -> Images:
        context: dict[str, Any] = dict(adapter=self.name, model=handle.model, status=response.status,
                                       request_id=handle.job_id or self.request_id(response), body=None)
        raw = body.get("images")
        entries = [item for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []
        flags = body.get("has_nsfw_concepts")
        flags = flags if isinstance(flags, list) else []
        revised = body.get("prompt")  # fal echoes the prompt used (enhance_prompt may have rewritten it)
        sent = str(handle.data.get("prompt") or "")
        prompt = revised if isinstance(revised, str) and revised.strip() else sent
        seed = body.get("seed")
        images: list[GeneratedImage] = []
        errors: list[ProviderError] = []
        for index, entry in enumerate(entries):
            if index < len(flags) and flags[index] is True:
                errors.append(ContentPolicyError(
                    f"fal's safety checker flagged image {index + 1} of {len(entries)}: it was withheld "
                    "(change the prompt or seed; enable_safety_checker is a provider option)",
                    stage="output", reason="has_nsfw_concepts", **context))
                continue
            url = entry.get("url")
            if not isinstance(url, str) or not url:
                continue
            width, height = entry.get("width"), entry.get("height")
            fields: dict[str, Any] = dict(
                reported_size=f"{width}x{height}" if isinstance(width, int) and isinstance(height, int)
                else handle.data.get("size"),
                seed=seed if isinstance(seed, int) and len(entries) == 1 else None,
                metadata={"request_id": handle.job_id, "batch_seed": seed, "timings": body.get("timings")})
            content_type = entry.get("content_type") if isinstance(entry.get("content_type"), str) else None
            if url.startswith("data:"):  # sync_mode: the image comes inline, not from the CDN
                data, inline_type = media.decode_data_url(url)
                images.append(GeneratedImage.from_bytes(data, prompt, media_type=inline_type or content_type,
                                                        **fields))
            else:
                images.append(GeneratedImage(url=url, revised_prompt=prompt, media_type=content_type,
                                             **fields))
        if not images:
            if errors:
                first = errors[0]
                raise ContentPolicyError(
                    f"fal's safety checker withheld every image ({len(errors)}) of request {handle.job_id}; "
                    "change the prompt or seed", stage="output", reason="has_nsfw_concepts",
                    **{**context, "body": dict(body)}) from first
            raise ProviderError(f"fal request {handle.job_id} finished without an image",
                                **{**context, "body": dict(body)})
        return Images(images, request_id=handle.job_id or None, errors=errors)

    # -- errors -----------------------------------------------------------------------------------------
    def is_retryable(self, response: WireResponse) -> bool:
        """[FAL-PY]: 408, 409, 429; 502/503/504 only from the ingress (no ``x-fal-request-id`` and "nginx" in
        the body); never a 504 the user's own timeout caused (header name UNCONFIRMED)."""
        if response.status in (408, 409, 429):
            return True
        if response.status in (502, 503, 504):
            if (response.header("x-fal-request-timeout-type") or "").lower() == "user":
                return False
            return response.header("x-fal-request-id") is None and "nginx" in response.text.lower()
        return False

    def parse_error(self, response: WireResponse, call: PreparedRequest | None) -> ProviderError:
        body = response.json()
        text, entries = _detail(body)
        text = text or response.text.strip()[:300] or "no error text"
        model = call.model if call else None
        context: dict[str, Any] = dict(adapter=self.name, model=model, status=response.status,
                                       request_id=self.request_id(response), body=body)
        policy = _policy_entry(entries)
        if policy is not None:
            loc = policy.get("loc")
            categories = policy.get("categories")
            reason = ", ".join(map(str, categories)) if isinstance(categories, list) and categories else None
            raise_stage = "input" if isinstance(loc, list) and loc[:1] == ["body"] else None
            return ContentPolicyError(
                f"fal's content checker refused the request: {text} (change the flagged input; retrying "
                "unchanged will not help)", stage=raise_stage, reason=reason or "content_policy_violation",
                code="content_policy_violation", **context)
        if response.status in (402, 403) and any(word in text.lower() for word in _QUOTA_WORDS):
            return QuotaExceededError(f"fal refused the request: {text} (top up at fal.ai/dashboard/billing)",
                                      **context)
        hint = " (check FAL_KEY)" if response.status == 401 else ""
        code = str(entries[0].get("type")) if entries and entries[0].get("type") else None
        error = error_for_status(response, self.name, model, message=f"fal answered HTTP {response.status}: "
                                 f"{text}{hint}", code=code, body=body)
        if error.request_id is None and context["request_id"]:  # error_for_status ignores x-fal-request-id
            error.request_id = context["request_id"]
            ImgSDKError.__init__(error, error._format())
        return error
