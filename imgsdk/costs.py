"""What a result cost and used: the provider's own figure, else token usage at the declared prices, else the
price table — and None when none of them says (never a guess).

Used by :func:`imgsdk.planning.assemble` for every result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .adapter import Images
from .capabilities import ModelCapabilities
from .request import PreparedRequest

__all__ = ["add_cost", "add_usage", "price_per_image"]


def add_usage(total: dict[str, Any], usage: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in usage.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            total[key] = total.get(key, 0) + value
        elif isinstance(value, Mapping):
            total[key] = add_usage(dict(total.get(key, {})), value)
    return total


def add_cost(caps: ModelCapabilities, call: PreparedRequest, outcome: Images, so_far: float | None) -> float | None:
    """Add this outcome's cost: the provider's own figure, else token usage, else the price table."""
    if so_far is None:
        return None
    if outcome.cost_usd is not None:
        return so_far + outcome.cost_usd
    prices, usage = caps.token_prices, outcome.usage or {}
    if prices is not None and usage.get("output_tokens") is not None:
        details = usage.get("input_tokens_details") or {}
        text_in = details.get("text_tokens", usage.get("input_tokens", 0))
        image_in = details.get("image_tokens", 0)
        parts = [(usage["output_tokens"], prices.image_output), (text_in, prices.text_input),
                 (image_in, prices.image_input)]
        if any(count and price is None for count, price in parts):
            return None  # tokens were used at a price we do not know: no guess
        return so_far + float(sum(count * (price or 0) for count, price in parts)) / 1_000_000
    each = price_per_image(caps, call)
    return None if each is None else so_far + each * len(outcome.images)


def price_per_image(caps: ModelCapabilities, call: PreparedRequest) -> float | None:
    """The table price of one image of ``call``, or None when the table does not say (never a guess).

    Pixel models are priced by size. Ratio models that declare resolution tiers (``1K``/``2K``/``4K``) are
    priced by the tier asked for — ``call.resolution``, or a provider option whose value names a declared
    tier (Gemini's ``image_size``) — and a line without a size counts for the default (first) tier only: a
    4K image is not priced at the 1K rate just because the table has no 4K line.
    """
    quality = call.quality or caps.quality_default
    spec = caps.size
    if spec.mode == "aspect_ratio" and spec.resolutions:
        chosen = call.resolution or next((value for value in call.options.values()
                                          if isinstance(value, str) and value in spec.resolutions), None)
        tier = chosen or spec.resolutions[0]
        exact = next((p.usd for p in caps.prices if p.size == tier and p.quality in (None, quality)), None)
        if exact is not None or tier != spec.resolutions[0]:
            return exact
        return caps.price_for(quality, None)
    return caps.price_for(quality, call.size or spec.default)
