"""The declaration and wire checks behind :class:`~imgsdk.testing.contract.AdapterContract` (no pytest here).

Each check takes an adapter, an endpoint and a declaration, and raises :class:`ContractViolation` saying what is
wrong and how to fix it. :mod:`.contract_answers` holds the checks on answers and errors, and names every case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from imgsdk.adapter import Adapter, Endpoint, WireRequest, WireResponse
from imgsdk.capabilities import ModelCapabilities, SizeSpec
from imgsdk.errors import (
    AuthenticationError,
    ImgSDKError,
    InvalidRequestError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedOptionError,
)
from imgsdk.policy import apply
from imgsdk.request import ImageRequest, PreparedRequest

from .contract_declarations import ContractViolation, check_capabilities, check_lifecycle, free_size_problem

__all__ = ["CANARY_KEY", "DEFAULT_STATUSES", "OPTIONS", "PROMPT", "ContractViolation", "ErrorSample",
           "SuccessSample", "check_capabilities", "check_lifecycle", "check_request", "check_secret_placement",
           "check_supported", "check_unsupported", "is_supported", "supported_value"]

PROMPT = "a lighthouse at dawn (imgsdk contract)"
#: The key the default endpoint carries: it may appear only in the adapter's declared ``secret_headers``.
CANARY_KEY = "imgsdk-contract-canary-7f3a9c2e"
#: Request fields checked against each model's declaration.
OPTIONS = ("size", "quality", "style", "n", "seed", "negative_prompt", "output_format", "background", "user")
#: What an error answer with an empty JSON body must become, per HTTP status (adapters may override).
DEFAULT_STATUSES: Mapping[int, tuple[type[ImgSDKError], ...]] = {
    400: (InvalidRequestError,), 401: (AuthenticationError,), 402: (QuotaExceededError,),
    403: (PermissionDeniedError,), 429: (RateLimitError, QuotaExceededError), 500: (ServiceUnavailableError,),
    503: (ServiceUnavailableError,)}
_UNSUPPORTED_VALUES: Mapping[str, Any] = {
    "size": "1792x1024", "quality": "hd", "style": "vivid", "n": 2, "seed": 12345,
    "negative_prompt": "blurry, low quality", "output_format": "png", "background": "transparent",
    "user": "contract-user-1"}


@dataclass(frozen=True)
class SuccessSample:
    """A documented success answer: the submit response, then each poll answer (poll protocols), in order.

    ``request`` holds :class:`~imgsdk.request.ImageRequest` fields for the call it answers (default: the prompt
    only); ``size`` is the ``WxH`` the first image must report, when known.
    """

    model: str
    responses: Sequence[WireResponse]
    request: Mapping[str, Any] = field(default_factory=dict)
    size: str | None = None
    id: str = ""

    @property
    def name(self) -> str:
        return self.id or self.model


@dataclass(frozen=True)
class ErrorSample:
    """A documented failure: an error response (status ≥ 400, read by ``parse_error``), or a success-status
    answer (sequence) that must raise while being parsed (moderation in a 200, a failed poll status).

    ``expected`` is the typed error it must become; ``stage`` the ContentPolicyError stage, when documented.
    """

    responses: WireResponse | Sequence[WireResponse]
    expected: type[ImgSDKError]
    model: str | None = None
    stage: str | None = None
    request: Mapping[str, Any] = field(default_factory=dict)
    id: str = ""


def _fail(message: str) -> ContractViolation:
    return ContractViolation(message)


# -- declared versus wire ---------------------------------------------------------------------------------
def is_supported(caps: ModelCapabilities, option: str) -> bool:
    return {"size": caps.size.mode != "none", "quality": bool(caps.qualities), "style": bool(caps.styles),
            "n": caps.max_images >= 2, "seed": caps.seed, "negative_prompt": caps.negative_prompt,
            "output_format": bool(caps.output_formats), "background": bool(caps.background),
            "user": caps.user_field}[option]


def _pick(values: Sequence[str], default: str | None, avoid: tuple[str, ...] = ("auto",)) -> str:
    return next((value for value in values if value != default and value not in avoid), values[0])


def _free_value(spec: SizeSpec) -> str:
    candidates = [size for size in spec.sizes if size != "auto"]
    for side in (512, 768, 1024, 256, 2048, 128, 64):
        snapped = max(spec.min_side, -(-side // spec.multiple) * spec.multiple)
        candidates.append(f"{snapped}x{snapped}")
    fitting = [size for size in candidates
               if free_size_problem(spec, *(int(part) for part in size.split("x"))) is None]
    if not fitting:
        raise _fail(f"no size fits the declared free bounds {spec}")
    return next((size for size in fitting if size != spec.default), fitting[0])


def supported_value(caps: ModelCapabilities, option: str) -> Any:
    """A value the declaration accepts as it is, preferring one that is not the provider's default."""
    if option == "size":
        spec = caps.size
        if spec.mode == "fixed":
            return _pick([size for size in spec.sizes if size != "auto"], spec.default)
        if spec.mode == "aspect_ratio":
            return _pick(spec.aspect_ratios, spec.default)
        return _free_value(spec)
    if option == "quality":
        return _pick(caps.qualities, caps.quality_default)
    if option == "style":
        return _pick(caps.styles, caps.style_default)
    if option == "output_format":
        return _pick(caps.output_formats, caps.output_format_default)
    if option == "background":
        return _pick(caps.background, None)
    if option == "seed":
        low, high = caps.seed_range
        return 12345 if low <= 12345 <= high else low
    return {"n": 2, "negative_prompt": "blurry, low quality", "user": "contract-user-1"}[option]


def _wire(adapter: Adapter, endpoint: Endpoint, call: PreparedRequest) -> WireRequest:
    try:
        return adapter.build_request(call, endpoint)
    except Exception as error:
        raise _fail(f"build_request raised {type(error).__name__}: {error}") from error


def _differences(first: WireRequest, second: WireRequest) -> str:
    names = ("method", "url", "headers", "params", "json", "form", "files", "content", "multipart")
    return ", ".join(name for name in names if getattr(first, name) != getattr(second, name)) or "nothing"


def _baseline(adapter: Adapter, endpoint: Endpoint, caps: ModelCapabilities) -> tuple[PreparedRequest, WireRequest]:
    call, _ = apply(ImageRequest(PROMPT), caps, adapter=adapter.name, mode="strict")
    return call, _wire(adapter, endpoint, call)


def check_supported(adapter: Adapter, endpoint: Endpoint, caps: ModelCapabilities, option: str) -> None:
    """A declared option, given a declared value, is sent: the wire request changes.

    The one exception is an option with a single allowed value that is also the provider's default (DALL·E
    returns PNG and takes no format): it must be accepted without a warning, but need not be sent. Declared
    translations (``quality_aliases``: the node's ``hd`` → ``high``) must warn and send exactly what the target
    value sends.
    """
    value = supported_value(caps, option)
    _, baseline = _baseline(adapter, endpoint, caps)
    try:
        call, _ = apply(ImageRequest(PROMPT, **{option: value}), caps, adapter=adapter.name, mode="strict",
                        n=value if option == "n" else None)
    except UnsupportedOptionError as error:
        raise _fail(f"{option}={value!r} is declared, yet the policy refuses it: {error}") from error
    if not _only_value(caps, option) and _wire(adapter, endpoint, call) == baseline:
        default = {"size": caps.size.default, "quality": caps.quality_default, "style": caps.style_default,
                   "output_format": caps.output_format_default}.get(option)
        raise _fail(f"{option}={value!r} is declared supported but the wire request is the same as without it: "
                    "the adapter drops it (send it, or declare it unsupported)"
                    + (f", or the declared default {default!r} is not what is sent without it (declare the real "
                       "default)" if default is not None else ""))
    aliases = {"quality": caps.quality_aliases, "style": caps.style_aliases}.get(option, {})
    for alias, target in aliases.items():
        asked: dict[str, Any] = {option: alias}
        meant: dict[str, Any] = {option: target}
        translated, warnings = apply(ImageRequest(PROMPT, **asked), caps, adapter=adapter.name)
        direct, _ = apply(ImageRequest(PROMPT, **meant), caps, adapter=adapter.name)
        if not any(w.option == option and w.code == "translated" for w in warnings):
            raise _fail(f"{option} alias {alias!r} → {target!r} was applied without a 'translated' warning")
        if _wire(adapter, endpoint, translated) != _wire(adapter, endpoint, direct):
            raise _fail(f"{option}={alias!r} is declared a translation of {target!r}, but the two wire requests "
                        "differ")


def _only_value(caps: ModelCapabilities, option: str) -> bool:
    """Whether ``option`` declares exactly one value, which is also the provider's default (png-only DALL·E)."""
    values, default = {"quality": (caps.qualities, caps.quality_default),
                       "style": (caps.styles, caps.style_default),
                       "output_format": (caps.output_formats, caps.output_format_default)}.get(option, ((), None))
    return len(values) == 1 and values[0] == default


def check_unsupported(adapter: Adapter, endpoint: Endpoint, caps: ModelCapabilities, option: str) -> None:
    """An undeclared option is dropped with a warning, refused in strict mode, and never reaches the wire."""
    value = _UNSUPPORTED_VALUES[option]
    _, baseline = _baseline(adapter, endpoint, caps)
    request = ImageRequest(PROMPT, **{option: value})
    if option == "n":
        try:
            apply(request, caps, adapter=adapter.name)
        except InvalidRequestError:
            return  # n=2 cannot be sent in one call: the core fans out single-image calls
        raise _fail(f"max_images is {caps.max_images}, yet n=2 was accepted for one call")
    call, warnings = apply(request, caps, adapter=adapter.name, mode="warn")
    if not any(warning.option == option for warning in warnings):
        raise _fail(f"{option}={value!r} is not declared, yet the policy raised no warning about it")
    if (wire := _wire(adapter, endpoint, call)) != baseline:
        raise _fail(f"{option}={value!r} is not declared, yet the wire request changed "
                    f"({_differences(wire, baseline)})")
    try:
        apply(request, caps, adapter=adapter.name, mode="strict")
    except UnsupportedOptionError:
        return
    raise _fail(f"{option}={value!r} is not declared, yet strict mode did not refuse it")


def check_secret_placement(adapter: Adapter, endpoint: Endpoint, wire: WireRequest, what: str) -> None:
    """The key travels only in a header the adapter declares in ``secret_headers`` (scrubbed everywhere)."""
    key = endpoint.api_key.get() if endpoint.api_key else None
    if not key:
        return
    declared = {name.lower() for name in adapter.secret_headers}
    for name, value in wire.headers.items():
        if key in value and name.lower() not in declared:
            raise _fail(f"the {what} sends the key in header {name!r}, missing from secret_headers {declared}")
    places: tuple[tuple[str, Any], ...] = (("URL", wire.url), ("query", wire.params), ("body", wire.json),
                                           ("form", wire.form), ("content", wire.content))
    for place, value in places:
        if value is not None and key in (value.decode("latin-1") if isinstance(value, bytes) else str(value)):
            raise _fail(f"the {what} carries the key in its {place}: use a header listed in secret_headers")


def check_request(adapter: Adapter, endpoint: Endpoint, caps: ModelCapabilities) -> None:
    """The simplest request builds, carries the prompt, and keeps the key in a secret header."""
    _, wire = _baseline(adapter, endpoint, caps)
    texts = [wire.url, str(wire.params), str(wire.json), str(wire.form),
             wire.content.decode("utf-8", "replace") if wire.content else ""]
    if not any(PROMPT in text for text in texts):
        raise _fail("the prompt does not appear in the wire request")
    check_secret_placement(adapter, endpoint, wire, "request")
