"""Client-side limits per profile: requests per minute and calls in flight, shared by every call of a client.

Providers throttle per account (OpenAI: requests per minute; BFL: active tasks), and a fan-out or a batch can
exceed that in one burst. Staying under the limit on the client side costs less than being answered 429 and
retrying. Two knobs per profile, both optional:

- ``requests_per_minute``: a token bucket over every request sent to the provider (submit, poll, cancel;
  image downloads from a CDN are not counted). It is written as a *reservation*: :meth:`TokenBucket.reserve`
  says how long the caller must wait, and the caller waits with its own sleep — ``time.sleep`` in
  :class:`~imgsdk.Client`, ``asyncio.sleep`` in :class:`~imgsdk.AsyncClient`, or the injected one in tests —
  so the same bucket (and the same clock) serves threads and coroutines alike.
- ``max_concurrency``: calls of one profile in flight at once (default 4), held for the whole call,
  retries and polling included, because providers count running jobs.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

from .engine import Send, Sleep

__all__ = ["Limits", "TokenBucket", "throttled"]

T = TypeVar("T")


class TokenBucket:
    """A token bucket refilled at ``rate_per_minute``; ``capacity`` tokens may be spent at once.

    The default capacity of 1 spreads requests evenly (60 per minute → one a second), which is how several
    providers enforce per-minute limits in practice (in short slices, not per calendar minute).
    """

    def __init__(self, rate_per_minute: float, *, capacity: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_minute <= 0 or capacity < 1:
            raise ValueError("rate_per_minute must be > 0 and capacity ≥ 1")
        self.rate = rate_per_minute / 60.0
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take one token; return the seconds to wait before using it (0 when one was available).

        Tokens may go negative: each caller reserves its own future slot, so concurrent callers queue up in
        order instead of all waking at once and racing.
        """
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class Limits:
    """The limits of one profile within one client: the bucket (or None) and the concurrency gate.

    ``in_flight`` and ``peak`` count calls inside :meth:`slot`/:meth:`aslot`, so tests (and users) can see
    that the cap held.
    """

    def __init__(self, max_concurrency: int, bucket: TokenBucket | None = None) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self.bucket = bucket
        self.in_flight = 0
        self.peak = 0
        self._count_lock = threading.Lock()
        self._threads = threading.BoundedSemaphore(self.max_concurrency)
        self._tasks: asyncio.Semaphore | None = None

    def _enter(self) -> None:
        with self._count_lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def _leave(self) -> None:
        with self._count_lock:
            self.in_flight -= 1

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of ``max_concurrency`` places (blocking the thread until one is free)."""
        with self._threads:
            self._enter()
            try:
                yield
            finally:
                self._leave()

    @asynccontextmanager
    async def aslot(self) -> AsyncIterator[None]:
        """Hold one of ``max_concurrency`` places (awaiting until one is free)."""
        if self._tasks is None:
            self._tasks = asyncio.Semaphore(self.max_concurrency)
        async with self._tasks:
            self._enter()
            try:
                yield
            finally:
                self._leave()


def throttled(operation: Generator[Any, Any, T], bucket: TokenBucket | None) -> Generator[Any, Any, T]:
    """Wrap an engine operation so each request to the provider first waits for a token.

    Sans-I/O like the engine: the wait is a :class:`~imgsdk.engine.Sleep` action, performed by whichever
    driver runs the operation (with the client's injected sleep). Downloads (purpose ``"fetch"``) are not
    counted: they go to a CDN, not to the provider's API.
    """
    if bucket is None:
        return (yield from operation)
    reply: Any = None
    while True:
        try:
            action = operation.send(reply)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if isinstance(action, Send) and action.purpose != "fetch":
            wait = bucket.reserve()
            if wait > 0:
                yield Sleep(wait)
        reply = yield action
