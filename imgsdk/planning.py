"""Everything between "the user called generate" and "send these wire requests", shared by sync and async.

:func:`resolve` turns a provider reference or profile name into a :class:`Target` (adapter, capabilities,
endpoint, policy mode, retry settings); :func:`plan` applies the policy engine and splits ``n`` into calls
(fan-out: call *i* gets ``seed + i``); :func:`assemble` builds the :class:`~imgsdk.result.ImageResult`.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import os
import random
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .adapter import Adapter, Endpoint, Images, Secret
from .capabilities import ModelCapabilities
from .config import Config, Profile
from .costs import add_cost, add_usage
from .engine import RetrySettings
from .errors import ConfigError, ModelNotFoundError, ProviderError
from .policy import Mode, apply, check_lifecycle
from .registry import adapter_names, get_adapter, split_reference, suggest
from .request import ImageRequest, PreparedRequest, RequestWarning
from .result import ImageResult

__all__ = ["Plan", "Target", "assemble", "plan", "resolve"]

log = logging.getLogger("imgsdk")
# Result ids (file names) from a generator of imgsdk's own: not os.urandom, a system call on every generate, and
# not the random module's shared generator, which a user's random.seed() would make repeat ids (and so file
# names, across runs). Seeded from os.urandom, and again in a forked child (multiprocessing workers).
_UIDS = random.Random()
os.register_at_fork(after_in_child=_UIDS.seed)
OFFLINE_DEFAULT = "local:placeholder"
_notices: set[str] = set()


@dataclass(frozen=True)
class Target:
    """A resolved provider: who to call, with what, under which rules."""

    adapter: Adapter
    capabilities: ModelCapabilities
    endpoint: Endpoint
    mode: Mode
    retry: RetrySettings
    profile: Profile | None = None
    warnings: tuple[RequestWarning, ...] = ()
    max_concurrency: int = 4

    @functools.cached_property
    def reference(self) -> str:  # asked several times per call: built once (a frozen dataclass has a __dict__)
        return f"{self.adapter.name}:{self.capabilities.model}"


@dataclass
class Plan:
    """The calls to make for one request, and the warnings the policy produced (once, not per call).

    ``request`` is the request with the profile's defaults applied; ``original`` the user's own, before them
    (what a fallback is planned from). ``uid`` names the result's files (``{uid}`` in a filename template).
    """

    target: Target
    request: ImageRequest
    calls: list[PreparedRequest]
    warnings: list[RequestWarning] = field(default_factory=list)
    original: ImageRequest | None = None
    uid: str = field(default_factory=lambda: f"{_UIDS.getrandbits(32):08x}")


def _notice_once(key: str, message: str) -> None:
    if key not in _notices:
        _notices.add(key)
        print(f"imgsdk: {message}", file=sys.stderr)


def _default_profile(config: Config) -> Profile | str:
    if env := os.environ.get("IMGSDK_PROVIDER"):
        return config.profiles.get(env) or env
    if config.default:
        return config.profiles[config.default]
    if os.environ.get("OPENAI_API_KEY"):
        # The one implicit choice: an OpenAI key in the environment means "use OpenAI" (documented).
        _notice_once("openai", "no provider configured; OPENAI_API_KEY is set, so using openai's default model")
        return "openai"
    _notice_once("offline", "no provider configured and no API key found: using the offline placeholder "
                 "renderer (local:placeholder). Set OPENAI_API_KEY, or add an imgsdk.toml profile, to use a "
                 "real provider.")
    return OFFLINE_DEFAULT


def _capabilities(adapter: Adapter, model: str, profile: Profile | None, config: Config,
                  allow_unknown: bool) -> tuple[ModelCapabilities, tuple[RequestWarning, ...]]:
    declared = config.models.get(f"{adapter.name}:{model}")
    if declared is not None:
        return declared, ()
    settings = profile.settings if profile else {}
    known = adapter.capabilities(model, settings)
    if known is not None:
        return known, ()
    catalogue = sorted(adapter.catalogue())
    if adapter.non_image_model(model):
        raise ModelNotFoundError(
            f"{adapter.name}:{model} is not an image model and cannot generate images. Image models of "
            f"{adapter.name}: {', '.join(catalogue)}", adapter=adapter.name, model=model)
    if allow_unknown or (profile is not None and profile.allow_unknown_model) or not catalogue:
        caps = adapter.permissive_capabilities(model)
        message = (f"{adapter.name}:{model} has no capability declaration: options are passed through "
                   "unchecked. Declare it under [models] in imgsdk.toml to have them checked")
        return caps, (RequestWarning("unknown_model", "model", model, model, message),)
    raise ModelNotFoundError(
        f"{adapter.name} has no model {model!r}.{suggest(model, catalogue)} Known: {', '.join(catalogue)}. "
        f'For a newer model, declare its capabilities under [models."{adapter.name}:{model}"] in imgsdk.toml '
        "or pass allow_unknown_model=True", adapter=adapter.name, model=model,
        suggestions=tuple(catalogue))


def resolve(provider: str | None, config: Config, *, mode: Mode | None = None,
            retry: RetrySettings | None = None, allow_unknown_model: bool = False,
            allow_retired: bool = False, api_key: str | None = None, base_url: str | None = None,
            require_key: bool = True) -> Target:
    """Resolve a profile name, ``"adapter:model"`` or ``"adapter"`` (None: the default) to a Target.

    ``require_key=False`` resolves without a key, for reading declarations (``imgsdk.capabilities``).
    """
    choice: Profile | str = _default_profile(config) if provider is None else (
        config.profiles.get(provider) or provider)
    profile = choice if isinstance(choice, Profile) else None
    if profile is not None:
        adapter_name, model = profile.adapter, profile.model
    else:
        adapter_name, model = split_reference(str(choice))
        if adapter_name not in adapter_names():
            typo = adapter_name if ":" in str(choice) else str(choice)  # the adapter part of adapter:model
            raise ConfigError(f"{choice!r} is neither a profile nor an adapter."
                              f"{suggest(typo, sorted(config.profiles) + adapter_names())} "
                              f"Profiles: {', '.join(sorted(config.profiles)) or 'none'}; adapters: "
                              f"{', '.join(adapter_names())}")
    adapter = get_adapter(adapter_name)
    model = model or adapter.default_model
    if model is None:
        raise ConfigError(f"name a model: '{adapter_name}:MODEL' (known: {', '.join(sorted(adapter.catalogue()))})")
    caps, notes = _capabilities(adapter, model, profile, config, allow_unknown_model)
    url = base_url or (profile.base_url if profile else None) or adapter.default_base_url
    if url is None:
        raise ConfigError(f"the {adapter_name} adapter needs base_url (the server's address) in the profile")
    default_service = url.rstrip("/") == (adapter.default_base_url or "").rstrip("/")
    check_lifecycle(caps, adapter=adapter_name, default_service=default_service,
                    allow_retired=allow_retired or bool(profile and profile.allow_retired))
    if default_service and caps.lifecycle.status == "deprecated" and not caps.lifecycle.is_shut_down():
        notes += (deprecation_warning(adapter_name, caps),)
    key = api_key or (profile.api_key if profile else None) or next(
        (os.environ[name] for name in adapter.key_env if os.environ.get(name)), None)
    token = profile.token_provider if profile else None
    if require_key and adapter.key_required and not key and token is None:
        names = " or ".join(adapter.key_env) or "api_key"
        raise ConfigError(f"no API key for {adapter_name}: export {names}=..., or set api_key = "
                          f'"${{{adapter.key_env[0] if adapter.key_env else "API_KEY"}}}" in the profile')
    endpoint = Endpoint(base_url=url.rstrip("/"), api_key=Secret(key) if key else None,
                        token_provider=token if callable(token) else None, default_service=default_service,
                        settings=dict(profile.settings) if profile else {})
    settings = retry or RetrySettings()
    if profile and (profile.timeout or profile.max_retries is not None):
        from dataclasses import replace

        settings = replace(settings, deadline=profile.timeout or settings.deadline,
                           max_retries=settings.max_retries if profile.max_retries is None else profile.max_retries)
    chosen_mode: Mode = mode or (profile.on_unsupported if profile else None) or config.on_unsupported or "warn"  # type: ignore[assignment]
    return Target(adapter, caps, endpoint, chosen_mode, settings, profile, notes,
                  (profile.max_concurrency if profile and profile.max_concurrency else 4))


def deprecation_warning(adapter: str, caps: ModelCapabilities) -> RequestWarning:
    """The warning on results of a deprecated model (its default service only: a proxy may keep serving it)."""
    life = caps.lifecycle
    when = ""
    if life.shutdown_on:
        days = (dt.date.fromisoformat(life.shutdown_on) - dt.date.today()).days
        when = f": it shuts down on {life.shutdown_on} (in {days} day{'s' if days != 1 else ''})"
    instead = f"; move to {life.replacement}" if life.replacement else ""
    note = f" ({life.note})" if life.note else ""
    return RequestWarning("deprecated", "model", caps.model, life.replacement,
                          f"{adapter}:{caps.model} is deprecated on {adapter}'s service{when}{instead}{note}")


def plan(target: Target, request: ImageRequest) -> Plan:
    """Apply profile defaults and the policy engine; split ``n`` into calls within ``max_images``."""
    original = request
    profile = target.profile
    if profile is not None and (profile.defaults or profile.provider_options):
        changes = {k: v for k, v in profile.defaults.items()
                   if getattr(request, k) is None or k in request.soft}
        options = dict(request.provider_options)
        if profile.provider_options:
            options[target.adapter.name] = {**profile.provider_options,
                                            **options.get(target.adapter.name, {})}
        request = request.with_(**changes, provider_options=options,
                                soft=request.soft - set(changes))
    caps = target.capabilities
    per_call = max(1, min(request.n, caps.max_images))
    prepared, warnings = apply(request, caps, adapter=target.adapter.name, mode=target.mode, n=per_call)
    if prepared.seed is not None and prepared.seed + request.n - 1 > caps.seed_range[1]:
        from .errors import InvalidRequestError

        top = caps.seed_range[1]
        raise InvalidRequestError(
            f"seed {prepared.seed} with n={request.n} needs seeds up to {prepared.seed + request.n - 1} (image i "
            f"gets seed + i), but {target.reference} accepts at most {top}: use a seed ≤ {top - request.n + 1}",
            option="seed", adapter=target.adapter.name, model=caps.model)
    calls: list[PreparedRequest] = []
    if request.n == prepared.n and prepared.index == 0:  # the common single call: no copy to make
        calls.append(prepared)
    for index in range(len(calls), math.ceil(request.n / per_call)):
        count = min(per_call, request.n - index * per_call)
        seed = None if prepared.seed is None else prepared.seed + index * per_call
        calls.append(prepared.with_(n=count, seed=seed, index=index))
    return Plan(target, request, calls, dedupe(list(target.warnings) + warnings) if target.warnings else warnings,
                original=original)


def dedupe(warnings: list[RequestWarning]) -> list[RequestWarning]:
    """Each warning once, in order (a fan-out's calls, or several providers, report the same thing)."""
    unique: list[RequestWarning] = []
    for warning in warnings:
        if warning not in unique:
            unique.append(warning)
    return unique


def assemble(plan_: Plan, outcomes: list[Images | ProviderError], fetchers: Mapping[str, Any]) -> ImageResult:
    """Build the result from every call's outcome; failures are attached, never thrown away."""
    target = plan_.target
    images, errors, warnings = [], [], list(plan_.warnings)
    usage: dict[str, Any] | None = None
    cost: float | None = 0.0
    request_id = None
    for outcome in outcomes:
        if isinstance(outcome, ProviderError):
            errors.append(outcome)
            continue
        bind = fetchers.get("bind")
        for image in outcome.images:
            if bind is not None:  # the client binds its safe downloader (with the image's expiry)
                bind(image)
            else:
                image._fetch, image._afetch = fetchers.get("sync"), fetchers.get("async")
        images.extend(outcome.images)
        if outcome.errors:
            errors.extend(outcome.errors)
        if outcome.warnings:
            warnings.extend(w for w in outcome.warnings if w not in warnings)
        request_id = request_id or outcome.request_id
        if outcome.usage:
            usage = add_usage(usage or {}, outcome.usage)
        cost = add_cost(target.capabilities, plan_.calls[0], outcome, cost)
    if not images and errors:
        raise errors[0]
    return ImageResult(images=images, provider=target.reference, model=target.capabilities.model,
                       prompt=plan_.request.prompt, warnings=dedupe(warnings) if len(warnings) > 1 else warnings,
                       errors=errors,
                       profile=target.profile.name if target.profile else None, request_id=request_id,
                       usage=usage, cost_usd=None if cost is None else round(cost, 6), uid=plan_.uid)
