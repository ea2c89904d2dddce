"""Every fault row of the matrix, against a real adapter, through the sync and the async client.

For each row (``faults.FAULT_ROWS``): the documented outcome (success after N requests counted at the server,
or the exact typed error), within the deadline (judged in virtual time: real socket time plus every sleep the
client asked for), with a message naming the adapter, the model, the status and the request id, and nothing
left behind (threads, asyncio tasks, client sockets).
"""

from __future__ import annotations

from typing import Any

import pytest

import imgsdk
from imgsdk.errors import ImgSDKError
from reliability.fault_server import FaultServer, closed_port
from reliability.faults import FAULT_ROWS, FaultRow
from reliability.support import (
    ADAPTER_MODELS,
    BASE_PATHS,
    DEADLINE_SLACK,
    LeakGuard,
    VirtualTime,
    config_for,
    profile_for,
)

PROMPT = "a red fox in fresh snow, morning light"


def _rows() -> list[Any]:
    return [pytest.param(row, id=row.id, marks=[pytest.mark.xfail(strict=True, reason=row.bug)] if row.bug
                         else []) for row in FAULT_ROWS]


def _config(row: FaultRow, server: FaultServer) -> dict[str, Any]:
    root = f"http://127.0.0.1:{closed_port()}" if row.refused else server.url
    profile = profile_for(row.adapter, root + BASE_PATHS[row.adapter], **row.profile)
    if row.model:
        profile["model"] = f"{row.adapter}:{row.model}"
    return config_for(profile)


async def _run(row: FaultRow, flavour: str, config: dict[str, Any], time: VirtualTime
               ) -> tuple[imgsdk.ImageResult | None, bytes | None, ImgSDKError | None]:
    """One call as a user makes it: a client closed by ``with``, and the image bytes read when asked."""
    options: dict[str, Any] = {"timeout": row.client_timeout, "max_retries": 2, "clock": time.clock}
    result = data = None
    try:
        if flavour == "sync":
            with imgsdk.Client(config, sleep=time.sleep, **options) as client:
                result = client.generate(PROMPT, provider="main", **row.call)
                data = result.images[0].data if row.fetch else None
        else:
            async with imgsdk.AsyncClient(config, sleep=time.async_sleep, **options) as async_client:
                result = await async_client.generate(PROMPT, provider="main", **row.call)
                data = await result.images[0].adata() if row.fetch else None
    except ImgSDKError as error:
        return result, data, error
    return result, data, None


@pytest.mark.matrix("F-*")
@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("row", _rows())
async def test_fault(row: FaultRow, flavour: str, server: FaultServer, other_server: FaultServer) -> None:
    row.script(server, other_server)
    config = _config(row, server)
    guard = LeakGuard(server, other_server)
    time = VirtualTime()

    result, data, error = await _run(row, flavour, config, time)

    expect = row.expect
    model = row.model or ADAPTER_MODELS[row.adapter]
    assert time.elapsed() <= row.deadline + DEADLINE_SLACK, (
        f"took {time.elapsed():.2f} s (virtual) for a {row.deadline:g} s deadline")
    assert server.count() == expect.requests, [(r.method, r.path) for r in server.requests]
    if expect.sleeps is not None:
        assert time.sleeps == pytest.approx(list(expect.sleeps))
    if expect.backoffs is not None:
        assert len(time.sleeps) == expect.backoffs, time.sleeps
        assert all(0 < wait <= 8.125 for wait in time.sleeps), time.sleeps  # tenacity curve, capped at 8 s
    if expect.error is None:
        assert error is None, f"{type(error).__name__}: {error}"
        assert result is not None and result.images and result.provider == f"{row.adapter}:{model}"
        assert result.images[0].data.startswith(b"\x89PNG")
        assert data is None or data.startswith(b"\x89PNG")
    else:
        assert type(error) is expect.error, f"{type(error).__name__}: {error}"
        message = str(error)
        assert f"{row.adapter}:{model}" in message
        assert (error.adapter, error.model) == (row.adapter, model)  # type: ignore[attr-defined]
        if expect.status is not None:
            assert error.status == expect.status and f"HTTP {expect.status}" in message  # type: ignore[attr-defined]
        if expect.request_id is not None:
            assert error.request_id == expect.request_id and expect.request_id in message  # type: ignore[attr-defined]
        for attribute in ("retry_after", "stage", "code"):
            if (wanted := getattr(expect, attribute)) is not None:
                assert getattr(error, attribute) == wanted, attribute
    if row.id == "F-POLL-FOREVER-CANCEL":
        assert server.count("POST", "/v1/predictions/p-1/cancel") == 1  # the paid job was cancelled
    guard.check()
