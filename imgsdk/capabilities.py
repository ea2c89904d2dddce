"""What a model can do, declared as data.

Every adapter declares one :class:`ModelCapabilities` per model it knows (a table, or small pure functions).
The policy engine (:mod:`imgsdk.policy`) reads these declarations and nothing else to decide what to send,
what to adapt and what to refuse, so a wrong declaration is a bug that tests against the wire will catch.
Users declare models imgsdk does not know yet in config (``[models."adapter:model"]``), with the same fields.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Lifecycle", "ModelCapabilities", "Price", "SizeSpec", "TokenPrices"]

SizeMode = Literal["fixed", "aspect_ratio", "free", "none"]


@dataclass(frozen=True, slots=True)
class SizeSpec:
    """How a model is told what size to generate.

    - ``mode``: ``"fixed"`` (a list of ``WxH`` strings), ``"aspect_ratio"`` (a list of ``W:H`` ratios, the
      pixel size chosen by the provider, optionally scaled by ``resolutions``), ``"free"`` (any width×height
      within the bounds below) or ``"none"`` (the model takes no size at all).
    - ``sizes``: the allowed ``WxH`` values in fixed mode; in free mode, well-known sizes that are always fine.
      In any mode, ``"auto"`` listed here means the model accepts ``size="auto"`` (sent as the model's "auto").
    - ``aspect_ratios``: the allowed ``W:H`` values in aspect-ratio mode.
    - ``resolutions``: named resolution tiers (``"1K"``, ``"2K"``) a ratio model accepts, if any.
    - ``min_side`` / ``max_side``: bounds for each side in free mode (pixels).
    - ``multiple``: both sides must be divisible by this in free mode (16 for gpt-image-2, 32 for FLUX1.1).
    - ``max_pixels``: upper bound on width×height in free mode.
    - ``min_ratio`` / ``max_ratio``: bounds on width/height in free mode (1/3 and 3 for gpt-image-2).
    - ``default``: what the provider generates when no size is sent (``WxH``, ``W:H`` or ``"auto"``).
    """

    mode: SizeMode = "fixed"
    sizes: tuple[str, ...] = ()
    aspect_ratios: tuple[str, ...] = ()
    resolutions: tuple[str, ...] = ()
    min_side: int = 1
    max_side: int = 100_000
    multiple: int = 1
    max_pixels: int | None = None
    min_ratio: float | None = None
    max_ratio: float | None = None
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Price:
    """One line of a per-image price table: ``usd`` for an image of ``size`` at ``quality`` (None = any)."""

    usd: float
    quality: str | None = None
    size: str | None = None


@dataclass(frozen=True, slots=True)
class TokenPrices:
    """Per-million-token prices, for models billed by ``usage`` (GPT-image)."""

    text_input: float | None = None
    image_input: float | None = None
    image_output: float | None = None


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """Where a model stands on the adapter's default service.

    - ``status``: ``"active"``, ``"deprecated"`` (still served, shutdown announced) or ``"retired"``.
    - ``deprecated_on`` / ``shutdown_on``: ISO dates (``YYYY-MM-DD``) when known.
    - ``replacement``: the model to move to (``"adapter:model"`` or a model id of the same adapter).
    - ``note``: anything a user should know (e.g. "still served by Azure deployments").
    - ``source``: where the facts come from (a URL or a reference tag), and whether they are confirmed.

    The lifecycle applies to the adapter's *default service* only: the same model behind a custom
    ``base_url`` (a proxy, a gateway, an Azure deployment) is not refused.
    """

    status: Literal["active", "deprecated", "retired"] = "active"
    deprecated_on: str | None = None
    shutdown_on: str | None = None
    replacement: str | None = None
    note: str | None = None
    source: str | None = None

    def is_shut_down(self, today: _dt.date | None = None) -> bool:
        """True when the model no longer answers on the default service (retired, or past ``shutdown_on``)."""
        if self.status == "retired":
            return True
        if self.shutdown_on is None:
            return False
        return (today or _dt.date.today()) >= _dt.date.fromisoformat(self.shutdown_on)


@dataclass(frozen=True, slots=True)
class ModelCapabilities:
    """Everything the policy engine needs to know about one model, field by field.

    - ``model``: the model id as the provider spells it.
    - ``family``: a short family name used by adapters to pick a wire format (``"dalle"``, ``"gpt-image"``).
    - ``size``: see :class:`SizeSpec`.
    - ``qualities`` / ``quality_default``: accepted quality values and the provider's default when none is sent.
    - ``quality_aliases``: faithful translations of other vocabularies (the node's ``hd`` → ``high``).
      A translated value is sent with a warning; strict mode refuses it.
    - ``styles`` / ``style_default`` / ``style_aliases``: the same for style (DALL·E 3's vivid/natural).
    - ``max_images``: images one request may ask for (``n``); more are fanned out or refused.
    - ``seed``: whether a seed is accepted; ``seed_range`` its inclusive bounds.
    - ``negative_prompt``: whether a negative prompt is accepted.
    - ``output_formats`` / ``output_format_default``: accepted encodings (``png``, ``jpeg``, ``webp``).
    - ``background``: accepted ``background`` values (GPT-image: transparent, opaque, auto); empty = none.
    - ``user_field``: whether the API takes an end-user id (``user``) for abuse monitoring.
    - ``prompt_max_chars``: the longest prompt accepted.
    - ``returns``: how images come back: ``"url"``, ``"base64"``, ``"bytes"`` or ``"file"``.
    - ``url_ttl_seconds``: how long a returned URL stays valid, when known.
    - ``protocol``: ``"sync"`` (one request answers) or ``"poll"`` (submit, then poll a job).
    - ``prices`` / ``token_prices`` / ``price_source`` / ``price_date``: cost data and where it comes from.
    - ``lifecycle``: see :class:`Lifecycle`.
    - ``extra``: adapter-specific declarations (wire field names, endpoints) that the policy engine ignores.
    - ``declared_by``: ``"adapter"``, ``"config"`` or ``"permissive"`` (an unknown model passed through).
    """

    model: str
    family: str = ""
    size: SizeSpec = field(default_factory=SizeSpec)
    qualities: tuple[str, ...] = ()
    quality_default: str | None = None
    quality_aliases: Mapping[str, str] = field(default_factory=dict)
    styles: tuple[str, ...] = ()
    style_default: str | None = None
    style_aliases: Mapping[str, str] = field(default_factory=dict)
    max_images: int = 1
    seed: bool = False
    seed_range: tuple[int, int] = (0, 2**32 - 1)
    negative_prompt: bool = False
    output_formats: tuple[str, ...] = ("png",)
    output_format_default: str | None = "png"
    background: tuple[str, ...] = ()
    user_field: bool = False
    prompt_max_chars: int | None = None
    returns: Literal["url", "base64", "bytes", "file"] = "base64"
    url_ttl_seconds: int | None = None
    protocol: Literal["sync", "poll"] = "sync"
    prices: tuple[Price, ...] = ()
    token_prices: TokenPrices | None = None
    price_source: str | None = None
    price_date: str | None = None
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    extra: Mapping[str, object] = field(default_factory=dict)
    declared_by: Literal["adapter", "config", "permissive"] = "adapter"

    def price_for(self, quality: str | None, size: str | None) -> float | None:
        """The per-image price for this quality and size, or None when the table has no exact line.

        Looked up once per declaration, quality and size (every result asks, and a table has a dozen lines).
        """
        key = (id(self), quality, size)
        known = _PRICES.get(key)
        if known is not None and known[0] is self:  # the entry holds the declaration: its id is not reused
            return known[1]
        usd = next((price.usd for price in self.prices
                    if price.quality in (None, quality) and price.size in (None, size)), None)
        if len(_PRICES) >= 1024:
            _PRICES.clear()
        _PRICES[key] = (self, usd)
        return usd


_PRICES: dict[tuple[int, str | None, str | None], tuple[ModelCapabilities, float | None]] = {}
