"""A tiny test adapter (``delivery-fake:one``, one image per call) and a scriptable MockTransport for it.

Each call is ``POST https://fake.delivery/gen`` with ``{"prompt", "seed", "n"}``; the test decides each answer
from the request (by seed), so fan-out, partial failures and limits are observable at the "server"."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Callable
from typing import Any

import httpx2

from delivery.support import png_bytes
from imgsdk.adapter import Adapter, Endpoint, Images, WireRequest, WireResponse
from imgsdk.capabilities import ModelCapabilities, Price, SizeSpec
from imgsdk.registry import register
from imgsdk.request import PreparedRequest, RequestWarning
from imgsdk.result import GeneratedImage

BASE = "https://fake.delivery"
CAPS = ModelCapabilities(model="one", size=SizeSpec(mode="fixed", sizes=("64x64",), default="64x64"), max_images=1,
                         seed=True, styles=("vivid",), returns="base64", prices=(Price(0.01),),
                         price_date="2026-11-29")
PROVIDER_NOTE = RequestWarning("provider", "prompt", None, None, "the provider shortened the prompt")


@register
class DeliveryFake(Adapter):
    name = "delivery-fake"
    label = "Delivery fake"
    default_base_url = BASE
    key_required = False
    default_model = "one"

    def catalogue(self) -> dict[str, ModelCapabilities]:
        return {"one": CAPS}

    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        return WireRequest("POST", f"{endpoint.base_url}/gen", json={"prompt": call.prompt, "seed": call.seed,
                                                                     "n": call.n, "style": call.style})

    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Images:
        body = response.json()
        image = GeneratedImage.from_bytes(base64.b64decode(body["b64"]), call.prompt, seed=call.seed)
        return Images([image], request_id=body.get("id"), warnings=[PROVIDER_NOTE] if body.get("note") else [])


Answer = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


def ok(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, {"b64": base64.b64encode(png_bytes(4, 4)).decode(), "note": True, "id": f"req-{body['seed']}"}


class FakeServer:
    """Counts requests and in-flight calls; ``hold`` keeps each call open until ``hold`` are in flight (or all
    of the ``total`` calls expected are, or a second passes), so a concurrency cap is actually reached."""

    def __init__(self, answer: Answer = ok, hold: int = 0, total: int = 0) -> None:
        self.answer, self.hold, self.total = answer, hold, total
        self.finished = 0
        self.bodies: list[dict[str, Any]] = []
        self.in_flight = self.peak = 0
        self._cond = threading.Condition()

    def _enter(self, body: dict[str, Any]) -> None:
        with self._cond:
            self.bodies.append(body)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self._cond.notify_all()

    def _leave(self) -> None:
        with self._cond:
            self.in_flight -= 1
            self.finished += 1

    def _held(self) -> bool:
        return self.in_flight >= min(self.hold, (self.total or 10**9) - self.finished)

    def _reply(self, body: dict[str, Any]) -> httpx2.Response:
        status, payload = self.answer(body)
        return httpx2.Response(status, json=payload)

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self._enter(body)
        try:
            with self._cond:
                self._cond.wait_for(self._held, timeout=1.0)
            return self._reply(body)
        finally:
            self._leave()

    async def ahandler(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self._enter(body)
        try:
            for _ in range(2000):  # bounded: yield to the other tasks (no real waiting)
                if self._held():
                    break
                await asyncio.sleep(0)
            return self._reply(body)
        finally:
            self._leave()

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handler)

    def async_transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.ahandler)
