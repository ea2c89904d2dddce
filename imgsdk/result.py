"""What a generation returns: :class:`ImageResult` holding :class:`GeneratedImage` objects.

The first image's ``url``, ``revised_prompt`` and ``size`` are the workflow node's three outputs
(:meth:`ImageResult.to_node_output`).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from . import media

if TYPE_CHECKING:
    from .download import Downloaded
    from .errors import ProviderError
    from .request import RequestWarning

__all__ = ["GeneratedImage", "ImageResult"]


@dataclass(slots=True, eq=False, init=False, repr=False, weakref_slot=True)
class GeneratedImage:
    """One image.

    - ``url``: never empty: the provider's (temporary) URL, or a ``data:`` URL when the provider sent bytes.
      That ``data:`` URL is built when ``url`` is first read, not before: for a 4 MiB image it is 5.3 MiB
      of text, which a caller who saves the bytes never needs. Assigning ``url`` replaces it.
    - ``data``: the bytes; fetched from ``url`` on first access when the provider sent only a URL.
    - ``media_type``: as declared by the provider, else sniffed from the bytes.
    - ``size``: ``"WxH"`` read from the bytes when they are at hand, else what the provider reported, else
      read from the image downloaded once through the client that made it (see :attr:`size`).
    - ``revised_prompt``: the prompt the model actually used (the provider's rewrite, else the prompt sent).
    - ``seed``: the seed used, when the provider says.
    - ``expires_at``: when a provider URL stops working (UTC), when known; downloading it later raises
      :class:`~imgsdk.errors.ImageExpiredError` saying when.
    - ``metadata``: provider extras (Azure ``content_filter_results``, finish reasons...).
    - ``path``: where the image was stored by ``persist_to`` (a local path or an fsspec URL), else None;
      ``url`` then points at that copy (``file://`` or a signed URL).

    Construct it with ``GeneratedImage(url=..., revised_prompt=...)`` for a URL, or
    :meth:`from_bytes` for bytes. Slots and a weak-reference slot: the client's downloaders refer to the
    image weakly, so an image is freed as soon as its result is dropped (no reference cycle).
    """

    revised_prompt: str
    media_type: str | None
    reported_size: str | None
    seed: int | None
    expires_at: dt.datetime | None
    metadata: dict[str, Any]
    path: str | None
    _url: str | None  # None: a data: URL of _data, built on first read of ``url``
    _data: bytes | None
    _fetch: Callable[[str], bytes] | None
    _afetch: Callable[[str], Awaitable[bytes]] | None
    # Streamed, checked downloads into a file (set by the client that produced the image).
    _download: Callable[[str, BinaryIO], Downloaded] | None
    _adownload: Callable[[str, BinaryIO], Awaitable[Downloaded]] | None

    def __init__(self, url: str | None, revised_prompt: str, media_type: str | None = None,
                 reported_size: str | None = None, seed: int | None = None, expires_at: dt.datetime | None = None,
                 metadata: dict[str, Any] | None = None, path: str | None = None, _data: bytes | None = None,
                 _fetch: Callable[[str], bytes] | None = None,
                 _afetch: Callable[[str], Awaitable[bytes]] | None = None,
                 _download: Callable[[str, BinaryIO], Downloaded] | None = None,
                 _adownload: Callable[[str, BinaryIO], Awaitable[Downloaded]] | None = None) -> None:
        if url is None and _data is None:
            raise ValueError("a GeneratedImage needs a url or its bytes: use GeneratedImage.from_bytes(data, ...)")
        self._url = url
        self.revised_prompt = revised_prompt
        self.media_type = media_type
        self.reported_size = reported_size
        self.seed = seed
        self.expires_at = expires_at
        self.metadata = {} if metadata is None else metadata
        self.path = path
        self._data = _data
        self._fetch, self._afetch = _fetch, _afetch
        self._download, self._adownload = _download, _adownload

    @classmethod
    def from_bytes(cls, data: bytes, revised_prompt: str, *, media_type: str | None = None,
                   **fields: Any) -> GeneratedImage:
        """An image the provider sent as bytes (or base64): its ``url`` is a ``data:`` URL, built when read."""
        kind = media.sniff_media_type(data) or media_type or "application/octet-stream"
        return cls(None, revised_prompt, media_type=kind, _data=data, **fields)

    @property
    def url(self) -> str:
        """The provider's URL, the stored copy's, or a ``data:`` URL of the bytes (built on first read)."""
        if self._url is None:
            assert self._data is not None  # __init__ refuses an image with neither
            self._url = media.data_url(self._data, self.media_type or "application/octet-stream")
        return self._url

    @url.setter
    def url(self, value: str) -> None:
        self._url = value

    def _inline(self) -> bool:
        """True when the bytes are in memory or in the URL itself (nothing to download)."""
        return self._data is not None or self._url is None or self._url.startswith("data:")

    @property
    def data(self) -> bytes:
        """The image bytes (fetched once from ``url`` if needed)."""
        if self._data is None:
            url = self.url
            if url.startswith("data:"):
                self._data, _ = media.decode_data_url(url)
            elif self.path is not None:
                from .storage import read_bytes

                self._set_data(read_bytes(self.path))
            elif self._fetch is None:
                raise RuntimeError("this image has only a URL and no client to fetch it; use client.fetch()")
            else:
                self._set_data(self._fetch(url))
        assert self._data is not None
        return self._data

    async def adata(self) -> bytes:
        """The image bytes, fetched asynchronously if needed."""
        if not self._inline() and self.path is None and self._afetch:
            self._set_data(await self._afetch(self.url))
        return self.data

    def _set_data(self, data: bytes) -> None:
        self._data = data
        self.media_type = media.sniff_media_type(data) or self.media_type

    @property
    def size(self) -> str | None:
        """``"WxH"`` of the actual bytes when they are at hand, else what the provider reported.

        When neither is known — URL-returning ratio models (xAI, BFL FLUX ultra, Replicate FLUX) report no
        pixel size — the image is downloaded once, through the client that produced it and under its safe
        download rules, and the size read from its header. The bytes are kept, so a later :attr:`data` or
        :meth:`save` does not download again (save images at once anyway: provider URLs expire). So the
        node's ``size`` output is never None while the image is reachable; a download that fails raises
        (:class:`~imgsdk.errors.ImageExpiredError` for an expired URL). None when there is nothing to read
        it from: an image built by hand without a fetcher, or one from an :class:`~imgsdk.AsyncClient`,
        whose downloads are awaited — use ``await image.asize()`` there.
        """
        if self._inline():
            return media.image_size(self.data) or self.reported_size
        if self.reported_size is not None:
            return self.reported_size
        if self.path is not None or self._fetch is not None:
            return media.image_size(self.data)
        return None

    async def asize(self) -> str | None:
        """:attr:`size` for asyncio: an image that must be downloaded to know its size is awaited."""
        if not self._inline() and self.reported_size is None and self.path is None and self._afetch:
            await self.adata()
        return self.size

    def _known_size(self) -> str | None:
        """The size without any download (for reprs)."""
        return self.size if self._inline() or self.reported_size is not None else None

    def __repr__(self) -> str:
        url = self._url if self._url is not None else f"data:{self.media_type};base64,…"
        if len(url) > 100:
            url = f"{url[:80]}…({len(url)} chars)"
        return (f"GeneratedImage(url={url!r}, revised_prompt={self.revised_prompt!r}, "
                f"media_type={self.media_type!r}, size={self._known_size()!r}, seed={self.seed!r}, "
                f"expires_at={self.expires_at!r}, path={self.path!r})")

    @property
    def extension(self) -> str:
        return media.EXTENSIONS.get(self.media_type or "", "png")

    def save(self, path: str | os.PathLike[str], *, storage_options: Mapping[str, Any] | None = None) -> Path:
        """Write the image to ``path`` atomically (temporary file, then rename); return the path.

        ``path`` may be an fsspec URL (``s3://bucket/fox.png``; the URL string is returned then). A URL image
        is streamed to disk through the safe downloader, not held in memory. When the path's extension names
        another format than the bytes (``fox.png`` for a JPEG), the image is converted so the file is what
        its name says.
        """
        from .persist import save_image

        return save_image(self, path, storage_options)  # type: ignore[return-value]

    async def asave(self, path: str | os.PathLike[str], *,
                    storage_options: Mapping[str, Any] | None = None) -> Path:
        """:meth:`save` for asyncio (the download is awaited)."""
        from .persist import asave_image

        return await asave_image(self, path, storage_options)  # type: ignore[return-value]


@dataclass(slots=True, eq=False)
class ImageResult:
    """The answer to one ``generate`` call.

    - ``images``: every image delivered (a fan-out's partial success keeps what finished).
    - ``warnings``: what was dropped, adapted or translated on the way (de-duplicated).
    - ``errors``: failures of some calls of a fan-out, or images withheld by moderation, when others worked.
    - ``provider``: ``"adapter:model"`` that served it; ``profile``: the config profile name, if any.
    - ``request_id``: the provider's request id (the first call's); ``usage``: token usage, when reported.
    - ``cost_usd``: from the model's price table or token usage; None when unknown (never a guess).
    - ``prompt``: the prompt sent, after templating.
    - ``uid``: a short random id of this result, used in file names (``{uid}``) so results never collide.
    """

    images: list[GeneratedImage]
    provider: str
    model: str
    prompt: str
    warnings: list[RequestWarning] = field(default_factory=list)
    errors: list[ProviderError] = field(default_factory=list)
    profile: str | None = None
    request_id: str | None = None
    usage: Mapping[str, Any] | None = None
    cost_usd: float | None = None
    uid: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def _first(self) -> GeneratedImage:
        if not self.images:
            raise IndexError("this result holds no image; see result.errors")
        return self.images[0]

    @property
    def url(self) -> str:
        return self._first().url

    @property
    def revised_prompt(self) -> str:
        return self._first().revised_prompt

    @property
    def size(self) -> str | None:
        """The first image's :attr:`GeneratedImage.size` (downloaded once when nothing else tells it)."""
        return self._first().size

    async def asize(self) -> str | None:
        """:attr:`size` for asyncio (the download, when one is needed, is awaited)."""
        return await self._first().asize()

    def to_node_output(self) -> dict[str, Any]:
        """Exactly the workflow node's outputs: ``{"url", "revised_prompt", "size"}`` of the first image.

        ``size`` is never None while the image is reachable: when the provider reported none and sent a URL,
        the image is downloaded once to read it (see :attr:`GeneratedImage.size`).
        """
        return {"url": self.url, "revised_prompt": self.revised_prompt, "size": self.size}

    async def ato_node_output(self) -> dict[str, Any]:
        """:meth:`to_node_output` for asyncio: the download that reads the size, if any, is awaited."""
        size = await self.asize()
        return {"url": self.url, "revised_prompt": self.revised_prompt, "size": size}

    def save(self, path: str | os.PathLike[str] = ".", *, template: str | None = None,
             storage_options: Mapping[str, Any] | None = None) -> list[Path]:
        """Write every image; return the paths (URL strings for fsspec destinations).

        ``path`` is a folder (existing, ending in ``/``, or without an extension; local or an fsspec URL such
        as ``s3://bucket/renders/``): files are named by ``template`` (default
        ``{date}_{slug}_{uid}_{index}.{ext}``, see :mod:`imgsdk.storage`). Or a file name (``fox.png``): one
        image is written there, several as ``fox-1.png``, ``fox-2.png``... Each file is written atomically.
        """
        from .persist import save_result

        return save_result(self, path, template, storage_options)  # type: ignore[return-value]

    async def asave(self, path: str | os.PathLike[str] = ".", *, template: str | None = None,
                    storage_options: Mapping[str, Any] | None = None) -> list[Path]:
        """:meth:`save` for asyncio."""
        from .persist import asave_result

        return await asave_result(self, path, template, storage_options)  # type: ignore[return-value]

    def __repr__(self) -> str:
        size = self.images[0]._known_size() if self.images else None  # a repr never downloads
        return (f"ImageResult(provider={self.provider!r}, images={len(self.images)}, size={size!r}, "
                f"warnings={len(self.warnings)}, errors={len(self.errors)}, cost_usd={self.cost_usd!r})")
