"""The request a user makes, the request an adapter receives, and the warnings between them.

:class:`ImageRequest` is what the user asked for, in the node's vocabulary. The policy engine turns it,
with one model's capabilities, into a :class:`PreparedRequest` (exactly what may be sent) plus a list of
:class:`RequestWarning` (everything that was dropped, adapted or translated on the way).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .capabilities import ModelCapabilities
from .errors import InvalidRequestError

__all__ = ["ImageRequest", "PreparedRequest", "RequestWarning", "parse_size"]

_SIZE = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")
_RATIO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")


def parse_size(value: str) -> tuple[Literal["pixels", "ratio", "auto"], float, float]:
    """Parse ``"1792x1024"`` (pixels), ``"16:9"`` (ratio) or ``"auto"``; raise InvalidRequestError otherwise."""
    if value.strip().lower() == "auto":
        return "auto", 0, 0
    match = _SIZE.match(value)
    kind: Literal["pixels", "ratio"] = "pixels"
    if match is None:
        match, kind = _RATIO.match(value), "ratio"
    if match is None or float(match.group(1)) <= 0 or float(match.group(2)) <= 0:
        raise InvalidRequestError(
            f"size {value!r} is not a size: use WIDTHxHEIGHT with positive integers (e.g. '1024x1024'), "
            "an aspect ratio such as '16:9', or 'auto'", option="size")
    return kind, float(match.group(1)), float(match.group(2))


def _all_text_or_none(*values: object) -> bool:
    # A plain loop: all() over a generator costs about twice as much, and this runs on every request.
    for value in values:  # noqa: SIM110
        if value is not None and value.__class__ is not str:
            return False
    return True


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """One generation request, as the user asked for it.

    - ``prompt``: the text, after templating; must be non-empty.
    - ``size``: ``"WxH"`` pixels, ``"W:H"`` aspect ratio, ``"auto"``, or None for the model's default.
    - ``quality``: ``standard``/``hd`` (the node's words) or the model's own (``low``/``medium``/``high``...).
    - ``style``: ``vivid``/``natural`` (DALL·E 3) or None.
    - ``n``: how many images in total (≥ 1); more than one call allows are fanned out.
    - ``seed``: for reproducible output where the model supports it.
    - ``negative_prompt``: what to keep out of the image, where supported.
    - ``output_format``: ``png``, ``jpeg`` or ``webp``.
    - ``background``: ``transparent``/``opaque``/``auto`` (GPT-image models).
    - ``user``: an end-user id for the provider's abuse monitoring (OpenAI family).
    - ``timeout``: an overall deadline in seconds for this call (retries and polling included).
    - ``provider_options``: extra wire fields per adapter, ``{"openai": {"moderation": "low"}}``; only the
      options under the serving adapter's name are used, so one request can carry options for several.
    - ``soft``: names of fields holding *defaults* rather than user choices (the node's 1024x1024):
      they are adapted silently and never refused in strict mode.
    """

    prompt: str
    size: str | None = None
    quality: str | None = None
    style: str | None = None
    n: int = 1
    seed: int | None = None
    negative_prompt: str | None = None
    output_format: str | None = None
    background: str | None = None
    user: str | None = None
    timeout: float | None = None
    provider_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    soft: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if (self.prompt.__class__ is str and self.n.__class__ is int and self.n >= 1 and self.size is None
                and self.seed is None and self.timeout is None
                and self.provider_options.__class__ is dict and not self.provider_options
                and _all_text_or_none(self.quality, self.style, self.negative_prompt, self.output_format,
                                      self.background, self.user) and not self.prompt.isspace() and self.prompt):
            return  # the common request (a prompt, maybe words for quality/style): nothing else to check
        if not isinstance(self.prompt, str) or not self.prompt.strip():
            raise InvalidRequestError("the prompt is empty: give a text description of the image",
                                      option="prompt")
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 1:
            raise InvalidRequestError(f"n must be a whole number ≥ 1, got {self.n!r}", option="n")
        for name in ("size", "quality", "style", "negative_prompt", "output_format", "background", "user"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise InvalidRequestError(f"{name} must be a string, got {type(value).__name__} {value!r}",
                                          option=name)
        if self.timeout is not None and (isinstance(self.timeout, bool) or not isinstance(self.timeout, int | float)):
            raise InvalidRequestError(f"timeout must be a number of seconds, got {self.timeout!r}", option="timeout")
        if not isinstance(self.provider_options, Mapping) or not all(
                isinstance(options, Mapping) for options in self.provider_options.values()):
            raise InvalidRequestError("provider_options must map an adapter name to a table of options, e.g. "
                                      f"{{'openai': {{'moderation': 'low'}}}}; got {self.provider_options!r}",
                                      option="provider_options")
        if self.size is not None:
            parse_size(self.size)
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise InvalidRequestError(f"seed must be an integer, got {self.seed!r}", option="seed")
        if self.timeout is not None and self.timeout <= 0:
            raise InvalidRequestError(f"timeout must be > 0 seconds, got {self.timeout!r}", option="timeout")

    def with_(self, **changes: Any) -> ImageRequest:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class RequestWarning:
    """Something the model could not do exactly as asked, reported as data.

    - ``code``: ``"dropped"`` (not sent), ``"adapted"`` (sent as the nearest allowed value),
      ``"translated"`` (sent in the model's vocabulary), ``"unknown_model"`` / ``"passthrough"`` (capabilities
      were not checked), ``"deprecated"`` (the model's shutdown is announced; ``applied`` is its replacement),
      ``"fallback"`` (another profile served the request), ``"provider"`` (said by the API).
    - ``option``: the request field concerned (``"style"``, ``"size"``...), or ``"model"``.
    - ``requested`` / ``applied``: the user's value and what was sent instead (None when dropped).
    - ``message``: one sentence for people.
    """

    code: str
    option: str
    requested: Any
    applied: Any
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """The policy engine's output: exactly what an adapter may put on the wire for one call.

    Every field is already inside the model's declared capabilities; None means "do not send".
    ``width``/``height`` are set when ``size`` is a pixel size; ``aspect_ratio`` (``"16:9"``) and
    ``resolution`` (``"2K"``) are set for ratio models instead. ``options`` are the user's provider options
    for this adapter; ``capabilities`` the declaration that was applied; ``index`` the call's position in a
    fan-out (0 for a single call).
    """

    model: str
    prompt: str
    capabilities: ModelCapabilities
    n: int = 1
    size: str | None = None
    width: int | None = None
    height: int | None = None
    aspect_ratio: str | None = None
    resolution: str | None = None
    quality: str | None = None
    style: str | None = None
    seed: int | None = None
    negative_prompt: str | None = None
    output_format: str | None = None
    background: str | None = None
    user: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    index: int = 0

    def with_(self, **changes: Any) -> PreparedRequest:
        """A copy with some fields changed (used by fan-out for n and seed)."""
        return replace(self, **changes)
