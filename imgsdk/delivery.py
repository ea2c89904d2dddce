"""One ``generate`` call from plan to result — fan-out, fallbacks, persistence — for both clients.

The sync and async clients run the same :class:`Delivery`; they differ only in how they run a plan's calls
(threads or tasks, both under the profile's shared :class:`~imgsdk.ratelimit.Limits`)::

    delivery = Delivery(client, prompt, provider, options, ...)
    while (plan := delivery.next_plan()) is not None:     # the first choice, then each fallback
        delivery.record(plan, run_calls(plan))            # Images or ProviderError per call (images bound)
    return delivery.result()

Partial success: when some calls of a fan-out fail, the images of the others are returned and the failures
attached to ``result.errors``; ``raise_on_partial=True`` raises the first failure instead. A fallback is
tried only when *every* call failed with an error that allows it (:mod:`imgsdk.fallback`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .adapter import Images, JobHandle, Pending
from .errors import ImgSDKError, ModelRetiredError, ProviderError
from .fallback import fallback_warning, fallbacks_of, should_fall_back
from .persist import apersist, persist
from .planning import Plan, assemble, dedupe
from .request import PreparedRequest
from .storage import Store, render_name

if TYPE_CHECKING:
    from .clientbase import BaseClient
    from .result import GeneratedImage, ImageResult

__all__ = ["BOUND", "Delivery", "Persister"]

Outcome = Images | ProviderError


def _bound(image: GeneratedImage) -> None:
    """Nothing to do: the clients bind each image to their downloader as its call returns, once."""


#: What the clients pass to :func:`~imgsdk.planning.assemble`: their images are bound already.
BOUND: Mapping[str, Any] = {"bind": _bound}


class Persister:
    """``persist_to``: store each image of a call as soon as the call returns, before its URL can expire.

    A failure to store is attached to the result's errors (the image is still in the result, with its
    provider URL): an image that was paid for is never thrown away because a disk was full.
    """

    def __init__(self, destination: str | os.PathLike[str], template: str | None) -> None:
        self.store = Store(destination)
        self.template = template
        if self.store.remote:
            self.store.fs_path(self.store.root)  # a missing backend is reported before anything is paid for

    def _namer(self, the_plan: Plan, call: PreparedRequest, position: int) -> Callable[[GeneratedImage], str]:
        index = call.index * (the_plan.calls[0].n if the_plan.calls else 1) + position + 1

        def name_for(image: GeneratedImage) -> str:
            return render_name(self.template, prompt=the_plan.request.prompt, index=index, ext=image.extension,
                               provider=the_plan.target.reference, seed=image.seed, uid=the_plan.uid)
        return name_for

    def _failed(self, outcome: Images, position: int, error: Exception) -> None:
        if isinstance(error, ProviderError):
            outcome.errors.append(error)
        else:
            outcome.errors.append(ProviderError(
                f"image {position + 1} was generated but could not be saved under {self.store.root}: "
                f"{type(error).__name__}: {error}; it is still in the result (image.url)"))

    def persist(self, the_plan: Plan, call: PreparedRequest, outcome: Images) -> None:
        for position, image in enumerate(outcome.images):
            try:
                persist(image, self.store, self._namer(the_plan, call, position))
            except (ProviderError, OSError) as error:
                self._failed(outcome, position, error)

    async def apersist(self, the_plan: Plan, call: PreparedRequest, outcome: Images) -> None:
        for position, image in enumerate(outcome.images):
            try:
                await apersist(image, self.store, self._namer(the_plan, call, position))
            except (ProviderError, OSError) as error:
                self._failed(outcome, position, error)


class Delivery:
    """The state of one generate call: candidates (first choice, fallbacks), failures, the final outcomes."""

    def __init__(self, client: BaseClient, prompt: str, provider: str | None, options: dict[str, Any], *,
                 raise_on_partial: bool = False, on_progress: Callable[[Pending], None] | None = None,
                 on_submitted: Callable[[JobHandle], None] | None = None,
                 persist_to: str | os.PathLike[str] | bool | None = None,
                 filename_template: str | None = None) -> None:
        self.client = client
        self.provider = provider
        self.raise_on_partial = raise_on_partial
        self.on_progress = on_progress
        self.on_submitted = on_submitted
        self.request, self.choice = client._request(prompt, options)
        self._first: Plan | None = None
        self.failures: list[tuple[str, ImgSDKError]] = []
        try:
            self._first = client._plan_for(provider, self.request, self.choice)
            self.profile = self._first.target.profile
        except ModelRetiredError as error:  # a model that is gone: its fallbacks may still serve
            self.profile = client._profile_named(provider)
            if not fallbacks_of(provider, self.profile, client.config):
                raise
            self.failures.append((provider or "the default profile", error))
        self.fallbacks = list(fallbacks_of(provider, self.profile, client.config))
        self.final: tuple[Plan, list[Outcome]] | None = None
        destination: str | os.PathLike[str] | None = None
        if persist_to is None or persist_to is True:  # the profile's, else the client's
            destination = (self.profile.persist_to if self.profile else None) or client._persist_to
        elif persist_to is not False:
            destination = persist_to
        template = filename_template or (self.profile.filename_template if self.profile else None)
        self.persister = Persister(destination, template) if destination else None

    def next_plan(self) -> Plan | None:
        """The next candidate to run: the first choice, then each fallback planned from the original request
        (a fallback that cannot be planned — strict mode refusing an option — counts as failed)."""
        if self.final is not None:
            return None
        if self._first is not None:
            first, self._first = self._first, None
            return first
        while self.fallbacks:
            name = self.fallbacks.pop(0)
            try:
                return self.client._plan_for(name, self.request, self.choice)
            except ImgSDKError as error:
                self.failures.append((name, error))
        return None

    def record(self, the_plan: Plan, outcomes: list[Outcome]) -> None:
        """Keep the outcomes, or — when every call failed in a way that allows it — move on to a fallback."""
        errors = [outcome for outcome in outcomes if isinstance(outcome, ProviderError)]
        # every call must allow it: one paid job still running (error.job) is never left for a fallback
        moving_on = (errors and len(errors) == len(outcomes) and self.fallbacks
                     and all(should_fall_back(error, self.profile) for error in errors))
        if moving_on:
            self.failures.append((the_plan.target.reference, errors[0]))
        else:
            self.final = (the_plan, outcomes)

    def _raise(self, error: ImgSDKError) -> None:
        for name, failure in self.failures:
            if failure is not error:
                error.add_note(f"imgsdk: {name} failed too: {type(failure).__name__}: {failure}")
        raise error

    def result(self) -> ImageResult:
        """The result of the candidate that served, with a fallback warning per candidate that failed (its
        images were bound to the client's downloader as their calls returned)."""
        if self.final is None:
            self._raise(self.failures[0][1])
        assert self.final is not None
        the_plan, outcomes = self.final
        failed = [outcome for outcome in outcomes if isinstance(outcome, ProviderError)]
        if failed and (self.raise_on_partial or len(failed) == len(outcomes)):
            # A paid job still running comes first (its error carries the handle to resume); the other calls'
            # failures are noted on it, each with its job when it has one.
            first = next((error for error in failed if error.job is not None), failed[0])
            first.jobs = tuple(error.job for error in failed if error.job is not None)
            for other in failed:
                if other is not first:
                    job = f" (its job is in error.jobs: {other.job.job_id})" if other.job else ""
                    first.add_note(f"imgsdk: another call of this request failed too{job}: "
                                   f"{type(other).__name__}: {other.detail}")
            self._raise(first)
        result = assemble(the_plan, outcomes, BOUND)
        served = the_plan.target.reference + (f" (profile {result.profile})" if result.profile else "")
        notes = [fallback_warning(name, error, served) for name, error in self.failures]
        result.warnings = dedupe(notes + result.warnings)
        return result
