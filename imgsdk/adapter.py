"""The contract between the core and an adapter.

An adapter is a *sans-I/O translator*: it declares models (:class:`~imgsdk.capabilities.ModelCapabilities`),
builds :class:`WireRequest` objects from a :class:`~imgsdk.request.PreparedRequest`, and parses
:class:`WireResponse` objects into :class:`Images` (done) or :class:`Pending` (a job to poll). It never sends,
sleeps, retries or polls: the core does that once, for sync and async, for every adapter.

Adapters are found through the entry-point group ``imgsdk.adapters``; a third-party package registers the
same way ours do::

    [project.entry-points."imgsdk.adapters"]
    myprovider = "my_package.adapter:MyAdapter"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .capabilities import ModelCapabilities, SizeSpec
from .errors import (
    AuthenticationError,
    ModelUnavailableError,
    PermissionDeniedError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    RequestRejectedError,
    ServiceUnavailableError,
)
from .request import PreparedRequest
from .wire import Endpoint, Images, JobHandle, Pending, Secret, WireRequest, WireResponse

__all__ = ["Adapter", "Endpoint", "Images", "JobHandle", "Pending", "Secret", "WireRequest", "WireResponse"]


Outcome = Images | Pending


class Adapter:
    """Base class for adapters. Subclasses set the class variables and override the translators.

    Class variables:

    - ``name``: the prefix in ``"adapter:model"`` (and the entry-point name).
    - ``label``: a human name ("OpenAI").
    - ``default_base_url``: the public API root, or None when the user must give one.
    - ``key_env``: environment variables searched for a key, in order.
    - ``key_required``: whether a call without a key is refused before the network.
    - ``default_model``: the model used when a profile names only the adapter.
    - ``profile_keys``: extra profile keys this adapter reads into ``Endpoint.settings``, with help text.
    - ``secret_headers``: request headers that carry credentials (scrubbed from logs and cassettes).
    - ``secret_settings``: profile keys that hold secrets besides ``api_key`` (a password), redacted likewise.
    - ``trusted_hosts``: hosts (and their subdomains) besides ``base_url``'s that may receive credentials, e.g.
      the provider's own polling hosts. The engine strips ``secret_headers`` from any other request.
    - ``post_retry_statuses``: statuses on which a POST may be retried (``None``: the core's rule). Setting it
      also stops the engine from re-sending a POST after a connection broke mid-request: submit-and-poll
      providers set it, because a re-sent submit is a second paid job.
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    default_base_url: ClassVar[str | None] = None
    key_env: ClassVar[tuple[str, ...]] = ()
    key_required: ClassVar[bool] = True
    default_model: ClassVar[str | None] = None
    profile_keys: ClassVar[Mapping[str, str]] = {}
    secret_headers: ClassVar[tuple[str, ...]] = ("authorization",)
    secret_settings: ClassVar[tuple[str, ...]] = ()
    trusted_hosts: ClassVar[tuple[str, ...]] = ()
    post_retry_statuses: ClassVar[frozenset[int] | None] = None

    # -- declarations -------------------------------------------------------------------------------
    def catalogue(self) -> Mapping[str, ModelCapabilities]:
        """Every model this adapter knows, by id."""
        return {}

    def capabilities(self, model: str, settings: Mapping[str, Any]) -> ModelCapabilities | None:
        """The declaration for ``model`` (``settings`` lets e.g. Azure map a deployment to a family)."""
        return self.catalogue().get(model)

    def permissive_capabilities(self, model: str) -> ModelCapabilities:
        """What an unknown model is assumed to accept when the user allows unknown models: everything."""
        return ModelCapabilities(
            model=model, size=SizeSpec(mode="free"), max_images=10, seed=True, negative_prompt=True,
            output_formats=("png", "jpeg", "webp"), output_format_default=None, user_field=True,
            seed_range=(-(2**63), 2**63 - 1), declared_by="permissive")

    def non_image_model(self, model: str) -> bool:
        """True when ``model`` is known *not* to generate images (a chat model set by mistake)."""
        return False

    # -- translation ----------------------------------------------------------------------------------
    def build_request(self, call: PreparedRequest, endpoint: Endpoint) -> WireRequest:
        raise NotImplementedError

    def parse_response(self, response: WireResponse, call: PreparedRequest) -> Outcome:
        raise NotImplementedError

    def poll_request(self, handle: JobHandle, endpoint: Endpoint) -> WireRequest:
        raise NotImplementedError(f"{self.name} does not poll")

    def parse_poll(self, response: WireResponse, handle: JobHandle, call: PreparedRequest | None) -> Outcome:
        raise NotImplementedError(f"{self.name} does not poll")

    def cancel_request(self, handle: JobHandle, endpoint: Endpoint) -> WireRequest | list[WireRequest] | None:
        """The request(s) that cancel a job, sent in order; None when the provider cannot cancel."""
        return None

    def credentials(self, endpoint: Endpoint) -> list[str]:
        """Credentials as this adapter puts them on the wire when they differ from the key itself (a Basic
        token), so the client redacts them too when a provider quotes them back."""
        return []

    def auth_headers(self, endpoint: Endpoint) -> dict[str, str]:
        """Credentials for GETs of the provider's own image URLs (ComfyUI ``/view`` behind a token proxy).

        Sent only to URLs under ``endpoint.base_url``; signed URLs on other origins never get a key.
        """
        return {}

    def fit_to_deadline(self, request: WireRequest, seconds_left: float) -> WireRequest:
        """``request`` made to answer within ``seconds_left`` (the call's deadline), called before each send.

        For requests the server may hold open (a long-poll such as Replicate's ``Prefer: wait``): the server
        must answer before the client's read timeout, or a job that was created and paid for is lost with the
        timed-out request. Default: the request as it is.
        """
        return request

    def serve(self, request: WireRequest) -> WireResponse | None:
        """In-process answer for offline adapters (the local renderer); None means "use the network"."""
        return None

    def is_retryable(self, response: WireResponse) -> bool:
        """Whether an error response is worth retrying. Default: 408, 409, 429 (not quota), 5xx."""
        if response.status == 429:
            return not isinstance(self.parse_error(response, None), QuotaExceededError)
        return response.status in (408, 409) or response.status >= 500

    def parse_error(self, response: WireResponse, call: PreparedRequest | None) -> ProviderError:
        """Map an error response to the typed hierarchy. Adapters override to read their error bodies."""
        return error_for_status(response, self.name, call.model if call else None,
                                message=f"{self.label or self.name} answered HTTP {response.status}",
                                request_id=self.request_id(response))

    def request_id(self, response: WireResponse) -> str | None:
        for name in ("x-request-id", "request-id", "apim-request-id", "x-amzn-requestid", "cf-ray"):
            if value := response.header(name):
                return value
        return None


def error_for_status(response: WireResponse, adapter: str, model: str | None, *, message: str,
                     code: str | None = None, body: Any = None, request_id: str | None = None) -> ProviderError:
    """The typed error for an HTTP status, for adapters that have already read message and code.

    ``request_id`` defaults to the usual headers; adapters with their own (a body ``id``, ``cf-ray``) pass it.
    """
    for name in ("x-request-id", "request-id", "apim-request-id", "cf-ray"):
        request_id = request_id or response.header(name)
    context: dict[str, Any] = dict(adapter=adapter, model=model, status=response.status,
                                   request_id=request_id, code=code, body=body)
    status = response.status
    if status == 401:
        return AuthenticationError(message, **context)
    if status == 402:
        return QuotaExceededError(message, **context)
    if status == 403:
        return PermissionDeniedError(message, **context)
    if status == 404 and model:
        return ModelUnavailableError(message, **context)
    if status == 429:
        return RateLimitError(message, retry_after=_retry_after_hint(response), **context)
    if status in (400, 404, 409, 413, 415, 422):
        return RequestRejectedError(message, **context)
    if status >= 500:
        return ServiceUnavailableError(message, **context)
    return ProviderError(message, **context)


def _retry_after_hint(response: WireResponse) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = response.header(name)
        if value:
            try:
                return float(value) * scale
            except ValueError:
                continue
    return None


# Kept for adapters written against the first drafts; use the public names in imgsdk.errors.
_BadRequest = RequestRejectedError
_ModelNotFound = ModelUnavailableError
