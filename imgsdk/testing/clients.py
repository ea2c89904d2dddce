"""Clients for tests: waits are recorded instead of slept, and the network guard is on.

A replay answers in microseconds, so a Retry-After of 20 s or a poll interval of 5 s must not make the test wait:
:class:`ReplayClient` passes a sleep function that only appends the requested seconds to ``client.sleeps`` (a test
may assert on them: "the 429 was retried after the 1 s the provider asked for"). Its transport is
:class:`~imgsdk.testing.guard.GuardTransport`: a request that no active cassette answers fails at once, naming
itself. Everything else is a normal :class:`imgsdk.Client`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from imgsdk.client import AsyncClient, Client
from imgsdk.config import Config

from .guard import AsyncGuardTransport, GuardTransport

__all__ = ["AsyncReplayClient", "ReplayClient"]

ConfigSource = str | os.PathLike[str] | Mapping[str, Any] | Config | None


class ReplayClient(Client):
    """A :class:`~imgsdk.Client` that never sleeps (``sleeps`` lists the waits asked for) and never reaches the
    network without a cassette. Options are :class:`~imgsdk.Client`'s; ``transport`` replaces the guard."""

    def __init__(self, config: ConfigSource = None, **options: Any) -> None:
        self.sleeps: list[float] = []
        options.setdefault("transport", GuardTransport())
        super().__init__(config, sleep=self.sleeps.append, **options)


class AsyncReplayClient(AsyncClient):
    """The asyncio twin of :class:`ReplayClient`."""

    def __init__(self, config: ConfigSource = None, **options: Any) -> None:
        self.sleeps: list[float] = []
        options.setdefault("transport", AsyncGuardTransport())
        super().__init__(config, sleep=self._record_sleep, **options)

    async def _record_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
