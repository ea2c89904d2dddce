"""A loopback fake of the OpenAI Images API, for benchmarks (stdlib only).

- ``POST …/v1/images/generations`` answers OpenAI-shaped JSON (``created``, ``data[]``): ``data[].url``
  pointing at ``GET /img/N`` on this same server when the request asks ``response_format="url"`` (DALL·E),
  else ``data[].b64_json`` of a real PNG of ``image_bytes`` bytes (1 KB default; pass 1_500_000 for a
  realistic GPT-image answer).
- ``latency_ms`` delays every generation answer (not image downloads: those come from a "CDN").
- A token bucket (``rpm`` requests per minute, ``burst`` capacity, everything ``time_scale`` times faster)
  answers ``429`` with ``Retry-After`` / ``retry-after-ms`` (time-scaled) and OpenAI's error envelope.
- Counters: ``GET /_bench/stats``; ``POST /_bench/config`` (JSON) changes the settings and resets the counters.
- Per-endpoint overrides without touching the shared state: a base URL may carry
  ``/o/<key>=<value>,<key>=<value>`` before ``/v1``, e.g. ``http://127.0.0.1:PORT/o/latency_ms=200/v1``
  (keys: ``image_bytes``, ``latency_ms``, ``mode`` = auto|b64|url).

HTTP/1.1 with ``Content-Length`` on every answer and ``TCP_NODELAY``, so keep-alive connections are really
reused (and no Nagle/delayed-ACK stalls). It listens on 127.0.0.1 only, on an ephemeral port.

Use it as a context manager; by default the server runs in its own process so that it does not share the
client's GIL (the benchmark measures the client, not contention with the server)::

    with FakeImagesServer() as server:
        base_url = server.base_url            # http://127.0.0.1:PORT/v1
        server.configure(rpm=60, time_scale=60)
        server.stats()                        # {"generations": ..., "rate_limited": ...}

``python benchmarks/fake_server.py`` runs one in the foreground (prints ``PORT <n>``; stops at end of stdin).
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import socketserver
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from typing import Any

__all__ = ["DEFAULTS", "FakeImagesServer", "make_png"]

DEFAULTS: dict[str, Any] = {
    "image_bytes": 1024,  # size of the PNG behind every image (b64_json or /img/N)
    "latency_ms": 0.0,  # delay before each generation answer
    "mode": "auto",  # auto: url when the request asks response_format=url, else b64_json
    "rpm": None,  # token bucket: requests per minute (None: no limit)
    "burst": 1,  # bucket capacity
    "time_scale": 1.0,  # run the bucket this many times faster (Retry-After shrinks accordingly)
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def make_png(size: int, *, width: int = 8, height: int = 8, seed: int = 0) -> bytes:
    """A valid PNG of exactly ``size`` bytes (a small picture padded with a private ancillary chunk)."""
    rows = b"".join(b"\x00" + bytes((x * 32 + y * 8 + seed) % 256 for x in range(width * 3))
                    for y in range(height))
    head = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(rows)))
    tail = _chunk(b"IEND", b"")
    pad = size - len(head) - len(tail) - 12
    if pad < 0:
        return head + tail
    # "paDd": ancillary, private, safe-to-copy; random bytes so nothing on the way can compress them.
    return head + _chunk(b"paDd", random.Random(seed).randbytes(pad)) + tail


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.config: dict[str, Any] = dict(DEFAULTS)
        self.payloads: dict[int, tuple[bytes, bytes]] = {}
        self.reset()

    def reset(self) -> None:
        self.counters = {"requests": 0, "generations": 0, "ok": 0, "rate_limited": 0, "images_served": 0,
                         "image_fetches": 0, "connections": 0, "max_in_flight": 0}
        self.in_flight = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.last_body: Any = None
        self.tokens = float(self.config["burst"])
        self.refilled = time.monotonic()

    def payload(self, size: int) -> tuple[bytes, bytes]:
        """(png, b64 bytes) for a size, built once."""
        with self.lock:
            if size not in self.payloads:
                png = make_png(size)
                self.payloads[size] = (png, base64.b64encode(png))
            return self.payloads[size]

    def take_token(self) -> float:
        """0 when a request may pass, else the (scaled) seconds until the next token."""
        rpm = self.config["rpm"]
        if not rpm:
            return 0.0
        rate = rpm / 60.0 * float(self.config["time_scale"])  # tokens per real second
        with self.lock:
            now = time.monotonic()
            self.tokens = min(float(self.config["burst"]), self.tokens + (now - self.refilled) * rate)
            self.refilled = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return 0.0
            return (1.0 - self.tokens) / rate


def _overrides(path: str) -> tuple[dict[str, Any], str]:
    """Split ``/o/k=v,k=v/rest`` into ({k: v}, "/rest")."""
    if not path.startswith("/o/"):
        return {}, path
    spec, _, rest = path[3:].partition("/")
    values: dict[str, Any] = {}
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition("=")
        values[key] = value if key == "mode" else float(value)
    return values, "/" + rest


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests"}


class _Handler(socketserver.StreamRequestHandler):
    """One keep-alive connection: a minimal HTTP/1.1 reader, so the server's own time per request stays small.

    ``http.server.BaseHTTPRequestHandler`` parses headers with the ``email`` package: ``server_probe.py`` measures
    a median round trip of 161–172 µs with it against 40–41 µs with this reader (a bare loopback echo: 17–19 µs),
    time that every contender's figure would carry (docs/performance.md, "1."). Only what the clients send is read:
    the request line, ``Content-Length`` and ``Connection``; the answer goes out in one ``sendall``. Chunked
    request bodies are not supported (no contender sends one).
    """

    server: _Server
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        with self.server.state.lock:
            self.server.state.counters["connections"] += 1

    def handle(self) -> None:
        rfile = self.rfile
        while True:
            line = rfile.readline(65537)
            if not line:
                return
            if line in (b"\r\n", b"\n"):
                continue
            parts = line.decode("latin-1").split(" ", 2)
            if len(parts) != 3:  # not a request line (a chunked body, which no contender sends): refuse, close
                self._send(400, b'{"error": {"message": "bad request line", "type": "invalid_request_error"}}')
                return
            method, target, version = parts
            length, close = 0, version.strip() == "HTTP/1.0"  # HTTP/1.0 closes unless it asks for keep-alive
            while (header := rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
                name, _, value = header.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() in (b"close", b"keep-alive"):
                    close = value.strip().lower() == b"close"
            self.path = target
            raw = rfile.read(length) if length else b""
            if method == "POST":
                self.do_POST(raw)
            else:
                self.do_GET()
            if close:
                return

    def _send(self, status: int, body: bytes | list[bytes], content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        parts = body if isinstance(body, list) else [body]
        length = sum(len(part) for part in parts)
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}",
                f"Content-Type: {content_type}", f"Content-Length: {length}",
                f"x-request-id: req_{self.server.state.counters['requests']}"]
        head += [f"{key}: {value}" for key, value in (headers or {}).items()]
        self.request.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + b"".join(parts))

    def do_GET(self) -> None:
        state = self.server.state
        overrides, path = _overrides(self.path)
        if path == "/_bench/stats":
            with state.lock:
                stats = dict(state.counters, first_at=state.first_at, last_at=state.last_at,
                             last_body=state.last_body, config=state.config)
            self._send(200, json.dumps(stats).encode())
        elif path.startswith("/img/"):
            with state.lock:
                state.counters["requests"] += 1
                state.counters["image_fetches"] += 1
            size = int(overrides.get("image_bytes", state.config["image_bytes"]))
            self._send(200, state.payload(size)[0], "image/png")
        else:
            self._send(404, b'{"error": {"message": "not found", "type": "invalid_request_error"}}')

    def do_POST(self, raw: bytes) -> None:
        state = self.server.state
        overrides, path = _overrides(self.path)
        if path == "/_bench/config":
            with state.lock:
                state.config = {**DEFAULTS, **json.loads(raw or b"{}")}
            state.reset()
            self._send(200, json.dumps(state.config).encode())
            return
        if path != "/v1/images/generations":
            self._send(404, b'{"error": {"message": "not found", "type": "invalid_request_error"}}')
            return
        config = {**state.config, **overrides}
        with state.lock:
            state.counters["requests"] += 1
            state.counters["generations"] += 1
            state.in_flight += 1
            state.counters["max_in_flight"] = max(state.counters["max_in_flight"], state.in_flight)
        try:
            self._generate(state, config, raw)
        finally:
            with state.lock:
                state.in_flight -= 1

    def _generate(self, state: _State, config: dict[str, Any], raw: bytes) -> None:
        try:
            body = json.loads(raw)
        except ValueError:
            self._send(400, b'{"error": {"message": "body is not JSON", "type": "invalid_request_error"}}')
            return
        wait = state.take_token()
        if wait > 0:
            with state.lock:
                state.counters["rate_limited"] += 1
            message = (f"Rate limit reached for images per min: Limit {config['rpm']}. "
                       f"Please try again in {wait * 1000:.0f}ms.")
            error = {"error": {"message": message, "type": "requests", "param": None,
                               "code": "rate_limit_exceeded"}}
            self._send(429, json.dumps(error).encode(),
                       headers={"retry-after": f"{wait:.3f}", "retry-after-ms": f"{wait * 1000:.0f}"})
            return
        if config["latency_ms"]:
            time.sleep(float(config["latency_ms"]) / 1000)
        n = int(body.get("n") or 1)
        mode = config["mode"]
        as_url = mode == "url" or (mode == "auto" and body.get("response_format") == "url")
        size = int(config["image_bytes"])
        if as_url:
            host, port = self.server.server_address[:2]
            prefix = self.path.split("/v1/", 1)[0]
            items = [json.dumps({"url": f"http://{host}:{port}{prefix}/img/{i}.png",
                                 "revised_prompt": body.get("prompt")}).encode() for i in range(n)]
        else:
            b64 = state.payload(size)[1]
            items = [b'{"b64_json": "' + b64 + b'"}'] * n
        parts = [b'{"created": ' + str(int(time.time())).encode() + b', "data": [']
        for index, item in enumerate(items):
            parts += [b", "] * bool(index) + [item]
        parts.append(b"]}")
        with state.lock:
            now = time.monotonic()
            state.counters["ok"] += 1
            state.counters["images_served"] += n
            state.first_at = state.first_at or now
            state.last_at = now
            state.last_body = body
        self._send(200, parts)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    state: _State


def _serve(port: int = 0) -> _Server:
    server = _Server(("127.0.0.1", port), _Handler)
    server.state = _State()
    return server


class FakeImagesServer:
    """Start the fake server for a ``with`` block (own process by default; ``in_process=True``: a thread)."""

    def __init__(self, *, in_process: bool = False, **config: Any) -> None:
        self.in_process = in_process
        self.initial = config
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen[str] | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    def url_with(self, **overrides: Any) -> str:
        """A base URL whose answers use these settings (image_bytes, latency_ms, mode)."""
        spec = ",".join(f"{key}={value}" for key, value in overrides.items())
        return f"{self.root}/o/{spec}/v1" if spec else self.base_url

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.root + path, data=data, method=method,
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def configure(self, **config: Any) -> dict[str, Any]:
        """Replace the settings (unnamed ones go back to DEFAULTS) and reset the counters."""
        result: dict[str, Any] = self._call("POST", "/_bench/config", config)
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/_bench/stats")
        return result

    def __enter__(self) -> FakeImagesServer:
        if self.in_process:
            self._server = _serve()
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                            daemon=True)
            self._thread.start()
        else:
            self._process = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, text=True)
            assert self._process.stdout is not None
            line = self._process.stdout.readline().split()
            if len(line) != 2 or line[0] != "PORT":
                self._stop_process()
                raise RuntimeError(f"the fake server did not start (said {line!r})")
            self.port = int(line[1])
        if self.initial:
            self.configure(**self.initial)
        return self

    def _stop_process(self) -> None:
        process = self._process
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()  # the server stops at end of stdin
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._stop_process()


def main() -> int:
    server = _serve()
    print(f"PORT {server.server_address[1]}", flush=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    with contextlib.suppress(KeyboardInterrupt):
        sys.stdin.read()  # until the parent closes stdin (or exits)
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
