"""Shared helpers of the contract modules: the documented bodies of tests/data/<adapter>/ as WireResponses."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

from imgsdk.adapter import WireResponse

DATA = Path(__file__).resolve().parent.parent / "data"
JSON = {"content-type": "application/json"}


def image(width: int, height: int, fmt: str = "PNG") -> bytes:
    """A small valid image of the documented size (solid colour: it compresses to almost nothing)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, format=fmt)
    return out.getvalue()


def b64(width: int, height: int, fmt: str = "PNG") -> str:
    return base64.b64encode(image(width, height, fmt)).decode("ascii")


def fill(value: Any, placeholder: str, replacement: str) -> Any:
    """``value`` with every string equal to ``placeholder`` replaced (the bodies' ``__PNG_BASE64__`` etc.)."""
    if value == placeholder:
        return replacement
    if isinstance(value, dict):
        return {key: fill(item, placeholder, replacement) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, placeholder, replacement) for item in value]
    return value


def body(adapter: str, name: str) -> Any:
    """A documented body from tests/data/<adapter>/<name> (see that folder's README for its source)."""
    return json.loads((DATA / adapter / name).read_text())


def answer(status: int, content: Any, url: str = "", **headers: str) -> WireResponse:
    """A JSON answer (``content`` is data) or a raw one (``content`` is bytes)."""
    raw = content if isinstance(content, bytes) else json.dumps(content).encode()
    kind = {} if isinstance(content, bytes) else JSON
    return WireResponse(status, {**kind, **{k.replace("_", "-"): v for k, v in headers.items()}}, raw, url)


def documented(adapter: str, name: str, status: int = 200, url: str = "", **headers: str) -> WireResponse:
    return answer(status, body(adapter, name), url, **headers)
