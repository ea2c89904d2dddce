"""``Client`` and ``AsyncClient``: the same names, the same behaviour, one implementation.

Both share resolution, policy, planning and result assembly (:mod:`imgsdk.planning`), the engine
(:mod:`imgsdk.engine`), the delivery logic — fan-out, partial success, fallbacks, persistence
(:mod:`imgsdk.delivery`) — and the per-profile limits (:mod:`imgsdk.ratelimit`, kept in
:class:`~imgsdk.clientbase.BaseClient`). They differ only in how a request is sent, how calls run side by
side (threads or tasks) and how a wait is done (:mod:`imgsdk.transport`). One httpx2 client per imgsdk
client, so connections are reused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, BinaryIO, Self

from . import download as downloads
from . import streaming
from .adapter import Adapter, Images, JobHandle, Pending
from .clientbase import BaseClient, ImageRef, redact
from .config import Config
from .delivery import BOUND, Delivery, Outcome, Persister
from .download import Downloaded, DownloadPolicy
from .engine import generate_call, resume_job
from .errors import ProviderError
from .planning import Plan, Target, assemble
from .policy import Mode
from .ratelimit import throttled
from .registry import get_adapter
from .request import PreparedRequest
from .result import ImageResult
from .transport import drive_async, drive_sync

if TYPE_CHECKING:
    import httpx2

__all__ = ["AsyncClient", "Client"]

_BaseClient = BaseClient  # the earlier private names, kept for code written against them
_redact = redact
_Persist = str | os.PathLike[str] | bool | None
Headers = Callable[[str], dict[str, str]]
Operation = Generator[Any, Any, Images]


class Client(BaseClient):
    """The synchronous client. ``with Client() as client: client.generate("...")``.

    ``sleep`` is injectable (tests and cassette replays pass a no-op, so retries, polls and rate-limit waits
    never wait). Calls of a fan-out run on threads, at most ``max_concurrency`` per profile across the
    whole client.
    """

    def __init__(self, config: str | os.PathLike[str] | Mapping[str, Any] | Config | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, **options: Any) -> None:
        super().__init__(config, **options)
        self._sleep = sleep

    def _client(self) -> httpx2.Client:
        if self._http is None:
            import httpx2

            self._http = httpx2.Client(**self._new_http_options())
        return self._http  # type: ignore[no-any-return]

    def generate(self, prompt: str, *, provider: str | None = None, size: str | None = None,
                 quality: str | None = None, style: str | None = None, n: int | None = None,
                 seed: int | None = None, on_unsupported: Mode | None = None, raise_on_partial: bool = False,
                 on_progress: Callable[[Pending], None] | None = None,
                 on_submitted: Callable[[JobHandle], None] | None = None, persist_to: _Persist = None,
                 filename_template: str | None = None, **options: Any) -> ImageResult:
        """Generate images. Options: negative_prompt, output_format, background, user, timeout,
        provider_options, context (template variables), allow_unknown_model, allow_retired.

        ``n``: how many images; not given, the profile's ``n``, else 1 (an explicit ``n=1`` wins over the
        profile's). Calls of a fan-out run at once, up to the profile's ``max_concurrency`` (shared by every
        call of this client), else up to :data:`~imgsdk.ratelimit.FAN_OUT_CAP` per ``generate``.

        ``persist_to`` (a folder or fsspec URL; False: not even the profile's) stores each image as it
        arrives, named by ``filename_template``; ``on_submitted`` receives the :class:`JobHandle` of a
        submitted job before it is polled (keep it to :meth:`resume` after a crash without paying again).
        """
        delivery = Delivery(self, prompt, provider, dict(options, size=size, quality=quality, style=style, n=n,
                                                         seed=seed, on_unsupported=on_unsupported),
                            raise_on_partial=raise_on_partial, on_progress=on_progress, on_submitted=on_submitted,
                            persist_to=persist_to, filename_template=filename_template)
        while (the_plan := delivery.next_plan()) is not None:
            delivery.record(the_plan, self._run_calls(the_plan, delivery))
        return delivery.result()

    def _run_calls(self, the_plan: Plan, delivery: Delivery) -> list[Outcome]:
        calls = the_plan.calls
        if len(calls) == 1:
            return [self._run_call(the_plan, calls[0], delivery)]
        with ThreadPoolExecutor(max_workers=self.limits(the_plan.target).workers(len(calls))) as pool:
            return list(pool.map(lambda call: self._run_call(the_plan, call, delivery), calls))

    def _run_call(self, the_plan: Plan, call: PreparedRequest, delivery: Delivery) -> Outcome:
        target = the_plan.target
        operation = generate_call(target.adapter, call, target.endpoint, target.retry, delivery.on_progress,
                                  delivery.on_submitted, profile=target.profile.name if target.profile else None)
        try:
            outcome = self._drive(target, operation, target.adapter)
        except ProviderError as error:
            return redact(error, self._secrets(target))
        for image in outcome.images:  # bound once, here: the result is assembled from these very images
            self._bind(image, target)
        if delivery.persister is not None:
            delivery.persister.persist(the_plan, call, outcome)
        return outcome

    def _drive(self, target: Target, operation: Operation, adapter: Adapter) -> Images:
        """Run one provider operation under its profile's limits: the shared cap and the bucket where the
        profile sets them; where it sets none, no layer at all (they would only cost time), only the pacer
        that orders retries after a 429 (see :class:`~imgsdk.ratelimit.Pacer`)."""
        limits = self.limits(target)
        if limits.bucket is not None:
            operation = throttled(operation, limits.bucket)
        if not limits.gated:
            return drive_sync(operation, adapter, self._client, self._sleep, limits.pacer, extend=self._own_http)
        with limits.slot():
            return drive_sync(operation, adapter, self._client, self._sleep, limits.pacer, extend=self._own_http)

    def _stream_image(self, target: Target, image_ref: ImageRef, url: str, sink: BinaryIO) -> Downloaded:
        image = image_ref()
        with downloads.name_errors(target.adapter.name, target.capabilities.model):
            return self._stream(url, sink, self._download_policy(target.profile, target),
                                image.expires_at if image is not None else None, self._headers_for(target))

    def _fetch_image(self, target: Target, image_ref: ImageRef, url: str) -> bytes:
        sink = io.BytesIO()
        self._stream_image(target, image_ref, url, sink)
        return sink.getvalue()

    def _stream(self, url: str, sink: BinaryIO, policy: DownloadPolicy, expires_at: dt.datetime | None,
                headers_for: Headers | None = None) -> Downloaded:
        operation = downloads.download(url, sink, policy, self._retry, expires_at=expires_at,
                                       headers_for=headers_for or self._fetch_headers)
        return streaming.drive_sync(operation, self._client, self._sleep, policy.resolver)

    def resume(self, handle: JobHandle | str, provider: str | None = None, *, persist_to: _Persist = None,
               filename_template: str | None = None,
               on_progress: Callable[[Pending], None] | None = None) -> ImageResult:
        """Finish a job submitted earlier (a :class:`JobHandle` or its JSON) without paying again."""
        job, target = self._resumed(handle, provider)
        adapter = get_adapter(job.adapter)
        try:
            outcome = self._drive(target, resume_job(adapter, job, target.endpoint, target.retry, on_progress),
                                  adapter)
        except ProviderError as error:
            raise redact(error, self._secrets(target)) from None
        the_plan = self._resumed_plan(job, target, outcome)
        if persist_to not in (None, False, True):
            Persister(persist_to, filename_template).persist(the_plan, the_plan.calls[0], outcome)  # type: ignore[arg-type]
        return assemble(the_plan, [outcome], BOUND)

    def fetch(self, url: str, *, expires_at: dt.datetime | None = None, provider: str | None = None) -> bytes:
        """Download an image URL under the safe-download rules (of ``provider``'s profile, else the default
        profile's); credentials go only to the provider's own URLs."""
        sink = io.BytesIO()
        self._stream(url, sink, self._download_policy(self._profile_named(provider)), expires_at)
        return sink.getvalue()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(BaseClient):
    """The asyncio client: the same names as :class:`Client`, awaited. Calls of a fan-out run as tasks under
    the same per-profile limits."""

    _image_fetchers = ("_afetch", "_adownload")  # the image's awaited downloaders (see BaseClient._bind)

    def __init__(self, config: str | os.PathLike[str] | Mapping[str, Any] | Config | None = None, *,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, **options: Any) -> None:
        super().__init__(config, **options)
        self._sleep = sleep

    def _client(self) -> httpx2.AsyncClient:
        if self._http is None:
            import httpx2

            self._http = httpx2.AsyncClient(**self._new_http_options())
        return self._http  # type: ignore[no-any-return]

    async def generate(self, prompt: str, *, provider: str | None = None, size: str | None = None,
                       quality: str | None = None, style: str | None = None, n: int | None = None,
                       seed: int | None = None, on_unsupported: Mode | None = None,
                       raise_on_partial: bool = False, on_progress: Callable[[Pending], None] | None = None,
                       on_submitted: Callable[[JobHandle], None] | None = None, persist_to: _Persist = None,
                       filename_template: str | None = None, **options: Any) -> ImageResult:
        """Generate images; see :meth:`Client.generate`."""
        delivery = Delivery(self, prompt, provider, dict(options, size=size, quality=quality, style=style, n=n,
                                                         seed=seed, on_unsupported=on_unsupported),
                            raise_on_partial=raise_on_partial, on_progress=on_progress, on_submitted=on_submitted,
                            persist_to=persist_to, filename_template=filename_template)
        while (the_plan := delivery.next_plan()) is not None:
            delivery.record(the_plan, await self._run_calls(the_plan, delivery))
        return delivery.result()

    async def _run_calls(self, the_plan: Plan, delivery: Delivery) -> list[Outcome]:
        calls = the_plan.calls
        if len(calls) == 1:  # no task for a single call
            return [await self._run_call(the_plan, calls[0], delivery)]
        workers = self.limits(the_plan.target).workers(len(calls))
        if workers >= len(calls):
            return list(await asyncio.gather(*(self._run_call(the_plan, call, delivery) for call in calls)))
        gate = asyncio.Semaphore(workers)  # this generate's own cap (a profile's shared cap holds as well)

        async def run(call: PreparedRequest) -> Outcome:
            async with gate:
                return await self._run_call(the_plan, call, delivery)
        return list(await asyncio.gather(*(run(call) for call in calls)))

    async def _run_call(self, the_plan: Plan, call: PreparedRequest, delivery: Delivery) -> Outcome:
        target = the_plan.target
        operation = generate_call(target.adapter, call, target.endpoint, target.retry, delivery.on_progress,
                                  delivery.on_submitted, profile=target.profile.name if target.profile else None)
        try:
            outcome = await self._drive(target, operation, target.adapter)
        except ProviderError as error:
            return redact(error, self._secrets(target))
        for image in outcome.images:  # bound once, here: the result is assembled from these very images
            self._bind(image, target)
        if delivery.persister is not None:
            await delivery.persister.apersist(the_plan, call, outcome)
        return outcome

    async def _drive(self, target: Target, operation: Operation, adapter: Adapter) -> Images:
        """Run one provider operation under its profile's limits; see :meth:`Client._drive`."""
        limits = self.limits(target)
        if limits.bucket is not None:
            operation = throttled(operation, limits.bucket)
        if not limits.gated:
            return await drive_async(operation, adapter, self._client, self._sleep, limits.pacer, extend=self._own_http)
        async with limits.aslot():
            return await drive_async(operation, adapter, self._client, self._sleep, limits.pacer, extend=self._own_http)

    async def _stream_image(self, target: Target, image_ref: ImageRef, url: str, sink: BinaryIO) -> Downloaded:
        image = image_ref()
        with downloads.name_errors(target.adapter.name, target.capabilities.model):
            return await self._stream(url, sink, self._download_policy(target.profile, target),
                                      image.expires_at if image is not None else None, self._headers_for(target))

    async def _fetch_image(self, target: Target, image_ref: ImageRef, url: str) -> bytes:
        sink = io.BytesIO()
        await self._stream_image(target, image_ref, url, sink)
        return sink.getvalue()

    async def _stream(self, url: str, sink: BinaryIO, policy: DownloadPolicy, expires_at: dt.datetime | None,
                      headers_for: Headers | None = None) -> Downloaded:
        operation = downloads.download(url, sink, policy, self._retry, expires_at=expires_at,
                                       headers_for=headers_for or self._fetch_headers)
        return await streaming.drive_async(operation, self._client, self._sleep, policy.resolver)

    async def resume(self, handle: JobHandle | str, provider: str | None = None, *, persist_to: _Persist = None,
                     filename_template: str | None = None,
                     on_progress: Callable[[Pending], None] | None = None) -> ImageResult:
        """Finish a job submitted earlier; see :meth:`Client.resume`."""
        job, target = self._resumed(handle, provider)
        adapter = get_adapter(job.adapter)
        try:
            outcome = await self._drive(target, resume_job(adapter, job, target.endpoint, target.retry,
                                                           on_progress), adapter)
        except ProviderError as error:
            raise redact(error, self._secrets(target)) from None
        the_plan = self._resumed_plan(job, target, outcome)
        if persist_to not in (None, False, True):
            await Persister(persist_to, filename_template).apersist(  # type: ignore[arg-type]
                the_plan, the_plan.calls[0], outcome)
        return assemble(the_plan, [outcome], BOUND)

    async def fetch(self, url: str, *, expires_at: dt.datetime | None = None, provider: str | None = None) -> bytes:
        """Download an image URL asynchronously; see :meth:`Client.fetch`."""
        sink = io.BytesIO()
        await self._stream(url, sink, self._download_policy(self._profile_named(provider)), expires_at)
        return sink.getvalue()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
