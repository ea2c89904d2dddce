"""Is a prepared or wire request inside a model's declared capabilities? Pure functions, adapter-agnostic.

:func:`prepared_violations` checks the policy engine's output field by field. :func:`wire_violations` walks
the body an adapter built (JSON, multipart form, query) and checks every field whose *name* says what it is,
whatever the nesting or spelling (``aspect_ratio``/``aspectRatio``, ``n``/``num_outputs``/``sampleCount``):
the value must be one the declaration allows, and a field the model does not take must not be there at all.
Each returns a list of violations (empty: inside the declaration).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from imgsdk.capabilities import ModelCapabilities
from imgsdk.request import PreparedRequest

__all__ = ["WireFields", "captured_fields", "prepared_violations", "size_violations", "wire_fields",
           "wire_violations"]

_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_COUNT_KEYS = {"n", "num_outputs", "num_images", "samples", "sample_count", "batch_size", "number_of_images",
               "candidate_count"}
_FORMAT_KEYS = {"output_format", "output_mime_type", "mime_type"}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _fits_free(width: int, height: int, caps: ModelCapabilities) -> list[str]:
    spec, problems = caps.size, []
    for side in (width, height):
        if not spec.min_side <= side <= spec.max_side:
            problems.append(f"side {side} outside {spec.min_side}..{spec.max_side}")
        if side % spec.multiple:
            problems.append(f"side {side} not a multiple of {spec.multiple}")
    if spec.max_pixels is not None and width * height > spec.max_pixels:
        problems.append(f"{width}x{height} over {spec.max_pixels} pixels")
    if spec.min_ratio is not None and width / height < spec.min_ratio - 1e-9:
        problems.append(f"ratio {width}/{height} under {spec.min_ratio}")
    if spec.max_ratio is not None and width / height > spec.max_ratio + 1e-9:
        problems.append(f"ratio {width}/{height} over {spec.max_ratio}")
    return problems


def size_violations(width: int, height: int, caps: ModelCapabilities) -> list[str]:
    if caps.size.mode == "fixed":
        return [] if f"{width}x{height}" in caps.size.sizes else [f"{width}x{height} not in {caps.size.sizes}"]
    if caps.size.mode == "free":
        return _fits_free(width, height, caps)
    return [f"{width}x{height} sent, but the size mode is {caps.size.mode!r}"]


def prepared_violations(call: PreparedRequest, caps: ModelCapabilities) -> list[str]:
    """Every field of ``call`` that lies outside ``caps``."""
    problems: list[str] = []
    spec = caps.size
    if call.size is not None and call.size != "auto":
        width, _, height = call.size.partition("x")
        problems += size_violations(int(width), int(height), caps)
        if (call.width, call.height) != (int(width), int(height)):
            problems.append(f"width/height {call.width}x{call.height} disagree with size {call.size}")
    if call.size == "auto" and "auto" not in spec.sizes:
        problems.append("size auto sent to a model that does not declare it")
    if call.aspect_ratio is not None and (spec.mode != "aspect_ratio" or call.aspect_ratio not in spec.aspect_ratios):
        problems.append(f"aspect ratio {call.aspect_ratio} not declared ({spec.aspect_ratios})")
    if call.resolution is not None and call.resolution not in spec.resolutions:
        problems.append(f"resolution {call.resolution} not declared")
    for name, allowed in (("quality", caps.qualities), ("style", caps.styles), ("output_format", caps.output_formats),
                          ("background", caps.background)):
        value = getattr(call, name)
        if value is not None and value not in allowed:
            problems.append(f"{name} {value!r} not in {allowed}")
    if call.seed is not None and not (caps.seed and caps.seed_range[0] <= call.seed <= caps.seed_range[1]):
        problems.append(f"seed {call.seed} sent (seed={caps.seed}, range {caps.seed_range})")
    if call.negative_prompt is not None and not caps.negative_prompt:
        problems.append("negative_prompt sent to a model without one")
    if call.user is not None and not caps.user_field:
        problems.append("user sent to a model without the field")
    if not 1 <= call.n <= caps.max_images:
        problems.append(f"n={call.n} outside 1..{caps.max_images}")
    if caps.prompt_max_chars is not None and len(call.prompt) > caps.prompt_max_chars:
        problems.append(f"prompt of {len(call.prompt)} chars over {caps.prompt_max_chars}")
    return problems


WireFields = list[tuple[str, Any, Mapping[str, Any]]]  # (snake_case key, value, the object that holds it)


def _walk(value: Any, parent: Mapping[str, Any] | None = None) -> Iterator[tuple[str, Any, Mapping[str, Any]]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield _snake(str(key)), item, value
            yield from _walk(item, value)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, parent)


def wire_fields(json_body: Any = None, form: Mapping[str, str] | None = None,
                params: Mapping[str, str] | None = None) -> WireFields:
    """Every (key, value, holder) of a request body, flattened."""
    return [*_walk(json_body), *_walk(dict(form or {})), *_walk(dict(params or {}))]


def captured_fields(content: bytes, content_type: str, url: str) -> tuple[WireFields, Any, dict[str, str]]:
    """Fields of a request as it went over the wire (JSON or multipart), plus the parsed JSON and form."""
    params = dict(parse_qsl(urlsplit(url).query))
    if content_type.startswith("multipart/form-data"):
        boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
        form: dict[str, str] = {}
        for part in content.split(b"--" + boundary):
            head, _, value = part.partition(b"\r\n\r\n")
            name = re.search(rb'name="([^"]+)"', head)
            if name:
                form[name.group(1).decode()] = value.removesuffix(b"\r\n").decode("utf-8", "replace")
        return wire_fields(form=form, params=params), None, form
    body = json.loads(content) if content else None
    return wire_fields(json_body=body, params=params), body, {}


def _allowed_formats(caps: ModelCapabilities) -> set[str]:
    mapped = caps.extra.get("output_format_values")
    values = set(caps.output_formats) | {_MIME[f] for f in caps.output_formats if f in _MIME}
    if isinstance(mapped, Mapping):
        values |= {str(mapped[f]) for f in caps.output_formats if f in mapped}
    return values


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return None


def wire_violations(fields: WireFields, caps: ModelCapabilities, prompt: str, *, seed_asked: bool = True
                    ) -> list[str]:
    """Every field of a built request that lies outside ``caps`` (see the module docstring).

    ``seed_asked`` False: the request set no seed, so a ``seed`` on the wire is the server's own default
    (AUTOMATIC1111's ``-1`` = random, a ComfyUI workflow's seed) and is not the user's to check.
    """
    problems: list[str] = []
    spec = caps.size
    ratios = set(spec.aspect_ratios) | ({"auto"} if "auto" in spec.sizes else set())
    if isinstance(custom := caps.extra.get("custom_aspect_ratio"), str):
        ratios.add(custom)
    checked_pairs: set[int] = set()
    for key, value, holder in fields:
        if value is None:
            continue  # JSON null: the field is not set
        if key == "size" and isinstance(value, str):
            if value != "auto" or "auto" not in spec.sizes:
                match = re.fullmatch(r"(\d+)x(\d+)", value)
                problems += size_violations(int(match.group(1)), int(match.group(2)), caps) if match else [
                    f"size {value!r} is not WxH"]
        elif key in ("width", "height") and id(holder) not in checked_pairs:
            width, height = _number(holder.get("width")), _number(holder.get("height"))
            if width is not None and height is not None:
                checked_pairs.add(id(holder))
                problems += size_violations(width, height, caps)
        elif key == "aspect_ratio" and isinstance(value, str) and value not in ratios:
            problems.append(f"aspect_ratio {value!r} not in {sorted(ratios)}")
        elif key in ("resolution", "image_size") and isinstance(value, str):
            if value.lower() not in {r.lower() for r in spec.resolutions}:
                problems.append(f"{key} {value!r} not in {spec.resolutions}")
        elif key == "quality" and value not in caps.qualities:
            problems.append(f"quality {value!r} not in {caps.qualities}")
        elif key == "style" and value not in caps.styles:
            problems.append(f"style {value!r} not in {caps.styles}")
        elif key in _COUNT_KEYS and (number := _number(value)) is not None and not 1 <= number <= caps.max_images:
            problems.append(f"{key}={number} outside 1..{caps.max_images}")
        elif key == "seed" and seed_asked and (number := _number(value)) is not None and not (
                caps.seed and caps.seed_range[0] <= number <= caps.seed_range[1]):
            problems.append(f"seed {number} sent (seed={caps.seed}, range {caps.seed_range})")
        elif key == "negative_prompt" and value not in (None, "") and not caps.negative_prompt:
            problems.append("negative_prompt sent to a model without one")
        elif key == "weight" and (_number(value) or 0) < 0 and not caps.negative_prompt:
            problems.append("a negative-weight prompt (a negative prompt) sent to a model without one")
        elif key in _FORMAT_KEYS and isinstance(value, str) and value not in _allowed_formats(caps):
            problems.append(f"{key} {value!r} not in {sorted(_allowed_formats(caps))}")
        elif key == "background" and value not in caps.background:
            problems.append(f"background {value!r} not in {caps.background}")
        elif key == "user" and not caps.user_field:
            problems.append("user sent to a model without the field")
    texts = [value for _key, value, _holder in fields if isinstance(value, str)]
    if not any(prompt == text or prompt in text for text in texts):
        problems.append("the prompt is not on the wire")
    return problems

