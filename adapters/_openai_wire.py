"""Wire helpers shared by every adapter that speaks the OpenAI Images API (openai, azure, openai-compatible).

Three jobs, all sans-I/O:

- :func:`build_body` turns a :class:`~imgsdk.request.PreparedRequest` into the JSON body of
  ``POST /images/generations`` for the model's ``family``: ``"dalle"`` (DALL·E 2/3: ``style``,
  ``response_format``), ``"gpt-image"`` (``output_format``, ``background``; never ``style`` or
  ``response_format``) or anything else (a permissive/unknown model: every field the policy left set).
- :func:`parse_images` reads an ``ImagesResponse`` (``data[].url`` / ``b64_json`` / ``revised_prompt``,
  top-level ``size`` / ``output_format`` / ``quality`` / ``background`` / ``usage``) into :class:`Images`.
- :func:`openai_error` maps the error envelope ``{"error": {message, type, param, code}}`` onto the typed
  errors, and :func:`should_retry` is openai-python's ``_should_retry`` rule; both live in
  :mod:`._openai_errors` and are re-exported here.

Facts come from /work/shared/reference/providers.md §1 (tag [OAI-SPEC]) and the openai-python source
(``resources/images.py``, ``_base_client.py``) — cited where used.
"""

from __future__ import annotations

import binascii
import datetime as dt
import email.utils
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from imgsdk.adapter import Images, WireResponse
from imgsdk.capabilities import ModelCapabilities, SizeSpec, TokenPrices
from imgsdk.errors import ContentPolicyError, InvalidRequestError, ProviderError
from imgsdk.request import PreparedRequest
from imgsdk.result import GeneratedImage

# The error envelope and the retry rule live in ._openai_errors; re-exported here for the adapters.
from ._openai_errors import MAX_RETRY_AFTER as MAX_RETRY_AFTER
from ._openai_errors import (
    ErrorInfo,
    is_quota,
    openai_error,
    read_error,
    retry_after_seconds,
    scrub,
    should_retry,
    with_request_id,
)

__all__ = [
    "DALLE2_SIZE", "DALLE3_SIZE", "DALLE3_STYLES", "DALLE_FAMILY", "GPT_IMAGE_2_SIZE",
    "GPT_IMAGE_BACKGROUNDS", "GPT_IMAGE_FAMILY", "GPT_IMAGE_QUALITIES", "GPT_IMAGE_SIZE",
    "NODE_QUALITY_ALIASES", "ErrorInfo", "build_body", "is_quota", "openai_error", "parse_images",
    "permissive_capabilities", "read_error", "response_time", "retry_after_seconds", "scrub",
    "should_retry", "usage_cost", "with_request_id",
]

DALLE_FAMILY = "dalle"
GPT_IMAGE_FAMILY = "gpt-image"

# -- declarations shared by openai and azure (providers.md §1 "Request parameters", §2 "Models") ----------
DALLE3_SIZE = SizeSpec(mode="fixed", sizes=("1024x1024", "1792x1024", "1024x1792"), default="1024x1024")
DALLE2_SIZE = SizeSpec(mode="fixed", sizes=("256x256", "512x512", "1024x1024"), default="1024x1024")
DALLE3_STYLES = ("vivid", "natural")
# GPT-image: three fixed sizes plus "auto" (the default) [OAI-SPEC `size`].
GPT_IMAGE_SIZE = SizeSpec(mode="fixed", sizes=("1024x1024", "1536x1024", "1024x1536", "auto"), default="auto")
# gpt-image-2: any WxH, both sides divisible by 16, ratio 1:3..3:1, at most 3840x2160 [OAI-SPEC `size`].
# Orientation is free, so max_side is 3840 and the pixel budget 3840*2160. `default` is None, not "auto":
# imgsdk.policy turns a ratio request into pixels from the default and cannot do that from "auto".
# A minimum pixel budget (~655,360 px) is reported only by third parties: not declared (UNCONFIRMED).
GPT_IMAGE_2_SIZE = SizeSpec(mode="free", sizes=("1024x1024", "1536x1024", "1024x1536", "auto"), max_side=3840,
                            multiple=16, max_pixels=3840 * 2160, min_ratio=1 / 3, max_ratio=3.0)
GPT_IMAGE_QUALITIES = ("low", "medium", "high", "auto")
# The node speaks DALL·E 3's words; on GPT-image "hd" is its top tier and "standard" its middle one.
NODE_QUALITY_ALIASES: Mapping[str, str] = {"hd": "high", "standard": "medium"}
GPT_IMAGE_BACKGROUNDS = ("transparent", "opaque", "auto")

# Fields each family may carry; everything else the policy left set is not sent (the fields are DALL·E- or
# GPT-image-only per [OAI-SPEC]: style/response_format → dall-e; output_format/background → GPT image).
# seed/negative_prompt are not in OpenAI's schema: our declarations refuse them (the policy drops them with a
# warning), so they only reach the wire when a user's config declaration says a server accepts them.
_FAMILY_FIELDS: Mapping[str, tuple[str, ...]] = {
    DALLE_FAMILY: ("size", "quality", "style", "seed", "negative_prompt", "user"),
    GPT_IMAGE_FAMILY: ("size", "quality", "seed", "negative_prompt", "output_format", "background", "user"),
}
_ANY_FIELDS = ("size", "quality", "style", "seed", "negative_prompt", "output_format", "background", "user")
_MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp",
                "gif": "image/gif", "svg": "image/svg+xml"}
_SIZE = re.compile(r"^\d+x\d+$")


def build_body(call: PreparedRequest, *, model: str | None) -> dict[str, Any]:
    """The JSON body for ``call``; ``model`` is the body's model field (None: no field, e.g. Azure).

    Order of fields follows openai-python's ``images.generate``. ``n`` is always sent. DALL·E also gets
    ``response_format``: ``"url"`` when the model returns URLs (the node's output is a URL), else
    ``"b64_json"``. Provider options (``call.options``) are merged last and win; an option set to None removes
    that field (e.g. ``{"response_format": None}`` to send none at all). ``stream`` is refused: imgsdk reads
    whole responses only.
    """
    if call.options.get("stream"):
        raise InvalidRequestError("stream=True is not supported: imgsdk reads whole responses; remove it "
                                  "from provider_options", option="stream", model=call.model)
    family = call.capabilities.family
    body: dict[str, Any] = {} if model is None else {"model": model}
    body.update(prompt=call.prompt, n=call.n)
    for name in _FAMILY_FIELDS.get(family, _ANY_FIELDS):
        value = getattr(call, name)
        if value is not None:
            body[name] = value
    if family == DALLE_FAMILY:
        body["response_format"] = "url" if call.capabilities.returns == "url" else "b64_json"
    for key, value in call.options.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def permissive_capabilities(model: str) -> ModelCapabilities:
    """The profile for an undeclared model on an OpenAI-images endpoint: the node's options pass unchanged.

    - size: any ``WxH`` as given (free mode, no multiple, no bounds); ``auto`` is sent as ``auto``.
    - quality: every value of OpenAI's enum (standard, hd, low, medium, high, auto) as given.
    - style: vivid, natural as given. n: up to 10 per call (more are fanned out).
    - output_format png/jpeg/webp and background, sent only when the request sets them; user accepted.
    - seed and negative_prompt: not in the OpenAI images API, so dropped with a warning.
    - family "": the body carries whatever the request set; no ``response_format`` is added.
    """
    return ModelCapabilities(
        model=model, family="", size=SizeSpec(mode="free", sizes=("auto",)),
        qualities=("standard", "hd", "low", "medium", "high", "auto"), styles=DALLE3_STYLES, max_images=10,
        output_formats=("png", "jpeg", "webp"), output_format_default=None, background=GPT_IMAGE_BACKGROUNDS,
        user_field=True, returns="url", declared_by="permissive")


# -- success ------------------------------------------------------------------------------------------------
def response_time(response: WireResponse) -> dt.datetime:
    """When the response was made: its ``Date`` header, else now (UTC)."""
    value = response.header("date")
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
            return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        except (TypeError, ValueError, IndexError):
            pass
    return dt.datetime.now(dt.UTC)


def parse_images(response: WireResponse, call: PreparedRequest, *, adapter: str, request_id: str | None,
                 on_error: Callable[[WireResponse], ProviderError], keep: Iterable[str] = (),
                 filtered: Callable[[Mapping[str, Any]], ContentPolicyError | None] | None = None) -> Images:
    """Read an ``ImagesResponse`` into :class:`Images`.

    ``keep`` names per-image keys copied into ``GeneratedImage.metadata`` (Azure's filter results).
    ``filtered`` turns an item that carries no image into a ContentPolicyError (Azure's per-image filter).
    A body holding ``error`` and no ``data`` is raised through ``on_error`` even on HTTP 200.
    """
    body, payloads = _read_body(response)
    if not isinstance(body, dict):
        raise ProviderError(f"the response body is not JSON (HTTP {response.status}); is base_url an "
                            "OpenAI images endpoint?", adapter=adapter, model=call.model,
                            status=response.status, request_id=request_id)
    if body.get("error") and not body.get("data"):
        raise on_error(response)
    caps = call.capabilities
    top = {key: body[key] for key in ("size", "quality", "background", "output_format") if body.get(key)}
    fmt = str(top.get("output_format") or call.output_format or caps.output_format_default or "")
    size = _reported_size(top.get("size"), call)
    expires = None
    if caps.url_ttl_seconds:
        expires = response_time(response) + dt.timedelta(seconds=caps.url_ttl_seconds)
    images: list[GeneratedImage] = []
    errors: list[ProviderError] = []
    for item in body.get("data") or ():
        if not isinstance(item, dict):
            continue
        revised = item.get("revised_prompt") or call.prompt
        metadata: dict[str, Any] = {key: item[key] for key in keep if key in item} if keep else {}
        if top:
            metadata["response"] = dict(top)
        if item.get("b64_json"):
            encoded = item.pop("b64_json")  # dropped once decoded: a big answer is not held twice
            if payloads and isinstance(encoded, str):
                encoded = payloads.get(encoded, encoded)
            raw = _decode(encoded, adapter, call, response.status, request_id)
            images.append(GeneratedImage.from_bytes(raw, revised, media_type=_MEDIA_TYPES.get(fmt),
                                                    reported_size=size, metadata=metadata))
        elif item.get("url"):
            images.append(GeneratedImage(url=item["url"], revised_prompt=revised, reported_size=size,
                                         expires_at=expires, metadata=metadata))
        elif filtered is not None and (error := filtered(item)) is not None:
            errors.append(error)
    if not images:
        if errors:
            raise errors[0]
        raise ProviderError("the provider answered without any image (no data[].url or data[].b64_json)",
                            adapter=adapter, model=call.model, status=response.status, request_id=request_id,
                            body=body)
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else None
    cost = usage_cost(usage, caps.token_prices) if usage else None
    return Images(images=images, request_id=request_id, usage=usage, cost_usd=cost, errors=errors)


def _reported_size(reported: Any, call: PreparedRequest) -> str | None:
    for candidate in (reported, call.size, call.capabilities.size.default):
        if isinstance(candidate, str) and _is_pixel_size(candidate):
            return candidate
    return None


@functools.lru_cache(maxsize=256)
def _is_pixel_size(value: str) -> bool:
    return _SIZE.match(value) is not None


# -- reading big base64 answers without copies -------------------------------------------------------------
_B64_VALUE = re.compile(rb'"b64_json"\s*:\s*"')
_SPLIT_FROM = 64 * 1024  # smaller bodies are parsed in one json.loads: splitting would cost more than it saves
# A cut-out value becomes "\u0000imgsdk-b64-N" in the copy that is parsed: a provider's own value cannot
# read the same without a backslash, and a value holding a backslash is never cut out.
_TOKEN = "\x00imgsdk-b64-{}"


def _read_body(response: WireResponse) -> tuple[Any, dict[str, memoryview]]:
    """The JSON body, with each big ``b64_json`` value cut out and kept as a slice of the response bytes.

    Why: ``json.loads`` turns a 5.3 MiB base64 value (one 4 MiB image) into a 5.3 MiB ``str``, after making
    the whole document a ``str`` first, so parsing alone peaks at three copies of the answer. Here the
    values are found in the bytes (``"b64_json": "`` up to the closing quote), replaced by a short token
    in a small copy of the rest, which ``json.loads`` parses; each token maps to a zero-copy
    ``memoryview`` of its value, which :func:`_decode` decodes directly. A value holding a backslash (an
    escaped ``\\/``), or an answer whose tokens do not all land at ``data[i].b64_json``, is parsed the
    plain way instead, so the result is always exactly what ``json.loads`` of the whole body would give.
    """
    content = response.content
    if len(content) < _SPLIT_FROM:
        return response.json(), {}
    pieces: list[bytes] = []
    payloads: dict[str, memoryview] = {}
    view = memoryview(content)
    position = 0
    for match in _B64_VALUE.finditer(content):
        start = match.end()
        end = content.find(b'"', start)
        if end < 0 or content.find(b"\\", start, end) >= 0:
            return response.json(), {}
        if end == start:
            continue  # "" is no image: left as it is
        token = _TOKEN.format(len(payloads))
        pieces += [content[position:start], json.dumps(token)[1:-1].encode()]
        payloads[token] = view[start:end]
        position = end
    if not payloads:
        return response.json(), {}
    pieces.append(content[position:])
    try:
        body = json.loads(b"".join(pieces))
    except ValueError:
        return response.json(), {}
    items = body.get("data") if isinstance(body, dict) else None
    found = [item.get("b64_json") for item in items or () if isinstance(item, dict)]
    if sorted(value for value in found if isinstance(value, str) and value in payloads) != sorted(payloads):
        return response.json(), {}  # a token elsewhere (a nested "b64_json" key): read it the plain way
    return body, payloads


def _decode(text: Any, adapter: str, call: PreparedRequest, status: int,
            request_id: str | None) -> bytes:
    """Base64 → bytes, refusing anything but the base64 alphabet and correct padding.

    ``binascii.a2b_base64(strict_mode=True)`` reads a str (ASCII) or a buffer as it is, where
    ``base64.b64decode(validate=True)`` first copies the text to bytes. A value that is not text at all (a
    number, a list) is refused the same way.
    """
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError, TypeError) as error:
        raise ProviderError("data[].b64_json is not valid base64", adapter=adapter, model=call.model,
                            status=status, request_id=request_id) from error


def usage_cost(usage: Mapping[str, Any], prices: TokenPrices | None) -> float | None:
    """USD for a GPT-image ``usage`` block at per-million-token ``prices``; None when a price is missing.

    Input tokens split into text and image ([OAI-SPEC] ``input_tokens_details``); output tokens are image
    tokens unless ``output_tokens_details`` says some are text (no text-output price is declared: None).
    """
    if prices is None:
        return None
    details = usage.get("input_tokens_details") or {}
    output_details = usage.get("output_tokens_details") or {}
    parts = (
        (details.get("text_tokens", usage.get("input_tokens", 0) if not details else 0), prices.text_input),
        (details.get("image_tokens", 0), prices.image_input),
        (output_details.get("image_tokens", usage.get("output_tokens", 0)), prices.image_output),
        (output_details.get("text_tokens", 0), None),
    )
    total = 0.0
    for tokens, price in parts:
        if not isinstance(tokens, int) or tokens <= 0:
            continue
        if price is None:
            return None  # never a guess
        total += tokens * price / 1_000_000
    return round(total, 6)
