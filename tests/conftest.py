"""Shared fixtures: a clean environment for every test, and a scriptable fake provider for the core.

``clean_environment`` (autouse) removes every provider key and imgsdk variable, moves into ``tmp_path`` and
points ``XDG_CONFIG_HOME`` at an empty directory, so no real key or config file can leak into a test.

The fake provider is a test-only :class:`imgsdk.Adapter` (``fake-test``) registered at run time. It speaks a
tiny JSON protocol over ``http://fake.test`` and is driven through the real client with an
``httpx2.MockTransport`` whose answers each test scripts (:class:`FakeServer`). Waits go to
:class:`FakeTime`, whose clock advances by exactly what was slept, so nothing ever really sleeps.
"""

from __future__ import annotations

import base64
import inspect
import io
import json
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx2
import pytest

import imgsdk
import imgsdk.planning
from imgsdk.adapter import Adapter, Endpoint, Images, JobHandle, Pending, WireRequest, WireResponse, error_for_status
from imgsdk.capabilities import Lifecycle, ModelCapabilities, Price, SizeSpec
from imgsdk.errors import ContentPolicyError, ProviderError, QuotaExceededError
from imgsdk.registry import register
from imgsdk.request import PreparedRequest
from imgsdk.result import GeneratedImage

PROVIDER_KEY_VARS = (
    "OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "STABILITY_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY",
    "XAI_API_KEY", "TOGETHER_API_KEY", "BFL_API_KEY", "REPLICATE_API_TOKEN", "REPLICATE_API_KEY", "FAL_KEY",
    "OPENAI_COMPATIBLE_API_KEY",
)
IMGSDK_VARS = ("IMGSDK_CONFIG", "IMGSDK_PROVIDER")
FAKE_KEY_VAR = "FAKE_TEST_API_KEY"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No provider key, no imgsdk variable, no config file: every test starts from a fresh machine."""
    for name in (*PROVIDER_KEY_VARS, *IMGSDK_VARS, FAKE_KEY_VAR):
        monkeypatch.delenv(name, raising=False)
    xdg = tmp_path / "xdg-config-home"
    xdg.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.chdir(tmp_path)
    # Module-level caches that would carry one test's choices into the next.
    monkeypatch.setattr(imgsdk, "_default_clients", {}, raising=False)
    monkeypatch.setattr(imgsdk.planning, "_notices", set(), raising=False)


# -- image bytes ----------------------------------------------------------------------------------------------

def png_bytes(width: int = 8, height: int = 8, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes(width: int = 8, height: int = 8) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


# -- the fake adapter -----------------------------------------------------------------------------------------

FAKE_BASE = "http://fake.test"

SYNC_MODEL = ModelCapabilities(
    model="sync-model", family="fake",
    size=SizeSpec(mode="fixed", sizes=("1024x1024", "1792x1024", "1024x1792"), default="1024x1024"),
    qualities=("low", "medium", "high"), quality_default="medium",
    quality_aliases={"hd": "high", "standard": "medium"},
    styles=("vivid", "natural"), style_default="vivid",
    max_images=2, seed=True, seed_range=(0, 2**31 - 1),
    output_formats=("png", "jpeg"), output_format_default="png",
    prompt_max_chars=200, returns="base64", protocol="sync",
    prices=(Price(usd=0.04, quality="medium", size="1024x1024"), Price(usd=0.08)),
)
POLL_MODEL = ModelCapabilities(
    model="poll-model", family="fake",
    size=SizeSpec(mode="free", min_side=64, max_side=2048, multiple=8, default="1024x1024"),
    max_images=1, seed=True, returns="url", url_ttl_seconds=600, protocol="poll",
)
RETIRED_MODEL = ModelCapabilities(
    model="old-model", family="fake", size=SizeSpec(mode="fixed", sizes=("512x512",)),
    lifecycle=Lifecycle(status="deprecated", deprecated_on="2019-06-01", shutdown_on="2020-01-01",
                        replacement="sync-model"),
)

AGING_MODEL = ModelCapabilities(
    model="aging-model", family="fake", size=SizeSpec(mode="fixed", sizes=("1024x1024",), default="1024x1024"),
    lifecycle=Lifecycle(status="deprecated", deprecated_on="2026-01-01", shutdown_on="2099-01-01",
                        replacement="sync-model"),
)


class FakeAdapter(Adapter):
    """A tiny JSON provider at http://fake.test, for driving the core end to end."""

    name = "fake-test"
    label = "Fake test provider"
    default_base_url = FAKE_BASE
    key_env = (FAKE_KEY_VAR,)
    key_required = False
    default_model = "sync-model"

    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        return {"sync-model": SYNC_MODEL, "poll-model": POLL_MODEL, "old-model": RETIRED_MODEL,
                "aging-model": AGING_MODEL}

    def non_image_model(self, model: str) -> bool:
        return model.startswith("chat-")

    def _headers(self, endpoint: Endpoint) -> dict[str, str]:
        return {"authorization": f"Bearer {endpoint.api_key.get()}"} if endpoint.api_key else {}

    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        body: dict[str, Any] = {"model": call.model, "prompt": call.prompt, "n": call.n}
        for name in ("size", "aspect_ratio", "quality", "style", "seed", "negative_prompt", "output_format",
                     "background", "user"):
            value = getattr(call, name)
            if value is not None:
                body[name] = value
        body.update(call.options)
        path = "/v1/jobs" if call.capabilities.protocol == "poll" else "/v1/images"
        return WireRequest("POST", f"{endpoint.base_url}{path}", headers=self._headers(endpoint), json=body)

    def _images(self, body: Mapping[str, Any], prompt: str, response: WireResponse) -> Images:
        images = []
        for item in body["data"]:
            revised = item.get("revised_prompt") or prompt
            if "b64" in item:
                images.append(GeneratedImage.from_bytes(base64.b64decode(item["b64"]), revised,
                                                        seed=item.get("seed")))
            else:
                images.append(GeneratedImage(url=item["url"], revised_prompt=revised,
                                             reported_size=item.get("size"), seed=item.get("seed")))
        return Images(images, request_id=self.request_id(response), usage=body.get("usage"))

    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Images | Pending:
        body = response.json()
        if call.capabilities.protocol == "poll":
            handle = JobHandle(self.name, call.model, body["id"], {"prompt": call.prompt})
            return Pending(handle, retry_after=body.get("retry_after"), status=body.get("status"))
        return self._images(body, call.prompt, response)

    def poll_request(self, handle: JobHandle, endpoint: Endpoint) -> WireRequest:
        return WireRequest("GET", f"{endpoint.base_url}/v1/jobs/{handle.job_id}", headers=self._headers(endpoint))

    def parse_poll(self, response: WireResponse, handle: JobHandle, call: PreparedRequest | None,
                   ) -> Images | Pending:
        body = response.json()
        status = body.get("status")
        prompt = call.prompt if call is not None else str(handle.data.get("prompt", ""))
        if status == "done":
            return self._images(body, prompt, response)
        if status == "moderated":
            raise ContentPolicyError(f"the image was withheld by moderation: {body.get('reason')}", stage="output",
                                     reason=body.get("reason"), adapter=self.name, model=handle.model,
                                     status=response.status, request_id=self.request_id(response), body=body)
        return Pending(handle, retry_after=body.get("retry_after"), status=status, progress=body.get("progress"))

    def cancel_request(self, handle: JobHandle, endpoint: Endpoint) -> WireRequest:
        return WireRequest("DELETE", f"{endpoint.base_url}/v1/jobs/{handle.job_id}",
                           headers=self._headers(endpoint))

    def parse_error(self, response: WireResponse, call: PreparedRequest | None) -> ProviderError:
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return super().parse_error(response, call)
        model = call.model if call is not None else None
        message, code = str(error.get("message", "")), error.get("code")
        if code == "insufficient_quota":
            return QuotaExceededError(message, adapter=self.name, model=model, status=response.status,
                                      request_id=self.request_id(response), code=code, body=body)
        return error_for_status(response, self.name, model, message=message, code=code, body=body,
                                request_id=self.request_id(response))


register(FakeAdapter)

FAKE_CONFIG: dict[str, Any] = {
    "default": "fake",
    "providers": {"fake": {"model": "fake-test:sync-model"}, "poller": {"model": "fake-test:poll-model"}},
}


# -- the scripted server --------------------------------------------------------------------------------------

Answer = Callable[[httpx2.Request], httpx2.Response]


def reply(status: int = 200, body: Any = None, headers: Mapping[str, str] | None = None) -> Answer:
    """An answer: ``status`` with a JSON ``body`` (a fresh Response each time it is used)."""
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, json=body if body is not None else {}, headers=dict(headers or {}))
    return answer


def error_reply(status: int, message: str = "boom", code: str | None = None,
                headers: Mapping[str, str] | None = None) -> Answer:
    """An error answer in the fake provider's format ``{"error": {"message", "code"}}``."""
    return reply(status, {"error": {"message": message, "code": code}}, headers)


def raising(factory: Callable[[httpx2.Request], Exception]) -> Answer:
    """An answer that fails at the transport level (the handler raises)."""
    def answer(request: httpx2.Request) -> httpx2.Response:
        raise factory(request)
    return answer


def images_reply(revised_prompt: str | None = None, headers: Mapping[str, str] | None = None,
                 usage: Mapping[str, Any] | None = None) -> Answer:
    """200 with ``n`` PNG images, seeds ``seed, seed+1...`` (from the request body)."""
    def answer(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        seed = body.get("seed")
        data = [{"b64": base64.b64encode(png_bytes()).decode(), "revised_prompt": revised_prompt,
                 "seed": None if seed is None else seed + i} for i in range(body.get("n", 1))]
        payload: dict[str, Any] = {"data": data}
        if usage is not None:
            payload["usage"] = dict(usage)
        return httpx2.Response(200, json=payload, headers=dict(headers or {"x-request-id": "req-ok"}))
    return answer


def job_done_reply(image: bytes | None = None, url: str | None = None) -> Answer:
    def answer(request: httpx2.Request) -> httpx2.Response:
        item: dict[str, Any] = ({"url": url, "size": "8x8"} if url else
                                {"b64": base64.b64encode(image or png_bytes()).decode()})
        return httpx2.Response(200, json={"status": "done", "data": [item]})
    return answer


class FakeServer:
    """The handler behind ``httpx2.MockTransport``: per-route answers in order, the last one repeating.

    Every request is recorded (``requests``); an unscripted route fails the test loudly.
    """

    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []
        self._routes: dict[tuple[str, str], list[Answer]] = {}
        self._lock = threading.Lock()

    def on(self, method: str, path: str, *answers: Answer) -> FakeServer:
        assert answers, "script at least one answer"
        self._routes[(method.upper(), path)] = list(answers)
        return self

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        with self._lock:
            self.requests.append(request)
            answers = self._routes.get((request.method, request.url.path))
            if not answers:
                raise AssertionError(f"unscripted request {request.method} {request.url}")
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(request)

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self)

    def sent(self, method: str | None = None, path: str | None = None) -> list[httpx2.Request]:
        return [r for r in self.requests
                if (method is None or r.method == method) and (path is None or r.url.path == path)]

    def count(self, method: str | None = None, path: str | None = None) -> int:
        return len(self.sent(method, path))

    def bodies(self, method: str = "POST", path: str | None = None) -> list[Any]:
        return [json.loads(r.content) for r in self.sent(method, path)]


class FakeTime:
    """Injected waits and clock: sleeping records the seconds and advances the clock by exactly that much."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


class Harness:
    """One client (sync or async) wired to the fake server and fake time; ``await`` works for both kinds."""

    def __init__(self, kind: str, server: FakeServer, time: FakeTime) -> None:
        self.kind, self.server, self.time = kind, server, time
        self.client: Any = None

    def build(self, config: Any = None, **options: Any) -> Any:
        cls = imgsdk.Client if self.kind == "sync" else imgsdk.AsyncClient
        sleep = self.time.sleep if self.kind == "sync" else self.time.asleep
        self.client = cls(FAKE_CONFIG if config is None else config, transport=self.server.transport(),
                          sleep=sleep, clock=self.time.clock, **options)
        return self.client

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        client = self.client if self.client is not None else self.build()
        result = getattr(client, name)(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    async def generate(self, prompt: str = "a red fox in snow", **options: Any) -> Any:
        return await self._call("generate", prompt, **options)

    async def resume(self, handle: Any, **options: Any) -> Any:
        return await self._call("resume", handle, **options)

    async def fetch(self, url: str) -> Any:
        return await self._call("fetch", url)

    async def close(self) -> None:
        if self.client is None:
            return
        if self.kind == "sync":
            self.client.close()
        else:
            await self.client.aclose()


@pytest.fixture
def fake() -> FakeServer:
    return FakeServer()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture(params=["sync", "async"])
async def harness(request: pytest.FixtureRequest, fake: FakeServer, fake_time: FakeTime,
                  ) -> AsyncIterator[Harness]:
    """A sync and an async client over the fake provider (tests using it run twice)."""
    h = Harness(request.param, fake, fake_time)
    yield h
    await h.close()


@pytest.fixture
async def sync_harness(fake: FakeServer, fake_time: FakeTime) -> AsyncIterator[Harness]:
    h = Harness("sync", fake, fake_time)
    yield h
    await h.close()
