"""What :class:`~imgsdk.Client` and :class:`~imgsdk.AsyncClient` share: resolution, planning, limits and
download rules, kept per client (so every call of one client shares one rate limit and one concurrency cap).
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, Self

from .capabilities import ModelCapabilities
from .config import Config, Profile, load_config
from .download import DownloadPolicy, Resolver, origin
from .engine import RetrySettings
from .errors import ProviderError
from .planning import Plan, Target, plan, resolve
from .policy import Mode
from .ratelimit import Limits, TokenBucket
from .request import ImageRequest
from .wire import Images, JobHandle, Secret

if TYPE_CHECKING:
    from .result import GeneratedImage

ImageRef = weakref.ReferenceType["GeneratedImage"]

__all__ = ["BaseClient", "redact"]

_TARGET_OPTIONS = ("on_unsupported", "allow_unknown_model", "allow_retired")


def redact(error: ProviderError, secrets: list[str]) -> ProviderError:
    """Remove any echo of a key from a provider error (some APIs quote part of a wrong key back): from its
    message and from every attribute (detail, reason, code...), the body as a whole when it quotes one."""
    for secret in (s for s in secrets if s):
        error.args = tuple(arg.replace(secret, "[REDACTED]") if isinstance(arg, str) else arg for arg in error.args)
        for name, value in list(vars(error).items()):
            if isinstance(value, str) and secret in value:
                setattr(error, name, value.replace(secret, "[REDACTED]"))
        if error.body is not None and secret in repr(error.body):
            error.body = "[REDACTED: the body quoted a credential]"
    return error


class BaseClient:
    """Shared state and helpers of the two clients (not used directly)."""

    _image_fetchers = ("_fetch", "_download")  # where _bind puts the downloaders on an image (async: awaited)

    def __init__(self, config: str | os.PathLike[str] | Mapping[str, Any] | Config | None = None, *,
                 on_unsupported: Mode | None = None, timeout: float = 600.0, max_retries: int = 2,
                 allow_unknown_models: bool = False, allow_retired: bool = False,
                 http_client: Any = None, transport: Any = None,
                 clock: Callable[[], float] = time.monotonic, persist_to: str | os.PathLike[str] | None = None,
                 resolver: Resolver | None = None) -> None:
        """``persist_to``: save every image as it arrives (overridden per profile and per call);
        ``resolver``: ``(host, port) -> addresses`` for the download address check (tests inject one)."""
        self._config = config if isinstance(config, Config) else load_config(config)
        self._mode = on_unsupported
        self._retry = RetrySettings(max_retries=max_retries, deadline=timeout, clock=clock)
        self._timeout = timeout
        self._allow_unknown = allow_unknown_models
        self._allow_retired = allow_retired
        self._http = http_client
        self._own_http = http_client is None  # imgsdk's own httpx2 client: its timeouts are only defaults
        self._transport = transport
        self._clock = clock
        self._persist_to = persist_to
        self._resolver = resolver
        self._targets: dict[tuple[Any, ...], Target] = {}
        self._announced: set[str] = set()  # targets whose one-time notes (unknown model) were reported
        self._limits: dict[str, Limits] = {}
        self._policies: dict[tuple[str | None, str], DownloadPolicy] = {}  # per profile and API origin
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **options: Any) -> Self:
        """A client configured from an ``imgsdk.toml`` file."""
        return cls(load_config(path), **options)

    @property
    def config(self) -> Config:
        return self._config

    def with_options(self, *, timeout: float | None = None, max_retries: int | None = None,
                     on_unsupported: Mode | None = None) -> Self:
        """A copy of this client with other defaults, for some calls: ``client.with_options(max_retries=0)``.

        The copy shares what must be shared: the connection pool (closing either client closes it, as with
        openai-python's ``with_options``), the profiles' rate limits and concurrency caps, and the download
        rules. A profile's own ``timeout`` and ``max_retries`` still win over the client's, as they do here.
        """
        import copy
        from dataclasses import replace

        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
            raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
        if max_retries is not None and (isinstance(max_retries, bool) or not isinstance(max_retries, int)
                                        or max_retries < 0):
            raise ValueError(f"max_retries must be a whole number ≥ 0, got {max_retries!r}")
        if on_unsupported not in (None, "warn", "strict"):
            raise ValueError(f"on_unsupported must be 'warn' or 'strict', got {on_unsupported!r}")
        self._client()  # the pool is made now, so that both clients hold the same one
        clone = copy.copy(self)
        clone._retry = replace(self._retry, deadline=self._retry.deadline if timeout is None else float(timeout),
                               max_retries=self._retry.max_retries if max_retries is None else max_retries)
        clone._mode = on_unsupported or self._mode
        clone._targets = {}  # targets carry the retry settings and the mode: resolved again for the copy
        return clone

    def _client(self) -> Any:
        raise NotImplementedError  # the httpx2 client of this client (sync or async), made on first use

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
        # Reading declarations needs no key and no lifecycle check: resolve afresh, outside the target cache.
        return resolve(provider, self._config, allow_unknown_model=True, allow_retired=True,
                       require_key=False).capabilities

    def _request(self, prompt: str, options: dict[str, Any]) -> tuple[ImageRequest, dict[str, Any]]:
        """The user's request (templated) and the options that choose how a target is resolved."""
        context = options.pop("context", None)
        if context is not None:
            from .templates import render

            prompt = render(prompt, context)
        choice = {name: options.pop(name, None) for name in _TARGET_OPTIONS}
        options["provider_options"] = options.get("provider_options") or {}
        if "n" in options and options["n"] is None:
            # n not given: 1, but only as a default, so a profile's n applies (an explicit n=1 wins over it)
            del options["n"]
            options["soft"] = frozenset(options.get("soft") or ()) | {"n"}
        return ImageRequest(prompt=prompt, **options), choice

    def _plan_for(self, provider: str | None, request: ImageRequest, choice: Mapping[str, Any]) -> Plan:
        """Resolve ``provider`` and plan ``request`` for it (used for the first choice and each fallback)."""
        target = self.target(provider, on_unsupported=choice.get("on_unsupported"),
                             allow_unknown_model=bool(choice.get("allow_unknown_model")),
                             allow_retired=bool(choice.get("allow_retired")))
        result = plan(target, request)
        if target.warnings and target.reference in self._announced:
            result.warnings = [w for w in result.warnings if w not in target.warnings]  # once per client
        self._announced.add(target.reference)
        if request.timeout is not None:
            from dataclasses import replace

            result.target = replace(target, retry=replace(target.retry, deadline=request.timeout))
        return result

    def _plan(self, prompt: str, provider: str | None, options: dict[str, Any]) -> Plan:
        request, choice = self._request(prompt, options)
        return self._plan_for(provider, request, choice)

    def _secrets(self, target: Target) -> list[str]:
        secrets = [target.endpoint.api_key.get()] if target.endpoint.api_key else []
        settings = target.endpoint.settings
        secrets += [value.get() if isinstance(value, Secret) else str(value)
                    for k in target.adapter.secret_settings if (value := settings.get(k))]
        return secrets + target.adapter.credentials(target.endpoint)

    def _fetch_headers(self, url: str) -> dict[str, str]:
        """A provider's credentials, only for its own URLs (never for a signed URL on another origin)."""
        for target in list(self._targets.values()):
            base = target.endpoint.base_url.rstrip("/") + "/"
            if url.startswith(base):
                return target.adapter.auth_headers(target.endpoint)
        return {}

    def _headers_for(self, target: Target) -> Callable[[str], dict[str, str]]:
        """Credentials for an image of ``target``: its own, and only for URLs under its own base_url."""
        base = target.endpoint.base_url.rstrip("/") + "/"

        def headers_for(url: str) -> dict[str, str]:
            return target.adapter.auth_headers(target.endpoint) if url.startswith(base) else {}
        return headers_for

    def limits(self, target: Target) -> Limits:
        """The rate limit and concurrency cap of ``target``'s profile, one per client (shared by all calls)."""
        key = target.profile.name if target.profile else target.reference
        if (known := self._limits.get(key)) is not None:
            return known  # every call asks: no lock once made
        with self._lock:
            if key not in self._limits:
                rate = target.profile.requests_per_minute if target.profile else None
                bucket = TokenBucket(rate, clock=self._clock) if rate else None
                # Only a cap the profile sets is shared; unset, each generate fans out up to FAN_OUT_CAP.
                self._limits[key] = Limits(target.profile.max_concurrency if target.profile else None, bucket)
            return self._limits[key]

    def _download_policy(self, profile: Profile | None, target: Target | None = None) -> DownloadPolicy:
        """Download rules: the profile's allowances, and the API origin the user configured (a local ComfyUI on
        http://127.0.0.1) trusted for its own image URLs — only the serving target's origin for its images;
        every configured origin for a bare :meth:`fetch`. A target's rules are built once per profile and
        origin (every image of a call is bound to them)."""
        if target is not None:
            key = (profile.name if profile is not None else None, target.endpoint.base_url)
            cached = self._policies.get(key)
            if cached is None:
                cached = self._policies[key] = self._new_policy(profile, {origin(target.endpoint.base_url)})
            return cached
        origins = {origin(p.base_url) for p in self._config.profiles.values() if p.base_url}
        origins |= {origin(t.endpoint.base_url) for t in list(self._targets.values())}
        return self._new_policy(profile, origins)

    def _new_policy(self, profile: Profile | None, origins: set[str]) -> DownloadPolicy:
        options: dict[str, Any] = {}
        if profile is not None and profile.max_download_bytes:
            options["max_bytes"] = profile.max_download_bytes
        return DownloadPolicy(allowed_hosts=frozenset(profile.allowed_hosts if profile else ()),
                              allow_private=bool(profile and profile.allow_private),
                              trusted_origins=frozenset(origins), resolver=self._resolver, **options)

    def _bind(self, image: GeneratedImage, target: Target) -> None:
        """Give an image this client's safe downloader, under its profile's rules and with its expiry.

        The downloader holds the image only weakly (to read ``expires_at`` when a download starts): a
        closure over the image, stored on the image, would be a reference cycle, and each image — megabytes
        — would then wait for the cyclic garbage collector instead of being freed with its result.
        """
        image_ref = weakref.ref(image)
        fetch, download = self._image_fetchers
        setattr(image, fetch, partial(self._fetch_image, target, image_ref))
        setattr(image, download, partial(self._stream_image, target, image_ref))

    def _fetch_image(self, target: Target, image_ref: ImageRef, url: str) -> Any:
        raise NotImplementedError  # the bytes of an image's URL (sync or awaited: each client's own)

    def _stream_image(self, target: Target, image_ref: ImageRef, url: str, sink: Any) -> Any:
        raise NotImplementedError  # an image's URL streamed into ``sink`` (each client's own)

    def _resumed(self, handle: JobHandle | str, provider: str | None) -> tuple[JobHandle, Target]:
        """The job to resume (a handle or its JSON) and its target (its model, retired or unknown alike)."""
        job = JobHandle.from_json(handle) if isinstance(handle, str) else handle
        # The profile the job went through (its base_url and key), if this config still has it for that adapter:
        # a same-named profile of another provider must not lend its key to this job's polls.
        named = self._config.profiles.get(job.profile) if job.profile else None
        profile = job.profile if named is not None and named.adapter == job.adapter else None
        return job, self.target(provider or profile or f"{job.adapter}:{job.model}", allow_unknown_model=True,
                                allow_retired=True)

    def _resumed_plan(self, job: JobHandle, target: Target, outcome: Images) -> Plan:
        """The plan a resumed job's result is assembled under, its images bound to this client."""
        the_plan = plan(target, ImageRequest(prompt=str(job.data.get("prompt") or job.job_id)))
        for image in outcome.images:
            self._bind(image, target)
        return the_plan

    def __repr__(self) -> str:
        return f"{type(self).__name__}(config={self._config.path!r}, profiles={sorted(self._config.profiles)})"

    def _profile_named(self, provider: str | None) -> Profile | None:
        name = provider if provider is not None else self._config.default
        return self._config.profiles.get(name) if name else None

    def _new_http_options(self) -> dict[str, Any]:
        import httpx2

        from . import __version__

        limit = None if self._timeout == float("inf") else self._timeout  # inf: no limit (httpx2 wants None)
        return {"timeout": httpx2.Timeout(limit, connect=10.0), "follow_redirects": False,
                "headers": {"user-agent": f"imgsdk/{__version__}"}, "transport": self._transport}
