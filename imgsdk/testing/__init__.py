"""Testing with imgsdk: record real calls once, replay them offline, free and fast — safely.

Built on vcrpy and pytest-recording (the ``test`` extra). In a pytest suite, opt in to the plugin once::

    # conftest.py (at the root of your tests)
    pytest_plugins = ["imgsdk.testing.plugin"]

    # test_banner.py
    @pytest.mark.vcr                        # pytest-recording: cassettes/test_banner/test_banner.yaml
    def test_banner(imgsdk_client):
        result = imgsdk_client.generate("a lighthouse at dawn", provider="openai:gpt-image-2")
        assert result.size == "1024x1024"

Record with the real key in the environment and ``pytest --record-mode=once``; replay with plain ``pytest``
(no key, no network); run ``imgsdk cassettes check`` before committing. docs/testing.md walks through it.

What the kit does (each part is its own module):

- :func:`vcr_config`: scrubs every credential of every adapter from requests and responses
  (:mod:`.scrub`), replaces image payloads by tiny images of the same size and format (:mod:`.images`), and
  matches request bodies by meaning (:mod:`.matching`).
- :class:`ReplayClient` / :class:`AsyncReplayClient`: retries and polls never wait; the network guard
  (:mod:`.guard`) fails any request no cassette answers, naming it.
- ``fake:``, a provider for unit tests that needs no cassette at all (:mod:`.fake`).
- :class:`~imgsdk.testing.contract.AdapterContract`, the conformance suite every adapter runs (:mod:`.contract`).
- :func:`scan` / :func:`find_secrets`, behind ``imgsdk cassettes check`` (:mod:`.scan`).

Importing this package is cheap: vcrpy, pytest and httpx2 are imported only when used.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .scan import Finding, find_secrets, scan
from .scrub import CREDENTIAL_HEADERS, SCRUBBED

if TYPE_CHECKING:
    from .clients import AsyncReplayClient, ReplayClient
    from .fake import FakeAdapter, FakeCall, FakeScript
    from .guard import UnrecordedRequestError

__all__ = ["CREDENTIAL_HEADERS", "MATCH_ON", "SCRUBBED", "AsyncReplayClient", "FakeAdapter", "FakeCall",
           "FakeScript", "Finding", "ReplayClient", "UnrecordedRequestError", "body_matcher", "find_secrets",
           "make_vcr", "scan", "use_cassette", "vcr_config"]

#: How a live request is matched to a recorded one: everything but the headers, body by meaning.
MATCH_ON = ("method", "scheme", "host", "port", "path", "query", "imgsdk_body")

_LAZY = {"ReplayClient": "clients", "AsyncReplayClient": "clients", "FakeAdapter": "fake", "FakeCall": "fake",
         "FakeScript": "fake", "UnrecordedRequestError": "guard", "body_matcher": "matching"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'imgsdk.testing' has no attribute {name!r}")


def vcr_config(record_mode: str = "none", *, extra_secrets: Iterable[str] = ()) -> dict[str, Any]:
    """Keyword arguments for ``vcr.VCR`` (and pytest-recording's ``vcr_config`` fixture).

    ``record_mode`` ``"none"`` replays only; ``"once"`` records a cassette that does not exist yet.
    ``extra_secrets`` are values to remove wherever they appear (besides the keys found in the environment and in
    the credential headers). The matcher ``imgsdk_body`` must be registered on the VCR: :func:`make_vcr` and the
    pytest plugin do it.
    """
    from .scrub import Scrubber, adapter_secret_headers, environment_secrets

    scrubber = Scrubber([*environment_secrets(), *extra_secrets], adapter_secret_headers())
    return {
        "record_mode": record_mode,
        "before_record_request": scrubber.request,
        "before_record_response": scrubber.response,
        "match_on": MATCH_ON,
        "decode_compressed_response": True,
    }


def make_vcr(record_mode: str = "none", cassette_dir: str | Path | None = None, *,
             extra_secrets: Iterable[str] = ()) -> Any:
    """A configured ``vcr.VCR`` with the ``imgsdk_body`` matcher registered."""
    try:
        import vcr
    except ImportError as error:
        raise ImportError("imgsdk.testing needs vcrpy: pip install 'imgsdk[test]' (or pip install vcrpy "
                          "pytest-recording)") from error
    from .matching import body_matcher

    config = vcr_config(record_mode, extra_secrets=extra_secrets)
    if cassette_dir is not None:
        config["cassette_library_dir"] = str(cassette_dir)
    recorder = vcr.VCR(**config)
    recorder.register_matcher("imgsdk_body", body_matcher)
    return recorder


@contextmanager
def use_cassette(path: str | Path, record_mode: str = "none", *,
                 extra_secrets: Iterable[str] = ()) -> Iterator[Any]:
    """Replay one cassette file (or record it, with ``record_mode="once"``); yields vcrpy's cassette."""
    with make_vcr(record_mode, extra_secrets=extra_secrets).use_cassette(str(path)) as cassette:
        yield cassette
