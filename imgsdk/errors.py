"""Every error imgsdk raises, as one tree.

::

    ImgSDKError                      root: catch this to catch everything imgsdk raises
    ├── ConfigError                  a config file, profile, env reference or adapter name is wrong
    ├── InvalidRequestError          the request cannot be sent as asked (no network call was made,
    │   │                            or the provider answered 400/404/422 about the request itself)
    │   ├── UnsupportedOptionError   strict mode: an option would have been dropped, adapted or translated
    │   ├── ModelNotFoundError       the model id is unknown, or is not an image model
    │   │   └── ModelUnavailableError   (also a ProviderError) the provider answered 404 for the model
    │   ├── ModelRetiredError        the model is shut down on the service it would be sent to
    │   └── RequestRejectedError     (also a ProviderError) the provider refused the request as invalid
    └── ProviderError                the provider answered with an error (status, body, request id)
        ├── AuthenticationError      401: the key is missing, wrong or expired
        ├── PermissionDeniedError    403: the key may not use this model, region or feature
        ├── RateLimitError           429 that is worth retrying later (``retry_after`` seconds)
        ├── QuotaExceededError       out of credits / billing quota: retrying will not help
        ├── ContentPolicyError       moderation refused the prompt (stage "input") or the image ("output")
        ├── ImageExpiredError        a provider URL was fetched after it expired
        ├── DownloadRefusedError     an image URL was refused (unsafe address or scheme, too large, not an image)
        ├── ProviderTimeoutError     no answer (or no finished job) before the deadline
        └── ServiceUnavailableError  5xx / connection failures that survived every retry

Each error's ``str()`` says what was wrong, what is allowed, and how to fix it. Provider errors also carry
``adapter``, ``model``, ``status``, ``request_id`` and ``body``; none of them ever contains an API key
(the client redacts known secrets from bodies and messages before an error is built).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "ContentPolicyError",
    "DownloadRefusedError",
    "ImageExpiredError",
    "ImgSDKError",
    "InvalidRequestError",
    "ModelNotFoundError",
    "ModelRetiredError",
    "ModelUnavailableError",
    "PermissionDeniedError",
    "ProviderError",
    "ProviderTimeoutError",
    "QuotaExceededError",
    "RateLimitError",
    "RequestRejectedError",
    "ServiceUnavailableError",
    "UnsupportedOptionError",
]


class ImgSDKError(Exception):
    """Root of every imgsdk error."""

    #: Which CLI exit code this family maps to: 2 usage/config/request, 3 refused, 4 transient.
    exit_code: int = 2


class ConfigError(ImgSDKError):
    """A configuration problem: names the file, the key (or line) and what was expected."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        where = ", ".join(part for part in (path, f"key {key!r}" if key else None) if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.key = key


class InvalidRequestError(ImgSDKError):
    """The request is malformed or asks for something the model cannot do."""

    def __init__(self, message: str, *, option: str | None = None, adapter: str | None = None,
                 model: str | None = None) -> None:
        super().__init__(message)
        self.option = option
        self.adapter = adapter
        self.model = model


class UnsupportedOptionError(InvalidRequestError):
    """Strict mode: the option's value would not reach the model as asked.

    ``option`` is the request field, ``value`` what the user asked for, ``allowed`` what the model accepts.
    """

    def __init__(self, message: str, *, option: str, value: Any, allowed: Any = None,
                 adapter: str | None = None, model: str | None = None) -> None:
        super().__init__(message, option=option, adapter=adapter, model=model)
        self.value = value
        self.allowed = allowed


class ModelNotFoundError(InvalidRequestError):
    """The adapter does not know the model, or the model cannot generate images."""

    def __init__(self, message: str, *, adapter: str | None = None, model: str | None = None,
                 suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message, adapter=adapter, model=model)
        self.suggestions = suggestions


class ModelRetiredError(InvalidRequestError):
    """The model was shut down on this service; ``replacement`` names what replaced it."""

    def __init__(self, message: str, *, adapter: str | None = None, model: str | None = None,
                 shutdown: str | None = None, replacement: str | None = None) -> None:
        super().__init__(message, adapter=adapter, model=model)
        self.shutdown = shutdown
        self.replacement = replacement


class ProviderError(ImgSDKError):
    """The provider answered with an error, or could not be reached.

    ``status`` is the HTTP status (None for transport failures), ``body`` the parsed error body (redacted),
    ``request_id`` the provider's request id when it sent one, ``code`` the provider's error code or name.
    ``job`` is the :class:`~imgsdk.adapter.JobHandle` of a submitted (paid) job that was still running when
    contact was lost (polling hit a rate limit, an outage or the deadline): ``client.resume(error.job)``
    finishes it without paying again. None otherwise. ``job_cancelled``: the deadline passed and the provider
    accepted to cancel the job. ``jobs``: every such job of the request, when several calls of a fan-out lost
    contact with theirs (``job`` is the first). ``settled``: the provider's final word (not retryable), as
    opposed to a failure that outlasted the retries.
    """

    exit_code = 4
    job: Any = None
    job_cancelled: bool = False
    jobs: tuple[Any, ...] = ()
    settled: bool = False

    def __init__(self, message: str, *, adapter: str | None = None, model: str | None = None,
                 status: int | None = None, request_id: str | None = None, code: str | None = None,
                 body: Any = None) -> None:
        self.detail = message
        self.adapter = adapter
        self.model = model
        self.status = status
        self.request_id = request_id
        self.code = code
        self.body = body
        # Not super(): in the mixed classes (a 400 that is also an InvalidRequestError) the other parent's
        # __init__ would reset adapter/model; Exception's own __init__ only stores the message.
        ImgSDKError.__init__(self, self._format())

    def _format(self) -> str:
        context = [(f"{self.adapter}:{self.model}" if self.model else self.adapter) if self.adapter else None,
                   f"HTTP {self.status}" if self.status is not None else None,
                   f"code {self.code}" if self.code else None,
                   f"request id {self.request_id}" if self.request_id else None]
        where = ", ".join(part for part in context if part)
        return f"{self.detail} [{where}]" if where else self.detail


class AuthenticationError(ProviderError):
    """401: the API key is missing, invalid or expired."""

    exit_code = 3


class PermissionDeniedError(ProviderError):
    """403: the key is valid but may not do this (model access, region, organisation)."""

    exit_code = 3


class RateLimitError(ProviderError):
    """429 after every retry; ``retry_after`` is the provider's hint in seconds, if it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **context: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **context)


class QuotaExceededError(ProviderError):
    """Out of credits or over the billing quota (OpenAI ``insufficient_quota``, HTTP 402): never retried."""

    exit_code = 3


class ContentPolicyError(ProviderError):
    """The provider's moderation refused the request.

    ``stage`` is ``"input"`` (the prompt was refused) or ``"output"`` (the generated image was withheld), or
    None when the provider does not say; ``reason`` is the provider's own reason (code, categories or text).
    """

    exit_code = 3

    def __init__(self, message: str, *, stage: str | None = None, reason: str | None = None,
                 **context: Any) -> None:
        self.stage = stage
        self.reason = reason
        super().__init__(message, **context)


class ImageExpiredError(ProviderError):
    """A temporary provider URL was fetched after it expired (``expired_at``, ISO 8601, when known)."""

    exit_code = 3

    def __init__(self, message: str, *, expired_at: str | None = None, **context: Any) -> None:
        self.expired_at = expired_at
        super().__init__(message, **context)


class ProviderTimeoutError(ProviderError):
    """The provider did not answer, or the job did not finish, before the deadline."""


class ServiceUnavailableError(ProviderError):
    """5xx answers or connection failures that outlasted every retry."""


class RequestRejectedError(ProviderError, InvalidRequestError):
    """The provider answered that the request itself is invalid (400/404/409/413/415/422 or an equivalent).

    Both a :class:`ProviderError` (status, body, request id) and an :class:`InvalidRequestError`: fix the
    request, retrying it unchanged will not help.
    """

    exit_code = 2
    option: str | None = None


class ModelUnavailableError(ProviderError, ModelNotFoundError):
    """The provider answered 404 for the model: it does not serve it (any more, or to this key)."""

    exit_code = 2
    option: str | None = None
    suggestions: tuple[str, ...] = ()


class DownloadRefusedError(ProviderError):
    """A provider URL was refused before or while downloading it (unsafe address or scheme, too large, not
    an image). Not retried: the same URL would be refused again."""

    exit_code = 3
