"""Fixtures of the reliability suite: two loopback fault servers (two origins) and the ``matrix`` marker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reliability.fault_server import FaultServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "matrix(id, failure=..., outcome=..., adapters=...): a row of docs/reliability.md "
        "(the failure → behaviour matrix); tests/reliability/matrix.py renders the rows from these markers")


@pytest.fixture
def server() -> Iterator[FaultServer]:
    """The provider's API: a fault server on an ephemeral loopback port, stopped after the test."""
    with FaultServer("a") as fault_server:
        yield fault_server


@pytest.fixture
def other_server() -> Iterator[FaultServer]:
    """A second origin (another port): a CDN, or a host that must never see a credential."""
    with FaultServer("b") as fault_server:
        yield fault_server
