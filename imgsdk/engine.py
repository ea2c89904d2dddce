"""Send, retry and poll — written once, as generators, for sync and async alike. (Image downloads, with their
safety rules, are :mod:`imgsdk.download`'s generator, on the same :class:`Sleep` and backoff.)

Each operation here is a generator that *yields actions* (:class:`Send` a wire request, :class:`Sleep`) and
*receives* results (a :class:`~imgsdk.adapter.WireResponse` or a :class:`TransportFailure`). The sync client
drives it with a blocking httpx2 client and ``time.sleep``; the async client with an async httpx2 client and
``asyncio.sleep``. Everything else — the retry rule, Retry-After handling, the deadline, polling with capped
backoff, cancel on timeout, never re-submitting a paid job — exists exactly once, here.

Backoff timing uses tenacity's strategies (``wait_exponential_jitter``) so the curve is the well-tested one.
"""

from __future__ import annotations

import email.utils
import functools
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace

from .adapter import Adapter, Endpoint, Images, JobHandle, Pending, WireRequest, WireResponse
from .errors import (
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServiceUnavailableError,
)
from .request import PreparedRequest

__all__ = ["RetrySettings", "Send", "Sleep", "TransportFailure", "generate_call", "resume_job"]


@dataclass(frozen=True, slots=True)
class Send:
    """Action: send ``request``; ``purpose`` is submit, poll, cancel or fetch (for logs and tests)."""

    request: WireRequest
    purpose: str
    #: Seconds left before the call's deadline: the driver caps this attempt's HTTP timeout at it.
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class Sleep:
    """Action: wait ``seconds`` (the driver's sleep is injectable, so tests and replays never wait)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class TransportFailure:
    """What the driver sends back when no response arrived. ``connected`` is False when the request
    certainly never reached the server (connect error), so even a POST may be retried safely."""

    error: Exception
    connected: bool
    timeout: bool = False


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """Retry and deadline knobs.

    - ``max_retries``: extra attempts after the first (openai-python's default is 2).
    - ``initial_delay`` / ``max_delay``: the exponential backoff curve with jitter, in seconds.
    - ``max_retry_after``: a provider's Retry-After above this means "do not retry" (openai-python: 120 s).
    - ``max_paced_waits``: how many 429s *with* a Retry-After a call may wait out; they do not count against
      ``max_retries`` (the provider is pacing us, not failing), but the deadline still applies.
    - ``deadline``: overall seconds for one call, retries and polling included.
    - ``poll_interval`` / ``poll_max_interval``: polling backoff start and cap.
    - ``clock``: monotonic time source (injectable).
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 120.0
    max_paced_waits: int = 30
    deadline: float = 600.0
    poll_interval: float = 0.5
    poll_max_interval: float = 5.0
    clock: Callable[[], float] = field(default=time.monotonic)

    def for_polling(self) -> RetrySettings:
        """Polling retries transient errors more patiently: a paid job must not be lost to one 502."""
        return replace(self, max_retries=max(self.max_retries, 6))


Action = Send | Sleep
Reply = WireResponse | TransportFailure | None


def _retry_after(response: WireResponse) -> float | None:
    """Seconds from ``retry-after-ms``, then ``retry-after`` (seconds or an HTTP date)."""
    if value := response.header("retry-after-ms"):
        try:
            return float(value) / 1000
        except ValueError:
            pass
    if value := response.header("retry-after"):
        try:
            return float(value)
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None  # a Retry-After we cannot read is no hint: the normal backoff applies
            return max(0.0, parsed.timestamp() - time.time())
    return None


def _backoff(attempt: int, settings: RetrySettings) -> float:
    import tenacity

    # 0.5 s, 1 s, 2 s ... capped at max_delay, plus up to a quarter of the initial delay of jitter
    wait = (tenacity.wait_exponential(multiplier=settings.initial_delay, max=settings.max_delay)
            + tenacity.wait_random(0, settings.initial_delay / 4))
    state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
    state.attempt_number = attempt
    return float(wait(state))


def _should_retry(adapter: Adapter, request: WireRequest, reply: WireResponse | TransportFailure) -> bool:
    if isinstance(reply, TransportFailure):
        # A POST that may have reached the server is only retried where the provider allows re-sending it.
        return not reply.connected or request.method != "POST" or adapter.post_retry_statuses is None
    override = reply.header("x-should-retry")
    if override in ("true", "false"):
        return override == "true"
    if request.method == "POST" and adapter.post_retry_statuses is not None:
        return reply.status in adapter.post_retry_statuses
    return adapter.is_retryable(reply)


def send_with_retry(adapter: Adapter, request: WireRequest, purpose: str, settings: RetrySettings,
                    deadline: float, call: PreparedRequest | None) -> Generator[Action, Reply, WireResponse]:
    """Send until success or a final answer; return a response with status < 400, else raise."""
    attempt = paced = 0
    while True:
        left = max(0.001, deadline - settings.clock())
        reply = yield Send(adapter.fit_to_deadline(request, left), purpose, timeout=left)
        assert reply is not None
        if isinstance(reply, WireResponse) and reply.status < 400:
            return reply
        hint = _retry_after(reply) if isinstance(reply, WireResponse) else None
        if hint is not None and hint > settings.max_retry_after:
            raise _final_error(adapter, reply, call, purpose)  # "come back in an hour" is an answer, not a blip
        # A 429 that says when to come back is pacing, not failure: it does not spend max_retries (only
        # max_paced_waits and the deadline), so callers sharing a rate limit do not give up in lockstep.
        pacing = hint is not None and isinstance(reply, WireResponse) and reply.status == 429
        if pacing:
            paced += 1
        else:
            attempt += 1
        within = paced <= settings.max_paced_waits if pacing else attempt <= settings.max_retries
        wait = _backoff(attempt, settings) if hint is None else max(0.0, hint)
        retryable = _should_retry(adapter, request, reply)
        if not (within and retryable) or settings.clock() + wait > deadline:
            error = _final_error(adapter, reply, call, purpose)
            error.settled = not retryable  # the provider's final word, not a failure that outlasted the retries
            raise error
        yield Sleep(wait)


def _final_error(adapter: Adapter, reply: WireResponse | TransportFailure, call: PreparedRequest | None,
                 purpose: str) -> ProviderError:
    model = call.model if call else None
    if isinstance(reply, WireResponse):
        return adapter.parse_error(reply, call)
    kind = ProviderTimeoutError if reply.timeout else ServiceUnavailableError
    return kind(f"could not reach {adapter.label or adapter.name} to {purpose}: "
                f"{type(reply.error).__name__}: {reply.error}", adapter=adapter.name, model=model)


@functools.lru_cache(maxsize=256)
def _origin(url: str) -> tuple[str, str, int | None]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:
        port = -1  # a malformed port matches nothing
    return scheme, (parts.hostname or "").lower(), port


def keep_credentials_home(adapter: Adapter, endpoint: Endpoint, request: WireRequest) -> WireRequest:
    """Strip credential headers from a request to a host that is neither the endpoint's nor trusted.

    Poll and result URLs come from the provider's answers; a compromised or misconfigured answer must not be
    able to send the key elsewhere. Done here, once, for every adapter.
    """
    target, home = _origin(request.url), _origin(endpoint.base_url)
    host = target[1]
    trusted = target[0] == "https" and any(host == h or host.endswith("." + h) for h in adapter.trusted_hosts)
    if target == home or trusted:  # same scheme, host AND port; another port or plain http is another origin
        return request
    secret = {name.lower() for name in adapter.secret_headers}
    return replace(request, headers={k: v for k, v in request.headers.items() if k.lower() not in secret})


def generate_call(adapter: Adapter, call: PreparedRequest, endpoint: Endpoint, settings: RetrySettings,
                  on_progress: Callable[[Pending], None] | None = None,
                  on_submitted: Callable[[JobHandle], None] | None = None, *, profile: str | None = None,
                  ) -> Generator[Action, Reply, Images]:
    """One provider call: submit (with retries), then poll until done when the provider answers with a job.
    ``profile``: the config profile the call goes through, recorded on the job's handle for ``resume``."""
    deadline = settings.clock() + settings.deadline
    request = keep_credentials_home(adapter, endpoint, adapter.build_request(call, endpoint))
    response = yield from send_with_retry(adapter, request, "submit", settings, deadline, call)
    outcome = adapter.parse_response(response, call)
    if isinstance(outcome, Pending):
        # which call of a fan-out this job is: what a resume after a crash needs to ask again for the others
        outcome.handle = replace(outcome.handle, index=call.index, n=call.n, seed=call.seed, profile=profile)
        if on_submitted is not None:
            on_submitted(outcome.handle)
    return (yield from _poll(adapter, outcome, call, endpoint, settings, deadline, on_progress))


def resume_job(adapter: Adapter, handle: JobHandle, endpoint: Endpoint, settings: RetrySettings,
               on_progress: Callable[[Pending], None] | None = None) -> Generator[Action, Reply, Images]:
    """Poll a job submitted earlier (a serialised :class:`JobHandle`), without submitting anything."""
    deadline = settings.clock() + settings.deadline
    try:
        return (yield from _poll(adapter, Pending(handle, retry_after=0), None, endpoint, settings, deadline,
                                 on_progress))
    except ProviderError as error:
        if error.model is None:  # no call when resuming: the handle knows the model, so the error names it
            error.model = handle.model
            error.args = (error._format(),)
        raise


def _poll(adapter: Adapter, outcome: Images | Pending, call: PreparedRequest | None, endpoint: Endpoint,
          settings: RetrySettings, deadline: float, on_progress: Callable[[Pending], None] | None,
          ) -> Generator[Action, Reply, Images]:
    interval = settings.poll_interval
    while isinstance(outcome, Pending):
        if on_progress is not None:
            on_progress(outcome)
        wait = outcome.retry_after if outcome.retry_after is not None else interval
        if settings.clock() + wait > deadline:
            cancelled = yield from _cancel(adapter, outcome.handle, endpoint)
            timeout = ProviderTimeoutError(
                f"job {outcome.handle.job_id} did not finish within {settings.deadline:g} s (last status: "
                f"{outcome.status or 'pending'}); it was cancelled where the provider allows it. Raise the "
                "timeout, or resume it later with client.resume(error.job)",
                adapter=adapter.name, model=outcome.handle.model)
            timeout.job, timeout.job_cancelled = outcome.handle, cancelled
            raise timeout
        if wait > 0:
            yield Sleep(wait)
        interval = min(interval * 1.5, settings.poll_max_interval)
        handle = outcome.handle
        request = keep_credentials_home(adapter, endpoint, adapter.poll_request(handle, endpoint))
        try:
            response = yield from send_with_retry(adapter, request, "poll", settings.for_polling(), deadline, call)
        except (RateLimitError, ServiceUnavailableError, ProviderTimeoutError) as error:
            if error.settled:  # a definitive answer about the job (fal: the app failed), not lost contact
                raise
            raise _still_running(error, handle) from None
        outcome = adapter.parse_poll(response, handle, call)
        if isinstance(outcome, Pending) and outcome.handle is not handle:
            # an adapter's new handle (fresh poll data) is still this call's job, through this profile
            outcome.handle = replace(outcome.handle, index=handle.index, n=handle.n, seed=handle.seed,
                                     profile=handle.profile)
    return outcome


def _still_running(error: ProviderError, handle: JobHandle) -> ProviderError:
    """``error`` from polling a paid job that may still finish: it carries the job, and says how to resume."""
    error.job = handle
    error.detail += (f"; job {handle.job_id} was submitted (and paid for) and may still finish: resume it with "
                     "client.resume(error.job) rather than submitting again")
    error.args = (error._format(),)
    return error


def _cancel(adapter: Adapter, handle: JobHandle, endpoint: Endpoint) -> Generator[Action, Reply, bool]:
    """Ask the provider to cancel ``handle``; whether it accepted (the last cancel request answered < 400)."""
    requests = adapter.cancel_request(handle, endpoint)
    cancelled = False
    for request in [requests] if isinstance(requests, WireRequest) else requests or []:
        # best effort: the timeout error is raised whatever the answer; only an accepted cancel counts (a refused
        # one — fal after the job started, a 409 — leaves the job running, and paid for)
        reply = yield Send(keep_credentials_home(adapter, endpoint, request), "cancel")
        cancelled = isinstance(reply, WireResponse) and reply.status < 400
    return cancelled
