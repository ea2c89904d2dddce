"""Tests for the offline placeholder renderer (imgsdk.adapters.local_render)."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PIL import Image, ImageFilter, ImageStat

RENDER_PATH = Path(__file__).resolve().parent.parent / "adapters" / "local_render.py"


try:
    from imgsdk.adapters.local_render import render_placeholder  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # before packaging: load adapters/local_render.py by path
    _spec = importlib.util.spec_from_file_location("_imgsdk_local_render", RENDER_PATH)
    assert _spec is not None and _spec.loader is not None
    _module = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)
    render_placeholder = _module.render_placeholder

lr: ModuleType = sys.modules[render_placeholder.__module__]  # for the private text helpers


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def _mean_saturation(data: bytes) -> float:
    return ImageStat.Stat(_open(data).convert("RGB").convert("HSV")).mean[1]


def _edge_energy(data: bytes) -> float:
    gray = _open(data).convert("L").filter(ImageFilter.FIND_EDGES)
    return sum(ImageStat.Stat(gray).mean)


@pytest.mark.parametrize(
    ("width", "height"),
    [(1024, 1024), (1792, 1024), (1024, 1792), (64, 64), (333, 517), (1, 1), (97, 3000)],
)
def test_exact_size(width: int, height: int) -> None:
    img = _open(render_placeholder("a quiet harbour at dawn", width, height))
    assert img.size == (width, height)
    assert img.format == "PNG"


@pytest.mark.parametrize(
    ("fmt", "pil_format"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP"), ("JPG", "JPEG")]
)
def test_format_magic_and_decoding(fmt: str, pil_format: str) -> None:
    data = render_placeholder("a teal lantern", 320, 200, output_format=fmt)
    if pil_format == "PNG":
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
    elif pil_format == "JPEG":
        assert data.startswith(b"\xff\xd8")
    else:
        assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    img = _open(data)
    assert img.format == pil_format
    assert img.size == (320, 200)
    assert img.mode == "RGB"


@pytest.mark.parametrize(("width", "height"), [(1, 1), (64, 64), (333, 517), (1792, 1024)])
def test_png_is_well_formed(width: int, height: int) -> None:
    data = render_placeholder("a png to verify", width, height)
    Image.open(io.BytesIO(data)).verify()  # checks chunk CRCs and structure
    img = _open(data)
    assert (img.mode, img.size) == ("RGB", (width, height))
    assert img.getpixel((width - 1, height - 1)) is not None


def test_deterministic_same_args_same_bytes() -> None:
    kwargs = {"style": "natural", "quality": "hd", "seed": 7, "label": "local:placeholder · 512x384"}
    for fmt in ("png", "jpeg", "webp"):
        a = render_placeholder("a castle in the clouds", 512, 384, output_format=fmt, **kwargs)
        b = render_placeholder("a castle in the clouds", 512, 384, output_format=fmt, **kwargs)
        assert a == b


def test_deterministic_across_processes_and_hash_seeds() -> None:
    code = (
        "import hashlib, importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('m', sys.argv[1])\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "print(hashlib.sha256(m.render_placeholder('red kite over a green hill', 300, 200, seed=3))"
        ".hexdigest())\n"
    )
    expected = hashlib.sha256(render_placeholder("red kite over a green hill", 300, 200, seed=3)).hexdigest()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", code, str(RENDER_PATH)], env=env,
                             capture_output=True, text=True, check=True)
        assert out.stdout.strip() == expected


def test_variation_prompt_seed_and_label() -> None:
    base = render_placeholder("a lighthouse", 256, 256, seed=1)
    assert render_placeholder("a windmill", 256, 256, seed=1) != base
    assert render_placeholder("a lighthouse", 256, 256, seed=2) != base
    assert render_placeholder("a lighthouse", 256, 256, seed=None) != base
    assert render_placeholder("a lighthouse", 256, 256, seed=1, label="local:placeholder") != base


def test_different_seeds_change_composition_not_just_a_few_pixels() -> None:
    a = _open(render_placeholder("a lighthouse", 256, 256, seed=1)).convert("L")
    b = _open(render_placeholder("a lighthouse", 256, 256, seed=2)).convert("L")
    diff = [abs(x - y) for x, y in zip(a.tobytes(), b.tobytes(), strict=True)]
    changed = sum(d > 8 for d in diff) / len(diff)
    assert changed > 0.2


def test_colour_words_steer_palette() -> None:
    red = _open(render_placeholder("a red fox in red snow", 512, 512)).convert("RGB")
    blue = _open(render_placeholder("a blue whale in a blue ocean", 512, 512)).convert("RGB")
    r_red, _, b_red = ImageStat.Stat(red).mean
    r_blue, _, b_blue = ImageStat.Stat(blue).mean
    assert r_red - b_red > r_blue - b_blue + 40
    assert r_red > r_blue and b_blue - r_blue > 40


def test_green_prompt_is_greenish() -> None:
    img = _open(render_placeholder("a green forest with emerald leaves", 400, 400)).convert("RGB")
    r, g, b = ImageStat.Stat(img).mean
    assert g > r and g > b


def test_prompt_without_colour_words_still_colourful() -> None:
    data = render_placeholder("a chess game between a cat and a robot", 400, 400)
    assert _mean_saturation(data) > 40
    colours = _open(data).convert("RGB").getcolors(maxcolors=400 * 400)
    assert colours is not None and len(colours) > 50


@pytest.mark.parametrize("prompt", ["a red fox in red snow", "a quiet harbour at dawn", "castle on a hill"])
def test_natural_is_less_saturated_than_vivid(prompt: str) -> None:
    vivid = _mean_saturation(render_placeholder(prompt, 512, 512, style="vivid", seed=5))
    natural = _mean_saturation(render_placeholder(prompt, 512, 512, style="natural", seed=5))
    assert natural < vivid * 0.8


@pytest.mark.parametrize("seed", [None, 1, 42])
def test_hd_has_more_edge_detail_than_standard(seed: int | None) -> None:
    prompt = "mountains under a starry night sky"
    standard = _edge_energy(render_placeholder(prompt, 1024, 1024, quality="standard", seed=seed))
    hd = _edge_energy(render_placeholder(prompt, 1024, 1024, quality="hd", seed=seed))
    assert hd > standard * 1.2


def test_placeholder_banner_is_present() -> None:
    img = _open(render_placeholder("a white swan on white snow", 1024, 1024)).convert("RGB")
    banner = img.crop((0, 0, 1024, 60))
    raw = banner.tobytes()
    yellow = sum(1 for r, g, b in zip(raw[0::3], raw[1::3], raw[2::3], strict=True) if r > 200 and g > 150 and b < 120)
    assert yellow > 500  # yellow banner text / rule on a dark strip, even over a white scene
    assert ImageStat.Stat(banner.convert("L")).mean[0] < 100


def test_text_panel_darkens_bottom_for_contrast() -> None:
    prompt = "white snow white clouds white sky"
    with_text = _open(render_placeholder(prompt, 800, 800, label="local:placeholder · 800x800")).convert("L")
    bottom = ImageStat.Stat(with_text.crop((40, 700, 760, 780))).mean[0]
    assert bottom < 120


def test_long_prompt_is_truncated_with_ellipsis() -> None:
    font = lr._font(20)
    lines = lr._wrap("word " * 500, font, 300.0, 3)
    assert len(lines) == 3
    assert lines[-1].endswith("\u2026")
    assert all(font.getlength(line) <= 300 for line in lines)
    long_word = lr._wrap("x" * 400, font, 100.0, 10)
    assert all(font.getlength(line) <= 100 for line in long_word)
    assert render_placeholder("word " * 2000, 640, 480)[:4] == b"\x89PNG"


def test_odd_prompts_render() -> None:
    for prompt in ("", "   ", "\n\t", "é — café ×", "🦊 狐狸", "x" * 5000, "lone \ud800 surrogate"):
        assert _open(render_placeholder(prompt, 200, 150, label="l")).size == (200, 150)


@pytest.mark.parametrize(("width", "height"), [(0, 64), (64, 0), (-5, 64), (64, -1)])
def test_rejects_non_positive_size(width: int, height: int) -> None:
    with pytest.raises(ValueError):
        render_placeholder("x", width, height)


@pytest.mark.parametrize(
    "kwargs", [{"output_format": "gif"}, {"style": "noir"}, {"quality": "ultra"}]
)
def test_rejects_unknown_options(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        render_placeholder("x", 64, 64, **kwargs)


@pytest.mark.parametrize("bad", [64.0, True, "64", None])
def test_rejects_non_int_size(bad: Any) -> None:
    with pytest.raises(ValueError):
        render_placeholder("x", bad, 64)
