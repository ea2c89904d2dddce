"""The "Image Generation" workflow node, exactly.

Fields (the node's own): ``provider`` (required: a profile name or ``"adapter:model"``), ``prompt``
(required; may hold ``{{ step.output.field }}`` references), ``size`` (``1024x1024`` default,
``1024x1792``, ``1792x1024``), ``quality`` (``standard`` default, ``hd``) and ``style`` (``vivid``
default, ``natural``) — quality and style exist only on DALL·E 3. Output: exactly ``url`` (temporary:
save the image at once), ``revised_prompt`` and ``size``.

The node's defaults are *soft*: they are what DALL·E 3 does anyway, so they are sent where the model
understands them and adapted silently elsewhere; only values the user set produce warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import InvalidRequestError

__all__ = ["DEFAULTS", "FIELDS", "arun", "run"]

DEFAULTS = {"size": "1024x1024", "quality": "standard", "style": "vivid"}
FIELDS = ("provider", "prompt", "size", "quality", "style")
_CHOICES = {"size": ("1024x1024", "1024x1792", "1792x1024"), "quality": ("standard", "hd"),
            "style": ("vivid", "natural")}


def _request(config: Mapping[str, Any], context: Any) -> tuple[str | None, str, dict[str, Any]]:
    from .templates import render

    unknown = set(config) - set(FIELDS)
    if unknown:
        raise InvalidRequestError(f"unknown node field(s) {sorted(unknown)}: the node has {', '.join(FIELDS)}")
    prompt = config.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequestError("the node's prompt is required", option="prompt")
    for name, allowed in _CHOICES.items():
        value = config.get(name)
        if value is not None and value not in allowed:
            raise InvalidRequestError(f"node {name} {value!r} is not one of {', '.join(allowed)}", option=name)
    options: dict[str, Any] = {name: config.get(name) or DEFAULTS[name] for name in _CHOICES}
    soft = frozenset(name for name in _CHOICES if config.get(name) is None)
    # quality/style defaults are DALL·E 3's own defaults: leaving them unsent gives the same image there,
    # and avoids inventing a quality on models that have another vocabulary.
    for name in ("quality", "style"):
        if name in soft:
            options[name] = None
    options["soft"] = soft
    return config.get("provider"), render(prompt, context or {}), options


def run(config: Mapping[str, Any], context: Any = None, *, client: Any = None) -> dict[str, Any]:
    """Run the node synchronously; return ``{"url", "revised_prompt", "size"}``."""
    from .client import Client

    provider, prompt, options = _request(config, context)
    active = client or Client()
    return active.generate(prompt, provider=provider, **options).to_node_output()


async def arun(config: Mapping[str, Any], context: Any = None, *, client: Any = None) -> dict[str, Any]:
    """Run the node asynchronously; return ``{"url", "revised_prompt", "size"}``."""
    from .client import AsyncClient

    provider, prompt, options = _request(config, context)
    active = client or AsyncClient()
    result = await active.generate(prompt, provider=provider, **options)
    return await result.ato_node_output()
