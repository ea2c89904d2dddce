"""Credentials out of cassettes: every request and response is cleaned *before* vcrpy stores it.

What is removed (replaced by ``REDACTED``), in requests and responses alike:

- credential headers: ``authorization`` (Bearer, ``Key ...`` for fal, ``Basic ...`` for AUTOMATIC1111's
  ``--api-auth``), ``api-key`` (Azure), ``x-key`` (BFL), ``x-goog-api-key`` (Google), ``x-api-key``, cookies, the
  OpenAI organisation and project headers, plus every ``secret_headers`` entry of every installed adapter;
- request ids (``x-request-id``, ``apim-request-id``, ``cf-ray``...): they identify an account's traffic;
- query parameters named like a secret (``key=``, ``api_key=``, ``token=``, ``sig=``, ``signature=``...) and
  ``user:password@`` in URLs, in the request URL and in every URL a body carries (signed download links);
- JSON fields named like a secret (``api_key``, ``password``, ``webhook_secret``, ``token``...);
- anything shaped like a provider key (``sk-...``, ``AIza...``, ``r8_...``, ``xai-...``, ``Bearer ...``) in any
  text body, and every *known* secret wherever it appears: the values the credential headers carried and the
  keys found in the environment (each adapter's ``key_env``, ``*_API_KEY``, ``*_TOKEN``...), since providers echo
  keys back in error messages.

vcrpy applies the request half to live requests too before matching them, so a cleaned recording still matches.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from .images import boundary_of, join_multipart, shrink_image, shrink_json, split_multipart

__all__ = ["CREDENTIAL_HEADERS", "REQUEST_ID_HEADERS", "SCRUBBED", "SECRET_PATTERNS", "Scrubber",
           "environment_secrets", "redact_url"]

SCRUBBED = "REDACTED"
CREDENTIAL_HEADERS = frozenset({
    "authorization", "proxy-authorization", "api-key", "x-api-key", "x-key", "x-goog-api-key", "cookie",
    "set-cookie", "openai-organization", "openai-project", "ocp-apim-subscription-key", "x-auth-token"})
REQUEST_ID_HEADERS = frozenset({
    "x-request-id", "request-id", "apim-request-id", "x-ms-request-id", "x-ms-client-request-id",
    "x-amzn-requestid", "x-amz-request-id", "x-amz-id-2", "cf-ray", "x-fal-request-id", "x-trace-id",
    "x-cloud-trace-context", "x-goog-request-id"})
#: Names (JSON fields, query parameters) whose values are secrets.
SECRET_NAME = re.compile(r"(?:^|[_-])(?:api[_-]?key|apikey|key|secret|password|passwd|token|sig|signature|"
                         r"credentials?|x-amz-credential)$", re.IGNORECASE)
#: Shapes of credentials: (what it is, pattern whose ``secret`` group is the credential itself).
SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((label, re.compile(pattern)) for label, pattern in (
    ("an OpenAI/Stability-style key (sk-...)", r"\b(?P<secret>sk-[A-Za-z0-9_-]{16,})"),
    ("a bearer token", r"\bBearer\s+(?P<secret>(?!REDACTED\b)[A-Za-z0-9._~+/=-]{12,})"),
    ("HTTP basic credentials", r"\bBasic\s+(?P<secret>(?!REDACTED\b)[A-Za-z0-9+/]{8,}={0,2})"),
    ("a fal key (Key ...)", r"\bKey\s+(?P<secret>(?!REDACTED\b)[A-Za-z0-9:_-]{16,})"),
    ("a Google API key (AIza...)", r"\b(?P<secret>AIza[0-9A-Za-z_-]{30,})"),
    ("a Replicate token (r8_...)", r"\b(?P<secret>r8_[A-Za-z0-9]{20,})"),
    ("an xAI key (xai-...)", r"\b(?P<secret>xai-[A-Za-z0-9]{20,})"),
    ("a Together key (tgp_...)", r"\b(?P<secret>tgp_v\d_[A-Za-z0-9_-]{20,})"),
    ("an AWS access key id", r"\b(?P<secret>AKIA[0-9A-Z]{16})\b"),
    ("a key id:secret pair", r"\b(?P<secret>[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}:[0-9a-f]{32})\b"),
    ("credentials in a URL", r"://(?P<secret>[^/\s:@\"']+:[^/\s@\"']+)@"),
    ("a secret query parameter",
     r"(?i)[?&](?:api[_-]?key|apikey|key|token|access_token|sig|signature|x-amz-signature|x-amz-credential|"
     r"password)=(?P<secret>(?!REDACTED\b)[^&\s\"'#]{6,})"),
))
_ENV_NAME = re.compile(r"(?:API_KEY|API_TOKEN|_TOKEN|_KEY|_SECRET|PASSWORD)$")
_SHORTEST_SECRET = 8  # shorter "secrets" would replace ordinary words


def environment_secrets() -> list[str]:
    """Keys in the environment: every installed adapter's ``key_env`` plus ``*_API_KEY``-style variables."""
    names = {name for name in os.environ if _ENV_NAME.search(name)}
    try:
        from imgsdk.registry import adapter_names, get_adapter

        for adapter_name in adapter_names():
            try:
                names.update(get_adapter(adapter_name).key_env)
            except Exception:  # an adapter whose extra is missing has no key to scrub
                continue
    except ImportError:  # pragma: no cover - imgsdk is always importable here
        pass
    return [os.environ[name] for name in sorted(names) if len(os.environ.get(name, "")) >= 12]


def adapter_secret_headers() -> set[str]:
    """The ``secret_headers`` every installed adapter declares."""
    from imgsdk.registry import adapter_names, get_adapter

    found: set[str] = set()
    for name in adapter_names():
        try:
            found.update(header.lower() for header in get_adapter(name).secret_headers)
        except Exception:
            continue
    return found


def redact_url(url: str, known: Iterable[str] = ()) -> str:
    """``url`` with secret query values, ``user:password@`` and known secrets replaced."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{SCRUBBED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(SECRET_NAME.search(name) and value for name, value in pairs):
            query = "&".join(f"{quote(name, safe='')}="
                             f"{SCRUBBED if SECRET_NAME.search(name) and value else quote(value, safe='')}"
                             for name, value in pairs)
    text = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    for secret in sorted(known, key=len, reverse=True):
        text = text.replace(secret, SCRUBBED)
    return text


class Scrubber:
    """The ``before_record_request`` / ``before_record_response`` pair of one VCR configuration.

    It learns the secrets each request's credential headers carry, so an echo of them in a later body is
    removed too. ``extra_secrets`` adds values to remove everywhere (the canary keys of a test, say).
    """

    def __init__(self, extra_secrets: Iterable[str] = (), secret_headers: Iterable[str] = ()) -> None:
        self.headers = CREDENTIAL_HEADERS | {name.lower() for name in secret_headers}
        self._secrets = {secret for secret in extra_secrets if len(secret) >= _SHORTEST_SECRET}
        self._lock = threading.Lock()

    def __deepcopy__(self, memo: dict[int, Any]) -> Scrubber:
        """One scrubber per configuration: pytest-recording deep-copies ``vcr_config``, and the secrets learnt
        while recording must stay in the hooks vcrpy calls."""
        return self

    @property
    def secrets(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._secrets)

    def learn(self, header_value: str) -> None:
        """Remember the secret inside a credential header (``Bearer x``, ``Key x``, ``Basic b64``, ``x``)."""
        value = header_value.strip()
        found = {value}
        scheme, _, rest = value.partition(" ")
        if rest and scheme.lower() in ("bearer", "key", "basic", "token"):
            found.add(rest.strip())
            if scheme.lower() == "basic":
                try:
                    decoded = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
                    found.update({decoded, decoded.partition(":")[2]})
                except (binascii.Error, ValueError):
                    pass
        with self._lock:
            self._secrets.update(s for s in found if len(s) >= _SHORTEST_SECRET and s != SCRUBBED)

    # -- text and data ----------------------------------------------------------------------------------
    def text(self, value: str) -> str:
        """Known secrets, key-shaped tokens and secret URL parameters replaced."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            value = value.replace(secret, SCRUBBED)
        for _, pattern in SECRET_PATTERNS:
            value = pattern.sub(lambda match: _replace_group(match, "secret"), value)
        return value

    def data(self, value: Any) -> Any:
        """A JSON value with secret-named fields and every string scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: SCRUBBED if isinstance(key, str) and SECRET_NAME.search(key) and isinstance(item, str)
                    and item else self.data(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.data(item) for item in value]
        return value

    def body(self, body: bytes | None, content_type: str | None) -> bytes | None:
        """A body with images shrunk and secrets removed: JSON as data, multipart part by part, text as text.

        Returns the same object when nothing changed (so untouched bodies keep their exact bytes).
        """
        if not body:
            return body
        if (tiny := shrink_image(body)) is not None:
            return tiny
        boundary = boundary_of(body, content_type) if body.startswith(b"--") else None
        parts = split_multipart(body, boundary) if boundary is not None else None
        if boundary is not None and parts is not None:
            cleaned_parts = [(head, shrink_image(content) or self._text_bytes(content)) for head, content in parts]
            return body if cleaned_parts == parts else join_multipart(cleaned_parts, boundary)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return body  # a binary payload that is no image we know: nothing to read
        if text.lstrip()[:1] in ("{", "["):
            try:
                value = json.loads(text)
            except ValueError:
                pass
            else:
                shrunk, _ = shrink_json(value)
                cleaned = self.data(shrunk)
                return body if cleaned == value else json.dumps(cleaned, ensure_ascii=False).encode("utf-8")
        return self._text_bytes(body)

    def _text_bytes(self, content: bytes) -> bytes:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            return content
        cleaned = self.text(text)
        return content if cleaned == text else cleaned.encode("utf-8")

    # -- vcrpy hooks ------------------------------------------------------------------------------------
    def request(self, request: Any) -> Any:
        """vcrpy ``before_record_request``: headers, URL and body of one (already copied) request."""
        headers = request.headers
        for name in list(headers):
            if name.lower() in self.headers:
                value = headers[name]
                for item in value if isinstance(value, list) else [value]:
                    self.learn(str(item))
                headers[name] = SCRUBBED
        request.uri = redact_url(request.uri, self.secrets)
        content_type = headers.get("content-type") or headers.get("Content-Type")
        body = request.body
        if isinstance(body, bytes | bytearray):
            cleaned = self.body(bytes(body), content_type)
            if cleaned != body:
                request.body = cleaned
                _set_length(headers, cleaned)
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        """vcrpy ``before_record_response``: headers and body of one recorded response (a dict)."""
        headers: dict[str, Any] = response.get("headers") or {}
        for name in list(headers):
            lowered = name.lower()
            if lowered in self.headers or lowered in REQUEST_ID_HEADERS:
                headers[name] = [SCRUBBED]
            else:
                headers[name] = [self.text(str(value)) for value in _as_list(headers[name])]
        body = response.get("body") or {}
        raw = body.get("string")
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        if isinstance(raw, bytes | bytearray) and raw:
            content_type = next((str(_as_list(value)[0]) for name, value in headers.items()
                                 if name.lower() == "content-type" and _as_list(value)), None)
            cleaned = self.body(bytes(raw), content_type)
            if cleaned != raw:
                body["string"] = cleaned
                _set_length(headers, cleaned or b"", listed=True)
        return response


def _replace_group(match: re.Match[str], group: str) -> str:
    start, end = match.span(group)
    whole_start = match.start()
    text = match.group(0)
    return text[: start - whole_start] + SCRUBBED + text[end - whole_start:]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _set_length(headers: Any, body: bytes | None, listed: bool = False) -> None:
    for name in list(headers):
        if name.lower() == "content-length":
            length = str(len(body or b""))
            headers[name] = [length] if listed else length
