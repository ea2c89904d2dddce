"""Shared pieces of the reliability suite: virtual time, the leak guard, canaries, provider answers.

- :class:`VirtualTime`: ``Client(sleep=vt.sleep, clock=vt.clock)`` — sleeping advances the clock instead of
  waiting, so retries and polls cost nothing, and the engine's deadline is judged in the time the call would
  really have taken (real time spent on sockets plus every sleep it asked for).
- :class:`LeakGuard`: threads, asyncio tasks and this process's sockets before and after; ``check()`` fails on
  anything new (server-side sockets of the fault servers are not the client's, so they are left out).
- ``CANARIES`` / :func:`profile_for`: one distinct canary key per adapter, configured the way that adapter
  takes a credential.
- Provider answers (success, moderation, jobs) built from the adapters' documented shapes, most of them the
  bodies under ``tests/data/<adapter>/``.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reliability.fault_server import FaultServer, Respond, b64png, png

DATA = Path(__file__).resolve().parent.parent / "data"

#: Deadline slack for "within the configured deadline": scheduling noise on a loaded 2-core CI machine, not a
#: performance budget (a call that ignores its deadline overshoots by a whole HTTP timeout or more).
DEADLINE_SLACK = 1.0

#: Headers that carry credentials in any adapter (the union of every ``Adapter.secret_headers``).
CREDENTIAL_HEADERS = ("authorization", "x-key", "api-key", "x-goog-api-key", "x-api-key", "proxy-authorization")

#: Every network adapter, with the model the suite uses for it.
ADAPTER_MODELS: dict[str, str] = {
    "openai": "gpt-image-2", "azure": "gpt-image-1", "openai-compatible": "my-image-model",
    "stability": "stable-image-core", "google": "gemini-3.1-flash-image", "xai": "grok-imagine-image",
    "together": "black-forest-labs/FLUX.1-schnell", "bfl": "flux-2-pro",
    "replicate": "black-forest-labs/flux-schnell", "fal": "fal-ai/flux/dev", "comfyui": "default",
    "automatic1111": "default",
}

#: One canary per adapter: distinct, so a leak names the adapter that leaked.
CANARIES: dict[str, str] = {name: f"CANARY{name.replace('-', '')}x7f3a9c2e5b1d4086" for name in ADAPTER_MODELS}


def load(relative: str) -> Any:
    """A documented body from ``tests/data`` (``"openai/error_moderation_blocked.json"``)."""
    return json.loads((DATA / relative).read_text())


def profile_for(adapter: str, base_url: str, *, key: str | None = None, **extra: Any) -> dict[str, Any]:
    """A profile for ``adapter`` pointed at ``base_url`` holding ``key`` (default: the adapter's canary) where
    that adapter reads a credential (AUTOMATIC1111: the ``--api-auth`` password)."""
    secret = CANARIES[adapter] if key is None else key
    profile: dict[str, Any] = {"model": f"{adapter}:{ADAPTER_MODELS[adapter]}", "base_url": base_url}
    if adapter == "automatic1111":
        profile.update(username="imgsdk-test", password=secret)
    else:
        profile["api_key"] = secret
    if adapter == "openai-compatible":
        profile["allow_unknown_model"] = True
    profile.update(extra)
    return profile


def config_for(profile: dict[str, Any]) -> dict[str, Any]:
    return {"providers": {"main": profile}}


# -- time and leaks ---------------------------------------------------------------------------------------
class VirtualTime:
    """A clock that includes every sleep the client asked for, and sleeps that only record."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.slept = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return time.monotonic() + self.slept

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.slept += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)  # still a suspension point, as a real sleep is

    def elapsed(self) -> float:
        """Seconds the call would have taken: real time so far plus everything slept."""
        return time.monotonic() - self.started + self.slept


def _tcp_ports() -> dict[str, int]:
    """inode → local port of every TCP socket in this network namespace."""
    ports: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9:
                ports[fields[9]] = int(fields[1].rsplit(":", 1)[1], 16)
    return ports


def client_sockets(server_ports: Iterable[int]) -> set[str]:
    """Inodes of this process's open sockets, minus the fault servers' own (listening and accepted) ones."""
    excluded = set(server_ports)
    ports = _tcp_ports()
    found: set[str] = set()
    for entry in os.scandir("/proc/self/fd"):
        try:
            target = os.readlink(entry.path)
        except OSError:
            continue  # closed while we looked
        if target.startswith("socket:["):
            inode = target[8:-1]
            if ports.get(inode) not in excluded:  # a unix socket has no port: always the client's
                found.add(inode)
    return found


class LeakGuard:
    """Snapshot at creation; :meth:`check` asserts nothing new is left (threads, tasks, client sockets)."""

    def __init__(self, *servers: FaultServer) -> None:
        self.ports = [server.port for server in servers]
        self.threads = set(threading.enumerate())
        self.sockets = client_sockets(self.ports)
        self.tasks = self._tasks()

    @staticmethod
    def _tasks() -> set[asyncio.Task[Any]]:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return set()
        return set(asyncio.all_tasks())

    def check(self) -> None:
        threads = [t.name for t in set(threading.enumerate()) - self.threads if t.is_alive()]
        assert threads == [], f"threads left behind: {threads}"
        tasks = [repr(t) for t in self._tasks() - self.tasks if not t.done()]
        assert tasks == [], f"asyncio tasks left behind: {tasks}"
        sockets = client_sockets(self.ports) - self.sockets
        assert sockets == set(), f"client sockets left open (inodes): {sorted(sockets)}"


# -- provider answers ----------------------------------------------------------------------------------
OPENAI_PATH = "/v1/images/generations"
STABILITY_PATH = "/v2beta/stable-image/generate/core"
BFL_PATH = "/v1/flux-2-pro"
REPLICATE_PATH = "/v1/models/black-forest-labs/flux-schnell/predictions"


def openai_image() -> dict[str, Any]:
    """A GPT-image answer: one base64 PNG [providers.md §1]."""
    return {"created": 1764417600, "data": [{"b64_json": b64png()}]}


def openai_error(message: str, code: str | None = None, kind: str = "server_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def stability_image(finish_reason: str = "SUCCESS") -> Respond:
    """Stability v2beta with ``accept: image/*``: the bytes, finish-reason and seed as headers [§3a]."""
    return Respond(200, body=png(), content_type="image/png",
                   headers={"finish-reason": finish_reason, "seed": "42"})


def bfl_submit(server: FaultServer, task: str = "task-1", poll_server: FaultServer | None = None) -> Respond:
    """BFL's submit answer: the task id and an absolute polling URL [§5]."""
    poll = poll_server or server
    return Respond(200, json={"id": task, "polling_url": f"{poll.url}/v1/get_result/{task}", "cost": 3})


def bfl_ready(sample_url: str) -> dict[str, Any]:
    return {"id": "task-1", "status": "Ready", "result": {"sample": sample_url, "prompt": "a fox", "seed": 7},
            "progress": None, "details": None}


def replicate_prediction(server: FaultServer, status: str, prediction: str = "p-1") -> dict[str, Any]:
    """A Replicate prediction whose ``urls`` point back at ``server`` [§6]."""
    return {"id": prediction, "model": "black-forest-labs/flux-schnell", "status": status, "input": {},
            "urls": {"get": f"{server.url}/v1/predictions/{prediction}",
                     "cancel": f"{server.url}/v1/predictions/{prediction}/cancel"},
            "created_at": "2026-11-29T12:00:00Z", "output": None}


def echo_credentials(status: int, request: Any) -> dict[str, Any]:
    """An error body that quotes every credential header it received back (as OpenAI's 401 quotes a key),
    in every field the adapters read a message from, so redaction is tested wherever the text goes."""
    sent = " ".join(v for k, v in request.headers.items() if k in CREDENTIAL_HEADERS)
    message = f"Incorrect API key provided: {sent}"
    return {"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"},
            "message": message, "detail": message, "errors": [message], "id": "err-1",
            "name": "unauthorized" if status == 401 else "server_error"}


#: What follows the server's address in each adapter's base_url (the path prefix of its API).
BASE_PATHS: dict[str, str] = {
    "openai": "/v1", "azure": "", "openai-compatible": "/v1", "stability": "", "google": "/v1beta", "xai": "/v1",
    "together": "/v1", "bfl": "", "replicate": "", "fal": "", "comfyui": "", "automatic1111": "",
}
