"""The benchmark's fake server (benchmarks/fake_server.py) answers what the benchmark counts on.

Its minimal HTTP reader replaced ``http.server``; these tests pin what every contender relies on: keep-alive
reuse, b64 and URL answers of the configured size, per-URL overrides, the 429 token bucket and the counters.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from fake_server import FakeImagesServer

BODY = {"model": "gpt-image-2", "prompt": "a lighthouse", "n": 1}


@pytest.fixture()
def server() -> Iterator[FakeImagesServer]:
    with FakeImagesServer(in_process=True) as running:
        yield running


def test_b64_answers_on_one_keep_alive_connection(server: FakeImagesServer) -> None:
    with httpx2.Client() as http:
        for _ in range(5):
            response = http.post(f"{server.base_url}/images/generations", json=BODY)
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            image = base64.b64decode(response.json()["data"][0]["b64_json"])
            assert len(image) == 1024 and image.startswith(b"\x89PNG\r\n\x1a\n")
    stats = server.stats()
    assert stats["generations"] == 5 and stats["images_served"] == 5
    assert stats["connections"] == 2  # the client's one keep-alive connection, and this stats call's own
    assert stats["last_body"] == BODY


def test_url_answers_and_overrides(server: FakeImagesServer) -> None:
    with httpx2.Client() as http:
        base = server.url_with(image_bytes=2000)
        response = http.post(f"{base}/images/generations", json={**BODY, "n": 2, "response_format": "url"})
        urls = [item["url"] for item in response.json()["data"]]
        assert len(urls) == 2 and all(url.startswith(server.root) for url in urls)
        fetched = http.get(urls[0])
        assert fetched.headers["content-type"] == "image/png" and len(fetched.content) == 2000


def test_token_bucket_answers_429_with_retry_after(server: FakeImagesServer) -> None:
    server.configure(rpm=60, burst=1, time_scale=1)
    with httpx2.Client() as http:
        first = http.post(f"{server.base_url}/images/generations", json=BODY)
        second = http.post(f"{server.base_url}/images/generations", json=BODY)
    assert first.status_code == 200
    assert second.status_code == 429
    assert 0 < float(second.headers["retry-after"]) <= 1.0
    assert second.json()["error"]["code"] == "rate_limit_exceeded"
    assert server.stats()["rate_limited"] == 1


def test_unknown_paths_and_bad_bodies(server: FakeImagesServer) -> None:
    with httpx2.Client() as http:
        assert http.post(f"{server.root}/v2/nothing", json=BODY).status_code == 404
        bad = http.post(f"{server.base_url}/images/generations", content=b"{not json",
                        headers={"content-type": "application/json"})
        assert bad.status_code == 400
        closing = http.post(f"{server.base_url}/images/generations", json=BODY, headers={"connection": "close"})
        assert closing.status_code == 200
        again = http.post(f"{server.base_url}/images/generations", json=BODY)  # a new connection
        assert again.status_code == 200


def test_http_10_and_pipelined_requests(server: FakeImagesServer) -> None:
    import socket

    def talk(raw: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
            connection.sendall(raw)
            data = b""
            while chunk := connection.recv(65536):  # ends only when the server closes
                data += chunk
            return data

    assert talk(b"GET /_bench/stats HTTP/1.0\r\n\r\n").count(b"HTTP/1.1 200") == 1  # closed after one answer
    two = (b"GET /_bench/stats HTTP/1.1\r\nHost: x\r\n\r\n"
           b"GET /_bench/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert talk(two).count(b"HTTP/1.1 200") == 2
