"""The answer and error checks behind :class:`~imgsdk.testing.contract.AdapterContract`, and the case list.

:func:`cases` names every check for one adapter (``"supported:dall-e-3:style"``, ``"sample:gpt-image"``,
``"status:401"``...), so a suite can run them all, report every failure at once, and mark a known one
``xfail(strict=True)`` by its name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from imgsdk.adapter import Adapter, Endpoint, Images, Pending, WireResponse
from imgsdk.capabilities import ModelCapabilities
from imgsdk.errors import (
    AuthenticationError,
    ContentPolicyError,
    ImgSDKError,
    PermissionDeniedError,
    ProviderError,
    QuotaExceededError,
)
from imgsdk.policy import apply
from imgsdk.request import ImageRequest, PreparedRequest

from .contract_checks import (
    OPTIONS,
    PROMPT,
    ContractViolation,
    ErrorSample,
    SuccessSample,
    check_capabilities,
    check_lifecycle,
    check_request,
    check_secret_placement,
    check_supported,
    check_unsupported,
    is_supported,
)

__all__ = ["cases", "check_status", "run_error", "run_success"]

Models = Mapping[str, ModelCapabilities | None]
_NEVER_RETRIED = (400, 401, 402, 403)
_SIZE_PATTERN = r"^\d+x\d+$"


def _fail(message: str) -> ContractViolation:
    return ContractViolation(message)


def _call(adapter: Adapter, endpoint: Endpoint, models: Models, model: str | None,
          request: Mapping[str, Any]) -> PreparedRequest:
    model = model or adapter.default_model or next(iter(models), None)
    caps = (models.get(model) or adapter.capabilities(model, endpoint.settings)) if model else None
    if caps is None:
        raise _fail(f"the sample names model {model!r}, which the adapter does not declare")
    fields = dict(request)
    return apply(ImageRequest(str(fields.pop("prompt", PROMPT)), **fields), caps, adapter=adapter.name)[0]


def _run(adapter: Adapter, endpoint: Endpoint, call: PreparedRequest,
         responses: Sequence[WireResponse]) -> Images:
    """Parse answers as the engine does: the submit answer, then poll answers; an error status → parse_error."""
    queue = list(responses)
    outcome: Images | Pending | None = None
    while queue:
        response = queue.pop(0)
        if response.status >= 400:
            raise adapter.parse_error(response, call)
        if outcome is None:
            outcome = adapter.parse_response(response, call)
        elif isinstance(outcome, Pending):
            check_secret_placement(adapter, endpoint, adapter.poll_request(outcome.handle, endpoint),
                                   "poll request")
            outcome = adapter.parse_poll(response, outcome.handle, call)
        else:
            raise _fail(f"the job was done before the last {len(queue) + 1} answer(s) of the sample were read")
    if not isinstance(outcome, Images):
        raise _fail("the sample ended while the job was still pending: add the final poll answer")
    return outcome


def run_success(adapter: Adapter, endpoint: Endpoint, models: Models, sample: SuccessSample) -> None:
    """A documented success parses to images with a url, a revised_prompt and a size (the node's outputs)."""
    call = _call(adapter, endpoint, models, sample.model, sample.request)
    try:
        images = _run(adapter, endpoint, call, sample.responses)
    except ContractViolation:
        raise
    except Exception as error:
        raise _fail(f"parsing the documented answer raised {type(error).__name__}: {error}") from error
    if not images.images:
        raise _fail("no image parsed from the documented answer")
    for index, image in enumerate(images.images):
        missing = [name for name, value in (("url", image.url), ("revised_prompt", image.revised_prompt))
                   if not isinstance(value, str) or not value.strip()]
        size = image.size
        if size is None or not re.match(_SIZE_PATTERN, size):
            missing.append(f"size (got {size!r}: the provider reports none and the image is a URL)")
        if missing:
            raise _fail(f"image {index} has no {', '.join(missing)}: the node's outputs would be empty")
    if sample.size is not None and images.images[0].size != sample.size:
        raise _fail(f"size is {images.images[0].size}, the documented answer is {sample.size}")


def run_error(adapter: Adapter, endpoint: Endpoint, models: Models, sample: ErrorSample) -> None:
    """A documented failure becomes the documented typed error (not retried when retrying cannot help)."""
    responses = [sample.responses] if isinstance(sample.responses, WireResponse) else list(sample.responses)
    call = _call(adapter, endpoint, models, sample.model, sample.request)
    try:
        _run(adapter, endpoint, call, responses)
    except ContractViolation:
        raise
    except Exception as error:
        check_error(adapter, error, sample.expected, responses[-1], stage=sample.stage)
        return
    raise _fail(f"the documented failure parsed without an error (expected {sample.expected.__name__})")


def check_error(adapter: Adapter, error: Exception, expected: type[ImgSDKError] | tuple[type[ImgSDKError], ...],
                response: WireResponse, stage: str | None = None) -> None:
    """``error`` is of the expected type, names the adapter, has the documented stage, and is not retried
    when it is permanent (auth, permission, quota, content policy)."""
    kinds = expected if isinstance(expected, tuple) else (expected,)
    if not isinstance(error, kinds):
        raise _fail(f"became {type(error).__name__} ({error}), expected "
                    f"{' or '.join(kind.__name__ for kind in kinds)}")
    if isinstance(error, ProviderError) and error.adapter != adapter.name:
        raise _fail(f"the error names adapter {error.adapter!r}, not {adapter.name!r}")
    if stage is not None and getattr(error, "stage", None) != stage:
        raise _fail(f"stage is {getattr(error, 'stage', None)!r}, the documented stage is {stage!r}")
    permanent = (AuthenticationError, PermissionDeniedError, QuotaExceededError, ContentPolicyError)
    if response.status >= 400 and isinstance(error, permanent) and adapter.is_retryable(response):
        raise _fail(f"{type(error).__name__} is marked retryable: retrying cannot fix it")


def check_status(adapter: Adapter, endpoint: Endpoint, models: Models, status: int,
                 expected: tuple[type[ImgSDKError], ...]) -> None:
    """An error status with an empty JSON (or an HTML) body maps to the typed hierarchy; client errors are
    never retried."""
    call = _call(adapter, endpoint, models, None, {})
    for body, kind in ((b"{}", "application/json"), (b"<html><body>error</body></html>", "text/html")):
        response = WireResponse(status, {"content-type": kind}, body, endpoint.base_url)
        try:
            error = adapter.parse_error(response, call)
        except Exception as crash:
            raise _fail(f"parse_error raised {type(crash).__name__} for HTTP {status} ({kind}): {crash}") from crash
        check_error(adapter, error, expected, response)
        if status in _NEVER_RETRIED and adapter.is_retryable(response):
            raise _fail(f"HTTP {status} is marked retryable: the same request would fail the same way")


def cases(adapter: Adapter, endpoint: Endpoint, models: Models, success: Sequence[SuccessSample],
          errors: Sequence[ErrorSample], statuses: Mapping[int, tuple[type[ImgSDKError], ...]],
          today: dt.date | None = None) -> dict[str, Callable[[], None]]:
    """Every check for this adapter by case id: ``capabilities:M``, ``lifecycle:M``, ``request:M``,
    ``supported:M:OPTION``, ``unsupported:M:OPTION``, ``sample:ID``, ``error:ID``, ``status:CODE`` and
    ``adapter:samples`` (a success sample for every model family)."""
    day = today or dt.date.today()
    found: dict[str, Callable[[], None]] = {
        "adapter:samples": partial(_families_covered, adapter, endpoint, models, success)}
    for model, declared in models.items():
        caps = declared if declared is not None else adapter.capabilities(model, endpoint.settings)
        found[f"capabilities:{model}"] = partial(check_capabilities, model, caps, adapter)
        if caps is None:
            continue
        found[f"lifecycle:{model}"] = partial(check_lifecycle, model, caps, adapter, endpoint.settings, day)
        found[f"request:{model}"] = partial(check_request, adapter, endpoint, caps)
        for option in OPTIONS:
            if is_supported(caps, option):
                found[f"supported:{model}:{option}"] = partial(check_supported, adapter, endpoint, caps, option)
            else:
                found[f"unsupported:{model}:{option}"] = partial(check_unsupported, adapter, endpoint, caps, option)
    for sample in success:
        found[f"sample:{sample.name}"] = partial(run_success, adapter, endpoint, models, sample)
    for index, error in enumerate(errors):
        found[f"error:{error.id or index}"] = partial(run_error, adapter, endpoint, models, error)
    for status, expected in sorted(statuses.items()):
        found[f"status:{status}"] = partial(check_status, adapter, endpoint, models, status, expected)
    return found


def _families_covered(adapter: Adapter, endpoint: Endpoint, models: Models,
                      success: Sequence[SuccessSample]) -> None:
    def family(model: str) -> str | None:
        caps = models.get(model) or adapter.capabilities(model, endpoint.settings)
        return caps.family if caps is not None else None

    missing = {family(model) for model in models} - {family(sample.model) for sample in success}
    if missing:
        raise _fail(f"no success sample for the model family(ies) {sorted(str(f) for f in missing)}: supply one "
                    "documented answer per family")
