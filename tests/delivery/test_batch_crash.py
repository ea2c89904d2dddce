"""The batch CLI in a real subprocess against a loopback OpenAI-shaped server that counts requests: killed (or
interrupted with Ctrl-C) in the middle, then ``--resume``: no provider call is paid twice (counted at the server).
"""

from __future__ import annotations

import base64
import collections
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from delivery.support import Loopback, Seen, png_bytes
from imgsdk.cli.batch import MANIFEST, Manifest

PROMPTS = ["a red fox", "an owl at night", "a heron in reeds", "a lighthouse"]
WAIT = 60.0  # seconds: the bound of every wait below (never reached when things work)


class FakeOpenAI:
    """``POST /v1/images/generations``: answers until ``hold_after`` answers were given, then holds the next
    request open until released. ``answered`` lists the prompts that got an image (the calls paid for)."""

    def __init__(self, hold_after: int | None) -> None:
        self.hold_after = hold_after
        self.received: list[str] = []
        self.answered: list[str] = []
        self.holding = threading.Event()
        self.release = threading.Event()
        self.answer_held = False
        self._lock = threading.Lock()

    def route(self, seen: Seen) -> tuple[int, dict[str, str], bytes]:
        prompt = json.loads(seen.body)["prompt"]
        with self._lock:
            self.received.append(prompt)
            hold = self.hold_after is not None and len(self.answered) >= self.hold_after
        if hold:
            self.holding.set()
            self.release.wait(timeout=WAIT)
            if not self.answer_held:
                return 503, {"content-type": "application/json"}, b'{"error": {"message": "gone"}}'
        with self._lock:
            self.answered.append(prompt)
        body = {"created": 1, "data": [{"b64_json": base64.b64encode(png_bytes(8, 8)).decode()}]}
        return 200, {"content-type": "application/json"}, json.dumps(body).encode()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def done(out: Path) -> list[dict[str, object]]:
    return [record for record in Manifest.read(out / MANIFEST) if record["status"] == "done"]


def start(tmp_path: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    config = tmp_path / "imgsdk.toml"
    config.write_text(f'[providers.fake]\nmodel = "openai:gpt-image-2"\nbase_url = "http://127.0.0.1:{port}/v1"\n'
                      'api_key = "${FAKE_OPENAI_KEY}"\n', encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.endswith(("_API_KEY", "_TOKEN"))}
    env["FAKE_OPENAI_KEY"] = "sk-fake-0123456789abcdef"
    command = [sys.executable, "-m", "imgsdk.cli", "batch", str(tmp_path / "prompts.jsonl"), "--out",
               str(tmp_path / "out"), "--provider", "fake", "--concurrency", "1", "--config", str(config), *extra]
    with open(tmp_path / "stderr.txt", "ab") as stderr:
        return subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=stderr)


def write_prompts(tmp_path: Path) -> None:
    lines = [json.dumps({"id": f"item-{i}", "prompt": prompt, "size": "1024x1024"}) for i, prompt in enumerate(PROMPTS)]
    (tmp_path / "prompts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_killed_batch_resumes_without_paying_twice(tmp_path: Path) -> None:
    write_prompts(tmp_path)
    server = FakeOpenAI(hold_after=2)
    with Loopback() as http:
        http.routes["/v1/images/generations"] = server.route
        process = start(tmp_path, http.port)
        try:
            wait_for(lambda: server.holding.is_set() and len(done(tmp_path / "out")) == 2,
                     "two images done and the third request in flight")
        finally:
            process.kill()  # a crash: no cleanup at all
            process.wait(timeout=WAIT)
        server.release.set()  # the held request is never answered with an image: it was not paid for
        server.hold_after = None
        resumed = start(tmp_path, http.port, "--resume")
        assert resumed.wait(timeout=WAIT) == 0, (tmp_path / "stderr.txt").read_text()
    paid = collections.Counter(server.answered)
    assert paid == collections.Counter(PROMPTS)  # every prompt paid for exactly once
    assert len(server.received) == len(PROMPTS) + 1  # plus the one request cut off by the crash
    records = done(tmp_path / "out")
    assert sorted(str(record["id"]) for record in records) == [f"item-{i}" for i in range(4)]
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == [f"item-{i}_1.png" for i in range(4)]
    assert "resuming: 2 line(s) already done" in (tmp_path / "stderr.txt").read_text()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery to a child differs on Windows")
def test_ctrl_c_finishes_the_request_in_flight_and_leaves_a_consistent_manifest(tmp_path: Path) -> None:
    write_prompts(tmp_path)
    server = FakeOpenAI(hold_after=2)
    server.answer_held = True  # the provider does deliver the request in flight: it is paid, so it must be kept
    with Loopback() as http:
        http.routes["/v1/images/generations"] = server.route
        process = start(tmp_path, http.port)
        try:
            wait_for(lambda: server.holding.is_set() and len(done(tmp_path / "out")) == 2, "the third request")
            process.send_signal(signal.SIGINT)
            wait_for(lambda: "interrupted" in (tmp_path / "stderr.txt").read_text(), "the interrupt message")
            server.release.set()
            assert process.wait(timeout=WAIT) == 130
        finally:
            if process.poll() is None:
                process.kill()
        assert len(done(tmp_path / "out")) == 3  # the paid request in flight was saved and recorded
        assert server.received == PROMPTS[:3]  # nothing new was started after Ctrl-C
        server.hold_after = None
        resumed = start(tmp_path, http.port, "--resume")
        assert resumed.wait(timeout=WAIT) == 0
    assert server.received == PROMPTS and server.answered == PROMPTS  # one request each, ever
    assert len(done(tmp_path / "out")) == 4
