"""The declaration checks behind :class:`~imgsdk.testing.contract.AdapterContract`: one model's capabilities are
coherent with themselves, and its lifecycle with the dates and the catalogue (no pytest here).

Each check raises :class:`~imgsdk.testing.contract_checks.ContractViolation` listing every problem it found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from imgsdk.adapter import Adapter
from imgsdk.capabilities import ModelCapabilities, SizeSpec
from imgsdk.request import parse_size

__all__ = ["ContractViolation", "check_capabilities", "check_lifecycle", "free_size_problem"]

_KNOWN_FORMATS = frozenset({"png", "jpeg", "webp", "gif", "svg", "avif"})


class ContractViolation(AssertionError):
    """An adapter does not keep the contract; the message says what and how to fix it."""


def _fail(message: str) -> ContractViolation:
    return ContractViolation(message)


def free_size_problem(spec: SizeSpec, width: int, height: int) -> str | None:
    if not spec.min_side <= width <= spec.max_side or not spec.min_side <= height <= spec.max_side:
        return f"a side is outside {spec.min_side}..{spec.max_side}"
    if width % spec.multiple or height % spec.multiple:
        return f"a side is not a multiple of {spec.multiple}"
    if spec.max_pixels is not None and width * height > spec.max_pixels:
        return f"over {spec.max_pixels} pixels"
    ratio = width / height
    if (spec.min_ratio is not None and ratio < spec.min_ratio) or (spec.max_ratio is not None
                                                                  and ratio > spec.max_ratio):
        return "the ratio is outside the declared bounds"
    return None


def _size_problems(spec: SizeSpec) -> list[str]:
    problems = []
    pixels = [size for size in spec.sizes if size != "auto"]
    for size in pixels:
        if parse_size(size)[0] != "pixels":
            problems.append(f"size {size!r} is not WIDTHxHEIGHT")
    for ratio in spec.aspect_ratios:
        if parse_size(ratio)[0] != "ratio":
            problems.append(f"aspect ratio {ratio!r} is not W:H")
    if spec.mode == "fixed" and not pixels:
        problems.append("fixed mode declares no size")
    if spec.mode == "aspect_ratio" and not spec.aspect_ratios:
        problems.append("aspect_ratio mode declares no ratio")
    if spec.mode == "none" and (spec.sizes or spec.aspect_ratios or spec.default):
        problems.append("mode none declares sizes, ratios or a default")
    if spec.mode == "free":
        if spec.min_side > spec.max_side or spec.multiple < 1:
            problems.append(f"free bounds are impossible (sides {spec.min_side}..{spec.max_side}, multiple "
                            f"{spec.multiple})")
        for size in pixels:
            _, width, height = parse_size(size)
            if problem := free_size_problem(spec, int(width), int(height)):
                problems.append(f"listed size {size} is not within the free bounds ({problem})")
    default = spec.default
    if default is not None:
        allowed = {"fixed": set(spec.sizes), "aspect_ratio": {*spec.aspect_ratios, *spec.sizes}}.get(spec.mode)
        if allowed is not None and default not in allowed:
            problems.append(f"default size {default!r} is not among the allowed values")
        if spec.mode == "free" and default != "auto":
            kind, width, height = parse_size(default)
            problem = free_size_problem(spec, int(width), int(height)) if kind == "pixels" else "not WxH"
            if problem:
                problems.append(f"default size {default} breaks the free bounds ({problem})")
    return problems


def check_capabilities(model: str, caps: ModelCapabilities | None, adapter: Adapter) -> None:
    """One model's declaration is coherent with itself."""
    if caps is None:
        raise _fail(f"{model!r} is listed but capabilities() returns None for it")
    problems = []
    if caps.model != model:
        problems.append(f"declares model {caps.model!r} under the id {model!r}")
    if caps.max_images < 1:
        problems.append(f"max_images is {caps.max_images}: at least 1")
    for option, values, default, aliases in (("quality", caps.qualities, caps.quality_default, caps.quality_aliases),
                                             ("style", caps.styles, caps.style_default, caps.style_aliases)):
        if default is not None and default not in values:
            problems.append(f"{option}_default {default!r} is not in {option} values {values}")
        for alias, target in aliases.items():
            if target not in values:
                problems.append(f"{option} alias {alias!r} → {target!r}, which is not an allowed value")
    if caps.output_format_default is not None and caps.output_format_default not in caps.output_formats:
        problems.append(f"output_format_default {caps.output_format_default!r} is not in {caps.output_formats}")
    if unknown := set(caps.output_formats) - _KNOWN_FORMATS:
        problems.append(f"unknown output formats {sorted(unknown)} (use png, jpeg, webp...)")
    if set(caps.background) - {"transparent", "opaque", "auto"}:
        problems.append(f"background values {caps.background} are not transparent/opaque/auto")
    if caps.seed and caps.seed_range[0] > caps.seed_range[1]:
        problems.append(f"seed_range {caps.seed_range} is empty")
    if caps.prompt_max_chars is not None and caps.prompt_max_chars < 1:
        problems.append(f"prompt_max_chars is {caps.prompt_max_chars}")
    if any(price.usd < 0 for price in caps.prices):
        problems.append("a price is negative")
    if caps.protocol == "poll" and (type(adapter).poll_request is Adapter.poll_request
                                    or type(adapter).parse_poll is Adapter.parse_poll):
        problems.append("protocol is 'poll' but the adapter does not implement poll_request/parse_poll")
    problems.extend(_size_problems(caps.size))
    if problems:
        raise _fail("; ".join(problems))


def _resolves(adapter: Adapter, reference: str, settings: Mapping[str, Any]) -> ModelCapabilities | None:
    from imgsdk.registry import adapter_names, get_adapter, split_reference

    if (caps := adapter.capabilities(reference, settings)) is not None:
        return caps
    name, model = split_reference(reference)
    if model and name in adapter_names():
        return get_adapter(name).capabilities(model, {})
    return None


def check_lifecycle(model: str, caps: ModelCapabilities, adapter: Adapter, settings: Mapping[str, Any],
                    today: dt.date) -> None:
    """Dates parse and are ordered; a replacement exists and still works."""
    life = caps.lifecycle
    problems = []
    if life.status not in ("active", "deprecated", "retired"):
        problems.append(f"status {life.status!r} is not active, deprecated or retired")
    dates: dict[str, dt.date] = {}
    for name in ("deprecated_on", "shutdown_on"):
        value = getattr(life, name)
        if value is not None:
            try:
                dates[name] = dt.date.fromisoformat(value)
            except ValueError:
                problems.append(f"{name} {value!r} is not an ISO date (YYYY-MM-DD)")
    if len(dates) == 2 and dates["deprecated_on"] > dates["shutdown_on"]:
        problems.append(f"deprecated_on {life.deprecated_on} is after shutdown_on {life.shutdown_on}")
    if life.replacement is not None:
        target = _resolves(adapter, life.replacement, settings)
        if life.replacement in (model, f"{adapter.name}:{model}"):
            problems.append("the replacement is the model itself")
        elif target is None:
            problems.append(f"replacement {life.replacement!r} is neither a model of {adapter.name} nor "
                            "'adapter:model' of an installed adapter")
        elif target.lifecycle.is_shut_down(today):
            problems.append(f"replacement {life.replacement!r} is itself shut down "
                            f"({target.lifecycle.shutdown_on or target.lifecycle.status})")
    if problems:
        raise _fail("; ".join(problems))
