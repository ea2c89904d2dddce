"""Persistence: safe names, atomic writes, streaming, fsspec (memory://), persist_to."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

import imgsdk
from delivery.support import Loopback, jpeg_bytes, no_sleep, no_sleep_async, png_bytes
from imgsdk.errors import InvalidRequestError
from imgsdk.result import GeneratedImage, ImageResult
from imgsdk.storage import Store, render_name, safe_slug

WHEN = dt.datetime(2026, 11, 29, 14, 5, 6)
WINDOWS_RESERVED = ("con", "prn", "aux", "nul", "com1", "lpt9")


def result_of(*images: GeneratedImage, prompt: str = "a red fox") -> ImageResult:
    return ImageResult(list(images), "local:placeholder", "placeholder", prompt, uid="u1")


@pytest.mark.parametrize("prompt", ["../../etc/passwd", "..\\..\\windows\\system32", "/abs/path", "a\x00b",
                                   "CON", "nul", "Com1", "LPT9", "  ", "....", "é€漢字", "x" * 500, "c:\\boot.ini"])
def test_slug_is_safe_on_every_filesystem(prompt: str) -> None:
    slug = safe_slug(prompt)
    assert slug and set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert slug not in WINDOWS_RESERVED and len(slug) <= 54
    name = render_name(None, prompt=prompt, index=1, ext="png", when=WHEN, uid="abc")
    assert "/" not in name and "\\" not in name and "\x00" not in name and ".." not in name
    assert name.split(".")[0].split("_")[1] not in WINDOWS_RESERVED


def test_default_template_and_fields() -> None:
    assert render_name(None, prompt="A Red Fox!", index=3, ext="png", when=WHEN, uid="3f2a") == \
        "2026-11-29_a-red-fox_3f2a_3.png"
    name = render_name("{provider}/{id}_{seed}_{time}_{index:03d}.{ext}", prompt="p", index=7, ext="jpg",
                       when=WHEN, id="../Hero Shot", provider="openai:dall-e-3", seed=42)
    assert name == "openai-dall-e-3/hero-shot_42_140506_007.jpg"
    assert render_name("{slug}", prompt="con", index=1, ext="png") == "con-image"


@pytest.mark.parametrize("template", ["../{slug}.{ext}", "/tmp/{slug}.{ext}", "a//{slug}", "{nope}.{ext}", "{slug"])
def test_bad_templates_are_refused(template: str) -> None:
    with pytest.raises(InvalidRequestError, match="filename template"):
        render_name(template, prompt="p", index=1, ext="png")


def test_a_prompt_cannot_escape_the_folder(tmp_path: Path) -> None:
    for prompt in ("../../etc/passwd", "..", "nul", "a\x00/../b"):
        paths = result_of(GeneratedImage.from_bytes(png_bytes(), "p"), prompt=prompt).save(tmp_path / "out")
        assert all(Path(p).parent == tmp_path / "out" and Path(p).is_file() for p in paths)
    assert not (tmp_path / "etc").exists()


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp_path = tmp_path / "atomic"
    tmp_path.mkdir()
    target = tmp_path / "fox.png"
    target.write_bytes(b"old")
    image = GeneratedImage.from_bytes(png_bytes(), "p")

    def broken(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        image.save(target)
    assert target.read_bytes() == b"old"  # the old file is intact, never half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fox.png"]  # the temporary file was removed
    monkeypatch.undo()
    assert image.save(target) == target and target.read_bytes() == image.data


def test_save_to_memory_fsspec_url() -> None:
    fsspec = pytest.importorskip("fsspec")
    data = png_bytes(12, 6)
    result = result_of(GeneratedImage.from_bytes(data, "p"), GeneratedImage.from_bytes(jpeg_bytes(), "p"))
    paths = result.save("memory://renders/batch1/")
    assert paths == ["memory://renders/batch1/" + name for name in (
        f"{dt.date.today():%Y-%m-%d}_a-red-fox_u1_1.png", f"{dt.date.today():%Y-%m-%d}_a-red-fox_u1_2.jpg")]
    fs = fsspec.filesystem("memory")
    assert fs.cat(paths[0].removeprefix("memory://")) == data
    assert not [p for p in fs.ls("/renders/batch1", detail=False) if ".part" in p]  # write-then-move left no temp
    single = result.images[0].save("memory://renders/one/fox.png")
    assert single == "memory://renders/one/fox.png" and fs.cat("/renders/one/fox.png") == data


def test_a_missing_backend_gets_an_install_hint() -> None:
    import importlib.util

    if importlib.util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed here")
    with pytest.raises(imgsdk.ConfigError, match=r"gs:// needs its fsspec backend .*gcsfs.*pip install"):
        result_of(GeneratedImage.from_bytes(png_bytes(), "p")).save("gs://bucket/x/")
    with pytest.raises(imgsdk.ConfigError, match=r"cannot save to nosuchproto://: .*nosuchproto"):
        result_of(GeneratedImage.from_bytes(png_bytes(), "p")).save("nosuchproto://bucket/x/")


def test_url_images_are_streamed_to_disk_not_held_in_memory(tmp_path: Path) -> None:
    big = png_bytes(400, 300, (5, 6, 7))
    config = {"providers": {"p": {"model": "local:placeholder", "allowed_hosts": ["127.0.0.1"]}}, "default": "p"}
    with Loopback({"/img.png": lambda s: (200, {"content-type": "image/png"}, big)}) as server, \
            imgsdk.Client(config, sleep=no_sleep) as client:
        result = client.generate("a fox", size="64x64")
        image = result.images[0]
        image.url, image._data = server.url("/img.png"), None  # as a provider that answers with a URL
        paths = result.save(tmp_path / "out", template="{slug}.{ext}")
        assert paths == [tmp_path / "out" / "a-fox.png"]
        assert Path(paths[0]).read_bytes() == big
        assert image._data is None  # the download went to the file, not into memory
        assert image.media_type == "image/png"


def test_persist_to_saves_on_arrival_and_points_url_at_the_copy(tmp_path: Path) -> None:
    with imgsdk.Client({}, sleep=no_sleep) as client:
        result = client.generate("a red fox", provider="local:placeholder", size="64x64", n=3,
                                 persist_to=tmp_path / "kept", filename_template="{slug}_{index}.{ext}")
    names = sorted(p.name for p in (tmp_path / "kept").iterdir())
    assert names == ["a-red-fox_1.png", "a-red-fox_2.png", "a-red-fox_3.png"]
    for index, image in enumerate(result.images, 1):
        stored = tmp_path / "kept" / f"a-red-fox_{index}.png"
        assert image.path == str(stored)
        assert image.url == stored.resolve().as_uri()
        assert image.data == stored.read_bytes()


def test_persist_to_from_the_profile_and_per_call_off(tmp_path: Path) -> None:
    config = {"providers": {"p": {"model": "local:placeholder", "persist_to": str(tmp_path / "auto"),
                                  "filename_template": "{id}{slug}-{index}.{ext}"}}, "default": "p"}
    with imgsdk.Client(config, sleep=no_sleep) as client:
        kept = client.generate("first", size="64x64")
        skipped = client.generate("second", size="64x64", persist_to=False)
    assert sorted(p.name for p in (tmp_path / "auto").iterdir()) == ["first-1.png"]
    assert kept.url.startswith("file://") and skipped.url.startswith("data:image/png")


async def test_async_persist_to_memory_fsspec() -> None:
    fsspec = pytest.importorskip("fsspec")
    async with imgsdk.AsyncClient({}, sleep=no_sleep_async) as client:
        result = await client.generate("a heron", provider="local:placeholder", size="64x64", n=2,
                                       persist_to="memory://async-kept", filename_template="{index}.{ext}")
    assert [image.path for image in result.images] == ["memory://async-kept/1.png", "memory://async-kept/2.png"]
    assert [image.url for image in result.images] == ["memory://async-kept/1.png", "memory://async-kept/2.png"]
    assert fsspec.filesystem("memory").cat("/async-kept/2.png") == result.images[1].data


def test_store_location_and_public_url(tmp_path: Path) -> None:
    store = Store(tmp_path)
    assert store.location("a/b.png") == str(tmp_path / "a" / "b.png")
    url, expires = store.public_url(str(tmp_path / "a" / "b.png"))
    assert url == (tmp_path / "a" / "b.png").resolve().as_uri() and expires is None
