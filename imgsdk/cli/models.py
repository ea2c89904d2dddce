"""``imgsdk models``: every declared model with capabilities, prices and lifecycle."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from imgsdk.capabilities import ModelCapabilities


def _sizes(caps: ModelCapabilities) -> str:
    spec = caps.size
    if spec.mode == "fixed":
        return ", ".join(spec.sizes)
    if spec.mode == "aspect_ratio":
        tiers = f" @ {'/'.join(spec.resolutions)}" if spec.resolutions else ""
        return f"ratios {', '.join(spec.aspect_ratios)}{tiers}"
    if spec.mode == "free":
        limit = f", ≤{spec.max_pixels / 1e6:.1f} MP" if spec.max_pixels else ""
        return f"free {spec.min_side}-{spec.max_side} px, ÷{spec.multiple}{limit}"
    return "fixed by the model"


def _price(caps: ModelCapabilities) -> str:
    if caps.prices:
        low, high = min(p.usd for p in caps.prices), max(p.usd for p in caps.prices)
        amount = f"${low:.3f}" if low == high else f"${low:.3f}-{high:.3f}"
        return f"{amount}/img ({caps.price_date or 'undated'})"
    if caps.token_prices and caps.token_prices.image_output:
        return f"${caps.token_prices.image_output:g}/M out tok ({caps.price_date or 'undated'})"
    return "unknown"


def _lifecycle(caps: ModelCapabilities) -> str:
    life = caps.lifecycle
    text: str = life.status
    if life.shutdown_on:
        text += f", shutdown {life.shutdown_on}"
    if life.replacement and life.status != "active":
        text += f" → {life.replacement}"
    return text


def row(adapter: str, caps: ModelCapabilities) -> dict[str, str]:
    """One model as display strings (shared by the table and the Markdown matrix)."""
    seed = "yes" if caps.seed else "no"
    ttl = f"{caps.url_ttl_seconds // 60} min" if caps.url_ttl_seconds else "-"
    return {"model": f"{adapter}:{caps.model}", "sizes": _sizes(caps),
            "quality": "/".join(caps.qualities) or "-", "style": "/".join(caps.styles) or "-",
            "n/call": str(caps.max_images), "seed": seed, "negative": "yes" if caps.negative_prompt else "no",
            "formats": "/".join(caps.output_formats), "returns": caps.returns, "url ttl": ttl,
            "protocol": caps.protocol, "price": _price(caps), "lifecycle": _lifecycle(caps)}


def collect(only: str | None) -> list[tuple[str, ModelCapabilities]]:
    from imgsdk.registry import adapter_names, get_adapter

    names = [only] if only else adapter_names()
    return [(name, caps) for name in names for caps in get_adapter(name).catalogue().values()]


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def markdown(models: list[tuple[str, ModelCapabilities]]) -> str:
    rows = [row(adapter, caps) for adapter, caps in models]
    header = list(rows[0]) if rows else []
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r[h].replace("|", "\\|") for h in header) + " |" for r in rows]
    return "\n".join(lines)


def run_models(args: argparse.Namespace) -> int:
    models = collect(args.adapter)
    if args.json:
        print(json.dumps([dict(_jsonable(caps), adapter=adapter) for adapter, caps in models], indent=2))
        return 0
    if args.markdown:
        print(markdown(models))
        return 0
    rows = [row(adapter, caps) for adapter, caps in models]
    columns = ["model", "sizes", "quality", "style", "n/call", "seed", "returns", "price", "lifecycle"]
    widths = {c: min(42, max([len(c)] + [len(r[c]) for r in rows])) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join((r[c] if len(r[c]) <= 42 else r[c][:41] + "…").ljust(widths[c]) for c in columns))
    return 0
