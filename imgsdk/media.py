"""Small, dependency-light helpers for image bytes: sniffing the format and reading dimensions.

Reading a size only parses the header (Pillow opens lazily), so it costs microseconds, not a decode.
"""

from __future__ import annotations

import base64
import io
import re

__all__ = ["EXTENSIONS", "data_url", "decode_data_url", "image_size", "slugify", "sniff_media_type"]

EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif",
              "image/svg+xml": "svg", "image/avif": "avif"}

_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
          (b"GIF89a", "image/gif"))


def sniff_media_type(data: bytes) -> str | None:
    """The media type from the first bytes, or None when it is not an image format we know."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:12] in (b"ftypavif", b"ftypavis"):
        return "image/avif"
    head = data[:256].lstrip()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:1024]):
        return "image/svg+xml"
    return None


def image_size(data: bytes) -> str | None:
    """``"WxH"`` read from the image header, or None when Pillow cannot read it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return f"{image.width}x{image.height}"
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def data_url(data: bytes, media_type: str) -> str:
    """A ``data:`` URL holding the bytes, so an image always has a URL even when none was returned."""
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def decode_data_url(url: str) -> tuple[bytes, str | None]:
    """Bytes and media type of a ``data:`` URL."""
    header, _, payload = url.partition(",")
    media_type = header[5:].split(";")[0] or None
    if header.endswith(";base64"):
        return base64.b64decode(payload), media_type
    from urllib.parse import unquote_to_bytes

    return unquote_to_bytes(payload), media_type


def slugify(text: str, limit: int = 48) -> str:
    """A filename-safe slug: ASCII letters, digits and dashes only, so no prompt can traverse paths."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")
    return slug or "image"
