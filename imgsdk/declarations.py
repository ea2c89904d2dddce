"""Model declarations: ``[models."adapter:model"]`` tables of ``imgsdk.toml`` turned into capabilities.

A config table that declares a model imgsdk does not know yet is checked field by field (its TOML type, the
element type of each list, the nested ``size`` table) and built into a :class:`~imgsdk.capabilities.ModelCapabilities`
with ``declared_by="config"``. It is separate from :mod:`imgsdk.config` because it is a self-contained
translation (capability field tables in, a capabilities object out) with no knowledge of profiles, files or
environment variables, and keeping it apart holds both modules under the core size limit;
:mod:`imgsdk.config` imports :func:`declare_model` (and the shared :func:`_check_type`) from here and still
exports it, so ``from imgsdk.config import declare_model`` keeps working.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from .capabilities import Lifecycle, ModelCapabilities, Price, SizeSpec, TokenPrices
from .errors import ConfigError
from .registry import suggest

__all__ = ["declare_model"]


def _check_type(value: Any, expected: type | tuple[type, ...], path: str | None, key: str) -> Any:
    kinds = expected if isinstance(expected, tuple) else (expected,)
    # bool is an int subclass: `timeout = true` must not pass as a 1-second timeout
    ok = isinstance(value, expected) and not (isinstance(value, bool) and bool not in kinds and object not in kinds)
    if not ok:
        names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
        raise ConfigError(f"expected {names}, got {type(value).__name__} {value!r}", path=path, key=key)
    return value


_CAP_FIELDS = {f.name for f in fields(ModelCapabilities)} - {"model", "declared_by"}
#: The TOML type each capability (and size) field must have; lists hold strings unless said otherwise.
_CAP_TYPES: dict[str, type | tuple[type, ...]] = {
    "family": str, "size": dict, "qualities": list, "quality_default": str, "quality_aliases": dict, "styles": list,
    "style_default": str, "style_aliases": dict, "max_images": int, "seed": bool, "seed_range": list,
    "negative_prompt": bool, "output_formats": list, "output_format_default": str, "background": list,
    "user_field": bool, "prompt_max_chars": int, "returns": str, "url_ttl_seconds": int, "protocol": str,
    "prices": list, "token_prices": dict, "price_source": str, "price_date": str, "lifecycle": dict, "extra": dict,
}
_SIZE_TYPES: dict[str, type | tuple[type, ...]] = {
    "mode": str, "sizes": list, "aspect_ratios": list, "resolutions": list, "min_side": int, "max_side": int,
    "multiple": int, "max_pixels": int, "min_ratio": (int, float), "max_ratio": (int, float), "default": str,
}
_STRING_LISTS = frozenset({"qualities", "styles", "output_formats", "background", "sizes", "aspect_ratios",
                           "resolutions"})
_TUPLE_FIELDS = ("qualities", "styles", "output_formats", "background")


def declare_model(reference: str, raw: Mapping[str, Any], path: str | None = None) -> ModelCapabilities:
    """Build capabilities for a model from a config table (the same fields as ModelCapabilities)."""
    where = f'models."{reference}"'
    if not isinstance(raw, Mapping):
        raise ConfigError(f"expected a table of capabilities (e.g. max_images = 4), got {type(raw).__name__}",
                          path=path, key=where)
    unknown = set(raw) - _CAP_FIELDS
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(f"unknown capability.{suggest(key, sorted(_CAP_FIELDS))} Allowed: "
                          f"{', '.join(sorted(_CAP_FIELDS))}", path=path, key=f"{where}.{key}")
    for key, value in raw.items():
        _check_type(value, _CAP_TYPES.get(key, object), path, f"{where}.{key}")
    for key, value in (raw.get("size") or {}).items():
        _check_type(value, _SIZE_TYPES.get(key, object), path, f"{where}.size.{key}")
    for key, value in [*raw.items(), *(raw.get("size") or {}).items()]:
        if key in _STRING_LISTS and not all(isinstance(item, str) for item in value):
            raise ConfigError(f"expected a list of strings, got {value!r}", path=path, key=f"{where}.{key}")
    data: dict[str, Any] = dict(raw)
    try:
        if "size" in data:
            size = dict(data["size"])
            for key in ("sizes", "aspect_ratios", "resolutions"):
                if key in size:
                    size[key] = tuple(size[key])
            data["size"] = SizeSpec(**size)
        for key in _TUPLE_FIELDS:
            if key in data:
                data[key] = tuple(data[key])
        if "seed_range" in data:
            data["seed_range"] = tuple(data["seed_range"])
        if "prices" in data:
            data["prices"] = tuple(Price(**price) for price in data["prices"])
        if "token_prices" in data:
            data["token_prices"] = TokenPrices(**data["token_prices"])
        if "lifecycle" in data:
            data["lifecycle"] = Lifecycle(**data["lifecycle"])
        model = reference.partition(":")[2] or reference
        return ModelCapabilities(model=model, declared_by="config", **data)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"invalid capability declaration: {error}", path=path, key=where) from error
