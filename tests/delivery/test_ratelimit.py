"""Client-side rate limits: a token bucket with an injectable clock; the clients wait with their injected sleep,
and every call of one client shares the profile's bucket."""

from __future__ import annotations

from typing import Any

import pytest

import imgsdk
from delivery.fakes import FakeServer, ok
from imgsdk.ratelimit import TokenBucket

CONFIG = {"providers": {"slow": {"model": "delivery-fake:one", "requests_per_minute": 60},
                        "other": {"model": "delivery-fake:one", "requests_per_minute": 30},
                        "free": {"model": "delivery-fake:one"}}}


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def test_token_bucket_reservations_queue_in_order() -> None:
    time = FakeTime()
    bucket = TokenBucket(120, capacity=2, clock=time.clock)  # two a second, a burst of two
    assert [bucket.reserve() for _ in range(5)] == [0.0, 0.0, 0.5, 1.0, 1.5]
    time.now += 10  # idle: the bucket refills, but never beyond its capacity
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.5]
    with pytest.raises(ValueError):
        TokenBucket(0)


def test_sync_calls_of_one_client_share_the_profile_bucket() -> None:
    time, server = FakeTime(), FakeServer()
    with imgsdk.Client(CONFIG, transport=server.transport(), sleep=time.sleep, clock=time.clock) as client:
        for _ in range(3):
            client.generate("a fox", provider="slow")
        client.generate("a fox", provider="free")  # no limit: no wait
    assert len(server.bodies) == 4
    assert time.sleeps == [1.0, 1.0]  # 60 per minute: one request a second, waited with the client's sleep


def test_a_fan_out_is_spread_over_the_minute() -> None:
    time, server = FakeTime(), FakeServer()
    config = {"providers": {"slow": {"model": "delivery-fake:one", "requests_per_minute": 30, "max_concurrency": 1}}}
    with imgsdk.Client(config, transport=server.transport(), sleep=time.sleep, clock=time.clock) as client:
        result = client.generate("a fox", provider="slow", n=3)
    assert len(result.images) == 3 and time.sleeps == [2.0, 2.0]


def test_profiles_have_their_own_buckets() -> None:
    time, server = FakeTime(), FakeServer()
    with imgsdk.Client(CONFIG, transport=server.transport(), sleep=time.sleep, clock=time.clock) as client:
        client.generate("a", provider="slow")
        client.generate("b", provider="other")  # another profile: its own (full) bucket
        client.generate("c", provider="other")
    assert time.sleeps == [2.0]


async def test_async_calls_share_the_bucket_and_wait_with_the_injected_sleep() -> None:
    import asyncio

    time = FakeTime()
    sent_at: list[float] = []

    def answer(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        sent_at.append(time.now)
        return ok(body)

    server = FakeServer(answer)
    async with imgsdk.AsyncClient(CONFIG, transport=server.async_transport(), sleep=time.asleep,
                                  clock=time.clock) as client:
        await asyncio.gather(*(client.generate("a fox", provider="slow") for _ in range(3)))
    assert sorted(sent_at) == [1000.0, 1001.0, 1002.0]  # one a second, whoever went first
    assert time.sleeps and all(seconds > 0 for seconds in time.sleeps)


def test_retries_count_against_the_limit_too() -> None:
    time = FakeTime()
    sent_at: list[float] = []

    def answer(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        sent_at.append(time.now)
        return (503, {"error": "busy"}) if len(sent_at) == 1 else ok(body)

    with imgsdk.Client(CONFIG, transport=FakeServer(answer).transport(), sleep=time.sleep, clock=time.clock) as client:
        client.generate("a fox", provider="slow")
    assert sent_at[0] == 1000.0 and len(sent_at) == 2
    assert sent_at[1] == pytest.approx(1001.0)  # the engine's backoff (< 1 s) topped up to the bucket's 1 s
