"""Finding adapters: the ``imgsdk.adapters`` entry-point group, loaded lazily on first use.

Our own adapters register exactly as a third-party package does, so the core never imports one by name.
``register()`` adds an adapter at run time (handy for tests and for private adapters).
"""

from __future__ import annotations

import difflib
from importlib.metadata import EntryPoint, entry_points

from .adapter import Adapter
from .errors import ConfigError

__all__ = ["adapter_names", "get_adapter", "register", "split_reference", "suggest"]

GROUP = "imgsdk.adapters"
_loaded: dict[str, Adapter] = {}
_extra: dict[str, type[Adapter]] = {}
_points: dict[str, EntryPoint] | None = None


def _entry_points() -> dict[str, EntryPoint]:
    global _points
    if _points is None:
        _points = {point.name: point for point in entry_points(group=GROUP)}
    return _points


def adapter_names() -> list[str]:
    """Every adapter name known: installed entry points and run-time registrations."""
    return sorted(set(_entry_points()) | set(_extra))


def register(adapter: type[Adapter]) -> type[Adapter]:
    """Register an adapter class at run time (usable as a class decorator)."""
    _extra[adapter.name] = adapter
    _loaded.pop(adapter.name, None)
    return adapter


def suggest(word: str, choices: list[str]) -> str:
    """A did-you-mean sentence fragment, or an empty string."""
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def get_adapter(name: str) -> Adapter:
    """The adapter instance for ``name``; a typo gets a did-you-mean, a missing extra an install hint."""
    if name in _loaded:
        return _loaded[name]
    if name in _extra:
        adapter_class = _extra[name]
    elif name in _entry_points():
        try:
            adapter_class = _entry_points()[name].load()
        except ImportError as error:
            missing = getattr(error, "name", None) or str(error)
            raise ConfigError(
                f"the {name!r} adapter needs a package that is not installed ({missing}): "
                f"pip install 'imgsdk[{name}]' or pip install {missing}") from error
    else:
        raise ConfigError(f"no adapter named {name!r}.{suggest(name, adapter_names())} "
                          f"Installed adapters: {', '.join(adapter_names())}")
    adapter = adapter_class()
    _loaded[name] = adapter
    return adapter


def split_reference(reference: str) -> tuple[str, str | None]:
    """``"adapter:model"`` split on the first colon (model ids may contain colons, e.g. Replicate versions)."""
    adapter, sep, model = reference.partition(":")
    return adapter.strip(), (model.strip() or None) if sep else None
