"""``Client`` and ``AsyncClient``: the same names, the same behaviour, one implementation.

Both share resolution, policy, planning and result assembly (:mod:`imgsdk.planning`) and the engine
(:mod:`imgsdk.engine`); they differ only in how a request is sent and how a wait is done
(:mod:`imgsdk.transport`). One httpx2 client per imgsdk client, so connections are reused.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Self

from .adapter import JobHandle, Pending
from .capabilities import ModelCapabilities
from .config import Config, load_config
from .engine import RetrySettings, fetch, generate_call, resume_job
from .errors import ProviderError
from .planning import Plan, Target, assemble, plan, resolve
from .policy import Mode
from .registry import get_adapter
from .request import ImageRequest
from .result import ImageResult
from .transport import drive_async, drive_sync

if TYPE_CHECKING:
    import httpx2

__all__ = ["AsyncClient", "Client"]


def _redact(error: ProviderError, secrets: list[str]) -> ProviderError:
    """Remove any echo of a key from a provider error (some APIs quote part of a wrong key back)."""
    for secret in secrets:
        if secret and secret in str(error.args[0] if error.args else ""):
            error.args = (str(error.args[0]).replace(secret, "[REDACTED]"),)
            error.detail = error.detail.replace(secret, "[REDACTED]")
        if secret and error.body is not None and secret in repr(error.body):
            error.body = "[REDACTED: the body quoted a credential]"
    return error


class _BaseClient:
    def __init__(self, config: str | os.PathLike[str] | Mapping[str, Any] | Config | None = None, *,
                 on_unsupported: Mode | None = None, timeout: float = 600.0, max_retries: int = 2,
                 allow_unknown_models: bool = False, allow_retired: bool = False,
                 http_client: Any = None, transport: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config if isinstance(config, Config) else load_config(config)
        self._mode = on_unsupported
        self._retry = RetrySettings(max_retries=max_retries, deadline=timeout, clock=clock)
        self._timeout = timeout
        self._allow_unknown = allow_unknown_models
        self._allow_retired = allow_retired
        self._http = http_client
        self._transport = transport
        self._targets: dict[tuple[Any, ...], Target] = {}
        self._announced: set[str] = set()  # targets whose one-time notes (unknown model) were reported

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **options: Any) -> Self:
        """A client configured from an ``imgsdk.toml`` file."""
        return cls(load_config(path), **options)

    @property
    def config(self) -> Config:
        return self._config

    def target(self, provider: str | None = None, *, on_unsupported: Mode | None = None,
               allow_unknown_model: bool = False, allow_retired: bool = False) -> Target:
        """Resolve a provider (profile, ``adapter:model`` or None for the default); cached per client."""
        key = (provider, on_unsupported or self._mode, allow_unknown_model, allow_retired)
        if key not in self._targets:
            self._targets[key] = resolve(
                provider, self._config, mode=on_unsupported or self._mode, retry=self._retry,
                allow_unknown_model=allow_unknown_model or self._allow_unknown,
                allow_retired=allow_retired or self._allow_retired)
        return self._targets[key]

    def capabilities(self, provider: str | None = None) -> ModelCapabilities:
        """What the model behind ``provider`` can do, as data."""
        return self.target(provider, allow_unknown_model=True, allow_retired=True).capabilities

    def _plan(self, prompt: str, provider: str | None, options: dict[str, Any]) -> Plan:
        context = options.pop("context", None)
        if context is not None:
            from .templates import render

            prompt = render(prompt, context)
        target = self.target(provider, on_unsupported=options.pop("on_unsupported", None),
                             allow_unknown_model=options.pop("allow_unknown_model", False),
                             allow_retired=options.pop("allow_retired", False))
        options["provider_options"] = options.get("provider_options") or {}
        request = ImageRequest(prompt=prompt, **options)
        result = plan(target, request)
        if target.warnings and target.reference in self._announced:
            result.warnings = [w for w in result.warnings if w not in target.warnings]  # once per client
        self._announced.add(target.reference)
        if request.timeout is not None:
            from dataclasses import replace

            result.target = replace(target, retry=replace(target.retry, deadline=request.timeout))
        return result

    def _secrets(self, target: Target) -> list[str]:
        secrets = [target.endpoint.api_key.get()] if target.endpoint.api_key else []
        settings = target.endpoint.settings
        return secrets + [str(settings[k]) for k in target.adapter.secret_settings if settings.get(k)]

    def _fetch_headers(self, url: str) -> dict[str, str]:
        """A provider's credentials, only for its own URLs (never for a signed URL on another origin)."""
        for target in self._targets.values():
            base = target.endpoint.base_url.rstrip("/") + "/"
            if url.startswith(base):
                return target.adapter.auth_headers(target.endpoint)
        return {}

    def _new_http_options(self) -> dict[str, Any]:
        import httpx2

        from . import __version__

        return {"timeout": httpx2.Timeout(self._timeout, connect=10.0), "follow_redirects": False,
                "headers": {"user-agent": f"imgsdk/{__version__}"}, "transport": self._transport}


_GenerateOptions = Any


class Client(_BaseClient):
    """The synchronous client. ``with Client() as client: client.generate("...")``.

    ``sleep`` is injectable (tests and cassette replays pass a no-op, so retries and polls never wait).
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
                 on_progress: Callable[[Pending], None] | None = None, **options: Any) -> ImageResult:
        """Generate images. Options: negative_prompt, output_format, background, user, timeout,
        provider_options, context (template variables), allow_unknown_model, allow_retired."""
        the_plan = self._plan(prompt, provider, dict(options, size=size, quality=quality, style=style, n=n,
                                                     seed=seed, on_unsupported=on_unsupported))
        target = the_plan.target

        def run(call: Any) -> Any:
            operation = generate_call(target.adapter, call, target.endpoint, target.retry, on_progress)
            try:
                return drive_sync(operation, target.adapter, self._client, self._sleep)
            except ProviderError as error:
                return _redact(error, self._secrets(target))

        if len(the_plan.calls) == 1:
            outcomes = [run(the_plan.calls[0])]
        else:
            with ThreadPoolExecutor(max_workers=min(len(the_plan.calls), target.max_concurrency)) as pool:
                outcomes = list(pool.map(run, the_plan.calls))
        if raise_on_partial:
            for outcome in outcomes:
                if isinstance(outcome, ProviderError):
                    raise outcome
        return assemble(the_plan, outcomes, {"sync": self.fetch, "async": None})

    def resume(self, handle: JobHandle | str, provider: str | None = None) -> ImageResult:
        """Finish a job submitted earlier (a :class:`JobHandle` or its JSON) without paying again."""
        job = JobHandle.from_json(handle) if isinstance(handle, str) else handle
        target = self.target(provider or f"{job.adapter}:{job.model}", allow_unknown_model=True,
                             allow_retired=True)
        adapter = get_adapter(job.adapter)
        outcome = drive_sync(resume_job(adapter, job, target.endpoint, target.retry), adapter, self._client,
                             self._sleep)
        the_plan = plan(target, ImageRequest(prompt=str(job.data.get("prompt") or job.job_id)))
        return assemble(the_plan, [outcome], {"sync": self.fetch, "async": None})

    def fetch(self, url: str) -> bytes:
        """Download an image URL (no credentials are sent: provider URLs are signed)."""
        return drive_sync(fetch(url, self._retry, headers=self._fetch_headers(url)), None, self._client,
                          self._sleep)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(config={self._config.path!r}, profiles={sorted(self._config.profiles)})"


class AsyncClient(_BaseClient):
    """The asyncio client: the same names as :class:`Client`, awaited."""

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
                       **options: Any) -> ImageResult:
        """Generate images; see :meth:`Client.generate`."""
        the_plan = self._plan(prompt, provider, dict(options, size=size, quality=quality, style=style, n=n,
                                                     seed=seed, on_unsupported=on_unsupported))
        target = the_plan.target
        gate = asyncio.Semaphore(target.max_concurrency)

        async def run(call: Any) -> Any:
            async with gate:
                operation = generate_call(target.adapter, call, target.endpoint, target.retry, on_progress)
                try:
                    return await drive_async(operation, target.adapter, self._client, self._sleep)
                except ProviderError as error:
                    return _redact(error, self._secrets(target))

        outcomes = list(await asyncio.gather(*(run(call) for call in the_plan.calls)))
        if raise_on_partial:
            for outcome in outcomes:
                if isinstance(outcome, ProviderError):
                    raise outcome
        return assemble(the_plan, outcomes, {"sync": None, "async": self.fetch})

    async def resume(self, handle: JobHandle | str, provider: str | None = None) -> ImageResult:
        """Finish a job submitted earlier; see :meth:`Client.resume`."""
        job = JobHandle.from_json(handle) if isinstance(handle, str) else handle
        target = self.target(provider or f"{job.adapter}:{job.model}", allow_unknown_model=True,
                             allow_retired=True)
        adapter = get_adapter(job.adapter)
        outcome = await drive_async(resume_job(adapter, job, target.endpoint, target.retry), adapter,
                                    self._client, self._sleep)
        the_plan = plan(target, ImageRequest(prompt=str(job.data.get("prompt") or job.job_id)))
        return assemble(the_plan, [outcome], {"sync": None, "async": self.fetch})

    async def fetch(self, url: str) -> bytes:
        """Download an image URL asynchronously."""
        return await drive_async(fetch(url, self._retry, headers=self._fetch_headers(url)), None, self._client,
                                 self._sleep)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncClient(config={self._config.path!r}, profiles={sorted(self._config.profiles)})"
