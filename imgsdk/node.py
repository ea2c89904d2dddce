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

__all__ = ["DEFAULTS", "FIELDS", "arun", "run", "schema"]

DEFAULTS = {"size": "1024x1024", "quality": "standard", "style": "vivid"}
FIELDS = ("provider", "prompt", "size", "quality", "style")
_CHOICES = {"size": ("1024x1024", "1024x1792", "1792x1024"), "quality": ("standard", "hd"),
            "style": ("vivid", "natural")}


def _request(config: Mapping[str, Any], context: Any) -> tuple[str, str, dict[str, Any]]:
    from .templates import render

    unknown = set(config) - set(FIELDS)
    if unknown:
        raise InvalidRequestError(f"unknown node field(s) {sorted(unknown)}: the node has {', '.join(FIELDS)}")
    provider = config.get("provider")
    if not isinstance(provider, str) or not provider.strip():
        raise InvalidRequestError(
            f"the node's provider is required (got {provider!r}): a profile name from imgsdk.toml or "
            "'adapter:model', e.g. 'openai:gpt-image-2' (`imgsdk models` lists them)", option="provider")
    prompt = config.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequestError(f"the node's prompt is required (got {prompt!r}): the text of the image",
                                  option="prompt")
    for name, allowed in _CHOICES.items():
        value = config.get(name)
        if value is not None and (not isinstance(value, str) or value not in allowed):
            raise InvalidRequestError(f"node {name} {value!r} is not one of {', '.join(allowed)}", option=name)
    options: dict[str, Any] = {name: config.get(name) or DEFAULTS[name] for name in _CHOICES}
    soft = frozenset(name for name in _CHOICES if config.get(name) is None)
    # quality/style defaults are DALL·E 3's own defaults: leaving them unsent gives the same image there,
    # and avoids inventing a quality on models that have another vocabulary.
    for name in ("quality", "style"):
        if name in soft:
            options[name] = None
    options["soft"] = soft
    return provider, render(prompt, context or {}), options


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


def schema() -> dict[str, Any]:
    """JSON Schemas of the node's input and output (``{"input": ..., "output": ...}``), for a workflow editor's
    form and for typing later steps' references; see :mod:`imgsdk.node_schema` (imports pydantic)."""
    from .node_schema import schema as node_schema

    return node_schema()
