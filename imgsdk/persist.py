"""Saving :class:`~imgsdk.result.GeneratedImage` objects: the image-level half of :mod:`imgsdk.storage`.

An image is written from whatever is at hand, cheapest first: bytes already in memory (base64 answers), a
stored copy, else a *streamed* safe download of its URL (:mod:`imgsdk.download`) straight into the staged
temporary file. :func:`persist` / :func:`apersist` are what ``persist_to`` runs as each image arrives;
afterwards ``image.path`` is the stored copy and ``image.url`` points at it (``file://`` or a signed URL).
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from . import media
from .storage import Staged, Store, is_remote, read_bytes, render_name

if TYPE_CHECKING:
    from .result import GeneratedImage, ImageResult

__all__ = ["apersist", "asave_image", "asave_result", "persist", "save_image", "save_result"]

_PIL_FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP"}
NameFor = Callable[["GeneratedImage"], str]


def _held(image: GeneratedImage) -> bytes | None:
    if image._data is not None:
        return image._data
    if image.url.startswith("data:"):
        return media.decode_data_url(image.url)[0]
    return None


def _fill(image: GeneratedImage, sink: BinaryIO) -> None:
    held = _held(image)
    if held is None and image.path is not None:
        held = read_bytes(image.path)
    if held is None and image._download is not None:
        image.media_type = image._download(image.url, sink).media_type or image.media_type
        return
    sink.write(held if held is not None else image.data)


async def _afill(image: GeneratedImage, sink: BinaryIO) -> None:
    if _held(image) is None and image.path is None and image._adownload is not None:
        image.media_type = (await image._adownload(image.url, sink)).media_type or image.media_type
        return
    _fill(image, sink)


def _convert(staged: Staged, image: GeneratedImage, name: str) -> None:
    """``fox.png`` for a JPEG: convert, so the file is what its name says (needs the bytes in memory)."""
    wanted = Path(name).suffix.lower().lstrip(".")
    if not wanted or {"jpeg": "jpg"}.get(wanted, wanted) == image.extension or wanted not in _PIL_FORMATS:
        return
    from PIL import Image

    staged.file.seek(0)
    with Image.open(io.BytesIO(staged.file.read())) as picture:
        out = io.BytesIO()
        (picture.convert("RGB") if _PIL_FORMATS[wanted] == "JPEG" else picture).save(out, format=_PIL_FORMATS[wanted])
    staged.file.seek(0)
    staged.file.truncate()
    staged.file.write(out.getvalue())
    image.media_type = media.sniff_media_type(out.getvalue()) or image.media_type


def _split(path: str | os.PathLike[str], options: Mapping[str, Any] | None) -> tuple[Store, str]:
    text = os.fspath(path)
    if is_remote(text):
        root, _, name = text.rpartition("/")
        return Store(root, options), name
    target = Path(text.removeprefix("file://"))
    return Store(target.parent, options), target.name


def _finish(store: Store, location: str) -> Path | str:
    return location if store.remote else Path(location)


def save_image(image: GeneratedImage, path: str | os.PathLike[str],
               storage_options: Mapping[str, Any] | None = None) -> Path | str:
    """Write one image to a file path or fsspec URL, atomically; return the Path (local) or URL."""
    store, name = _split(path, storage_options)
    staged = store.stage()
    try:
        _fill(image, staged.file)
        _convert(staged, image, name)
        return _finish(store, staged.commit(name))
    finally:
        staged.discard()


async def asave_image(image: GeneratedImage, path: str | os.PathLike[str],
                      storage_options: Mapping[str, Any] | None = None) -> Path | str:
    """:func:`save_image` for asyncio: the download is awaited, an upload runs in a thread."""
    store, name = _split(path, storage_options)
    staged = store.stage()
    try:
        await _afill(image, staged.file)
        _convert(staged, image, name)
        return _finish(store, await asyncio.to_thread(staged.commit, name) if store.remote else staged.commit(name))
    finally:
        staged.discard()


def _is_directory(path: str | os.PathLike[str]) -> bool:
    text = os.fspath(path)
    if text.endswith(("/", os.sep)):
        return True
    if is_remote(text):
        return not Path(text.rpartition("/")[2]).suffix
    local = Path(text.removeprefix("file://"))
    return local.is_dir() or not local.suffix


def _namer(result: ImageResult, template: str | None) -> NameFor:
    def name_for(image: GeneratedImage) -> str:
        return render_name(template, prompt=result.prompt, index=result.images.index(image) + 1,
                           ext=image.extension, provider=result.provider, seed=image.seed, uid=result.uid)
    return name_for


def _file_names(result: ImageResult, path: str | os.PathLike[str]) -> list[str]:
    text = os.fspath(path)
    if len(result.images) == 1:
        return [text]
    stem, dot, suffix = text.rpartition(".")
    return [f"{stem}-{index}{dot}{suffix}" for index in range(1, len(result.images) + 1)]


def save_result(result: ImageResult, path: str | os.PathLike[str], template: str | None = None,
                storage_options: Mapping[str, Any] | None = None) -> list[Path | str]:
    """Write every image of ``result``: into a folder (named by ``template``) or to a file name."""
    if not _is_directory(path):
        return [save_image(image, name, storage_options) for image, name in zip(
            result.images, _file_names(result, path), strict=True)]
    store, name_for = Store(path, storage_options), _namer(result, template)
    return [_finish(store, persist(image, store, name_for, move_url=False)) for image in result.images]


async def asave_result(result: ImageResult, path: str | os.PathLike[str], template: str | None = None,
                       storage_options: Mapping[str, Any] | None = None) -> list[Path | str]:
    """:func:`save_result` for asyncio."""
    if not _is_directory(path):
        return [await asave_image(image, name, storage_options) for image, name in zip(
            result.images, _file_names(result, path), strict=True)]
    store, name_for = Store(path, storage_options), _namer(result, template)
    return [_finish(store, await apersist(image, store, name_for, move_url=False)) for image in result.images]


def _point_at(image: GeneratedImage, store: Store, location: str) -> None:
    image.path = location
    image.url, image.expires_at = store.public_url(location)


def persist(image: GeneratedImage, store: Store, name_for: NameFor, *, move_url: bool = True) -> str:
    """Store ``image`` under ``name_for(image)`` (called once its format is known); with ``move_url``, point
    ``image.url``/``image.path`` at the stored copy. Return the location."""
    staged = store.stage()
    try:
        _fill(image, staged.file)
        location = staged.commit(name_for(image))
    finally:
        staged.discard()
    if move_url:
        _point_at(image, store, location)
    return location


async def apersist(image: GeneratedImage, store: Store, name_for: NameFor, *, move_url: bool = True) -> str:
    """:func:`persist` for asyncio."""
    staged = store.stage()
    try:
        await _afill(image, staged.file)
        name = name_for(image)
        location = await asyncio.to_thread(staged.commit, name) if store.remote else staged.commit(name)
    finally:
        staged.discard()
    if move_url:
        if store.remote:
            await asyncio.to_thread(_point_at, image, store, location)
        else:
            _point_at(image, store, location)
    return location
