"""``imgsdk models``: every declared model with capabilities, prices and lifecycle.

``imgsdk models --markdown`` prints the capability matrix of the adapters shipped with imgsdk, the page
committed as ``docs/capabilities.md`` (``tests/test_docs.py`` fails when the committed page is stale);
``imgsdk models ADAPTER --markdown`` prints one adapter's table, for any installed adapter. Everything is read
from the declarations (:class:`~imgsdk.capabilities.ModelCapabilities`), the data the policy engine applies,
and nothing depends on today's date, so the page changes only when a declaration does.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from imgsdk.capabilities import ModelCapabilities

SHIPPED_PACKAGE = "imgsdk.adapters."
COLUMNS = ("model", "sizes", "quality", "style", "n/call", "seed", "negative", "formats", "returns", "url ttl",
           "protocol", "lifecycle", "price")
HEADINGS = {"sizes": "sizes / ratios", "n/call": "n per call", "negative": "negative prompt",
            "url ttl": "URL lifetime", "protocol": "sync / poll", "price": "price (date)"}


def _sizes(caps: ModelCapabilities) -> str:
    spec = caps.size
    if spec.mode == "fixed":
        return ", ".join(spec.sizes) or "none declared"
    if spec.mode == "aspect_ratio":
        tiers = f" @ {'/'.join(spec.resolutions)}" if spec.resolutions else ""
        auto = " or auto" if "auto" in spec.sizes else ""
        return f"ratios {', '.join(spec.aspect_ratios)}{auto}{tiers}"
    if spec.mode == "free":
        bounds = [f"any WxH {spec.min_side}-{spec.max_side} px"]
        if spec.multiple > 1:
            bounds.append(f"÷{spec.multiple}")
        if spec.max_pixels:
            bounds.append(f"≤{spec.max_pixels / 1e6:.1f} MP")
        if spec.min_ratio and spec.max_ratio:
            bounds.append(f"ratio 1:{1 / spec.min_ratio:g}-{spec.max_ratio:g}:1")
        return ", ".join(bounds)
    return "none (no size parameter)"


def _unconfirmed(text: str | None) -> str:
    """A dagger when a source says its figure is third-party or unconfirmed."""
    lowered = (text or "").lower()
    return " †" if "unconfirmed" in lowered or "third-party" in lowered else ""


def _price(caps: ModelCapabilities) -> str:
    date = f" ({caps.price_date or 'undated'})"
    per_mp, first_mp = caps.extra.get("usd_per_megapixel"), caps.extra.get("price_cents_first_mp")
    if caps.prices:
        low, high = min(p.usd for p in caps.prices), max(p.usd for p in caps.prices)
        amount = f"${low:.3f}" if low == high else f"${low:.3f}-{high:.3f}"
        text = f"free{date}" if high == 0 else f"{amount}/image{date}"
    elif caps.token_prices and caps.token_prices.image_output:
        text = f"${caps.token_prices.image_output:g}/M output tokens{date}"
    elif isinstance(per_mp, int | float):
        text = f"${per_mp:g}/megapixel{date}"
    elif isinstance(first_mp, int | float):
        extra_mp = caps.extra.get("price_cents_per_extra_mp")
        text = f"{first_mp:g}¢ first MP + {extra_mp:g}¢/extra MP{date}"
    else:
        return "unknown"
    return text + _unconfirmed(caps.price_source)


def _lifecycle(caps: ModelCapabilities) -> str:
    life = caps.lifecycle
    text: str = life.status
    if life.shutdown_on:
        text += f", shutdown {life.shutdown_on}"
    if life.replacement and life.status != "active":
        text += f" → {life.replacement}"
    return text + _unconfirmed(life.note)


def _lifetime(caps: ModelCapabilities) -> str:
    if caps.returns in ("base64", "bytes"):
        return "n/a (bytes)"
    if caps.returns == "file":
        return "server file"
    ttl = caps.url_ttl_seconds
    if not ttl:
        return "not stated"
    return f"{ttl // 3600} h" if ttl >= 7200 and ttl % 3600 == 0 else f"{ttl // 60} min"


def row(adapter: str, caps: ModelCapabilities) -> dict[str, str]:
    """One model as display strings (shared by the table and the Markdown matrix)."""
    return {"model": f"{adapter}:{caps.model}", "sizes": _sizes(caps),
            "quality": "/".join(caps.qualities) or "-", "style": "/".join(caps.styles) or "-",
            "n/call": str(caps.max_images), "seed": "yes" if caps.seed else "no",
            "negative": "yes" if caps.negative_prompt else "no", "formats": "/".join(caps.output_formats) or "-",
            "returns": caps.returns, "url ttl": _lifetime(caps), "protocol": caps.protocol,
            "price": _price(caps), "lifecycle": _lifecycle(caps)}


def shipped_adapters() -> list[str]:
    """Adapters registered by imgsdk itself (entry points into ``imgsdk.adapters``), sorted."""
    from importlib.metadata import entry_points

    return sorted(point.name for point in entry_points(group="imgsdk.adapters")
                  if point.value.startswith(SHIPPED_PACKAGE))


def collect(only: str | None, names: list[str] | None = None) -> list[tuple[str, ModelCapabilities]]:
    """Every declared model of ``only`` (or of ``names``, or of every installed adapter), in order.

    Listing every adapter skips one that cannot be loaded (a missing extra) with a note on stderr; naming
    it explicitly raises its ConfigError (and its install hint).
    """
    from imgsdk.errors import ConfigError
    from imgsdk.registry import adapter_names, get_adapter

    found = []
    for name in [only] if only else names if names is not None else adapter_names():
        try:
            adapter = get_adapter(name)
        except ConfigError as error:
            if only:
                raise
            print(f"imgsdk: skipped adapter {name!r}: {error}", file=sys.stderr)
            continue
        found += [(name, caps) for caps in adapter.catalogue().values()]
    return found


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def markdown(models: list[tuple[str, ModelCapabilities]]) -> str:
    """A Markdown table, one row per model."""
    lines = ["| " + " | ".join(HEADINGS.get(c, c) for c in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for adapter, caps in models:
        cells = row(adapter, caps)
        lines.append("| " + " | ".join(cells[c].replace("|", "\\|") for c in COLUMNS) + " |")
    return "\n".join(lines)


_LEGEND = """\
How to read it:

- **sizes / ratios**: a list of `WxH` is all the model accepts (another size is sent as the nearest one, with an
  `adapted` warning); `ratios` models take an aspect ratio and pick the pixels themselves (`@ 1K/2K` are
  resolution tiers); `any WxH` models take any size within the bounds (`÷16`: both sides multiples of 16).
- **quality / style**: the model's own values; the node's `standard`/`hd` and `vivid`/`natural` are translated
  where a faithful equivalent exists and dropped with a warning otherwise ([the policy](concepts/policy.md)).
- **n per call**: images one request may return; more are fanned out over several calls (seed + i each).
- **returns / URL lifetime**: `url` answers must be downloaded before the URL expires; `base64`/`bytes`
  answers are already in hand (their `url` is a `data:` URL).
- **lifecycle**: `retired` models are refused on the provider's own service (a `base_url` pointing at a proxy
  or an Azure deployment still works); see [migrating from retired models](migration.md).
- **price**: the declared list price and the date it was read; † marks a third-party or unconfirmed figure.
  Results carry `cost_usd` computed from the provider's own figure when it sends one.
"""


def markdown_page() -> str:
    """The capability matrix page (``docs/capabilities.md``) for the adapters shipped with imgsdk."""
    from imgsdk.registry import get_adapter

    names = shipped_adapters()
    models = collect(None, names)
    parts = ["---\nhide:\n  - navigation\n---",
             "<!-- Generated by `imgsdk models --markdown` from the adapters' declarations: do not edit by "
             "hand.\n     Refresh it with: imgsdk models --markdown > docs/capabilities.md -->",
             "# Capability matrix", "",
             f"Every model the {len(names)} adapters shipped with imgsdk declare ({len(models)} models), read "
             "from their `ModelCapabilities`: the same data the policy engine applies before anything is "
             "sent, so this page cannot say something the code does not do. The same data as JSON: "
             "`imgsdk models --json`.", "", _LEGEND]
    for name in names:
        adapter = get_adapter(name)
        rows = [(adapter_name, caps) for adapter_name, caps in models if adapter_name == name]
        table = markdown(rows) if rows else ("No catalogue: a model is declared in config "
                                             "(`[models.\"adapter:model\"]`), or passed through unchecked.")
        parts += [f"## {adapter.label or name}", "", f"`{name}` adapter: [provider page](providers/{name}.md).",
                  "", table, ""]
    return "\n".join(parts)


def run_models(args: argparse.Namespace) -> int:
    if args.markdown:
        print(markdown(collect(args.adapter)) if args.adapter else markdown_page())
        return 0
    models = collect(args.adapter)
    if args.json:
        print(json.dumps([dict(_jsonable(caps), adapter=adapter) for adapter, caps in models], indent=2))
        return 0
    rows = [row(adapter, caps) for adapter, caps in models]
    columns = ["model", "sizes", "quality", "style", "n/call", "seed", "returns", "price", "lifecycle"]
    widths = {c: min(42, max([len(c)] + [len(r[c]) for r in rows])) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join((r[c] if len(r[c]) <= 42 else r[c][:41] + "…").ljust(widths[c]) for c in columns))
    return 0
