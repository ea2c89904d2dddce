"""Where images are kept: a local directory or any fsspec URL, under safe names, written atomically.

- **Names** come from a template, ``{date}_{slug}_{uid}_{index}.{ext}`` by default. Fields: ``date``
  (YYYY-MM-DD), ``time`` (HHMMSS), ``slug`` (of the prompt), ``uid`` (8 hex digits, one per result, so two
  results of the same prompt never overwrite each other), ``index`` (1-based, across a fan-out), ``ext``,
  ``id`` (a batch line's id), ``provider``, ``seed``. Every value is reduced to ``[a-z0-9-]`` first, so no
  prompt can name a path (``../../etc/passwd`` becomes ``etc-passwd``), hold a NUL, or be a reserved
  Windows name (``con``, ``nul``, ``com1``...: those get ``-image`` appended). The template itself is the
  user's and may contain ``/`` for sub-folders, but never an absolute path or a ``..`` part.
- **Atomic**: bytes go to a temporary file first. Locally it sits in the destination folder and is renamed
  over the final name (``os.replace``), so a reader never sees half an image. For fsspec URLs the image is
  staged in a local temporary file (on disk, not in memory), then uploaded: object stores (s3, gs, az) make
  an object visible only once complete, so it is written under its final name; other filesystems
  (memory, sftp...) get a temporary name and a move.
- **Backends** are extras, imported on first use: ``pip install 'imgsdk[fsspec]'`` (memory://, local),
  ``'imgsdk[s3]'`` (s3fs), ``gcsfs`` for gs://. Options (endpoint, credentials) come from fsspec's own
  configuration (``fsspec.config.conf["s3"]``, ``FSSPEC_S3_*`` variables) or ``storage_options``.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from . import media
from .errors import ConfigError, InvalidRequestError

__all__ = ["DEFAULT_TEMPLATE", "Staged", "Store", "is_remote", "render_name", "safe_slug"]

DEFAULT_TEMPLATE = "{date}_{slug}_{uid}_{index}.{ext}"
SIGNED_URL_SECONDS = 7 * 24 * 3600  # the longest an S3 SigV4 presigned URL may live
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))})
_OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss", "r2"})


def safe_slug(text: str | None, limit: int = 48) -> str:
    """``[a-z0-9-]`` only, never empty, never a reserved Windows device name."""
    slug = media.slugify(text or "", limit)
    return f"{slug}-image" if slug in _RESERVED else slug


def render_name(template: str | None, *, prompt: str, index: int, ext: str, when: dt.datetime | None = None,
                id: str | None = None, provider: str | None = None, seed: int | None = None,
                uid: str | None = None) -> str:
    """The relative file name for one image (see the module docstring for the fields)."""
    moment = when or dt.datetime.now()
    fields: dict[str, Any] = {
        "date": moment.strftime("%Y-%m-%d"), "time": moment.strftime("%H%M%S"), "slug": safe_slug(prompt),
        "index": index, "n": index, "ext": safe_slug(ext, 8), "id": safe_slug(id) if id else "",
        "provider": safe_slug(provider), "seed": "" if seed is None else int(seed),
        "uid": safe_slug(uid, 16) if uid else "0"}
    template = template or DEFAULT_TEMPLATE
    try:
        name = template.format_map(fields)
    except (KeyError, ValueError, IndexError) as error:
        known = ", ".join("{" + key + "}" for key in fields)
        raise InvalidRequestError(f"filename template {template!r} is not valid ({error}); fields: {known}",
                                  option="filename_template") from error
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or "\x00" in name or any(part in ("", ".", "..") for part in parts):
        raise InvalidRequestError(f"filename template {template!r} gives {name!r}: names must be relative, "
                                  "without '..' or empty parts", option="filename_template")
    return "/".join(_safe_part(part) for part in parts)


def _safe_part(part: str) -> str:
    stem, dot, suffix = part.partition(".")
    if stem.lower() in _RESERVED:
        stem += "-image"
    return (stem + dot + suffix).rstrip(". ") or "image"


def is_remote(path: str | os.PathLike[str]) -> bool:
    """True for fsspec URLs (``s3://``, ``memory://``...); ``file://`` and plain paths are local."""
    text = os.fspath(path)
    return "://" in text and urlsplit(text).scheme.lower() not in ("", "file")


def _local(path: str | os.PathLike[str]) -> Path:
    text = os.fspath(path)
    return Path(urlsplit(text).path) if text.startswith("file://") else Path(text)


def _filesystem(url: str, options: Mapping[str, Any] | None) -> tuple[Any, str]:
    scheme = urlsplit(url).scheme
    try:
        import fsspec  # type: ignore[import-untyped]
    except ImportError as error:
        raise ConfigError(f"saving to {scheme}:// needs fsspec: pip install 'imgsdk[fsspec]'") from error
    try:
        return fsspec.core.url_to_fs(url, **dict(options or {}))  # type: ignore[no-any-return]
    except ImportError as error:
        extra = "s3" if scheme in ("s3", "s3a") else "fsspec"
        raise ConfigError(f"saving to {scheme}:// needs its fsspec backend ({error}): pip install "
                          f"'imgsdk[{extra}]' (or the backend named above)") from error
    except ValueError as error:
        raise ConfigError(f"cannot save to {scheme}://: {error}") from error


def _umask() -> int:
    """The process umask, read without changing it where /proc allows (os.umask() sets it to read it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class Staged:
    """A temporary file waiting for its final name; :meth:`commit` publishes it, :meth:`discard` drops it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        folder = Path(tempfile.gettempdir()) if store.remote else store.local_root
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=folder, prefix=".imgsdk-", suffix=".part")
        self.path = Path(name)
        self.file: BinaryIO = os.fdopen(handle, "w+b")
        self.done = False

    def commit(self, name: str) -> str:
        """Move the bytes to ``name`` (relative to the store) atomically; return the location."""
        self.file.close()
        location = self.store.location(name)
        if not self.store.remote:
            Path(location).parent.mkdir(parents=True, exist_ok=True)
            # mkstemp creates 0600; a saved image gets the mode any new file would (0666 less the umask)
            os.chmod(self.path, 0o666 & ~_umask())
            os.replace(self.path, location)
        else:
            fs, path = self.store.fs_path(location)
            parent = path.rsplit("/", 1)[0]
            if parent and not self.store.object_store:
                fs.makedirs(parent, exist_ok=True)
            if self.store.object_store:
                fs.put_file(str(self.path), path)  # an object appears only once complete
            else:
                temporary = f"{parent}/.{uuid.uuid4().hex}.part"
                fs.put_file(str(self.path), temporary)
                fs.mv(temporary, path)
            self.path.unlink(missing_ok=True)
        self.done = True
        return location

    def discard(self) -> None:
        if not self.done:
            self.file.close()
            self.path.unlink(missing_ok=True)
            self.done = True


class Store:
    """A destination root: a local folder or an fsspec URL prefix (``s3://bucket/renders``)."""

    def __init__(self, root: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None) -> None:
        self.root = os.fspath(root)
        self.remote = is_remote(self.root)
        self.options = storage_options
        self.object_store = self.remote and urlsplit(self.root).scheme.lower() in _OBJECT_STORES

    @property
    def local_root(self) -> Path:
        return _local(self.root)

    def location(self, name: str) -> str:
        """Where ``name`` (relative) is stored: a local path, or a URL under the root."""
        if self.remote:
            return f"{self.root.rstrip('/')}/{name}"
        return str(self.local_root / name)

    def fs_path(self, location: str) -> tuple[Any, str]:
        return _filesystem(location, self.options)

    def stage(self) -> Staged:
        return Staged(self)

    def public_url(self, location: str) -> tuple[str, dt.datetime | None]:
        """A URL for a stored image: ``file://`` locally; a presigned URL where the backend signs (S3);
        else the fsspec URL itself. The second value is when a signed URL stops working."""
        if not self.remote:
            return Path(location).resolve().as_uri(), None
        fs, path = self.fs_path(location)
        try:
            signed = fs.sign(path, expiration=SIGNED_URL_SECONDS)
        except NotImplementedError:
            return location, None
        return str(signed), dt.datetime.now(dt.UTC) + dt.timedelta(seconds=SIGNED_URL_SECONDS)


def read_bytes(location: str, storage_options: Mapping[str, Any] | None = None) -> bytes:
    """The bytes of a stored image (a local path or an fsspec URL)."""
    if not is_remote(location):
        return _local(location).read_bytes()
    fs, path = _filesystem(location, storage_options)
    with fs.open(path, "rb") as stream:
        return bytes(stream.read())
