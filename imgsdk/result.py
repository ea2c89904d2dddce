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


@dataclass(slots=True, eq=False)
class GeneratedImage:
    """One image.

    - ``url``: never empty: the provider's (temporary) URL, or a ``data:`` URL when the provider sent bytes.
    - ``data``: the bytes; fetched from ``url`` on first access when the provider sent only a URL.
    - ``media_type``: as declared by the provider, else sniffed from the bytes.
    - ``size``: ``"WxH"`` read from the bytes when they are at hand, else what the provider reported.
    - ``revised_prompt``: the prompt the model actually used (the provider's rewrite, else the prompt sent).
    - ``seed``: the seed used, when the provider says.
    - ``expires_at``: when a provider URL stops working (UTC), when known; downloading it later raises
      :class:`~imgsdk.errors.ImageExpiredError` saying when.
    - ``metadata``: provider extras (Azure ``content_filter_results``, finish reasons...).
    - ``path``: where the image was stored by ``persist_to`` (a local path or an fsspec URL), else None;
      ``url`` then points at that copy (``file://`` or a signed URL).
    """

    url: str
    revised_prompt: str
    media_type: str | None = None
    reported_size: str | None = None
    seed: int | None = None
    expires_at: dt.datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    _data: bytes | None = field(default=None, repr=False)
    _fetch: Callable[[str], bytes] | None = field(default=None, repr=False)
    _afetch: Callable[[str], Awaitable[bytes]] | None = field(default=None, repr=False)
    # Streamed, checked downloads into a file (set by the client that produced the image).
    _download: Callable[[str, BinaryIO], Downloaded] | None = field(default=None, repr=False)
    _adownload: Callable[[str, BinaryIO], Awaitable[Downloaded]] | None = field(default=None, repr=False)

    @classmethod
    def from_bytes(cls, data: bytes, revised_prompt: str, *, media_type: str | None = None,
                   **fields: Any) -> GeneratedImage:
        """An image the provider sent as bytes (or base64): its URL is a ``data:`` URL."""
        kind = media.sniff_media_type(data) or media_type or "application/octet-stream"
        return cls(url=media.data_url(data, kind), revised_prompt=revised_prompt, media_type=kind,
                   _data=data, **fields)

    @property
    def data(self) -> bytes:
        """The image bytes (fetched once from ``url`` if needed)."""
        if self._data is None:
            if self.url.startswith("data:"):
                self._data, _ = media.decode_data_url(self.url)
            elif self.path is not None:
                from .storage import read_bytes

                self._set_data(read_bytes(self.path))
            elif self._fetch is None:
                raise RuntimeError("this image has only a URL and no client to fetch it; use client.fetch()")
            else:
                self._set_data(self._fetch(self.url))
        assert self._data is not None
        return self._data

    async def adata(self) -> bytes:
        """The image bytes, fetched asynchronously if needed."""
        if self._data is None and not self.url.startswith("data:") and self.path is None and self._afetch:
            self._set_data(await self._afetch(self.url))
        return self.data

    def _set_data(self, data: bytes) -> None:
        self._data = data
        self.media_type = media.sniff_media_type(data) or self.media_type

    @property
    def size(self) -> str | None:
        """``"WxH"`` of the actual bytes when known, else what the provider reported."""
        if self._data is not None or self.url.startswith("data:"):
            return media.image_size(self.data) or self.reported_size
        return self.reported_size

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
        return self._first().size

    def to_node_output(self) -> dict[str, Any]:
        """Exactly the workflow node's outputs: ``{"url", "revised_prompt", "size"}`` of the first image."""
        return {"url": self.url, "revised_prompt": self.revised_prompt, "size": self.size}

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
        return (f"ImageResult(provider={self.provider!r}, images={len(self.images)}, size={self.size!r}, "
                f"warnings={len(self.warnings)}, errors={len(self.errors)}, cost_usd={self.cost_usd!r})")
