"""Reading a message and a code out of the loosely OpenAI-shaped error bodies some providers send.

xAI and Together answer errors in several shapes (none fully documented): ``{"error": {"message", "code"}}``,
``{"code": str, "error": str}``, ``{"message"|"detail": str}``, a JSON string, or plain text. One reader, so
both adapters classify the same body the same way.
"""

from __future__ import annotations

from typing import Any

__all__ = ["read_error"]


def read_error(body: Any, text: str) -> tuple[str | None, str | None]:
    """(message, code) from a parsed error body (``body``) or, failing that, its raw ``text``."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return _text(error.get("message")), _text(error.get("code") or error.get("type"))
        if isinstance(error, str):
            return error, _text(body.get("code"))
        for key in ("message", "detail"):
            if isinstance(body.get(key), str):
                return body[key], _text(body.get("code") or body.get("type"))
        return None, _text(body.get("code"))
    if isinstance(body, str):
        return body, None
    stripped = text.strip()
    return (stripped[:500] or None), None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
