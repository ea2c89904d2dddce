"""What issue 7's benchmark found and the core now does about it, checked by behaviour (no timing asserts):

- an image is freed as soon as its result is dropped (no reference cycle through its downloader);
- a byte image builds its ``data:`` URL only when ``url`` is read; big base64 answers are decoded from slices
  of the response bytes, with exactly the plain parser's result and the same refusal of bad base64;
- a profile without ``max_concurrency`` runs a fan-out all at once (up to FAN_OUT_CAP); one with it shares it;
- a 429 with Retry-After moves a bucket to the provider's phase (the refused request keeps its token), and
  without a bucket refused calls retry oldest first;
- each image is bound once, the download rules are built once per profile, a call without limits goes
  through no limiter layer, and the per-request timeout is set only where it caps something;
- ``size`` and the node's outputs read a URL image's size by downloading it once (sync; awaited for async);
- the offline renderer runs off the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import gc
import json
import threading
import weakref
from typing import Any

import httpx2
import pytest
from conftest import FakeServer, FakeTime, Harness, images_reply, png_bytes, reply

import imgsdk
from imgsdk import transport
from imgsdk.adapter import WireResponse
from imgsdk.engine import Send, Sleep
from imgsdk.errors import ProviderError, RateLimitError
from imgsdk.ratelimit import FAN_OUT_CAP, MARGIN, SAFETY, Limits, Pacer, TokenBucket, throttled
from imgsdk.result import GeneratedImage
from imgsdk.wire import WireRequest

PUBLIC = ["93.184.215.14"]  # what the injected resolver answers for every image host


def public(host: str, port: int) -> list[str]:
    return PUBLIC


# -- memory: freed with the result, no eager data: URL -------------------------------------------------------------

@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_an_image_is_freed_when_its_result_is_dropped_without_the_cyclic_gc(kind: str, fake: FakeServer,
                                                                                  fake_time: FakeTime) -> None:
    fake.on("POST", "/v1/images", images_reply())
    harness = Harness(kind, fake, fake_time)
    try:
        result = await harness.generate()
        image = result.images[0]
        assert image._fetch is not None or image._afetch is not None  # bound to the client's downloader
        alive = weakref.ref(image)
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            del image, result
            assert alive() is None  # freed by reference counting alone: nothing refers back to it
        finally:
            if was_enabled:
                gc.enable()
    finally:
        await harness.close()


def test_a_byte_image_builds_its_data_url_only_when_read() -> None:
    data = png_bytes(6, 4)
    image = GeneratedImage.from_bytes(data, "a fox")
    assert image._url is None  # nothing built yet
    assert image.size == "6x4" and image.data is data and image.extension == "png"
    assert image._url is None  # reading the bytes, the size or the format builds no URL either
    assert image.url == "data:image/png;base64," + base64.b64encode(data).decode()
    assert "…" in repr(GeneratedImage.from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(300), "p"))  # a repr stays short
    image.url = "file:///tmp/fox.png"  # persist_to points it at the stored copy
    assert image.url == "file:///tmp/fox.png" and image.data is data
    by_url = GeneratedImage(url=GeneratedImage.from_bytes(data, "p").url, revised_prompt="p")
    assert by_url.data == data and by_url.size == "6x4"
    with pytest.raises(ValueError, match="url or its bytes"):
        GeneratedImage(url=None, revised_prompt="p")


# -- the OpenAI wire reader: slices of the body, same answers as json.loads -----------------------------------------

def _wire() -> Any:
    import importlib

    return importlib.import_module("imgsdk.adapters._openai_wire")


def _openai_call() -> Any:
    from imgsdk.policy import apply
    from imgsdk.registry import get_adapter
    from imgsdk.request import ImageRequest

    caps = get_adapter("openai").capabilities("gpt-image-1", {})
    assert caps is not None
    return apply(ImageRequest("a fox"), caps, adapter="openai")[0]


def _parse(body: bytes) -> Any:
    return _wire().parse_images(WireResponse(200, {}, body), _openai_call(), adapter="openai", request_id=None,
                                on_error=lambda response: ProviderError("error"))


BIG = png_bytes(300, 300, (10, 20, 30)) + bytes(100_000)  # more than the splitting threshold once in base64


@pytest.mark.parametrize("shape", ["plain", "two-images", "escaped-slash", "nested-key", "empty-value"])
def test_big_answers_parse_to_exactly_what_the_plain_parser_gives(shape: str) -> None:
    encoded = base64.b64encode(BIG).decode()
    items: list[dict[str, Any]] = [{"b64_json": encoded, "revised_prompt": 'say "b64_json": "no"'}]
    if shape == "two-images":
        items.append({"b64_json": base64.b64encode(BIG[::-1]).decode()})
    if shape == "nested-key":
        items[0]["extra"] = {"b64_json": "AAAA"}
    if shape == "empty-value":
        items.append({"b64_json": "", "url": "https://cdn.example/x.png"})
    text = json.dumps({"created": 1, "data": items, "usage": {"output_tokens": 5}})
    if shape == "escaped-slash":  # legal JSON some servers write: the value holds a backslash
        text = text.replace("/", "\\/")
    images = _parse(text.encode())
    assert images.images[0].data == BIG
    assert images.images[0].revised_prompt == 'say "b64_json": "no"'
    assert images.usage == {"output_tokens": 5}
    if shape == "two-images":
        assert images.images[1].data == BIG[::-1]
    if shape == "empty-value":
        assert images.images[1].url == "https://cdn.example/x.png"  # "" is no image: the URL is used


@pytest.mark.parametrize("payload", ["not base64!", "=QUJD", "QUJDRA", "QUJDRA==QUJD", "QU JD", 42])
@pytest.mark.parametrize("padding", [0, 200_000])
def test_invalid_base64_is_refused_small_or_big(payload: Any, padding: int) -> None:
    body = {"data": [{"b64_json": payload}], "pad": "x" * padding}
    with pytest.raises(ProviderError, match="not valid base64"):
        _parse(json.dumps(body).encode())


def test_strict_decoding_accepts_what_b64decode_accepts() -> None:
    encoded = base64.b64encode(BIG).decode()
    assert binascii.a2b_base64(encoded, strict_mode=True) == base64.b64decode(encoded, validate=True)


# -- fan-out ---------------------------------------------------------------------------------------------------------

class Gate:
    """A server that holds each call until ``expected`` are in flight (bounded), and records the peak."""

    def __init__(self, expected: int) -> None:
        self.expected, self.in_flight, self.peak, self.calls = expected, 0, 0, 0
        self._cond = threading.Condition()

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        with self._cond:
            self.calls += 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self._cond.notify_all()
            self._cond.wait_for(lambda: self.in_flight >= self.expected, timeout=2.0)
        try:
            return images_reply()(request)
        finally:
            with self._cond:
                self.in_flight -= 1

    async def ahandle(self, request: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        for _ in range(1000):  # bounded: let the other tasks in
            if self.in_flight >= self.expected:
                break
            await asyncio.sleep(0)
        self.in_flight -= 1
        return images_reply()(request)


ONE_PER_CALL = {"providers": {"one": {"model": "fake-test:sync-model", "n": 1}}}


@pytest.mark.parametrize(("n", "peak"), [(8, 8), (12, FAN_OUT_CAP)])
def test_without_a_profile_cap_a_fan_out_runs_all_at_once_up_to_the_cap(n: int, peak: int) -> None:
    gate = Gate(expected=peak)  # sync-model takes 2 images a call: n images are ceil(n / 2) calls
    calls = -(-n // 2)
    gate.expected = min(calls, FAN_OUT_CAP)
    with imgsdk.Client(ONE_PER_CALL, transport=httpx2.MockTransport(gate)) as client:
        result = client.generate("a fox", provider="one", n=n)
    assert len(result.images) == n and gate.calls == calls
    assert gate.peak == min(calls, FAN_OUT_CAP)


async def test_async_fan_out_without_a_cap_is_at_most_fan_out_cap_at_once() -> None:
    gate = Gate(expected=FAN_OUT_CAP)
    config = {"providers": {"one": {"model": "fake-test:sync-model"}}}
    async with imgsdk.AsyncClient(config, transport=httpx2.MockTransport(gate.ahandle)) as client:
        result = await client.generate("a fox", provider="one", n=2 * (FAN_OUT_CAP + 3))
        assert not client.limits(client.target("one")).gated
    assert len(result.images) == 2 * (FAN_OUT_CAP + 3)
    assert gate.peak == FAN_OUT_CAP


def test_limits_share_only_a_cap_the_profile_sets() -> None:
    assert Limits(None).workers(8) == 8 and Limits(None).workers(40) == FAN_OUT_CAP
    assert Limits(3).workers(8) == 3 and Limits(3).gated and not Limits(None).gated
    config = {"providers": {"free": {"model": "fake-test:sync-model"},
                            "capped": {"model": "fake-test:sync-model", "max_concurrency": 4}}}
    with imgsdk.Client(config) as client:
        assert client.limits(client.target("free")).max_concurrency is None
        assert client.limits(client.target("capped")).max_concurrency == 4


# -- rate limits -----------------------------------------------------------------------------------------------------

def _refusal(after: str = "0.25") -> WireResponse:
    return WireResponse(429, {"retry-after": after}, b"{}")


def test_a_refusal_moves_the_bucket_to_the_providers_phase() -> None:
    time = FakeTime()
    bucket = TokenBucket(60, clock=time.clock)  # one a second
    first, second, third = (bucket.reserve_slot() for _ in range(3))
    assert [bucket.wait_for(slot) for slot in (first, second, third)] == [0.0, 1.0, 2.0]
    bucket.refused(first, 0.25)  # the provider: "come back in 0.25 s"
    margin = MARGIN / bucket.rate
    assert bucket.wait_for(first) == pytest.approx(0.25 + margin)  # the refused request keeps its token, moved
    assert bucket.wait_for(second) == pytest.approx(1.25 + margin)  # queued slots move with it
    assert bucket.rate == pytest.approx(SAFETY)  # and from now on a little under the configured rate
    bucket.refused(first, 0.1)  # a second, smaller hint for the same slot moves nothing back
    assert bucket.wait_for(first) == pytest.approx(0.25 + margin)


def test_the_retry_of_a_refused_request_keeps_its_token() -> None:
    time = FakeTime()
    bucket = TokenBucket(60, clock=time.clock)
    request = WireRequest("POST", "https://api.example/v1/images")

    def operation() -> Any:
        reply = yield Send(request, "submit")
        assert reply.status == 429
        yield Sleep(0.25)  # the engine waits the Retry-After
        reply = yield Send(request, "submit")
        return reply.status

    wrapped = throttled(operation(), bucket)
    assert isinstance(next(wrapped), Send)  # a full bucket: no wait
    queued = bucket.reserve_slot()  # another call queues behind it
    action = wrapped.send(_refusal("0.25"))
    assert isinstance(action, Sleep) and action.seconds == 0.25
    time.now += 0.25
    action = wrapped.send(None)
    assert isinstance(action, Sleep) and action.seconds == pytest.approx(MARGIN / bucket.rate)  # only the margin
    time.now += action.seconds
    assert isinstance(wrapped.send(None), Send)  # no new reservation: it went before the queued call
    with pytest.raises(StopIteration) as done:
        wrapped.send(WireResponse(200, {}, b"{}"))
    assert done.value.value == 200
    assert bucket.wait_for(queued) > 0  # the queued call's slot moved behind it


async def test_a_profile_bucket_paces_the_retries_of_refused_calls(harness: Harness, fake: FakeServer) -> None:
    refusal = reply(429, {"error": {"message": "slow down"}}, {"retry-after-ms": "300"})
    fake.on("POST", "/v1/images", refusal, refusal, images_reply())
    harness.build({"providers": {"rl": {"model": "fake-test:sync-model", "requests_per_minute": 60,
                                        "max_retries": 0}}})
    result = await harness.generate(provider="rl")
    assert len(result.images) == 1 and fake.count("POST") == 3  # paced waits spend no retry budget
    bucket = harness.client.limits(harness.client.target("rl")).bucket
    assert bucket.offset > 0 and bucket.rate == pytest.approx(bucket.configured * SAFETY)
    margin = MARGIN / bucket.rate
    assert harness.time.sleeps == pytest.approx([0.3, margin, 0.3, margin])  # Retry-After, then the margin


def test_the_pacer_lets_the_oldest_refused_call_retry_first() -> None:
    pacer = Pacer()
    first = pacer.refused(None)
    second = pacer.refused(None)
    third = pacer.refused(None)
    assert pacer.refused(first) == first  # refused again: it keeps its place
    assert pacer.wait(first, 0.5) == 0.5  # the oldest: exactly the Retry-After
    assert pacer.wait(second, 0.1) == pytest.approx(0.1 + 0.9 * 0.5)  # one step: 90 % of the longest wait heard
    assert pacer.wait(third, 0.1) == pytest.approx(0.1 + 2 * 0.9 * 0.5)
    pacer.done(first)
    assert pacer.wait(second, 0.1) == 0.1  # now the oldest
    pacer.done(second)
    pacer.done(third)
    late = pacer.refused(None)  # a new episode: what was heard before is forgotten
    other = pacer.refused(None)
    assert pacer.wait(late, 0.0) == 0.0 and pacer.wait(other, 0.0) == pacer.stagger  # at least the stagger
    assert pacer.wait(other, 20.0) == pytest.approx(20.0 + 0.9 * pacer.max_step)  # "in 20 s": capped steps


async def test_without_a_bucket_refused_calls_queue_and_leave_the_queue(harness: Harness,
                                                                      fake: FakeServer) -> None:
    refusal = reply(429, {"error": {"message": "slow down"}}, {"retry-after-ms": "100"})
    fake.on("POST", "/v1/images", refusal, images_reply())
    harness.build(ONE_PER_CALL)
    result = await harness.generate(provider="one")
    limits = harness.client.limits(harness.client.target("one"))
    assert len(result.images) == 1 and limits.bucket is None and limits.pacer is not None
    assert harness.time.sleeps == [0.1]  # alone in the queue: exactly the Retry-After
    assert limits.pacer._queue == []  # answered: out of the queue


async def test_a_call_that_gives_up_leaves_the_pacer_queue(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", "/v1/images", reply(429, {"error": {"message": "no"}}, {"retry-after": "500"}))
    harness.build(ONE_PER_CALL)
    with pytest.raises(RateLimitError):
        await harness.generate(provider="one")
    assert harness.client.limits(harness.client.target("one")).pacer._queue == []


# -- per-call work -----------------------------------------------------------------------------------------------

async def test_each_image_is_bound_once_and_the_download_rules_are_built_once(
        harness: Harness, fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.on("POST", "/v1/images", images_reply())
    client = harness.build()
    bound: list[int] = []
    original = type(client)._bind

    def counting(self: Any, image: GeneratedImage, target: Any) -> None:
        bound.append(id(image))
        original(self, image, target)
    monkeypatch.setattr(type(client), "_bind", counting)
    result = await harness.generate(n=4)
    assert sorted(bound) == sorted(id(image) for image in result.images)  # 4 images, 4 bindings
    target = client.target(None)
    assert client._download_policy(target.profile, target) is client._download_policy(target.profile, target)


async def test_a_call_without_limits_goes_through_no_limiter_layer(harness: Harness, fake: FakeServer,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import imgsdk.client

    wrapped: list[Any] = []

    def recording(operation: Any, bucket: Any) -> Any:
        wrapped.append(bucket)
        return operation
    monkeypatch.setattr(imgsdk.client, "throttled", recording)
    fake.on("POST", "/v1/images", images_reply())
    harness.build({"providers": {"free": {"model": "fake-test:sync-model"},
                                 "limited": {"model": "fake-test:sync-model", "requests_per_minute": 600}}})
    await harness.generate(provider="free")
    assert wrapped == []
    await harness.generate(provider="limited")
    assert len(wrapped) == 1 and wrapped[0] is not None


@pytest.mark.parametrize(("left", "capped"), [(599.99, False), (30.0, True), (None, False)])
def test_a_per_request_timeout_is_set_only_where_it_caps(left: float | None, capped: bool) -> None:
    with httpx2.Client(timeout=httpx2.Timeout(600.0, connect=10.0)) as http:
        request = transport.to_httpx(http, WireRequest("POST", "https://api.example/x", json={}), left)
    timeouts = request.extensions.get("timeout")
    if capped:
        assert timeouts == {"connect": 10.0, "read": 30.0, "write": 30.0, "pool": 30.0}
    else:
        assert timeouts is None or timeouts["read"] == 600.0


def _streamed(size: int, headers: dict[str, str]) -> tuple[bytes, Any]:
    """A body of ``size`` bytes, streamed in fresh 64 KiB chunks (as a socket gives them)."""
    block = bytes(range(256)) * 256

    def chunks() -> Any:
        for start in range(0, size, len(block)):
            yield bytes(bytearray(block[:min(len(block), size - start)]))  # a new object each time

    body = (block * (size // len(block) + 1))[:size]
    return body, lambda request: httpx2.Response(200, headers=headers, content=chunks())


@pytest.mark.parametrize(("announced", "coding"), [(True, None), (False, None), (True, "identity"), (True, "gzip")])
def test_a_big_body_is_read_into_one_buffer_of_its_announced_size(announced: bool, coding: str | None) -> None:
    import tracemalloc

    size = 4 * 2**20
    headers = {"content-length": str(size)} if announced else {}
    if coding is not None:
        headers["content-encoding"] = coding
    body, handler = _streamed(size, headers)
    if coding == "gzip":  # a compressed body is left to httpx2, which decodes it
        import gzip
        import os

        body = os.urandom(size)  # incompressible: the compressed length is over the threshold too
        packed = gzip.compress(body)
        assert len(packed) >= transport._PRESIZE_FROM
        headers["content-length"] = str(len(packed))
        handler = lambda request: httpx2.Response(200, headers=headers, content=packed)  # noqa: E731
    with httpx2.Client(transport=httpx2.MockTransport(handler)) as http:
        request = http.build_request("GET", "https://api.example/big")
        tracemalloc.start()
        try:
            wire = transport._receive(http, request, "https://api.example/big")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert wire.content == body and wire.status == 200
    if coding == "gzip":
        return  # (its peak is httpx2's)
    if announced:
        assert peak < 1.5 * size  # one buffer of the body (chunks joined at the end would be twice)
    else:
        assert peak > 1.5 * size  # no length announced: httpx2 reads and joins (the check above is real)


# -- size of URL images, read once ---------------------------------------------------------------------------------

def _url_only(fake: FakeServer, image: bytes) -> None:
    fake.on("POST", "/v1/images", reply(200, {"data": [{"url": "https://cdn.example/out.png"}]}))
    fake.on("GET", "/out.png", lambda request: httpx2.Response(200, content=image,
                                                               headers={"content-type": "image/png"}))


async def test_the_size_of_a_url_image_is_read_by_downloading_it_once(sync_harness: Harness,
                                                                       fake: FakeServer) -> None:
    picture = png_bytes(24, 16)
    _url_only(fake, picture)
    sync_harness.build(resolver=public)
    result = await sync_harness.generate()
    assert "size=None" in repr(result) and fake.count("GET") == 0  # a repr never downloads
    assert result.to_node_output() == {"url": "https://cdn.example/out.png", "revised_prompt": "a red fox in snow",
                                       "size": "24x16"}
    assert result.images[0].data == picture and result.size == "24x16"
    assert fake.count("GET") == 1  # downloaded once; the bytes were kept


async def test_an_async_result_awaits_the_download_that_reads_the_size(fake: FakeServer,
                                                                      fake_time: FakeTime) -> None:
    _url_only(fake, png_bytes(10, 30))
    harness = Harness("async", fake, fake_time)
    harness.build(resolver=public)
    try:
        result = await harness.generate()
        assert result.size is None  # a sync property cannot await the download
        assert (await result.ato_node_output())["size"] == "10x30"
        assert await result.asize() == "10x30" and result.size == "10x30" and fake.count("GET") == 1
    finally:
        await harness.close()


def test_a_hand_made_url_image_without_a_client_has_no_size() -> None:
    image = GeneratedImage(url="https://cdn.example/x.png", revised_prompt="p")
    assert image.size is None and image.reported_size is None


# -- n, and the renderer off the loop ------------------------------------------------------------------------------

async def test_n_not_given_takes_the_profiles_and_an_explicit_one_wins(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", "/v1/images", images_reply())
    harness.build({"providers": {"p": {"model": "fake-test:sync-model", "n": 2},
                                 "q": {"model": "fake-test:sync-model"}}})
    assert len((await harness.generate(provider="p")).images) == 2
    assert len((await harness.generate(provider="p", n=1)).images) == 1
    assert len((await harness.generate(provider="q")).images) == 1


async def test_the_offline_renderer_runs_in_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from imgsdk.registry import get_adapter

    adapter = get_adapter("local")
    threads: list[int] = []
    original = type(adapter).serve

    def recording(self: Any, request: WireRequest) -> WireResponse | None:
        threads.append(threading.get_ident())
        return original(self, request)
    monkeypatch.setattr(type(adapter), "serve", recording)
    async with imgsdk.AsyncClient({"providers": {"offline": {"model": "local:placeholder"}}}) as client:
        result = await client.generate("a lighthouse", provider="offline", size="256x256")
    assert result.images[0].size == "256x256"
    assert threads and threading.get_ident() not in threads  # not on the event loop's thread
