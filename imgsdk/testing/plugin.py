"""pytest plugin (opt in with ``pytest_plugins = ["imgsdk.testing.plugin"]`` or ``-p imgsdk.testing.plugin``).

Provides ``vcr_config`` (for pytest-recording's ``@pytest.mark.vcr``) with imgsdk's scrubbing and body
matching, and clients whose waits are instantaneous so replays of retries and polls never sleep.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from . import body_matcher
from . import vcr_config as _vcr_config


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    config = _vcr_config()
    config.pop("record_mode")  # pytest-recording's --record-mode decides (default: none)
    return config


def pytest_recording_configure(config: Any, vcr: Any) -> None:
    vcr.register_matcher("imgsdk_body", body_matcher)


def _no_wait(seconds: float) -> None:
    return None


async def _no_wait_async(seconds: float) -> None:
    return None


@pytest.fixture
def imgsdk_replay_client() -> Iterator[Any]:
    """A :class:`imgsdk.Client` whose retries and polls do not wait."""
    from imgsdk.client import Client

    with Client(sleep=_no_wait) as client:
        yield client


@pytest.fixture
async def imgsdk_replay_async_client() -> AsyncIterator[Any]:
    """An :class:`imgsdk.AsyncClient` whose retries and polls do not wait."""
    from imgsdk.client import AsyncClient

    async with AsyncClient(sleep=_no_wait_async) as client:
        yield client
