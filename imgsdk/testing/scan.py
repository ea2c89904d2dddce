"""Checking cassettes before they are committed: credentials left in them, and payloads too big to review.

Used by ``imgsdk cassettes check [DIR]`` (which exits non-zero on any finding, for CI) and by tests. It reads the
files as text, line by line (no YAML parser needed), so every finding has a line number:

- a credential header (``authorization``, ``api-key``, ``x-key``, ``x-goog-api-key``, cookies...) whose value is
  not ``REDACTED``;
- anything shaped like a key (:data:`imgsdk.testing.scrub.SECRET_PATTERNS`: ``sk-...``, ``Bearer ...``,
  ``Key ...``, ``Basic ...``, ``AIza...``, ``r8_...``, secret query parameters...), also inside ``!!binary``
  bodies, which are decoded first;
- any of the ``extra`` strings (a test's canary keys);
- a cassette larger than ``max_kb``, with the line of its largest payload.

A finding never shows the secret itself: only its first four characters and its length.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import Path

from .scrub import CREDENTIAL_HEADERS, SCRUBBED, SECRET_PATTERNS

__all__ = ["Finding", "cassette_files", "find_secrets", "mask", "scan"]

_HEADER_KEY = re.compile(r"^(\s*)([A-Za-z0-9_-]+):\s*(.*)$")
_LIST_ITEM = re.compile(r"^\s*-\s*(.*)$")
_BINARY = re.compile(r"!!binary\s*\|?\s*$")


@dataclass(frozen=True)
class Finding:
    """One problem in one cassette: ``path:line: what`` (``what`` never holds a whole secret)."""

    path: Path
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def mask(secret: str) -> str:
    """``sk-c…(34 chars)``: enough to find the value, never enough to use it."""
    return f"{secret[:4]}…({len(secret)} chars)"


def cassette_files(path: str | Path) -> list[Path]:
    """The cassette itself, or every ``.yaml``/``.yml``/``.json`` file under a folder."""
    root = Path(path)
    if root.is_file():
        return [root]
    return sorted(file for pattern in ("*.yaml", "*.yml", "*.json") for file in root.rglob(pattern))


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _text_findings(text: str, extra: tuple[str, ...]) -> list[str]:
    """What looks like a credential in ``text``, one entry per distinct value (a key matched by two patterns,
    ``Bearer sk-...``, is reported once)."""
    found: dict[str, str] = {}
    for label, pattern in SECRET_PATTERNS:
        for match in pattern.finditer(text):
            secret = match.group("secret")
            found.setdefault(secret, f"{label}: {mask(secret)}")
    for secret in extra:
        if secret and secret in text and not any(secret in value or value in secret for value in found):
            found[secret] = f"a known secret: {mask(secret)}"
    return list(found.values())


def _kb(size: int) -> str:
    return f"{size / 1024:.1f} KB"


def _binary_blocks(lines: list[str]) -> list[tuple[int, bytes]]:
    """``(line number, decoded bytes)`` of every ``!!binary`` block (base64 on the indented lines after it)."""
    blocks = []
    for index, line in enumerate(lines):
        if not _BINARY.search(line):
            continue
        indent = len(line) - len(line.lstrip())
        payload = []
        for following in lines[index + 1:]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            payload.append(following.strip())
        try:
            blocks.append((index + 1, base64.b64decode("".join(payload))))
        except (binascii.Error, ValueError):
            continue
    return blocks


def scan(path: str | Path, *, max_kb: int | None = 256, extra: tuple[str, ...] = ()) -> list[Finding]:
    """Every finding in the cassette(s) at ``path`` (see the module docstring)."""
    findings: list[Finding] = []
    headers = CREDENTIAL_HEADERS
    for file in cassette_files(path):
        text = file.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines()
        pending_header: str | None = None
        for number, line in enumerate(lines, 1):
            for what in _text_findings(line, extra):
                findings.append(Finding(file, number, what))
            reported = bool(findings) and findings[-1].path == file and findings[-1].line == number
            key = _HEADER_KEY.match(line)
            if key and key.group(2).lower() in headers:
                value = _unquote(key.group(3))
                if value and value not in (SCRUBBED, "[]") and not value.startswith(("[", "{")) and not reported:
                    findings.append(Finding(file, number, f"header {key.group(2)} is not scrubbed: {mask(value)}"))
                pending_header = key.group(2) if not value else None
                continue
            item = _LIST_ITEM.match(line)
            if pending_header and item:
                value = _unquote(item.group(1))
                if value and value != SCRUBBED and not reported:
                    findings.append(Finding(file, number, f"header {pending_header} is not scrubbed: {mask(value)}"))
                continue
            pending_header = None
        payloads = [(index + 1, len(line)) for index, line in enumerate(lines)]
        for number, data in _binary_blocks(lines):
            payloads.append((number, len(data) * 4 // 3))
            decoded = data.decode("latin-1")
            for what in _text_findings(decoded, extra):
                findings.append(Finding(file, number, f"in a binary body: {what}"))
        size = len(text.encode("utf-8"))
        if max_kb is not None and size > max_kb * 1024:
            number, largest = max(payloads, key=lambda payload: payload[1], default=(1, 0))
            findings.append(Finding(
                file, number,
                f"the cassette is {_kb(size)}, over the {max_kb} KB limit; its largest payload starts here "
                f"({_kb(largest)}): record through imgsdk.testing.vcr_config, which replaces images by "
                "tiny stand-ins of the same size and format"))
    return findings


def find_secrets(path: str | Path, extra: tuple[str, ...] = ()) -> list[str]:
    """Credential findings only, as ``"file:line: what"`` strings (an empty list means clean)."""
    return [str(finding) for finding in scan(path, max_kb=None, extra=extra)]
