"""Issue 2's "done when", against a real loopback HTTP server given as base_url (real sockets, no mocks)."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from PIL import Image

import imgsdk


def _png(width: int, height: int) -> str:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 60, 90)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


class _Recorder(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.bodies.append(body)
        if body["model"] == "dall-e-3":  # DALL·E: a URL and a revised prompt
            answer = {"created": 1, "data": [{"url": f"http://{self.headers['host']}/img.png",
                                              "revised_prompt": "A lighthouse at dawn, rewritten."}]}
        else:  # GPT-image: base64 only
            answer = {"created": 1, "data": [{"b64_json": _png(1792, 1024)}], "size": "1792x1024"}
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    bodies: list[dict[str, Any]] = []
    handler = type("Handler", (_Recorder,), {"bodies": bodies})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", bodies
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _client(base_url: str, model: str) -> imgsdk.Client:
    return imgsdk.Client({"providers": {"p": {"model": f"openai:{model}", "base_url": base_url,
                                              "api_key": "${ISSUE2_TEST_KEY:-test-key}"}}})


NODE = {"size": "1792x1024", "quality": "hd", "style": "natural"}


def test_dall_e_3_sends_exactly_the_documented_fields(server: tuple[str, list[dict[str, Any]]]) -> None:
    base_url, bodies = server
    with _client(base_url, "dall-e-3") as client:
        result = client.generate("a lighthouse at dawn", provider="p", **NODE)
    assert bodies == [{"model": "dall-e-3", "prompt": "a lighthouse at dawn", "n": 1, "size": "1792x1024",
                       "quality": "hd", "style": "natural", "response_format": "url"}]
    assert result.warnings == []
    assert result.revised_prompt == "A lighthouse at dawn, rewritten."
    assert result.images[0].reported_size == "1792x1024"


def test_gpt_image_2_drops_style_translates_quality_and_says_so(server: tuple[str, list[dict[str, Any]]]) -> None:
    base_url, bodies = server
    with _client(base_url, "gpt-image-2") as client:
        result = client.generate("a lighthouse at dawn", provider="p", **NODE)
    assert bodies == [{"model": "gpt-image-2", "prompt": "a lighthouse at dawn", "n": 1, "size": "1792x1024",
                       "quality": "high"}]
    assert [(w.code, w.option, w.requested, w.applied) for w in result.warnings] == [
        ("translated", "quality", "hd", "high"), ("dropped", "style", "natural", None)]
    assert result.to_node_output() == {"url": result.url, "revised_prompt": "a lighthouse at dawn",
                                       "size": "1792x1024"}


def test_the_same_call_in_strict_mode_raises_before_any_request(server: tuple[str, list[dict[str, Any]]]) -> None:
    base_url, bodies = server
    with _client(base_url, "gpt-image-2") as client, pytest.raises(imgsdk.UnsupportedOptionError) as caught:
        client.generate("a lighthouse at dawn", provider="p", on_unsupported="strict", **NODE)
    assert bodies == []
    assert caught.value.option == "quality" and caught.value.value == "hd"
    assert "high" in str(caught.value)


def test_dall_e_3_on_api_openai_com_fails_before_the_network_naming_the_replacement() -> None:
    client = imgsdk.Client({"providers": {"p": {"model": "openai:dall-e-3", "api_key": "k"}}})
    with pytest.raises(imgsdk.ModelRetiredError) as caught:
        client.generate("a lighthouse", provider="p")
    message = str(caught.value)
    assert "gpt-image-2" in message and "2026-05-12" in message
    assert caught.value.replacement == "gpt-image-2" and caught.value.shutdown == "2026-05-12"
