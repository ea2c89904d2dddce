"""HTTP as data, and the other values that cross the adapter boundary.

Adapters build :class:`WireRequest` objects and parse :class:`WireResponse` objects; they return
:class:`Images` (done) or :class:`Pending` (a job to poll, with its :class:`JobHandle`). None of these types
does any I/O, so adapters stay testable by plain equality on data. Credentials travel as :class:`Secret`.
"""

from __future__ import annotations

import json as _json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ProviderError
from .request import RequestWarning
from .result import GeneratedImage

__all__ = ["Endpoint", "Images", "JobHandle", "Pending", "Secret", "WireRequest", "WireResponse"]


class Secret:
    """An API key or token that never shows itself in a repr, a log line or an exception."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        """The secret itself, for building a header."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how to reach the provider, resolved from a profile.

    - ``base_url``: the API root, without a trailing slash.
    - ``api_key``: the key, if any (a :class:`Secret`).
    - ``token_provider``: a callable returning a fresh bearer token (Azure Entra ID), used instead of a key.
    - ``default_service``: True when ``base_url`` is the adapter's own public service, where lifecycle
      (shut-down models) applies.
    - ``settings``: adapter-specific profile keys (Azure ``deployment`` and ``api_version``, a ComfyUI
      workflow...), as given in config.
    """

    base_url: str
    api_key: Secret | None = None
    token_provider: Callable[[], str] | None = None
    default_service: bool = True
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"Endpoint(base_url={self.base_url!r}, api_key={'set' if self.api_key else None}, "
                f"default_service={self.default_service})")


#: Headers that carry credentials in any adapter; their values never appear in a repr.
CREDENTIAL_HEADER_NAMES = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key", "x-key",
                                     "x-goog-api-key", "cookie"})


@dataclass(slots=True)
class WireRequest:
    """One HTTP request, as data. Exactly one of ``json``, ``form`` (multipart fields) or ``content``.

    ``files`` adds multipart file parts ``{name: (filename, bytes, content_type)}``; ``form`` alone is still
    sent as multipart when ``multipart`` is True (Stability wants multipart even without a file).
    """

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    form: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    content: bytes | None = None
    multipart: bool = False

    def __repr__(self) -> str:
        # Never print a credential: a repr ends up in debuggers, logs and assertion messages.
        headers = {name: ("********" if name.lower() in CREDENTIAL_HEADER_NAMES else value)
                   for name, value in self.headers.items()}
        body = "json" if self.json is not None else "form" if self.form is not None else "content"
        return f"WireRequest(method={self.method!r}, url={self.url!r}, headers={headers!r}, body={body})"


@dataclass(slots=True)
class WireResponse:
    """One HTTP response, as data. ``headers`` keys are lower-case."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    url: str = ""

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return _json.loads(self.content)
        except (ValueError, UnicodeDecodeError):
            return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class JobHandle:
    """A submitted, paid-for job that can be polled, cancelled, serialised and resumed later.

    - ``adapter`` / ``model`` / ``job_id``: whose job it is.
    - ``data``: the adapter's own fields (poll URL, stage...); everything must be JSON-serialisable.
    - ``index`` / ``n`` / ``seed``: which call of a fan-out the job is — its position, its image count and its
      seed (``seed + index × images per call``). Set by the engine, not by adapters, so that resuming a
      fan-out after a crash can ask again for exactly the calls that were never submitted.
    - ``profile``: the config profile it was submitted through (set by the client), so that ``resume`` polls
      the profile's ``base_url`` with its key; None for ``adapter:model`` calls.
    """

    adapter: str
    model: str
    job_id: str
    data: Mapping[str, Any] = field(default_factory=dict)
    index: int = 0
    n: int = 1
    seed: int | None = None
    profile: str | None = None

    def to_json(self) -> str:
        return _json.dumps({"adapter": self.adapter, "model": self.model, "job_id": self.job_id,
                            "data": dict(self.data), "index": self.index, "n": self.n, "seed": self.seed,
                            "profile": self.profile}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JobHandle:
        raw = _json.loads(text)
        return cls(raw["adapter"], raw["model"], raw["job_id"], raw.get("data", {}), index=raw.get("index", 0),
                   n=raw.get("n", 1), seed=raw.get("seed"), profile=raw.get("profile"))


@dataclass(slots=True)
class Images:
    """A finished answer: the images, plus what the provider said about them."""

    images: list[GeneratedImage]
    request_id: str | None = None
    usage: Mapping[str, Any] | None = None
    cost_usd: float | None = None
    warnings: list[RequestWarning] = field(default_factory=list)
    errors: list[ProviderError] = field(default_factory=list)


@dataclass(slots=True)
class Pending:
    """A job still running: poll ``handle`` again after ``retry_after`` seconds (None: engine's backoff)."""

    handle: JobHandle
    retry_after: float | None = None
    progress: float | None = None
    queue_position: int | None = None
    status: str | None = None
