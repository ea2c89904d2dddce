"""``imgsdk.toml``: profiles, credentials, defaults and model declarations — swapping providers by editing a file.

::

    default = "hero"                      # the profile used when a call names none
    on_unsupported = "warn"               # or "strict", for every profile

    [providers.hero]
    model = "openai:gpt-image-2"          # "adapter:model"
    api_key = "${OPENAI_API_KEY}"         # an environment reference (a literal works, but warns)
    size = "1792x1024"                    # per-profile defaults: size, quality, style, n, seed, ...
    on_unsupported = "strict"
    timeout = 120
    max_retries = 3
    fallbacks = ["stability-core", "local"]   # tried in order after an outage, a quota error, a retired model
    persist_to = "out/"                   # save each image as it arrives (a directory or an fsspec URL)
    requests_per_minute = 50              # client-side limits, shared by every call of a client
    max_concurrency = 4
    allowed_hosts = ["cdn.internal"]      # image hosts allowed over http / on private addresses

    [models."openai-compatible:my-model"] # capabilities of a model imgsdk does not know yet
    size = { mode = "fixed", sizes = ["1024x1024"] }
    max_images = 4

Where the config comes from (first found wins): an explicit path or dict, ``$IMGSDK_CONFIG``,
``./imgsdk.toml``, then ``$XDG_CONFIG_HOME/imgsdk/imgsdk.toml`` (``~/.config/imgsdk/imgsdk.toml``).
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .capabilities import ModelCapabilities
from .declarations import _check_type
from .declarations import declare_model as declare_model  # re-exported: `from imgsdk.config import declare_model`
from .errors import ConfigError
from .registry import suggest
from .wire import Secret

__all__ = ["Config", "Profile", "find_config_path", "load_config"]

log = logging.getLogger("imgsdk")

#: Profile keys every adapter understands; adapters add their own (``Adapter.profile_keys``).
COMMON_KEYS: dict[str, type | tuple[type, ...]] = {
    "model": str, "api_key": str, "base_url": str, "on_unsupported": str, "size": str, "quality": str,
    "style": str, "n": int, "seed": int, "negative_prompt": str, "output_format": str, "background": str,
    "timeout": (int, float), "max_retries": int, "allow_unknown_model": bool, "allow_retired": bool,
    "fallbacks": list, "provider_options": dict, "max_concurrency": int,
    # delivery (issue 6): fallbacks, persistence, client-side rate limits, download safety
    "fallback_on_content_policy": bool, "persist_to": str, "filename_template": str,
    "requests_per_minute": (int, float), "allowed_hosts": list, "allow_private": bool,
    "max_download_bytes": int,
    "token_provider": object,  # a callable returning a bearer token (Azure Entra ID); dict configs only
}
REQUEST_DEFAULTS = ("size", "quality", "style", "n", "seed", "negative_prompt", "output_format", "background")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class Profile:
    """One ``[providers.NAME]`` table, validated; ``settings`` holds the adapter-specific keys."""

    name: str
    adapter: str
    model: str | None
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    on_unsupported: str | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    max_retries: int | None = None
    allow_unknown_model: bool = False
    allow_retired: bool = False
    fallbacks: tuple[str, ...] = ()
    provider_options: Mapping[str, Any] = field(default_factory=dict)
    max_concurrency: int | None = None
    token_provider: Any = field(default=None, repr=False)
    settings: Mapping[str, Any] = field(default_factory=dict)
    #: Delivery (see :mod:`imgsdk.fallback`, :mod:`imgsdk.storage`, :mod:`imgsdk.ratelimit`,
    #: :mod:`imgsdk.download`): fall back on a content-policy refusal too; where and under which name each
    #: image is saved as it arrives; requests per minute; image hosts trusted over http or on private
    #: addresses; private addresses allowed for every host; the largest image download accepted.
    fallback_on_content_policy: bool = False
    persist_to: str | None = None
    filename_template: str | None = None
    requests_per_minute: float | None = None
    allowed_hosts: tuple[str, ...] = ()
    allow_private: bool = False
    max_download_bytes: int | None = None


@dataclass(frozen=True)
class Config:
    """A loaded configuration: profiles by name, the default profile, model declarations."""

    profiles: Mapping[str, Profile] = field(default_factory=dict)
    default: str | None = None
    on_unsupported: str | None = None
    models: Mapping[str, ModelCapabilities] = field(default_factory=dict)
    path: str | None = None


def find_config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to use, by precedence; None when there is none."""
    if explicit is not None:
        return Path(explicit)
    if env := os.environ.get("IMGSDK_CONFIG"):
        return Path(env)
    local = Path("imgsdk.toml")
    if local.is_file():
        return local
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    user = base / "imgsdk" / "imgsdk.toml"
    return user if user.is_file() else None


def load_config(source: str | os.PathLike[str] | Mapping[str, Any] | None = None) -> Config:
    """Load and validate a config from a path, a dict, or the usual places (see the module docstring)."""
    if isinstance(source, Mapping):
        return _parse(dict(source), None)
    path = find_config_path(source)
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"not UTF-8 text (byte {error.start}): save the file as UTF-8", path=str(path)) from error
    except OSError as error:
        raise ConfigError(f"cannot read the config file: {error.strerror or error}", path=str(path)) from error
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"not valid TOML: {error}", path=str(path)) from error
    return _parse(raw, str(path))


def _interpolate(value: str, path: str | None, key: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name, fallback = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if fallback is not None:
            return fallback
        raise ConfigError(f"the environment variable {name} is not set: export {name}=... or change the value",
                          path=path, key=key)

    return _ENV_REF.sub(replace, value)


def _profile(name: str, raw: Any, path: str | None) -> Profile:
    from .registry import get_adapter, split_reference

    where = f"providers.{name}"
    if not isinstance(raw, dict):
        raise ConfigError("expected a table of profile settings", path=path, key=where)
    if "model" not in raw:
        raise ConfigError('missing "model": set model = "adapter:model" (e.g. "openai:gpt-image-2")',
                          path=path, key=where)
    reference = _check_type(raw["model"], str, path, f"{where}.model")
    adapter_name, model = split_reference(reference)
    try:
        adapter = get_adapter(adapter_name)
    except ConfigError as error:
        raise ConfigError(str(error), path=path, key=f"{where}.model") from error
    values: dict[str, Any] = {}
    settings: dict[str, Any] = {}
    for key, value in raw.items():
        full = f"{where}.{key}"
        if isinstance(value, str):
            if key == "api_key" and not _ENV_REF.search(value) and value:
                log.warning("%s: %s holds a literal API key; prefer api_key = \"${%s}\" so the key stays out "
                            "of files", path or "config", full, (adapter.key_env or ("API_KEY",))[0])
            value = _interpolate(value, path, full)
        if key in COMMON_KEYS:
            values[key] = _check_type(value, COMMON_KEYS[key], path, full)
        elif key in adapter.profile_keys:
            # A secret setting (a password) is kept as a Secret, so no repr of the profile shows it.
            settings[key] = Secret(value) if key in adapter.secret_settings and isinstance(value, str) else value
        else:
            known = sorted(COMMON_KEYS) + sorted(adapter.profile_keys)
            raise ConfigError(f"unknown key.{suggest(key, known)} Allowed: {', '.join(known)}",
                              path=path, key=full)
    mode = values.get("on_unsupported")
    if mode not in (None, "warn", "strict"):
        raise ConfigError(f'expected "warn" or "strict", got {mode!r}', path=path, key=f"{where}.on_unsupported")
    _check_delivery(values, path, where)
    return Profile(
        name=name, adapter=adapter_name, model=model or adapter.default_model, api_key=values.get("api_key"),
        base_url=values.get("base_url"), on_unsupported=mode,
        defaults={k: values[k] for k in REQUEST_DEFAULTS if k in values}, timeout=values.get("timeout"),
        max_retries=values.get("max_retries"), allow_unknown_model=values.get("allow_unknown_model", False),
        allow_retired=values.get("allow_retired", False), fallbacks=tuple(values.get("fallbacks", ())),
        provider_options=values.get("provider_options", {}), max_concurrency=values.get("max_concurrency"),
        token_provider=values.get("token_provider"), settings=settings,
        fallback_on_content_policy=values.get("fallback_on_content_policy", False),
        persist_to=values.get("persist_to"), filename_template=values.get("filename_template"),
        requests_per_minute=values.get("requests_per_minute"),
        allowed_hosts=tuple(str(host).lower() for host in values.get("allowed_hosts", ())),
        allow_private=values.get("allow_private", False), max_download_bytes=values.get("max_download_bytes"))


def _check_delivery(values: Mapping[str, Any], path: str | None, where: str) -> None:
    """Refuse delivery settings that could only fail later (a zero rate, a fallback list of non-strings)."""
    for key in ("fallbacks", "allowed_hosts"):
        items = values.get(key, [])
        if not all(isinstance(item, str) and item for item in items):
            raise ConfigError(f"expected a list of non-empty strings, got {items!r}", path=path, key=f"{where}.{key}")
    for key in ("requests_per_minute", "max_concurrency", "max_download_bytes"):
        if key in values and values[key] <= 0:
            raise ConfigError(f"must be > 0, got {values[key]!r} (leave it out for no limit)", path=path,
                              key=f"{where}.{key}")


def _parse(raw: dict[str, Any], path: str | None) -> Config:
    allowed = {"default", "on_unsupported", "providers", "models"}
    for key in raw:
        if key not in allowed:
            raise ConfigError(f"unknown top-level key.{suggest(key, sorted(allowed))} Allowed: "
                              f"{', '.join(sorted(allowed))}", path=path, key=key)
    providers = raw.get("providers", {})
    if not isinstance(providers, dict):
        raise ConfigError("expected a table [providers.NAME]", path=path, key="providers")
    profiles = {name: _profile(name, table, path) for name, table in providers.items()}
    default = raw.get("default")
    if default is not None and default not in profiles:
        raise ConfigError(f"names no profile.{suggest(str(default), sorted(profiles))} Profiles: "
                          f"{', '.join(sorted(profiles)) or 'none'}", path=path, key="default")
    mode = raw.get("on_unsupported")
    if mode not in (None, "warn", "strict"):
        raise ConfigError(f'expected "warn" or "strict", got {mode!r}', path=path, key="on_unsupported")
    declared = raw.get("models", {})
    if not isinstance(declared, Mapping):
        raise ConfigError('expected a table [models."adapter:model"]', path=path, key="models")
    models = {ref: declare_model(ref, table, path) for ref, table in declared.items()}
    if default is None and "default" in profiles:
        default = "default"
    return Config(profiles=profiles, default=default, on_unsupported=mode, models=models, path=path)
