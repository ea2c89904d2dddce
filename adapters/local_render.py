"""Offline placeholder renderer behind imgsdk's ``local`` adapter.

Why this exists: ``local`` is the default provider when no API key is configured, so code written
against imgsdk must run -- and get real, correctly sized and encoded images -- with no key and no
network.  The picture is an abstract landscape whose look follows the request (palette from colour
words in the prompt, vivid/natural saturation, hd finer detail); it shows the prompt and an obvious
PLACEHOLDER banner so nobody mistakes it for generated art.  Deterministic: all randomness comes from
a SHA-256 of prompt + seed (so size/style/quality variants stay the same picture).  Stdlib + Pillow
only; shapes are drawn on a small canvas and upscaled so a 1792x1024 PNG takes well under 100 ms.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import io
import math
import random
import re
import struct
import unicodedata
import zlib

from PIL import Image, ImageDraw, ImageFont, ImageOps

__all__ = ["FORMATS", "QUALITIES", "STYLES", "render_placeholder"]

RGB = tuple[int, int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

FORMATS = ("png", "jpeg", "webp")
STYLES = ("vivid", "natural")
QUALITIES = ("standard", "hd")
MAX_SIDE = 16384
BANNER = "PLACEHOLDER \u00b7 imgsdk offline renderer"

COLOURS: dict[str, RGB] = {
    "red": (214, 40, 40), "orange": (245, 130, 32), "amber": (255, 176, 0), "gold": (222, 172, 46),
    "golden": (222, 172, 46), "yellow": (250, 215, 50), "green": (56, 160, 72), "lime": (160, 220, 60),
    "emerald": (20, 150, 100), "olive": (120, 128, 40), "teal": (0, 128, 128), "cyan": (0, 190, 220),
    "turquoise": (48, 200, 190), "blue": (40, 90, 210), "azure": (60, 150, 240), "navy": (20, 30, 90),
    "indigo": (60, 40, 140), "purple": (120, 50, 160), "violet": (140, 90, 210), "pink": (240, 120, 170),
    "lavender": (180, 160, 225), "magenta": (210, 30, 150), "rose": (225, 90, 120), "brown": (130, 82, 45),
    "crimson": (190, 20, 50), "scarlet": (240, 36, 20), "maroon": (110, 20, 35), "beige": (220, 200, 160),
    "white": (240, 240, 236), "black": (18, 18, 22), "grey": (128, 128, 132), "gray": (128, 128, 132),
    "silver": (190, 194, 200),
}
MOODS: dict[str, tuple[RGB, ...]] = {
    "sunset": ((70, 40, 110), (240, 110, 60), (250, 180, 80), (200, 70, 110)),
    "dawn": ((90, 110, 170), (250, 190, 170), (255, 220, 150), (170, 150, 200)),
    "snow": ((200, 215, 235), (245, 248, 252), (160, 180, 210)),
    "ocean": ((10, 60, 120), (30, 130, 180), (100, 200, 220)),
    "sea": ((10, 60, 120), (30, 130, 180), (100, 200, 220)),
    "forest": ((20, 70, 40), (60, 120, 50), (140, 170, 80), (90, 70, 40)),
    "night": ((10, 14, 40), (40, 40, 90), (220, 220, 180)),
    "desert": ((230, 180, 110), (200, 120, 60), (250, 220, 160)),
    "fire": ((120, 10, 10), (240, 80, 20), (255, 200, 40)),
    "autumn": ((170, 60, 20), (220, 130, 40), (120, 70, 30)),
}
_WORD = re.compile(r"[a-z]+")
_TEXT_FIXES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u00d7": "x"})


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t),
            round(a[2] + (b[2] - a[2]) * t))


def _stylise(c: RGB, vivid: bool) -> RGB:
    """vivid: boost saturation, stretch lightness (chromatic colours kept out of pastel range);
    natural: desaturate and pull lightness towards a soft mid-tone.  Greys stay grey."""
    h, l_, s = colorsys.rgb_to_hls(c[0] / 255, c[1] / 255, c[2] / 255)
    chromatic = max(c) - min(c) > 20  # chroma, not HLS saturation (near-white is 'saturated' in HLS)
    if vivid:
        s = min(1.0, s * 1.5 + 0.2) if chromatic else s
        l_ = min(0.72 if chromatic else 0.97, max(0.06, 0.5 + (l_ - 0.5) * 1.25))
    else:
        s, l_ = s * 0.4, 0.55 + (l_ - 0.55) * 0.65
    r, g, b = colorsys.hls_to_rgb(h, l_, s)
    return round(r * 255), round(g * 255), round(b * 255)


def _palette(prompt: str, digest: bytes) -> list[RGB]:
    """Six colours (sky top, sky, horizon, accent, far ridge, near ridge)."""
    words = _WORD.findall(prompt.lower())
    named = sorted({w for w in words if w in COLOURS}, key=lambda w: (-words.count(w), words.index(w)))
    base: list[RGB] = list(dict.fromkeys(COLOURS[w] for w in named))[:4]
    for w in dict.fromkeys(w for w in words if w in MOODS):
        base += [c for c in MOODS[w] if c not in base]
    if not base:  # no colour words: analogous hues from the prompt hash, plus a complement
        hue = digest[0] / 255
        base = [_hsv(hue, 0.65, 0.55), _hsv(hue + 0.07, 0.55, 0.9),
                _hsv(hue - 0.08, 0.5, 0.75), _hsv(hue + 0.5, 0.6, 0.85)]
    tones = (0.0, 0.3, -0.35, 0.55, -0.15, -0.55)  # >0 towards white, <0 towards black
    return [_mix(c, (255, 255, 255) if t > 0 else (0, 0, 0), abs(t))
            for c, t in ((base[i % len(base)], tones[i // len(base) % 6]) for i in range(6))]


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def _scene(w: int, h: int, pal: list[RGB], rng: random.Random, hd: bool) -> Image.Image:
    """Sky gradient, sun with glow, layered ridges and translucent shapes, at canvas size."""
    sky = Image.linear_gradient("L").resize((1, h), Image.Resampling.BILINEAR)
    horizon = _mix(pal[2], (255, 255, 255), 0.2)
    img = ImageOps.colorize(sky, _mix(pal[0], (0, 0, 0), 0.35), horizon, pal[1]).resize((w, h))
    unit = min(w, h)
    sx, sy, sr = rng.uniform(0.15, 0.85) * w, rng.uniform(0.18, 0.4) * h, rng.uniform(0.05, 0.1) * unit
    size = max(1, round(sr * 7))
    glow = Image.radial_gradient("L").resize((size, size), Image.Resampling.BILINEAR)
    glow = glow.point(lambda v: max(0, 128 - v) ** 2 // 90)  # soft fall-off, 0 at the box edge
    sun = _mix(pal[3], (255, 255, 255), 0.6)
    img.paste(sun, (round(sx - size / 2), round(sy - size / 2)), glow)
    draw = ImageDraw.Draw(img, "RGBA")
    if hd:  # fine star / dust speckle: one call, many points
        draw.point([(rng.random() * w, rng.random() * h * 0.55) for _ in range(w * h // 600)],
                   fill=(255, 255, 255, 170))
    draw.ellipse((sx - sr, sy - sr, sx + sr, sy + sr), fill=sun)
    layers, points, octaves = (5, 180, 6) if hd else (3, 36, 3)
    for i in range(layers):  # far -> near: hazier far away, darker and richer up close
        t = (i + 1) / layers
        colour = _mix(_mix(pal[(3 + i) % 6], horizon, 0.6 * (1 - t)), (0, 0, 0), 0.4 * t)
        base, amp = h * (0.52 + 0.34 * t), h * rng.uniform(0.05, 0.12)
        waves = [(2.0**k * rng.uniform(0.7, 1.4) * math.tau, rng.random() * math.tau, 0.55**k)
                 for k in range(octaves)]
        ridge = [(w * x, base - amp * sum(a * math.sin(f * x + ph) for f, ph, a in waves))
                 for x in (k / points for k in range(points + 1))]
        draw.polygon([(0.0, float(h)), *ridge, (float(w), float(h))], fill=colour)
    count, rmin, rmax = (110, 0.006, 0.025) if hd else (18, 0.03, 0.08)
    for _ in range(count):  # floating translucent discs and diamonds
        cx, cy, r = rng.random() * w, rng.random() * h * 0.9, rng.uniform(rmin, rmax) * unit
        c = _mix(pal[int(rng.random() * 6)], (255, 255, 255), rng.uniform(0.1, 0.5))
        fill = (*c, int(rng.uniform(70, 150)))
        if rng.random() < 0.7:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
        else:
            draw.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=fill)
    return img


@functools.lru_cache(maxsize=64)
def _font(size: int) -> Font:
    return ImageFont.load_default(size=size)


def _clean(text: str) -> str:
    """Collapse whitespace; fold accents / dashes the bundled font subset lacks."""
    text = unicodedata.normalize("NFKD", text.translate(_TEXT_FIXES))
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).split())


def _fit(text: str, font: Font, width: float) -> str:
    """``text`` if it fits in ``width`` px, else its longest fitting prefix + an ellipsis."""
    if font.getlength(text) <= width:
        return text
    lo, hi = 0, len(text)  # binary search: prompts can be thousands of characters long
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if font.getlength(text[:mid].rstrip() + "\u2026") <= width else (lo, mid - 1)
    return text[:lo].rstrip() + "\u2026"


def _wrap(text: str, font: Font, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap (width summed per word: linear in the text); over-long words are split;
    overflow past ``max_lines`` ends with an ellipsis."""
    lines: list[str] = []
    current, used, space = "", 0.0, font.getlength(" ")
    for word in text.split():
        # hard-split over-long words; measure a bounded prefix (no glyph is under 1 px wide)
        while len(word) > 1 and len(lines) <= max_lines and font.getlength(word[: int(width) + 2]) > width:
            cut = max(1, len(_fit(word[: int(width) + 1], font, width)) - 1)
            lines, current, used = [*lines, *([current] if current else []), word[:cut]], "", 0.0
            word = word[cut:]
        size = font.getlength(word[: int(width) + 2])
        if current and used + space + size <= width:
            current, used = f"{current} {word}", used + space + size
        else:
            lines, current, used = [*lines, *([current] if current else [])], word, size
        if len(lines) > max_lines:
            break
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _fit(lines[-1] + " \u2026", font, width)
    return lines


def _overlay_text(img: Image.Image, prompt: str, label: str) -> None:
    w, h = img.size
    unit = min(w, h)
    draw = ImageDraw.Draw(img, "RGBA")
    bsize, margin = max(8, min(round(unit * 0.032), 48)), max(4, round(unit * 0.025))
    banner, bfont = BANNER, _font(bsize)
    while bfont.getlength(banner) > w - 4 and bsize > 6:  # tiny image: shorter mark, smaller font
        banner, bsize = "PLACEHOLDER", bsize - (banner == "PLACEHOLDER")
        bfont = _font(bsize)
    bar_h = round(bsize * 1.9)
    draw.rectangle((0, 0, w, bar_h), fill=(12, 12, 16, 185))
    draw.rectangle((0, bar_h, w, bar_h + max(1, bsize // 8)), fill=(255, 196, 0, 255))
    if bfont.getlength(banner) <= w:
        draw.text((w / 2, bar_h / 2), banner, font=bfont, fill=(255, 214, 64), anchor="mm")
    if unit < 96:
        return
    psize, lsize = max(10, min(round(unit * 0.042), 64)), max(9, min(round(unit * 0.024), 36))
    pfont, lfont, pad = _font(psize), _font(lsize), round(psize * 0.6)
    text_w = w - 2 * margin - 2 * pad
    line_h, label_h = round(psize * 1.25), round(lsize * 1.5) if label else 0
    max_lines = max(1, int((h * 0.42 - label_h - 2 * pad) / line_h))
    lines = _wrap(_clean(prompt), pfont, text_w, max_lines) if prompt.strip() else []
    if not lines and not label:
        return
    panel_h = len(lines) * line_h + label_h + 2 * pad
    top = h - margin - panel_h
    draw.rounded_rectangle((margin, top, w - margin, h - margin), radius=pad, fill=(0, 0, 0, 160))
    y = top + pad
    for line in lines:
        draw.text((margin + pad, y), line, font=pfont, fill=(255, 255, 255))
        y += line_h
    if label:
        draw.text((margin + pad, y + (label_h - lsize) / 2), _fit(_clean(label), lfont, text_w),
                  font=lfont, fill=(200, 200, 200))


def _encode_png(img: Image.Image) -> bytes:
    """Minimal RGB PNG writer: filter type 0 + zlib level 1 is ~3x faster than Pillow's
    adaptive-filter encoder at compress_level=1, at a similar size for these smooth images."""
    w, h = img.size
    raw, stride = img.tobytes(), w * 3
    idat = zlib.compress(b"".join(b"\0" + raw[i : i + stride] for i in range(0, len(raw), stride)), 1)

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit truecolour, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def render_placeholder(prompt: str, width: int, height: int, *, style: str = "vivid",
                       quality: str = "standard", seed: int | None = None, output_format: str = "png",
                       label: str = "") -> bytes:
    """Return encoded image bytes (PNG, JPEG or WebP per output_format in {"png","jpeg","webp"})
    of exactly width x height.  ValueError for a side outside 1..MAX_SIDE or an unknown style,
    quality or format (case-insensitive; "jpg" means "jpeg")."""
    for side, size in (("width", width), ("height", height)):
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_SIDE:
            raise ValueError(f"{side} must be an int in 1..{MAX_SIDE}, got {size!r}")
    fmt, style, quality = output_format.lower(), style.lower(), quality.lower()
    fmt = "jpeg" if fmt == "jpg" else fmt
    for name, value, allowed in (("output_format", fmt, FORMATS), ("style", style, STYLES),
                                 ("quality", quality, QUALITIES)):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    digest = hashlib.sha256(f"imgsdk-local-v1\0{prompt}\0{seed!r}".encode("utf-8", "surrogatepass")).digest()
    rng = random.Random(int.from_bytes(digest, "big"))
    hd = quality == "hd"
    scale = min(1.0, (900 if hd else 560) / max(width, height))
    cw, ch = max(1, round(width * scale)), max(1, round(height * scale))
    pal = [_stylise(c, style == "vivid") for c in _palette(prompt, digest)]
    img = _scene(cw, ch, pal, rng, hd)
    if img.size != (width, height):
        img = img.resize((width, height), Image.Resampling.BILINEAR)
    _overlay_text(img, prompt, label)
    if fmt == "png":
        return _encode_png(img)
    out = io.BytesIO()  # JPEG: baseline, no optimize pass; WebP: fast method
    opts = {"quality": 92 if hd else 85} if fmt == "jpeg" else {"quality": 90 if hd else 80, "method": 2}
    img.save(out, fmt.upper(), **opts)
    return out.getvalue()
