"""The one policy engine: capabilities × request → what may be sent, plus warnings.

Adapters never decide what is "unsupported"; they declare capabilities and this module applies them, the same
way for every provider. Two modes:

- ``"warn"`` (default): an option the model lacks is dropped, a size it lacks is mapped to the nearest one,
  node vocabulary is translated (``hd`` → ``high``), each with a :class:`~imgsdk.request.RequestWarning`.
- ``"strict"``: anything that would be dropped, adapted or translated raises
  :class:`~imgsdk.errors.UnsupportedOptionError` before any network call.

Only values the user set can warn or raise: fields named in ``ImageRequest.soft`` (defaults) are adapted
silently. Refused in every mode: an empty or over-long prompt, a seed out of range, a shut-down model on
its default service (see :func:`check_lifecycle`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from .capabilities import ModelCapabilities
from .errors import InvalidRequestError, ModelRetiredError, UnsupportedOptionError
from .request import ImageRequest, PreparedRequest, RequestWarning, parse_size

__all__ = ["Mode", "apply", "check_lifecycle", "nearest_ratio"]

Mode = Literal["warn", "strict"]


class _Policy:
    """Collects warnings for one request; raises instead in strict mode."""

    def __init__(self, request: ImageRequest, caps: ModelCapabilities, mode: Mode, adapter: str) -> None:
        self.request, self.caps, self.mode, self.adapter = request, caps, mode, adapter
        self.warnings: list[RequestWarning] = []

    def change(self, code: str, option: str, requested: Any, applied: Any, message: str,
               allowed: Any = None) -> None:
        if option in self.request.soft:
            return
        where = f"{self.adapter}:{self.caps.model}"
        if self.mode == "strict":
            choices = (f" It accepts: {', '.join(map(str, allowed))}." if isinstance(allowed, tuple) and allowed
                       else "")
            raise UnsupportedOptionError(
                f"strict mode refused {option}={requested!r} for {where}, before sending anything. In warn mode: "
                f"{message}.{choices} Pass a value the model accepts, or use on_unsupported='warn' to let "
                "imgsdk adapt it",
                option=option, value=requested, allowed=allowed, adapter=self.adapter, model=self.caps.model)
        self.warnings.append(RequestWarning(code, option, requested, applied, f"{message} [{where}]"))

    def choose(self, option: str, value: str | None, allowed: tuple[str, ...],
               aliases: Mapping[str, str], default: str | None) -> str | None:
        """Shared rule for quality and style: keep, translate, or drop to the model's default."""
        if value is None:
            return None
        if value in allowed:
            return value
        if not allowed:
            self.change("dropped", option, value, None,
                        f"{option} {value!r} dropped: this model has no {option} setting", allowed=())
            return None
        if value in aliases:
            self.change("translated", option, value, aliases[value],
                        f"{option} {value!r} sent as {aliases[value]!r}, its equivalent on this model",
                        allowed=allowed)
            return aliases[value]
        self.change("dropped", option, value, default,
                    f"{option} {value!r} is not supported (allowed: {', '.join(allowed)}); "
                    f"the model's default{f' {default!r}' if default else ''} is used", allowed=allowed)
        return None

    def supported(self, option: str, value: Any, ok: bool) -> Any:
        """Drop ``value`` with a warning when the model has no such option."""
        if value is None or ok:
            return value
        self.change("dropped", option, value, None,
                    f"{option} {value!r} dropped: this model does not support {option}", allowed=None)
        return None


def nearest_ratio(width: float, height: float, ratios: tuple[str, ...]) -> str:
    """The ``W:H`` among ``ratios`` closest to width/height on a log scale (so 2:1 and 1:2 are symmetric)."""
    target = math.log(width / height)

    def distance(ratio: str) -> float:
        kind, w, h = parse_size(ratio)
        return abs(math.log(w / h) - target) if kind != "auto" else math.inf

    return min(ratios, key=distance)


def _nearest_fixed(width: float, height: float, sizes: tuple[str, ...]) -> str:
    """Nearest fixed size: same orientation first, then closest ratio, then closest area."""
    def key(size: str) -> tuple[int, float, float]:
        _, w, h = parse_size(size)
        same = (w > h) == (width > height) and (w < h) == (width < height)
        return (0 if same else 1, abs(math.log((w / h) / (width / height))), abs(math.log(w * h / (width * height))))

    return min((s for s in sizes if s != "auto"), key=key)


def _fit_free(width: float, height: float, caps: ModelCapabilities) -> tuple[int, int]:
    """Clamp a free size into the declared bounds, keeping its ratio where the bounds allow."""
    spec = caps.size
    ratio = width / height
    if spec.min_ratio is not None:
        ratio = max(ratio, spec.min_ratio)
    if spec.max_ratio is not None:
        ratio = min(ratio, spec.max_ratio)
    area = width * height
    if spec.max_pixels is not None:
        area = min(area, spec.max_pixels)
    w, h = math.sqrt(area * ratio), math.sqrt(area / ratio)
    scale = min(1.0, spec.max_side / max(w, h))
    w, h = w * scale, h * scale
    scale = max(1.0, spec.min_side / min(w, h))
    w, h = w * scale, h * scale
    m = spec.multiple

    def snap(x: float) -> int:
        snapped = min(max(m, round(x / m) * m), spec.max_side // m * m)  # arithmetic, not a loop: x may be huge
        return max(snapped, math.ceil(spec.min_side / m) * m)

    sw, sh = snap(w), snap(h)
    while spec.max_pixels is not None and sw * sh > spec.max_pixels:
        sw, sh = (sw - m, sh) if sw >= sh else (sw, sh - m)
    # Snapping can push the ratio just outside its bounds (4000x1000 → 3472x1152 is 3.01:1): shrink the long side.
    while spec.max_ratio is not None and sw / sh > spec.max_ratio and sw - m >= spec.min_side:
        sw -= m
    while spec.min_ratio is not None and sw / sh < spec.min_ratio and sh - m >= spec.min_side:
        sh -= m
    return sw, sh


def _apply_size(policy: _Policy, out: dict[str, Any]) -> None:
    value = policy.request.size
    spec = policy.caps.size
    if value is None:
        return
    kind, w, h = parse_size(value)
    if kind == "auto":
        out["size"] = "auto" if "auto" in spec.sizes else None
        return
    if spec.mode == "none" or (spec.mode == "fixed" and not [s for s in spec.sizes if s != "auto"]):
        # a fixed-size declaration with no sizes (a config entry without `size`) takes no size either
        policy.supported("size", value, False)
        return
    if spec.mode == "aspect_ratio":
        ratio = nearest_ratio(w, h, spec.aspect_ratios)
        _, rw, rh = parse_size(ratio)
        exact = math.isclose(w / h, rw / rh, rel_tol=1e-9)
        if kind == "ratio" and exact:
            out["aspect_ratio"] = ratio
            return
        code = "translated" if exact else "adapted"
        policy.change(code, "size", value, ratio,
                      f"size {value} sent as aspect ratio {ratio} (the model takes ratios, not pixels; "
                      f"allowed: {', '.join(spec.aspect_ratios)}); the provider picks the pixel size",
                      allowed=spec.aspect_ratios)
        out["aspect_ratio"] = ratio
        return
    if spec.mode == "fixed":
        if kind == "pixels" and value.replace(" ", "").lower().replace("×", "x") in spec.sizes:
            size = value.replace(" ", "").lower().replace("×", "x")
        else:
            size = _nearest_fixed(w, h, spec.sizes)
            policy.change("adapted", "size", value, size,
                          f"size {value} is not available; sent {size}, the nearest supported size "
                          f"(allowed: {', '.join(spec.sizes)})", allowed=spec.sizes)
    else:  # free
        if kind == "ratio":  # a ratio on a pixel model: the default area at that ratio
            base = parse_size(spec.default or "1024x1024")
            if base[0] != "pixels":  # a default of "auto" or a ratio says nothing about the area
                base = parse_size("1024x1024")
            area = base[1] * base[2]
            w, h = math.sqrt(area * w / h), math.sqrt(area * h / w)
        fw, fh = _fit_free(w, h, policy.caps)
        size = f"{fw}x{fh}"
        if kind == "ratio" or (fw, fh) != (int(w), int(h)) or w != int(w) or h != int(h):
            bounds = (f"sides {policy.caps.size.min_side}-{policy.caps.size.max_side} px, multiples of "
                      f"{policy.caps.size.multiple}")
            policy.change("adapted", "size", value, size,
                          f"size {value} sent as {size}, the nearest size the model accepts ({bounds})",
                          allowed=bounds)
    _, pw, ph = parse_size(size)
    out.update(size=size, width=int(pw), height=int(ph))


#: Policy outcomes by request shape (see :func:`apply`), bounded: cleared when it reaches _MEMO_SIZE entries.
_memo: dict[tuple[Any, ...], tuple[ModelCapabilities, dict[str, Any], tuple[RequestWarning, ...]]] = {}
_MEMO_SIZE = 512


def apply(request: ImageRequest, caps: ModelCapabilities, *, adapter: str, mode: Mode = "warn",
          n: int | None = None) -> tuple[PreparedRequest, list[RequestWarning]]:
    """Apply ``caps`` to ``request``; return the wire-ready request and the warnings.

    ``n`` is the number of images for this one call (fan-out decides it); it must fit ``caps.max_images``.

    What the policy decides depends on the request's options, not on its prompt, so the decision is kept per
    request shape (the options, ``soft``, the declaration, the adapter, the mode and ``n``) and the next request
    of the same shape — a workflow re-running one node with new prompts — skips it. Only decisions are kept:
    a refusal is raised again each time, and the prompt is checked on every call.
    """
    prompt = request.prompt
    if caps.prompt_max_chars is not None and len(prompt) > caps.prompt_max_chars:
        raise InvalidRequestError(
            f"the prompt is {len(prompt)} characters; {adapter}:{caps.model} accepts at most {caps.prompt_max_chars}: "
            "shorten it", option="prompt", adapter=adapter, model=caps.model)
    per_call = request.n if n is None else n
    if per_call > caps.max_images:
        raise InvalidRequestError(
            f"n={per_call} in one call, but {adapter}:{caps.model} returns at most {caps.max_images} per call",
            option="n", adapter=adapter, model=caps.model)
    key = (id(caps), adapter, mode, per_call, request.size, request.quality, request.style, request.seed,
           request.negative_prompt, request.output_format, request.background, request.user, request.soft)
    known = _memo.get(key)
    if known is not None and known[0] is caps:  # the entry holds caps, so its id cannot be another's
        out, warnings = known[1], known[2]
    else:
        out, found = _decide(request, caps, mode, adapter)
        warnings = tuple(found)
        if len(_memo) >= _MEMO_SIZE:
            _memo.clear()
        _memo[key] = (caps, out, warnings)
    options = request.provider_options.get(adapter) if request.provider_options else None
    prepared = PreparedRequest(model=caps.model, prompt=prompt, capabilities=caps, n=per_call,
                               options=dict(options) if options else {}, **out)
    return prepared, list(warnings)


def _decide(request: ImageRequest, caps: ModelCapabilities, mode: Mode,
            adapter: str) -> tuple[dict[str, Any], list[RequestWarning]]:
    """The prepared request's fields for ``request`` under ``caps`` (prompt and n aside), and the warnings."""
    policy = _Policy(request, caps, mode, adapter)
    out: dict[str, Any] = {}
    _apply_size(policy, out)
    out["quality"] = policy.choose("quality", request.quality, caps.qualities, caps.quality_aliases,
                                   caps.quality_default)
    out["style"] = policy.choose("style", request.style, caps.styles, caps.style_aliases, caps.style_default)
    seed = policy.supported("seed", request.seed, caps.seed)
    if seed is not None and not caps.seed_range[0] <= seed <= caps.seed_range[1]:
        raise InvalidRequestError(
            f"seed {seed} is out of range for {adapter}:{caps.model}: use {caps.seed_range[0]}..{caps.seed_range[1]}",
            option="seed", adapter=adapter, model=caps.model)
    out["seed"] = seed
    out["negative_prompt"] = policy.supported("negative_prompt", request.negative_prompt, caps.negative_prompt)
    fmt = request.output_format.lower() if request.output_format else None
    if fmt == "jpg":
        fmt = "jpeg"
    out["output_format"] = policy.choose("output_format", fmt, caps.output_formats, {},
                                         caps.output_format_default)
    out["background"] = policy.choose("background", request.background, caps.background, {}, None)
    out["user"] = policy.supported("user", request.user, caps.user_field)
    return out, policy.warnings


def check_lifecycle(caps: ModelCapabilities, *, adapter: str, default_service: bool,
                    allow_retired: bool = False) -> None:
    """Refuse a model that is shut down on the service the request would go to.

    Only the adapter's default service is checked: behind a custom ``base_url`` or an Azure deployment the
    model may still be served. ``allow_retired=True`` skips the check.
    """
    life = caps.lifecycle
    if allow_retired or not default_service or not life.is_shut_down():
        return
    when = f" on {life.shutdown_on}" if life.shutdown_on else ""
    instead = f"; use {life.replacement} instead" if life.replacement else ""
    raise ModelRetiredError(
        f"{adapter}:{caps.model} was shut down{when} on {adapter}'s service{instead}. If a proxy or another "
        "deployment still serves it, set base_url for it, or pass allow_retired=True",
        adapter=adapter, model=caps.model, shutdown=life.shutdown_on, replacement=life.replacement)
