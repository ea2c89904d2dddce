"""Client-side limits per profile: requests per minute and calls in flight, shared by every call of a client.

Providers throttle per account (OpenAI: requests per minute; BFL: active tasks), and a fan-out or a batch can
exceed that in one burst. Staying under the limit on the client side costs less than being answered 429 and
retrying. Two knobs per profile, both optional:

- ``requests_per_minute``: a token bucket over every request sent to the provider (submit, poll, cancel;
  image downloads from a CDN are not counted). It is written as a *reservation*: :meth:`TokenBucket.reserve`
  says how long the caller must wait, and the caller waits with its own sleep — ``time.sleep`` in
  :class:`~imgsdk.Client`, ``asyncio.sleep`` in :class:`~imgsdk.AsyncClient`, or the injected one in tests —
  so the same bucket (and the same clock) serves threads and coroutines alike.
- ``max_concurrency``: calls of one profile in flight at once, across the whole client, held for the whole
  call, retries and polling included, because providers count running jobs. Unset, nothing is shared: each
  ``generate`` runs all its calls at once, up to :data:`FAN_OUT_CAP` (OpenAI's ``n`` tops out at 10, so that
  is the largest fan-out the node asks for); a fan-out of 8 then takes one round trip, not two.

When the provider answers 429 with ``Retry-After`` anyway, its clock wins. Under a bucket, the bucket moves
to the provider's phase and slows a little (:meth:`TokenBucket.refused`, :func:`throttled`). Without one,
the refused calls of a profile retry oldest first (:class:`Pacer`), instead of all waking at the same instant
and leaving it to luck which of them gets the provider's next token.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

from .engine import Send, Sleep, _retry_after
from .wire import WireResponse

__all__ = ["FAN_OUT_CAP", "Limits", "Pacer", "TokenBucket", "throttled"]

T = TypeVar("T")
FAN_OUT_CAP = 10  # calls of one generate in flight at once when the profile sets no max_concurrency
SAFETY = 0.97  # once the provider has refused a request, reserve at this share of the configured rate
MARGIN = 0.05  # ...and come back this share of one token's interval later than its Retry-After says
_EPSILON = 1e-4  # seconds: a wait shorter than this is no wait (clock and float noise)


class TokenBucket:
    """A token bucket refilled at ``rate_per_minute``; ``capacity`` tokens may be spent at once.

    The default capacity of 1 spreads requests evenly (60 per minute → one a second), which is how several
    providers enforce per-minute limits in practice (in short slices, not per calendar minute).

    Slots are kept in *bucket time*: the clock minus ``offset``, the seconds by which the provider's phase
    has turned out to be behind ours (:meth:`refused` raises it). A waiter asks :meth:`wait_for` again after
    sleeping, so a slot reserved before a refusal moves with it.
    """

    def __init__(self, rate_per_minute: float, *, capacity: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_minute <= 0 or capacity < 1:
            raise ValueError("rate_per_minute must be > 0 and capacity ≥ 1")
        self.configured = rate_per_minute / 60.0
        self.rate = self.configured
        self.capacity = capacity
        self.offset = 0.0
        self._clock = clock
        self._tokens = capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def _take(self) -> tuple[float, float]:
        """Take one token (the lock held); return (bucket time now, tokens left, negative when queued)."""
        now = self._clock() - self.offset
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        self._tokens -= 1
        return now, self._tokens

    def reserve(self) -> float:
        """Take one token; return the seconds to wait before using it (0 when one was available).

        Tokens may go negative: each caller reserves its own future slot, so concurrent callers queue up in
        order instead of all waking at once and racing.
        """
        with self._lock:
            _, tokens = self._take()
            return 0.0 if tokens >= 0 else -tokens / self.rate

    def reserve_slot(self) -> float:
        """Take one token; return its slot in bucket time (wait for it with :meth:`wait_for`)."""
        with self._lock:
            now, tokens = self._take()
            return now if tokens >= 0 else now - tokens / self.rate

    def wait_for(self, slot: float) -> float:
        """Seconds until ``slot`` opens: 0 when it has (more than once asked: a refusal may have moved it)."""
        wait = slot - (self._clock() - self.offset)
        return wait if wait > _EPSILON else 0.0

    def refused(self, slot: float, seconds: float) -> None:
        """The request of ``slot`` was refused with "come back in ``seconds``": the provider's phase is
        behind ours, so move ours until that slot opens then (plus :data:`MARGIN` of an interval: a
        Retry-After is rounded). The slot stays the refused request's, for its retry — not a new place at
        the back of the queue — and every later slot moves with it. From then on, reserve at
        :data:`SAFETY` of the configured rate: with both buckets at the same rate, any delay on the way
        would have the next request arrive early again."""
        with self._lock:
            self.rate = min(self.rate, self.configured * SAFETY)
            needed = self._clock() + seconds + MARGIN / self.rate - slot
            self.offset = max(self.offset, needed)


class Pacer:
    """Retries after a 429, oldest refusal first, for a profile without a bucket.

    Without it every refused call sleeps exactly its Retry-After, they all wake at the same instant, and which
    one gets the provider's next token is luck: with ten calls in flight, one can lose thirty times in a row
    and give up. The pacer keeps the refused calls in the order of their first refusal and lengthens the
    wait of the one at place n by n steps, so the oldest comes back first and the others about when their
    turn comes. A step is 90 % of the longest Retry-After heard while calls are queued (a Retry-After never
    exceeds the interval between two of the provider's tokens, and one heard just after a token is about
    that interval; 90 %: coming back early costs a refusal, late costs the provider's token), at least
    :attr:`stagger` (more than the jitter of waking threads) and at most :attr:`max_step` (a limit per
    minute can say "in 20 s" when every call may go then). The first attempt of a call is never delayed.
    The transport drivers report to it (:func:`imgsdk.transport.drive_sync`).
    """

    stagger = 0.002  # seconds: the shortest step between two queued retries
    max_step = 1.0  # seconds: the longest

    def __init__(self) -> None:
        self._queue: list[int] = []
        self._tickets = itertools.count()
        self._interval = 0.0  # the longest wait asked for while calls are queued (forgotten when none is)
        self._lock = threading.Lock()

    def refused(self, ticket: int | None) -> int:
        """A call was answered 429: it keeps its ``ticket`` (its place), or takes one at the back."""
        with self._lock:
            if ticket is None:
                ticket = next(self._tickets)
                self._queue.append(ticket)
            return ticket

    def wait(self, ticket: int, seconds: float) -> float:
        """The wait before the retry of ``ticket``: the Retry-After (``seconds``), plus its place in steps."""
        with self._lock:
            self._interval = max(self._interval, min(seconds, self.max_step))
            place = self._queue.index(ticket) if ticket in self._queue else 0
            return seconds + place * max(self.stagger, 0.9 * self._interval)

    def done(self, ticket: int) -> None:
        """The call was answered (or gave up): it leaves the queue."""
        with self._lock:
            if ticket in self._queue:
                self._queue.remove(ticket)
            if not self._queue:
                self._interval = 0.0


class Limits:
    """The limits of one profile within one client: the bucket (or None), the concurrency gate, the pacer.

    ``max_concurrency`` None means no shared gate (:meth:`workers` still caps one fan-out at
    :data:`FAN_OUT_CAP`). ``in_flight`` and ``peak`` count calls inside :meth:`slot`/:meth:`aslot`, so tests
    (and users) can see that a cap held. ``pacer`` orders the retries of refused calls when there is no
    bucket to do it.
    """

    def __init__(self, max_concurrency: int | None, bucket: TokenBucket | None = None) -> None:
        self.max_concurrency = None if max_concurrency is None else max(1, max_concurrency)
        self.bucket = bucket
        self.pacer = Pacer() if bucket is None else None
        self.in_flight = 0
        self.peak = 0
        self._count_lock = threading.Lock()
        self._threads = threading.BoundedSemaphore(self.max_concurrency or 1)
        self._tasks: asyncio.Semaphore | None = None

    @property
    def gated(self) -> bool:
        """True when calls must hold a :meth:`slot` (the profile set ``max_concurrency``)."""
        return self.max_concurrency is not None

    def workers(self, calls: int) -> int:
        """How many of one generate's ``calls`` run at once: all, up to the shared cap or FAN_OUT_CAP."""
        return max(1, min(calls, self.max_concurrency or FAN_OUT_CAP))

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
            self._tasks = asyncio.Semaphore(self.max_concurrency or 1)
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

    A 429 with ``Retry-After`` moves the bucket to the provider's phase (:meth:`TokenBucket.refused`), and
    the refused request's retry — sent by the engine after the Retry-After — keeps its token, moved, instead
    of queueing again at the back: a refusal costs its wait, not a whole slot behind every queued call.
    """
    if bucket is None:
        return (yield from operation)
    reply: Any = None
    slot: float | None = None  # the token of the request in flight, kept across its paced retries
    while True:
        try:
            action = operation.send(reply)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if isinstance(action, Send) and action.purpose != "fetch":
            if slot is None:
                slot = bucket.reserve_slot()
            while (wait := bucket.wait_for(slot)) > 0:  # again after waking: a refusal may have moved it
                yield Sleep(wait)
            reply = yield action
            if isinstance(reply, WireResponse) and reply.status == 429 and (hint := _retry_after(reply)) is not None:
                bucket.refused(slot, max(0.0, hint))
            else:
                slot = None
            continue
        reply = yield action
