"""The contact sheet of ``imgsdk compare``: every provider's outcome as a labelled tile on one image (Pillow).

It holds the drawing (fonts, word wrap by pixel width, captions, the tile grid) and the one-line facts of a
tile (size, latency, cost) that the HTML report and the console output reuse. It is separate from
:mod:`imgsdk.cli.compare` because it is pure presentation with its own dependency (Pillow, imported lazily)
and no part in running the comparison; :mod:`imgsdk.cli.compare` imports :func:`contact_sheet` back and still
exports it, so ``from imgsdk.cli.compare import contact_sheet`` keeps working.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

    from imgsdk.cli.compare import Entry

__all__ = ["contact_sheet"]


_REGULAR = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "Arial.ttf")
_BOLD = ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "Arial Bold.ttf")
_FOLD = str.maketrans({"×": "x", "→": "->", "·": "|", "…": "...", "—": "-", "–": "-", "≤": "<=", "≥": ">=",
                       "÷": "/", "’": "'", "“": '"', "”": '"', "⚠": "!"})
_INK, _MUTED, _WARN, _FAIL = (28, 30, 36), (96, 100, 112), (150, 88, 0), (176, 32, 32)


class _Fonts:
    """A system TrueType font when one is installed; else Pillow's bundled one (text folded to ASCII)."""

    def __init__(self, size: int) -> None:
        from PIL import ImageFont

        def first(names: tuple[str, ...]) -> Any:
            for name in names:
                try:
                    return ImageFont.truetype(name, size)
                except OSError:
                    continue
            return None

        found = first(_REGULAR)
        self.unicode = found is not None
        self.regular: Any = found or ImageFont.load_default(size=size)
        self.bold: Any = (first(_BOLD) if found else None) or self.regular
        self.line = round(size * 1.35)

    def text(self, value: str) -> str:
        return value if self.unicode else value.translate(_FOLD).encode("ascii", "replace").decode()


def _wrap(text: str, font: Any, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap by pixel width; a word wider than a line is cut; an overflow ends in an ellipsis."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if font.getlength(candidate) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            while len(word) > 1 and font.getlength(word) > width:
                low, high = 1, len(word) - 1  # the longest prefix that fits (binary search)
                while low < high:
                    middle = (low + high + 1) // 2
                    low, high = (middle, high) if font.getlength(word[:middle]) <= width else (low, middle - 1)
                lines.append(word[:low])
                word = word[low:]
            current = word
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and font.getlength(last + " …") > width:
            last = last[:-1]
        lines[-1] = last + " …"
    return lines


def _caption(entry: Entry, fonts: _Fonts, width: int) -> list[tuple[str, Any, tuple[int, int, int]]]:
    """The caption under a tile, as (text, font, colour) lines."""
    name = entry.label if entry.label == entry.provider else f"{entry.label} → {entry.provider}"
    lines = [(line, fonts.bold, _INK) for line in _wrap(fonts.text(name), fonts.bold, width, 2)]
    lines.append((fonts.text(_facts(entry)), fonts.regular, _MUTED))
    if entry.revised_prompt:
        for line in _wrap(fonts.text(f"prompt used: {entry.revised_prompt}"), fonts.regular, width, 3):
            lines.append((line, fonts.regular, _MUTED))
    for warning in entry.warnings:
        for line in _wrap(fonts.text(f"⚠ {warning}"), fonts.regular, width, 4):
            lines.append((line, fonts.regular, _WARN))
    if not entry.warnings and entry.ok:
        lines.append((fonts.text("no warnings"), fonts.regular, _MUTED))
    return lines


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _facts(entry: Entry) -> str:
    """``1536x1024 · 12.31 s · $0.250``, or ``failed after 41 ms``."""
    if not entry.ok:
        return f"failed after {_seconds(entry.latency)}"
    cost = "cost unknown" if entry.cost_usd is None else f"${entry.cost_usd:.3f}"
    return " · ".join([entry.size or "size unknown", _seconds(entry.latency), cost])


def _open(entry: Entry) -> Image.Image | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(entry.image or b"")) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def contact_sheet(entries: list[Entry], prompt: str, request: str, *, tile: int = 420) -> Image.Image:
    """Every entry as a labelled tile on one image (failures as red panels naming the error)."""
    from PIL import Image, ImageDraw

    fonts, pad, columns = _Fonts(15), 16, 2 if len(entries) in (2, 4) else min(len(entries), 3) or 1
    pictures = [_open(entry) if entry.ok else None for entry in entries]
    box = min(560, max([300] + [round(p.height * tile / p.width) for p in pictures if p is not None]))
    captions = [_caption(entry, fonts, tile)[:16] for entry in entries]
    rows = [captions[start:start + columns] for start in range(0, len(entries), columns)]
    heights = [box + max(len(c) for c in row) * fonts.line + pad + pad for row in rows]
    title = _wrap(fonts.text(prompt), fonts.bold, columns * (tile + pad) - pad, 3)
    header = pad + fonts.line * (len(title) + 2) + pad
    delivered = f"{request} · {sum(entry.ok for entry in entries)} of {len(entries)} delivered"
    sheet = Image.new("RGB", (pad + columns * (tile + pad), header + sum(heights)), (250, 250, 248))
    draw = ImageDraw.Draw(sheet)
    draw.text((pad, pad), "imgsdk compare", font=fonts.regular, fill=_MUTED)
    for number, line in enumerate(title):
        draw.text((pad, pad + fonts.line * (number + 1)), line, font=fonts.bold, fill=_INK)
    draw.text((pad, pad + fonts.line * (len(title) + 1)), fonts.text(delivered), font=fonts.regular, fill=_MUTED)
    for index, (entry, picture, caption) in enumerate(zip(entries, pictures, captions, strict=True)):
        x = pad + (index % columns) * (tile + pad)
        y = header + sum(heights[: index // columns])
        draw.rectangle((x, y, x + tile - 1, y + box - 1), fill=(232, 233, 236) if entry.ok else (253, 232, 232),
                       outline=None if entry.ok else _FAIL, width=2)
        if picture is not None:
            picture.thumbnail((tile, box))
            sheet.paste(picture, (x + (tile - picture.width) // 2, y + (box - picture.height) // 2))
        else:
            heading = f"FAILED · {entry.error_class}" if not entry.ok else "cannot display this image"
            detail = (entry.error or "" if not entry.ok
                      else f"{entry.media_type or 'unknown format'}, {len(entry.image or b'')} bytes")
            for number, line in enumerate(_wrap(fonts.text(heading), fonts.bold, tile - 2 * pad, 2)):
                draw.text((x + pad, y + pad + fonts.line * number), line, font=fonts.bold, fill=_FAIL)
            for number, line in enumerate(_wrap(fonts.text(detail), fonts.regular, tile - 2 * pad,
                                                (box - 4 * pad) // fonts.line - 2)):
                draw.text((x + pad, y + pad + fonts.line * (number + 2.5)), line, font=fonts.regular, fill=_INK)
        for number, (line, font, colour) in enumerate(caption):
            draw.text((x, y + box + pad // 2 + number * fonts.line), line, font=font, fill=colour)
    return sheet
