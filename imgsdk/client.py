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
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, BinaryIO, Self

from . import download as downloads
from . import streaming
from .adapter import Images, JobHandle, Pending
from .clientbase import BaseClient, redact
from .config import Config
from .delivery import Delivery, Outcome, Persister
from .download import Downloaded, DownloadPolicy
from .engine import generate_call, resume_job
from .errors import ProviderError
from .planning import Plan, Target, assemble, plan
from .policy import Mode
from .ratelimit import throttled
from .registry import get_adapter
from .request import ImageRequest, PreparedRequest
from .result import GeneratedImage, ImageResult
from .transport import drive_async, drive_sync

if TYPE_CHECKING:
    import httpx2

__all__ = ["AsyncClient", "Client"]

_BaseClient = BaseClient  # the earlier private names, kept for code written against them
_redact = redact
_Persist = str | os.PathLike[str] | bool | None
Headers = Callable[[str], dict[str, str]]


def _resumed(client: BaseClient, handle: JobHandle | str, provider: str | None) -> tuple[JobHandle, Target]:
    job = JobHandle.from_json(handle) if isinstance(handle, str) else handle
    target = client.target(provider or f"{job.adapter}:{job.model}", allow_unknown_model=True, allow_retired=True)
    return job, target


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
                 quality: str | None = None, style: str | None = None, n: int = 1, seed: int | None = None,
                 on_unsupported: Mode | None = None, raise_on_partial: bool = False,
                 on_progress: Callable[[Pending], None] | None = None,
                 on_submitted: Callable[[JobHandle], None] | None = None, persist_to: _Persist = None,
                 filename_template: str | None = None, **options: Any) -> ImageResult:
        """Generate images. Options: negative_prompt, output_format, background, user, timeout,
        provider_options, context (template variables), allow_unknown_model, allow_retired.

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
        return delivery.result(self._bind)

    def _run_calls(self, the_plan: Plan, delivery: Delivery) -> list[Outcome]:
        calls = the_plan.calls
        if len(calls) == 1:
            return [self._run_call(the_plan, calls[0], delivery)]
        workers = min(len(calls), self.limits(the_plan.target).max_concurrency)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda call: self._run_call(the_plan, call, delivery), calls))

    def _run_call(self, the_plan: Plan, call: PreparedRequest, delivery: Delivery) -> Outcome:
        target = the_plan.target
        limits = self.limits(target)
        operation = generate_call(target.adapter, call, target.endpoint, target.retry, delivery.on_progress,
                                  delivery.on_submitted)
        try:
            with limits.slot():
                outcome = drive_sync(throttled(operation, limits.bucket), target.adapter, self._client, self._sleep)
        except ProviderError as error:
            return redact(error, self._secrets(target))
        for image in outcome.images:
            self._bind(image, target)
        if delivery.persister is not None:
            delivery.persister.persist(the_plan, call, outcome)
        return outcome

    def _bind(self, image: GeneratedImage, target: Target) -> None:
        """Give an image this client's safe downloader, under its profile's rules and with its expiry."""
        policy = self._download_policy(target.profile, target)

        headers_for = self._headers_for(target)

        whose = (target.adapter.name, target.capabilities.model)

        def fetch_bytes(url: str) -> bytes:
            with downloads.name_errors(*whose):
                return self._get(url, policy, image.expires_at, headers_for)

        def stream(url: str, sink: BinaryIO) -> Downloaded:
            with downloads.name_errors(*whose):
                return self._stream(url, sink, policy, image.expires_at, headers_for)

        image._fetch, image._download = fetch_bytes, stream

    def _stream(self, url: str, sink: BinaryIO, policy: DownloadPolicy, expires_at: dt.datetime | None,
                headers_for: Headers | None = None) -> Downloaded:
        operation = downloads.download(url, sink, policy, self._retry, expires_at=expires_at,
                                       headers_for=headers_for or self._fetch_headers)
        return streaming.drive_sync(operation, self._client, self._sleep, policy.resolver)

    def _get(self, url: str, policy: DownloadPolicy, expires_at: dt.datetime | None,
             headers_for: Headers | None = None) -> bytes:
        sink = io.BytesIO()
        self._stream(url, sink, policy, expires_at, headers_for)
        return sink.getvalue()

    def resume(self, handle: JobHandle | str, provider: str | None = None, *, persist_to: _Persist = None,
               filename_template: str | None = None,
               on_progress: Callable[[Pending], None] | None = None) -> ImageResult:
        """Finish a job submitted earlier (a :class:`JobHandle` or its JSON) without paying again."""
        job, target = _resumed(self, handle, provider)
        adapter = get_adapter(job.adapter)
        limits = self.limits(target)
        try:
            with limits.slot():
                outcome = drive_sync(throttled(resume_job(adapter, job, target.endpoint, target.retry, on_progress),
                                               limits.bucket), adapter, self._client, self._sleep)
        except ProviderError as error:
            raise redact(error, self._secrets(target)) from None
        the_plan = plan(target, ImageRequest(prompt=str(job.data.get("prompt") or job.job_id)))
        for image in outcome.images:
            self._bind(image, target)
        if persist_to not in (None, False, True):
            Persister(persist_to, filename_template).persist(the_plan, the_plan.calls[0], outcome)  # type: ignore[arg-type]
        return assemble(the_plan, [outcome], {"bind": lambda image: self._bind(image, target)})

    def fetch(self, url: str, *, expires_at: dt.datetime | None = None, provider: str | None = None) -> bytes:
        """Download an image URL under the safe-download rules (of ``provider``'s profile, else the default
        profile's); credentials go only to the provider's own URLs."""
        return self._get(url, self._download_policy(self._profile_named(provider)), expires_at)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(config={self._config.path!r}, profiles={sorted(self._config.profiles)})"


class AsyncClient(BaseClient):
    """The asyncio client: the same names as :class:`Client`, awaited. Calls of a fan-out run as tasks under
    the same per-profile limits."""

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
                       quality: str | None = None, style: str | None = None, n: int = 1,
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
            outcomes = await asyncio.gather(*(self._run_call(the_plan, call, delivery) for call in the_plan.calls))
            delivery.record(the_plan, list(outcomes))
        return delivery.result(self._bind)

    async def _run_call(self, the_plan: Plan, call: PreparedRequest, delivery: Delivery) -> Outcome:
        target = the_plan.target
        limits = self.limits(target)
        operation = generate_call(target.adapter, call, target.endpoint, target.retry, delivery.on_progress,
                                  delivery.on_submitted)
        try:
            async with limits.aslot():
                outcome: Images = await drive_async(throttled(operation, limits.bucket), target.adapter,
                                                    self._client, self._sleep)
        except ProviderError as error:
            return redact(error, self._secrets(target))
        for image in outcome.images:
            self._bind(image, target)
        if delivery.persister is not None:
            await delivery.persister.apersist(the_plan, call, outcome)
        return outcome

    def _bind(self, image: GeneratedImage, target: Target) -> None:
        policy = self._download_policy(target.profile, target)

        headers_for = self._headers_for(target)

        whose = (target.adapter.name, target.capabilities.model)

        async def fetch_bytes(url: str) -> bytes:
            with downloads.name_errors(*whose):
                return await self._get(url, policy, image.expires_at, headers_for)

        async def stream(url: str, sink: BinaryIO) -> Downloaded:
            with downloads.name_errors(*whose):
                return await self._stream(url, sink, policy, image.expires_at, headers_for)

        image._afetch, image._adownload = fetch_bytes, stream

    async def _stream(self, url: str, sink: BinaryIO, policy: DownloadPolicy, expires_at: dt.datetime | None,
                      headers_for: Headers | None = None) -> Downloaded:
        operation = downloads.download(url, sink, policy, self._retry, expires_at=expires_at,
                                       headers_for=headers_for or self._fetch_headers)
        return await streaming.drive_async(operation, self._client, self._sleep, policy.resolver)

    async def _get(self, url: str, policy: DownloadPolicy, expires_at: dt.datetime | None,
                   headers_for: Headers | None = None) -> bytes:
        sink = io.BytesIO()
        await self._stream(url, sink, policy, expires_at, headers_for)
        return sink.getvalue()

    async def resume(self, handle: JobHandle | str, provider: str | None = None, *, persist_to: _Persist = None,
                     filename_template: str | None = None,
                     on_progress: Callable[[Pending], None] | None = None) -> ImageResult:
        """Finish a job submitted earlier; see :meth:`Client.resume`."""
        job, target = _resumed(self, handle, provider)
        adapter = get_adapter(job.adapter)
        limits = self.limits(target)
        try:
            async with limits.aslot():
                outcome = await drive_async(throttled(resume_job(adapter, job, target.endpoint, target.retry,
                                                                 on_progress), limits.bucket),
                                            adapter, self._client, self._sleep)
        except ProviderError as error:
            raise redact(error, self._secrets(target)) from None
        the_plan = plan(target, ImageRequest(prompt=str(job.data.get("prompt") or job.job_id)))
        for image in outcome.images:
            self._bind(image, target)
        if persist_to not in (None, False, True):
            await Persister(persist_to, filename_template).apersist(  # type: ignore[arg-type]
                the_plan, the_plan.calls[0], outcome)
        return assemble(the_plan, [outcome], {"bind": lambda image: self._bind(image, target)})

    async def fetch(self, url: str, *, expires_at: dt.datetime | None = None, provider: str | None = None) -> bytes:
        """Download an image URL asynchronously; see :meth:`Client.fetch`."""
        return await self._get(url, self._download_policy(self._profile_named(provider)), expires_at)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncClient(config={self._config.path!r}, profiles={sorted(self._config.profiles)})"
