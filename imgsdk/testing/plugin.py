"""imgsdk's pytest plugin. Opt in once, at the root of your tests::

    # conftest.py
    pytest_plugins = ["imgsdk.testing.plugin"]

(or ``pytest -p imgsdk.testing.plugin``, or ``addopts = "-p imgsdk.testing.plugin"`` in pytest's config).
It is not loaded automatically: it overrides pytest-recording's ``vcr_config``, and doing that silently in every
project that merely has imgsdk installed would change how *their* cassettes are recorded and matched.

Fixtures:

- ``vcr_config``: :func:`imgsdk.testing.vcr_config` for ``@pytest.mark.vcr`` (scrubbing, tiny images, body
  matching); the record mode stays pytest-recording's ``--record-mode`` (default ``none``: replay only).
- ``imgsdk_config``: the configuration the clients use (default None: imgsdk.toml and the environment as usual).
  Override it in your conftest to give a dict or a path.
- ``imgsdk_client`` / ``imgsdk_async_client``: :class:`~imgsdk.testing.ReplayClient` (and its async twin) — no
  waiting on retries or polls (the waits asked for are in ``client.sleeps``), and the network guard: any request
  no cassette answers fails, naming its method and URL. While replaying (record mode ``none``), every adapter's
  key variable that is unset gets a placeholder, so replays need no real key.
- ``imgsdk_fake``: the ``fake:`` provider, its call record and script reset for the test.

``imgsdk_replay_client`` and ``imgsdk_replay_async_client`` are the first version's names for the two clients.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar, cast

import pytest

from . import vcr_config as _vcr_config

F = TypeVar("F", bound=Callable[..., Any])


def _async_fixture(function: F) -> F:
    """pytest-asyncio's fixture decorator (it works in its strict and auto modes alike), else pytest's."""
    try:
        from pytest_asyncio import fixture
    except ImportError:  # pragma: no cover - without pytest-asyncio, async fixtures need another plugin
        return cast(F, pytest.fixture(function))
    return cast(F, fixture(function))

REPLAY_KEY = "imgsdk-replay-placeholder-key"


def pytest_recording_configure(config: Any, vcr: Any) -> None:
    """pytest-recording hook: register the body matcher that ``vcr_config``'s ``match_on`` names."""
    from .matching import body_matcher

    vcr.register_matcher("imgsdk_body", body_matcher)


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    config = _vcr_config()
    config.pop("record_mode")  # pytest-recording's --record-mode decides (default: none)
    return config


@pytest.fixture
def imgsdk_config() -> Any:
    """The config of ``imgsdk_client``: None (imgsdk.toml and the environment), a dict, or a path."""
    return None


@pytest.fixture
def imgsdk_replay_keys(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """While replaying, set a placeholder key for every adapter whose key variable is unset; return their names.

    Recording (any other record mode) needs the real key, so nothing is set then.
    """
    try:
        mode = str(request.getfixturevalue("record_mode"))
    except pytest.FixtureLookupError:  # pytest-recording is not installed: nothing can record
        mode = "none"
    if mode != "none":
        return []
    from imgsdk.registry import adapter_names, get_adapter

    placed = []
    for name in adapter_names():
        try:
            adapter = get_adapter(name)
        except Exception:
            continue
        if adapter.key_env and not any(os.environ.get(variable) for variable in adapter.key_env):
            monkeypatch.setenv(adapter.key_env[0], REPLAY_KEY)
            placed.append(adapter.key_env[0])
    return placed


@pytest.fixture
def imgsdk_client(imgsdk_config: Any, imgsdk_replay_keys: list[str]) -> Iterator[Any]:
    """A :class:`~imgsdk.testing.ReplayClient`: no waiting, network guarded."""
    from .clients import ReplayClient

    with ReplayClient(imgsdk_config) as client:
        yield client


@_async_fixture
async def imgsdk_async_client(imgsdk_config: Any, imgsdk_replay_keys: list[str]) -> AsyncIterator[Any]:
    """An :class:`~imgsdk.testing.AsyncReplayClient`: no waiting, network guarded."""
    from .clients import AsyncReplayClient

    async with AsyncReplayClient(imgsdk_config) as client:
        yield client


@pytest.fixture
def imgsdk_replay_client(imgsdk_client: Any) -> Any:
    return imgsdk_client


@pytest.fixture
def imgsdk_replay_async_client(imgsdk_async_client: Any) -> Any:
    return imgsdk_async_client


@pytest.fixture
def imgsdk_fake() -> Iterator[Any]:
    """The registered ``fake:`` adapter, with an empty call record and script (and reset again afterwards)."""
    from .fake import fake_adapter

    fake = fake_adapter()
    fake.reset()
    yield fake
    fake.reset()
