"""``fake:`` — a deterministic offline provider for your unit tests, registered like any adapter.

::

    result = client.generate("a fox", provider="fake:fake-square", size="1792x1024", quality="hd")
    assert result.size == "1792x1024"
    fake = imgsdk.testing.fake.fake_adapter()      # or the plugin's ``imgsdk_fake`` fixture
    assert fake.calls[-1].quality == "hd"           # what the provider was asked, after the policy engine

It goes through the real policy engine, engine and result code; only the "server" is in process
(:meth:`FakeAdapter.serve`, the hook the local renderer uses), so no HTTP, no key and no cassette are needed.

Models, declared like a real provider's, so warnings and strict-mode refusals are the real ones:

- ``fake-square`` (default): fixed sizes 1024x1024, 1792x1024, 1024x1792; quality standard/hd; style
  vivid/natural; one image per call (DALL·E 3's shape).
- ``fake-ratio``: aspect ratios 1:1, 16:9, 9:16, 4:3, 3:4 at 1K or 2K (the long side: 1024 or 2048 px); n ≤ 4;
  seed; negative prompt; png, jpeg, webp.
- ``fake-poll``: free sizes 64–2048 px in multiples of 64; n ≤ 4; seed; answers with a job that is polled
  (``protocol="poll"``) until done — two pending answers by default.
- ``fake-retired``: shut down (replacement ``fake-square``), to test ``ModelRetiredError`` handling.

Images are solid-colour PNGs (or JPEG/WebP) of the size asked for, their colour a hash of model, prompt, size,
quality, style, seed and index: the same request gives the same bytes, any change gives other bytes.

Failures are scripted per test with :class:`FakeScript` (``fake.script.fail("rate_limit")``: consumed one per
request, in order) or per call with ``provider_options={"fake": {"fail": "moderation"}}`` (every such call):
``rate_limit`` (429 with a Retry-After, which the engine waits out, or without one with
``retry_after=None``, which spends its retries), ``quota`` (402), ``moderation`` (the prompt refused),
``moderation_output`` (the image withheld), ``timeout`` (the job outlives any deadline: ProviderTimeoutError,
with a cancel request), ``server_error`` (503, retried) and ``auth`` (401). Other provider options: ``polls``
(pending answers before a fake-poll job is done) and ``revised_prompt``.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

from imgsdk.adapter import Adapter, Endpoint, Images, JobHandle, Pending, WireRequest, WireResponse, error_for_status
from imgsdk.capabilities import Lifecycle, ModelCapabilities, Price, SizeSpec
from imgsdk.errors import (
    AuthenticationError,
    ContentPolicyError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    ServiceUnavailableError,
)
from imgsdk.request import PreparedRequest
from imgsdk.result import GeneratedImage

from .fake_script import FAILURES, REQUEST_FIELDS, FakeCall, FakeScript, render

__all__ = ["FAILURES", "MODELS", "FakeAdapter", "FakeCall", "FakeScript", "fake_adapter"]

BASE_URL = "fake://imgsdk"
_FREE = "imgsdk.testing: a fake provider, no charge"
_SOURCE = "imgsdk.testing.fake (declared for tests)"
_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4")


def _model(model: str, size: SizeSpec, **fields: Any) -> ModelCapabilities:
    base: dict[str, Any] = dict(returns="base64", prices=(Price(0.0),), price_source=_FREE, price_date="2026-11-29",
                                lifecycle=Lifecycle(status="active", source=_SOURCE))
    base.update(fields)
    return ModelCapabilities(model=model, family="fake", size=size, **base)


MODELS: Mapping[str, ModelCapabilities] = {caps.model: caps for caps in (
    _model("fake-square", SizeSpec(mode="fixed", sizes=("1024x1024", "1792x1024", "1024x1792"), default="1024x1024"),
           qualities=("standard", "hd"), quality_default="standard", styles=("vivid", "natural"),
           style_default="vivid", max_images=1, prompt_max_chars=4000),
    _model("fake-ratio", SizeSpec(mode="aspect_ratio", aspect_ratios=_RATIOS, resolutions=("1K", "2K"), default="1:1"),
           max_images=4, seed=True, negative_prompt=True, output_formats=("png", "jpeg", "webp")),
    _model("fake-poll", SizeSpec(mode="free", sizes=("1024x1024",), min_side=64, max_side=2048, multiple=64,
                                 default="1024x1024"),
           max_images=4, seed=True, protocol="poll"),
    _model("fake-retired", SizeSpec(mode="fixed", sizes=("1024x1024",), default="1024x1024"),
           lifecycle=Lifecycle(status="retired", shutdown_on="2026-01-01", replacement="fake-square",
                               note="a fake shutdown, to test ModelRetiredError", source=_SOURCE)),
)}


def _json(status: int, body: Any, **headers: str) -> WireResponse:
    return WireResponse(status, {"content-type": "application/json", **headers}, json.dumps(body).encode())


class FakeAdapter(Adapter):
    """The ``fake:`` provider (see the module docstring). ``calls`` records every request, ``script`` scripts."""

    name: ClassVar[str] = "fake"
    label: ClassVar[str] = "Fake provider (imgsdk.testing)"
    default_base_url: ClassVar[str | None] = BASE_URL
    key_required: ClassVar[bool] = False
    default_model: ClassVar[str | None] = "fake-square"
    secret_headers: ClassVar[tuple[str, ...]] = ("authorization",)

    def __init__(self) -> None:
        self.calls: list[FakeCall] = []
        self.cancelled: list[str] = []
        self.script = FakeScript()
        self._jobs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget every call and job; a fresh script."""
        with self._lock:
            self.calls.clear()
            self.cancelled.clear()
            self._jobs.clear()
            self.script = FakeScript()

    # -- declarations -------------------------------------------------------------------------------
    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        return MODELS

    # -- translation ----------------------------------------------------------------------------------
    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        body: dict[str, Any] = {"model": call.model, "prompt": call.prompt, "n": call.n,
                                **{name: getattr(call, name) for name in REQUEST_FIELDS}, "options": dict(call.options)}
        headers = {"authorization": f"Bearer {endpoint.api_key.get()}"} if endpoint.api_key else {}
        return WireRequest("POST", f"{endpoint.base_url}/v1/images", headers=headers, json=body)

    def poll_request(self, handle: JobHandle, endpoint: Endpoint) -> WireRequest:
        return WireRequest("GET", f"{endpoint.base_url}/v1/jobs/{handle.job_id}")

    def cancel_request(self, handle: JobHandle, endpoint: Endpoint) -> WireRequest:
        return WireRequest("DELETE", f"{endpoint.base_url}/v1/jobs/{handle.job_id}")

    # -- the in-process server ------------------------------------------------------------------------
    def serve(self, request: WireRequest) -> WireResponse | None:
        if not request.url.startswith(BASE_URL):
            return None
        path = request.url[len(BASE_URL):]
        with self._lock:
            if request.method == "POST" and path == "/v1/images":
                return self._submit(request.json)
            job_id = path.rsplit("/", 1)[-1]
            if request.method == "DELETE":
                self.cancelled.append(job_id)
                return _json(200, {"job": job_id, "status": "cancelled"})
            return self._poll(job_id)

    def _failure(self, body: Mapping[str, Any]) -> tuple[str, float | None] | None:
        option = (body.get("options") or {}).get("fail")
        if option is not None:
            if option not in FAILURES:
                return ("unknown:" + str(option), 0.0)
            return (str(option), 1.0)
        return self.script.failures.popleft() if self.script.failures else None

    def _submit(self, body: Mapping[str, Any]) -> WireResponse:
        failure = self._failure(body)
        kind = failure[0] if failure else None
        known = {key: body.get(key) for key in REQUEST_FIELDS}
        call = FakeCall(model=body["model"], prompt=body["prompt"], n=body["n"], options=body.get("options") or {},
                        outcome=kind or ("pending" if MODELS.get(body["model"], MODELS["fake-square"]).protocol
                                         == "poll" else "ok"), **known)
        self.calls.append(call)
        if kind is not None and kind.startswith("unknown:"):
            return _json(400, {"error": {"type": "invalid", "message": f"unknown fake failure {kind[8:]!r}: use "
                                         f"one of {', '.join(FAILURES)}"}})
        if kind in ("rate_limit", "quota", "moderation", "server_error", "auth"):
            status = {"rate_limit": 429, "quota": 402, "moderation": 400, "server_error": 503, "auth": 401}[kind]
            pause = failure[1] if failure else None
            extra = {"retry-after": f"{pause:g}"} if kind == "rate_limit" and pause is not None else {}
            return _json(status, {"error": {"type": kind, "message": f"scripted {kind}"}}, **extra)
        job = f"job-{len(self.calls)}"
        polls = int((body.get("options") or {}).get("polls", self.script.polls))
        self._jobs[job] = {"body": dict(body), "remaining": polls, "failure": kind}
        if kind == "timeout":
            return _json(202, {"status": "stalled", "job": job})
        if call.outcome == "pending":
            return _json(202, {"status": "queued", "job": job, "remaining": polls})
        return self._done(job)

    def _poll(self, job_id: str) -> WireResponse:
        job = self._jobs.get(job_id)
        if job is None:
            return _json(404, {"error": {"type": "not_found", "message": f"no fake job {job_id}"}})
        if job["failure"] == "timeout":
            return _json(200, {"status": "stalled", "job": job_id})
        if job["remaining"] > 0:
            job["remaining"] -= 1
            return _json(200, {"status": "running", "job": job_id, "remaining": job["remaining"] + 1})
        return self._done(job_id)

    def _done(self, job_id: str) -> WireResponse:
        job = self._jobs[job_id]
        if job["failure"] == "moderation_output":
            return _json(200, {"status": "moderated", "job": job_id})
        body = job["body"]
        revised = (body.get("options") or {}).get("revised_prompt") or body["prompt"]
        images = [{"b64": base64.b64encode(render(body, index)).decode("ascii"),
                   "seed": None if body.get("seed") is None else body["seed"] + index}
                  for index in range(body["n"])]
        return _json(200, {"status": "done", "job": job_id, "revised_prompt": revised, "images": images})

    # -- answers ----------------------------------------------------------------------------------------
    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Images | Pending:
        return self._outcome(response, call.model, call.prompt)

    def parse_poll(self, response: WireResponse, handle: JobHandle, call: PreparedRequest | None
                   ) -> Images | Pending:
        return self._outcome(response, handle.model, call.prompt if call else "")

    def _outcome(self, response: WireResponse, model: str, prompt: str) -> Images | Pending:
        body = response.json() or {}
        status = body.get("status")
        handle = JobHandle(self.name, model, str(body.get("job", "")), {"prompt": prompt})
        if status == "stalled":  # come back later than any deadline: the engine times out and cancels
            return Pending(handle, retry_after=float("inf"), status="stalled")
        if status in ("queued", "running"):
            return Pending(handle, status=status)
        if status == "moderated":
            raise ContentPolicyError("the fake provider withheld the image (scripted moderation_output)",
                                     stage="output", reason="scripted", adapter=self.name, model=model,
                                     status=response.status, code="moderation_output")
        revised = str(body.get("revised_prompt") or prompt)
        images = [GeneratedImage.from_bytes(base64.b64decode(item["b64"]), revised, seed=item.get("seed"),
                                            metadata={"fake": True}) for item in body.get("images") or []]
        return Images(images, request_id=handle.job_id or None, cost_usd=0.0)

    def parse_error(self, response: WireResponse, call: PreparedRequest | None) -> ProviderError:
        error = (response.json() or {}).get("error") or {}
        kind, message = error.get("type"), f"fake provider: {error.get('message') or response.status}"
        context: dict[str, Any] = dict(adapter=self.name, model=call.model if call else None,
                                       status=response.status, code=kind)
        if kind == "rate_limit":
            header = response.header("retry-after")
            return RateLimitError(message, retry_after=float(header) if header else None, **context)
        if kind == "quota":
            return QuotaExceededError(message, **context)
        if kind == "moderation":
            return ContentPolicyError(message, stage="input", reason="scripted", **context)
        if kind == "auth":
            return AuthenticationError(message, **context)
        if kind == "server_error":
            return ServiceUnavailableError(message, **context)
        return error_for_status(response, self.name, context["model"], message=message, code=kind)


def fake_adapter() -> FakeAdapter:
    """The ``fake:`` adapter instance the clients use (the registry keeps one per process)."""
    from imgsdk.registry import adapter_names, get_adapter, register

    if "fake" not in adapter_names():  # installed without its entry point: register it at run time
        register(FakeAdapter)
    adapter = get_adapter("fake")
    if not isinstance(adapter, FakeAdapter):  # pragma: no cover - another package registered "fake"
        raise TypeError(f"the adapter named 'fake' is {type(adapter).__name__}, not imgsdk's FakeAdapter")
    return adapter
