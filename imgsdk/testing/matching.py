"""Request-body matching for replays: a replay fails as soon as imgsdk stops sending what was recorded.

vcrpy's own ``body`` matcher compares bytes, which breaks on harmless differences: JSON key order and spacing, and
the random boundary of every multipart body. :func:`body_matcher` compares what the bytes *mean*:

- JSON: as data (key order and whitespace ignored). Fields listed in :data:`VOLATILE_FIELDS` are compared by
  presence only: their value is random per process (ComfyUI's ``client_id`` routes websocket events).
- multipart: part by part, with the boundary removed from the bytes and the headers.
- ``application/x-www-form-urlencoded``: as a sorted list of pairs.
- anything else: as bytes.

Image payloads need no special case: the scrubber has already replaced them, in the recording and in the live
request alike, by the same deterministic stand-in (see :mod:`imgsdk.testing.images`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from .images import boundary_of, split_multipart

__all__ = ["VOLATILE_FIELDS", "body_matcher", "describe_difference", "normalise_body"]

#: JSON fields whose value differs on every run by design; compared by presence only.
VOLATILE_FIELDS = frozenset({"client_id"})
_VOLATILE = "<volatile>"


def _content_type(request: Any) -> str | None:
    headers = getattr(request, "headers", None) or {}
    for name in ("content-type", "Content-Type"):
        if name in headers:
            value = headers[name]
            return str(value[0] if isinstance(value, list) else value)
    return None


def _volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _VOLATILE if key in VOLATILE_FIELDS else _volatile(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_volatile(item) for item in value]
    return value


def normalise_body(body: Any, content_type: str | None = None) -> Any:
    """What a body means, for comparison (see the module docstring)."""
    if body is None or body == b"" or body == "":
        return None
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    if raw.lstrip()[:1] in (b"{", b"["):
        try:
            return ("json", _volatile(json.loads(raw)))
        except (ValueError, UnicodeDecodeError):
            pass
    boundary = boundary_of(raw, content_type) if raw.startswith(b"--") else None
    if boundary is not None and (parts := split_multipart(raw, boundary)) is not None:
        return ("multipart", [(head.replace(boundary, b"BOUNDARY"), content) for head, content in parts])
    if content_type and "x-www-form-urlencoded" in content_type:
        try:
            return ("form", sorted(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
        except UnicodeDecodeError:
            pass
    return ("bytes", raw)


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_difference(recorded: Any, live: Any, path: str = "body", limit: int = 4) -> list[str]:
    """Up to ``limit`` places where two normalised bodies differ, each as one readable line."""
    if isinstance(recorded, tuple) and isinstance(live, tuple) and recorded[:1] == live[:1]:
        return describe_difference(recorded[1], live[1], path, limit)
    if isinstance(recorded, dict) and isinstance(live, dict):
        found: list[str] = []
        for key in [*recorded, *(k for k in live if k not in recorded)]:
            where = f"{path}.{key}"
            if key not in live:
                found.append(f"{where}: recorded {_short(recorded[key])}, now missing")
            elif key not in recorded:
                found.append(f"{where}: not recorded, now {_short(live[key])}")
            elif recorded[key] != live[key]:
                found.extend(describe_difference(recorded[key], live[key], where, limit - len(found)))
            if len(found) >= limit:
                break
        return found[:limit]
    if isinstance(recorded, list) and isinstance(live, list) and len(recorded) == len(live):
        found = []
        for index, (old, new) in enumerate(zip(recorded, live, strict=True)):
            if old != new:
                found.extend(describe_difference(old, new, f"{path}[{index}]", limit - len(found)))
            if len(found) >= limit:
                break
        return found[:limit]
    return [f"{path}: recorded {_short(recorded)}, now {_short(live)}"]


def body_matcher(live: Any, recorded: Any) -> None:
    """vcrpy matcher (``match_on=[..., "imgsdk_body"]``): raise AssertionError saying where the bodies differ.

    vcrpy calls matchers as ``matcher(incoming_request, recorded_request)``.
    """
    now = normalise_body(live.body, _content_type(live))
    then = normalise_body(recorded.body, _content_type(recorded))
    if now != then:
        raise AssertionError("the request body differs from the recording: "
                             + "; ".join(describe_difference(then, now)))
