"""Fallbacks: when a provider cannot serve, the next profile in ``fallbacks`` gets the user's original request.

::

    [providers.hero]
    model = "openai:gpt-image-2"
    fallbacks = ["stability-core", "local"]

Which failures move on (after the engine's retries are spent): an outage (:class:`ServiceUnavailableError`,
:class:`ProviderTimeoutError`), an exhausted quota (:class:`QuotaExceededError`), a rate limit that outlasted the
engine's patience (:class:`RateLimitError`: the paced waits are used up, or the provider asked to come back
later than ``max_retry_after``), and a model that is gone (:class:`ModelRetiredError`,
:class:`ModelUnavailableError`). A :class:`ContentPolicyError` does not — the
next provider would be asked to make what one moderation already refused — unless the profile says
``fallback_on_content_policy = true``. Anything else (a bad key, an invalid request) is the user's to fix and
is raised as is.

The fallback is planned afresh: the user's request *before* the first profile's defaults, through the
fallback's own capabilities and profile (:func:`imgsdk.planning.plan`), so an option it lacks is dropped with
its own warning — never forwarded. A ``RequestWarning(code="fallback")`` says who failed, why, and who served.
"""

from __future__ import annotations

from .config import Config, Profile
from .errors import (
    ContentPolicyError,
    ImgSDKError,
    ModelRetiredError,
    ModelUnavailableError,
    ProviderTimeoutError,
    QuotaExceededError,
    RateLimitError,
    ServiceUnavailableError,
)
from .request import RequestWarning

__all__ = ["FALLBACK_ERRORS", "fallback_warning", "fallbacks_of", "should_fall_back"]

#: Errors that make the next profile worth trying.
FALLBACK_ERRORS: tuple[type[ImgSDKError], ...] = (
    ServiceUnavailableError, ProviderTimeoutError, QuotaExceededError, RateLimitError, ModelRetiredError,
    ModelUnavailableError)


def should_fall_back(error: BaseException, profile: Profile | None) -> bool:
    """Whether ``error`` (from the profile that failed) lets the next fallback try.

    Not when contact was lost with a job that was submitted and may still finish (``error.job``: a rate limit,
    an outage or a timeout while polling): the next provider would be paid for the same image, and the job can
    be resumed. A job whose deadline passed and that the provider was asked to cancel does fall back.
    """
    if getattr(error, "job", None) is not None and not getattr(error, "job_cancelled", False):
        return False
    if isinstance(error, ContentPolicyError):
        return bool(profile and profile.fallback_on_content_policy)
    return isinstance(error, FALLBACK_ERRORS)


def fallbacks_of(provider: str | None, profile: Profile | None, config: Config) -> tuple[str, ...]:
    """The fallback list of the profile the user asked for (the default profile when none was named)."""
    if profile is None:
        name = provider if provider is not None else config.default
        profile = config.profiles.get(name) if name else None
    return profile.fallbacks if profile else ()


def fallback_warning(failed: str, error: BaseException, served: str) -> RequestWarning:
    """The warning on a result a fallback served."""
    reason = f"{type(error).__name__}: {str(error)[:200]}"
    return RequestWarning("fallback", "provider", failed, served,
                          f"{failed} could not serve the request ({reason}); served by {served} instead")
