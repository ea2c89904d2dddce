"""Tiny stand-ins for image payloads, so a cassette stays a few KB and still tells the truth about each image.

A recorded answer holds real images: 1.5 MB of base64 per picture would make cassettes unreviewable and slow. Each
image is replaced, when recording, by a *tiny valid image of the same width, height and format*: a solid 1-bit
PNG, a grey quality-1 JPEG, a lossless WebP or a one-colour GIF. ``result.size`` and ``media_type`` are therefore
the same on replay as they were live, while a 1792x1024 PNG shrinks to about 300 bytes.

Payloads are found wherever they are, without knowing any provider's field names:

- base64 strings in JSON (``b64_json``, ``bytesBase64Encoded``, ``inlineData.data``, ``images[i]``...), bare or as
  ``data:image/...;base64,`` URLs — recognised by the base64 signature of the image formats;
- raw image bodies (Stability's ``accept: image/*``, ComfyUI's ``/view``);
- multipart parts (image uploads), whatever the field name.

The stand-ins are deterministic (the same size and format always give the same bytes), so a request that carried
an image still matches its recording after both were shrunk the same way.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import json
import re
from typing import Any

from imgsdk import media

__all__ = ["MAX_PIXELS", "shrink_body", "shrink_image", "shrink_json", "shrink_text", "tiny_image"]

#: Largest image replaced (width x height); anything bigger is left alone rather than allocated.
MAX_PIXELS = 8192 * 8192
#: Pillow's format name for each media type we can stand in for.
_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/gif": "GIF"}
#: How each format's base64 begins (PNG, JPEG, WebP's RIFF, GIF): a cheap test before decoding anything.
_BASE64_SIGNATURES = ("iVBOR", "/9j/", "UklGR", "R0lGOD")
_SHORTEST = 64  # no real image is encoded in fewer base64 characters
_BOUNDARY = re.compile(rb'boundary="?([^";\r\n]+)"?', re.IGNORECASE)


@functools.lru_cache(maxsize=128)
def tiny_image(width: int, height: int, pil_format: str) -> bytes:
    """The smallest valid image of this size in this format (``"PNG"``, ``"JPEG"``, ``"WEBP"``, ``"GIF"``)."""
    from PIL import Image

    out = io.BytesIO()
    if pil_format == "PNG":
        Image.new("1", (width, height), 0).save(out, format="PNG", optimize=True)
    elif pil_format == "JPEG":
        Image.new("L", (width, height), 0).save(out, format="JPEG", quality=1, optimize=True)
    elif pil_format == "WEBP":
        Image.new("L", (width, height), 0).save(out, format="WEBP", lossless=True)
    elif pil_format == "GIF":
        Image.new("P", (width, height), 0).save(out, format="GIF")
    else:
        raise ValueError(f"no tiny stand-in for {pil_format!r}: use PNG, JPEG, WEBP or GIF")
    return out.getvalue()


def _dimensions(data: bytes) -> tuple[int, int] | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            return image.width, image.height
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def shrink_image(data: bytes) -> bytes | None:
    """The tiny stand-in for image bytes, or None when ``data`` is not an image we can stand in for."""
    pil_format = _FORMATS.get(media.sniff_media_type(data) or "")
    size = _dimensions(data) if pil_format else None
    if pil_format is None or size is None or size[0] * size[1] > MAX_PIXELS:
        return None
    return tiny_image(size[0], size[1], pil_format)


def shrink_text(text: str) -> str | None:
    """A base64 image (bare or a ``data:`` URL) as its stand-in in the same encoding; None when it is none."""
    if len(text) < _SHORTEST:
        return None
    prefix, payload = "", text
    if text.startswith("data:"):
        head, comma, payload = text.partition(",")
        if not comma or not head.endswith(";base64"):
            return None
        prefix = head + ","
    if not payload.lstrip().startswith(_BASE64_SIGNATURES):
        return None
    try:
        raw = base64.b64decode(payload)
    except (binascii.Error, ValueError):
        return None
    tiny = shrink_image(raw)
    if tiny is None or tiny == raw:
        return None
    return prefix + base64.b64encode(tiny).decode("ascii")


def shrink_json(value: Any) -> tuple[Any, bool]:
    """``value`` with every base64 image inside it replaced; the flag says whether anything changed."""
    if isinstance(value, str):
        replaced = shrink_text(value)
        return (value, False) if replaced is None else (replaced, True)
    if isinstance(value, dict):
        changed = False
        out: dict[Any, Any] = {}
        for key, item in value.items():
            out[key], touched = shrink_json(item)
            changed = changed or touched
        return out, changed
    if isinstance(value, list):
        items = [shrink_json(item) for item in value]
        return [item for item, _ in items], any(touched for _, touched in items)
    return value, False


def boundary_of(body: bytes, content_type: str | None) -> bytes | None:
    """The multipart boundary, from the content type or else from the body's first line."""
    if content_type and (match := _BOUNDARY.search(content_type.encode("latin-1", "replace"))):
        return match.group(1)
    if body.startswith(b"--"):
        first = body.split(b"\r\n", 1)[0]
        return first[2:] or None
    return None


def split_multipart(body: bytes, boundary: bytes) -> list[tuple[bytes, bytes]] | None:
    """``[(part headers, part body)]`` of a multipart body, or None when it is not one."""
    delimiter = b"--" + boundary
    chunks = body.split(delimiter)
    if len(chunks) < 3 or chunks[0].strip() or not chunks[-1].startswith(b"--"):
        return None
    parts = []
    for chunk in chunks[1:-1]:
        head, separator, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            return None
        parts.append((head, content.removesuffix(b"\r\n")))
    return parts


def join_multipart(parts: list[tuple[bytes, bytes]], boundary: bytes) -> bytes:
    delimiter = b"--" + boundary
    return b"".join(delimiter + b"\r\n" + head + b"\r\n\r\n" + content + b"\r\n"
                    for head, content in parts) + delimiter + b"--\r\n"


def shrink_body(body: bytes | None, content_type: str | None = None) -> bytes | None:
    """``body`` with every image payload replaced (raw, JSON or multipart), or None when nothing changed."""
    if not body:
        return None
    tiny = shrink_image(body)
    if tiny is not None:
        return tiny if tiny != body else None
    boundary = boundary_of(body, content_type) if body.startswith(b"--") else None
    if boundary is not None and (parts := split_multipart(body, boundary)) is not None:
        shrunk = [(head, shrink_image(content) or content) for head, content in parts]
        return join_multipart(shrunk, boundary) if shrunk != parts else None
    if body.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    value, changed = shrink_json(value)
    return json.dumps(value, ensure_ascii=False).encode("utf-8") if changed else None
