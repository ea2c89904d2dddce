"""Fan-out: one implementation for both clients, a per-profile concurrency cap shared by every call of a client,
seeds seed + i, partial success (images kept, failures attached), raise_on_partial, de-duplicated warnings."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import imgsdk
from delivery.fakes import PROVIDER_NOTE, FakeServer, ok
from delivery.support import no_sleep, no_sleep_async
from imgsdk.errors import RequestRejectedError, ServiceUnavailableError

CONFIG = {"providers": {"fake": {"model": "delivery-fake:one", "max_concurrency": 2}}, "default": "fake"}


def fail_seed(bad: int, status: int = 400) -> Any:
    def answer(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return (status, {"error": "no"}) if body["seed"] == bad else ok(body)
    return answer


def test_sync_fan_out_is_capped_per_profile_and_seeds_follow() -> None:
    server = FakeServer(hold=2, total=6)
    with imgsdk.Client(CONFIG, transport=server.transport(), sleep=no_sleep) as client:
        result = client.generate("a fox", n=6, seed=10)
        limits = client.limits(client.target("fake"))
    assert sorted(body["seed"] for body in server.bodies) == [10, 11, 12, 13, 14, 15]
    assert [image.seed for image in result.images] == [10, 11, 12, 13, 14, 15]  # in call order
    assert server.peak == 2 and limits.peak == 2  # the cap was reached, never exceeded
    assert result.cost_usd == 0.06  # six calls at the table's 0.01 each


def test_the_cap_is_shared_by_concurrent_calls_of_one_client() -> None:
    server = FakeServer(hold=2, total=9)
    results: list[Any] = []
    with imgsdk.Client(CONFIG, transport=server.transport(), sleep=no_sleep) as client:
        threads = [threading.Thread(target=lambda: results.append(client.generate("a fox", n=3))) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert len(results) == 3 and sum(len(r.images) for r in results) == 9
    assert server.peak == 2  # nine calls from three generate() calls, never more than two at once


async def test_async_fan_out_is_capped_and_shares_the_cap() -> None:
    import asyncio

    server = FakeServer(hold=2, total=7)
    async with imgsdk.AsyncClient(CONFIG, transport=server.async_transport(), sleep=no_sleep_async) as client:
        first, second = await asyncio.gather(client.generate("a fox", n=4, seed=1), client.generate("an owl", n=3))
        limits = client.limits(client.target("fake"))
    assert [image.seed for image in first.images] == [1, 2, 3, 4]
    assert len(second.images) == 3
    assert server.peak == 2 and limits.peak == 2


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_three_of_four_calls_succeed_three_images_saved_one_error(kind: str, tmp_path: Path) -> None:
    server = FakeServer(fail_seed(102, status=500))
    options = dict(n=4, seed=100, persist_to=tmp_path / "out", filename_template="{index}.{ext}")
    if kind == "sync":
        with imgsdk.Client(CONFIG, transport=server.transport(), sleep=no_sleep) as client:
            result = client.generate("a fox", **options)
    else:
        async with imgsdk.AsyncClient(CONFIG, transport=server.async_transport(), sleep=no_sleep_async) as aclient:
            result = await aclient.generate("a fox", **options)
    assert [image.seed for image in result.images] == [100, 101, 103]
    assert [type(error) for error in result.errors] == [ServiceUnavailableError]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["1.png", "2.png", "4.png"]  # index = position
    assert all(image.path and Path(image.path).is_file() for image in result.images)
    assert [body["seed"] for body in server.bodies].count(102) == 3  # the failing call was retried, then kept
    assert result.cost_usd == 0.03  # only what was delivered


def test_raise_on_partial_raises_the_failure() -> None:
    server = FakeServer(fail_seed(2))
    with imgsdk.Client(CONFIG, transport=server.transport(), sleep=no_sleep) as client, \
            pytest.raises(RequestRejectedError):
        client.generate("a fox", n=3, seed=1, raise_on_partial=True)


def test_every_call_failing_raises_the_first_error() -> None:
    server = FakeServer(lambda body: (400, {"error": "bad"}))
    with imgsdk.Client(CONFIG, transport=server.transport(), sleep=no_sleep) as client, \
            pytest.raises(RequestRejectedError):
        client.generate("a fox", n=2)


def test_warnings_are_reported_once_however_many_calls() -> None:
    server = FakeServer()
    with imgsdk.Client(CONFIG, transport=server.transport(), sleep=no_sleep) as client:
        result = client.generate("a fox", n=4, style="natural", quality="hd")
    assert len(server.bodies) == 4
    assert [(w.code, w.option) for w in result.warnings] == [("dropped", "quality"), ("dropped", "style"),
                                                             ("provider", "prompt")]
    assert result.warnings[-1] == PROVIDER_NOTE  # four calls said it, reported once
