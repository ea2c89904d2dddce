"""How much of a per-call figure is the fake server's own time (docs/performance.md, "1. The fake server").

    python benchmarks/server_probe.py            # 20 rounds of 200 round trips per server

A raw socket sends one fixed ``POST /v1/images/generations`` on a keep-alive connection and reads the answer
(status line, headers, ``Content-Length`` bytes), so no HTTP client library is in the figures. Three servers,
each in its own process, are timed in interleaved rounds:

- ``fake_server``: the benchmark's server (``benchmarks/fake_server.py``), 1 KB ``b64_json`` answer;
- ``http.server``: the same kind of answer from a ``BaseHTTPRequestHandler`` (what ``fake_server`` used before);
- ``echo``: a bare loopback echo of the request bytes, the floor of any round trip here.

It prints the fastest and the median round (µs per round trip).
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fake_server import FakeImagesServer  # noqa: E402

_HTTP_SERVER = r"""
import base64, json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from fake_server import make_png
ANSWER = json.dumps({"created": 0, "data": [{"b64_json": base64.b64encode(make_png(1024)).decode()}]}).encode()

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def log_message(self, *args): pass
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
        assert body["prompt"]
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(ANSWER)}\r\n\r\n"
        self.wfile.write(head.encode() + ANSWER)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("PORT", server.server_address[1], flush=True)
server.serve_forever()
"""

_ECHO = r"""
import socket
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
print("PORT", listener.getsockname()[1], flush=True)
connection, _ = listener.accept()
connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while data := connection.recv(65536):
    connection.sendall(data)
"""


def _request() -> bytes:
    body = json.dumps({"model": "gpt-image-2", "prompt": "a lighthouse at sunset", "n": 1}).encode()
    head = ("POST /v1/images/generations HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n"
            "Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\nUser-Agent: probe\r\n"
            "Authorization: Bearer test-key\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


class _Probe:
    """One keep-alive connection that sends the fixed request and reads one whole answer per round trip."""

    def __init__(self, port: int, echo: bool = False) -> None:
        self.connection = socket.create_connection(("127.0.0.1", port))
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.connection.makefile("rb")
        self.echo = echo
        self.request = _request()

    def round_trip(self) -> None:
        self.connection.sendall(self.request)
        if self.echo:
            received = 0
            while received < len(self.request):
                received += len(self.connection.recv(65536))
            return
        status = self.reader.readline()
        assert status.startswith(b"HTTP/1.1 200"), status
        length = 0
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        assert len(self.reader.read(length)) == length

    def close(self) -> None:
        self.reader.close()
        self.connection.close()


def _start(code: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=HERE,
                               env={"PYTHONPATH": str(HERE)})
    assert process.stdout is not None
    word, port = process.stdout.readline().split()
    assert word == "PORT"
    return process, int(port)


def main(rounds: int = 20, per_round: int = 200) -> int:
    processes = []
    try:
        with FakeImagesServer() as fake:
            http_server, http_port = _start(_HTTP_SERVER)
            echo_server, echo_port = _start(_ECHO)
            processes = [http_server, echo_server]
            probes = {"fake_server": _Probe(fake.port), "http.server": _Probe(http_port),
                      "echo": _Probe(echo_port, echo=True)}
            for probe in probes.values():
                for _ in range(50):
                    probe.round_trip()
            times: dict[str, list[float]] = {name: [] for name in probes}
            for index in range(rounds):
                order = list(probes.items())
                for name, probe in order[index % 3:] + order[:index % 3]:
                    start = time.perf_counter_ns()
                    for _ in range(per_round):
                        probe.round_trip()
                    times[name].append((time.perf_counter_ns() - start) / per_round / 1000)
            for probe in probes.values():
                probe.close()
    finally:
        for process in processes:
            process.kill()
            process.wait()
    print(f"{'server':12s} {'fastest round':>14s} {'median round':>13s}   (µs per round trip)")
    for name, values in times.items():
        print(f"{name:12s} {min(values):14.0f} {statistics.median(values):13.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
