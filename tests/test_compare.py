"""``imgsdk compare``: the contact sheet and the self-contained HTML report, end to end.

The command runs in a subprocess against the offline renderer (``local:placeholder``), a loopback fake of an
OpenAI-compatible server that this module starts on 127.0.0.1 (declared in config so the policy engine has
something to warn about, with a price so a cost shows), and providers that fail in the three usual ways: no
key (``openai:gpt-image-2``), moderation, and a provider that echoes the API key in its 401.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imgsdk.cli.compare import Entry, contact_sheet, html_report

SECRET = "sk-test-9f8e7d6c5b4a39281706"
RED, BLUE = (214, 40, 40), (40, 90, 210)
FAIL_PANEL = (253, 232, 232)


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


class _Handler(BaseHTTPRequestHandler):
    """OpenAI's ``POST /v1/images/generations``: b64_json for GPT-image bodies, a URL for DALL·E bodies (the
    image then comes from ``GET /img`` here), a moderation refusal for model ``refuses`` and a 401 quoting
    the key (as OpenAI does) for model ``bad-key``."""

    def log_message(self, *args: Any) -> None:
        return None

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._send(200, _png(1792, 1024, BLUE), "image/png")

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        if body["model"] == "refuses":
            error = {"message": "Your request was rejected by the safety system.", "code": "moderation_blocked"}
            return self._send(400, json.dumps({"error": error}).encode())
        if body["model"] == "bad-key":
            key = self.headers.get("authorization", "").removeprefix("Bearer ")
            error = {"message": f"Incorrect API key provided: {key}.", "code": "invalid_api_key"}
            return self._send(401, json.dumps({"error": error}).encode())
        width, height = (int(side) for side in body.get("size", "1024x1024").split("x"))
        if body.get("response_format") == "url":
            item = {"url": f"http://127.0.0.1:{self.server.server_address[1]}/img",
                    "revised_prompt": "A watercolour lighthouse at dawn, soft pink light over the sea."}
        else:
            item = {"b64_json": base64.b64encode(_png(width, height, RED)).decode()}
        self._send(200, json.dumps({"created": 1, "data": [item]}).encode())


@pytest.fixture
def loopback() -> Iterator[str]:
    """A fake OpenAI-compatible server on 127.0.0.1; yields its base URL and stops it afterwards."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _config(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "imgsdk.toml"
    path.write_text(f"""
[providers.hero]
model = "openai-compatible:fake-gpt"
base_url = "{base_url}"

[providers.dalle-proxy]
model = "openai-compatible:fake-dalle"
base_url = "{base_url}"

[providers.refuses]
model = "openai-compatible:refuses"
base_url = "{base_url}"

[providers.leaky]
model = "openai-compatible:bad-key"
base_url = "{base_url}"
api_key = "${{LEAKY_KEY}}"

[models."openai-compatible:fake-gpt"]
family = "gpt-image"
size = {{ mode = "fixed", sizes = ["1024x1024", "1536x1024", "1024x1536"] }}
qualities = ["low", "medium", "high"]
quality_aliases = {{ hd = "high", standard = "medium" }}
prices = [{{ usd = 0.25, quality = "high", size = "1536x1024" }}]

[models."openai-compatible:fake-dalle"]
family = "dalle"
size = {{ mode = "fixed", sizes = ["1024x1024", "1792x1024", "1024x1792"] }}
qualities = ["standard", "hd"]
styles = ["vivid", "natural"]
returns = "url"
""", encoding="utf-8")
    return path


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if not key.endswith(("_API_KEY", "_API_TOKEN", "_KEY", "_TOKEN", "_PROXY", "_proxy"))
           and not key.startswith("IMGSDK_")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "xdg"), NO_PROXY="127.0.0.1,localhost",
               LEAKY_KEY=SECRET)
    return subprocess.run([sys.executable, "-m", "imgsdk.cli", "compare", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


PROVIDERS = "local:placeholder,hero,dalle-proxy,refuses,leaky,openai:gpt-image-2"
EXTERNAL = re.compile(r"""(?:\b(?:src|href|action|poster|srcset|data|formaction)\s*=\s*["']?\s*(?:https?:)?//)"""
                      r"""|url\(\s*["']?\s*(?:https?:)?//|@import""", re.IGNORECASE)


@pytest.fixture
def report(tmp_path: Path, loopback: str) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    _config(tmp_path, loopback)
    result = _run(tmp_path, "a lighthouse at dawn, watercolour", "--providers", PROVIDERS, "--size",
                  "1792x1024", "--quality", "hd", "--style", "natural", "-o", "out/grid.png", "--html",
                  "report.html")
    return result, tmp_path / "out" / "grid.png", tmp_path / "report.html"


def test_compare_writes_a_sheet_with_every_provider_and_failures_as_tiles(report: Any) -> None:
    result, grid, _ = report
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if not line.startswith("wrote "))
    assert lines["local:placeholder"].startswith("local:placeholder 1792x1024 in ")
    assert lines["hero"].startswith("openai-compatible:fake-gpt 1536x1024 in ")
    assert "$0.250, 3 warning(s)" in lines["hero"]
    assert lines["dalle-proxy"].startswith("openai-compatible:fake-dalle 1792x1024 in ")  # fetched from its URL
    assert lines["refuses"].startswith("FAILED ContentPolicyError: ")
    assert lines["leaky"].startswith("FAILED AuthenticationError: ")
    assert lines["openai:gpt-image-2"].startswith("FAILED ConfigError: no API key for openai")
    assert SECRET not in result.stdout + result.stderr
    with Image.open(grid) as sheet:
        assert sheet.format == "PNG"
        colours = {colour for _, colour in sheet.convert("RGB").getcolors(maxcolors=1 << 20) or []}
        width, height = sheet.size
    assert width >= 3 * 420 and height >= 2 * 300  # three columns, two rows of tiles at least
    assert {RED, BLUE, FAIL_PANEL} <= colours  # the loopback's two images and the failure panels are drawn
    assert len(colours) > 1000  # the placeholder's picture and anti-aliased text, not flat boxes


def test_html_report_is_self_contained_and_holds_every_tile(report: Any) -> None:
    result, _, page = report
    assert result.returncode == 0, result.stderr
    text = page.read_text(encoding="utf-8")
    assert not EXTERNAL.search(text), EXTERNAL.search(text)
    assert "default-src 'none'; img-src data:" in text  # the browser itself refuses any external load
    assert SECRET not in text
    tiles = re.findall(r'<figure class="tile (ok|failed)"[^>]*data-label="([^"]*)"[^>]*data-provider="([^"]*)"'
                       r'[^>]*data-size="([^"]*)">(.*?)</figure>', text, re.DOTALL)
    assert [label for _, label, _, _, _ in tiles] == PROVIDERS.split(",")
    sizes = {}
    for status, label, _, size, body in tiles:
        if status == "ok":
            media, payload = re.search(r'src="data:(image/[a-z]+);base64,([A-Za-z0-9+/=]+)"', body).groups()
            with Image.open(io.BytesIO(base64.b64decode(payload))) as image:
                assert f"{image.width}x{image.height}" == size
                assert Image.MIME[image.format] == media
            sizes[label] = size
        else:
            assert "FAILED · " in body
    assert sizes == {"local:placeholder": "1792x1024", "hero": "1536x1024", "dalle-proxy": "1792x1024"}
    assert "style &#x27;natural&#x27; dropped" in text and "A watercolour lighthouse at dawn" in text


@pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
                    reason="headless Chromium is not installed (apt-get install chromium)")
def test_a_browser_opens_the_report_offline_and_renders_every_tile(report: Any, tmp_path: Path) -> None:
    result, _, page = report
    assert result.returncode == 0, result.stderr
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
    # A dead proxy: anything not inline would fail to load, so a decoded image proves it was inline.
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
             "--virtual-time-budget=5000", f"--user-data-dir={tmp_path / 'chromium'}"]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    figures = re.findall(r"<figure ([^>]*)>", dom)
    assert len(figures) == len(PROVIDERS.split(","))
    for attributes in figures:
        fields = dict(re.findall(r'data-([a-z]+)="([^"]*)"', attributes))
        if 'class="tile ok"' in attributes:
            assert fields.get("rendered") == fields["size"], attributes[:200]  # decoded at its real size
        else:
            assert "rendered" not in fields
    shot = tmp_path / "report.png"
    subprocess.run([*flags, "--hide-scrollbars", "--window-size=1280,1400", f"--screenshot={shot}",
                    page.as_uri()], capture_output=True, timeout=120, check=True)
    with Image.open(shot) as image:
        assert image.size == (1280, 1400)
        assert {RED, BLUE} <= {colour for _, colour in image.convert("RGB").getcolors(1 << 22) or []}


def test_when_every_provider_fails_the_sheet_is_still_written_and_the_exit_code_says_why(tmp_path: Path) -> None:
    result = _run(tmp_path, "a fox", "--providers", "openai:gpt-image-2, stability:core", "--html", "r.html",
                  "-o", "sheets/")
    assert result.returncode == 2, result.stdout + result.stderr  # ConfigError: no key
    assert "FAILED ConfigError: no API key for openai" in result.stdout
    assert "FAILED ConfigError: no API key for stability" in result.stdout
    with Image.open(tmp_path / "sheets" / "compare.png") as sheet:  # a directory gets compare.png
        assert sheet.size[0] >= 2 * 420
    assert (tmp_path / "r.html").read_text(encoding="utf-8").count('class="tile failed"') == 2


def test_an_empty_provider_list_is_a_usage_error(tmp_path: Path) -> None:
    result = _run(tmp_path, "a fox", "--providers", " , ")
    assert result.returncode == 2
    assert "--providers is empty" in result.stderr
    assert not (tmp_path / "compare.png").exists()


# -- the sheet and the report, in process ---------------------------------------------------------------
def _entry(label: str, **fields: Any) -> Entry:
    return Entry(label=label, provider=fields.pop("provider", label), latency=fields.pop("latency", 1.5), **fields)


def test_sheet_layout_wraps_long_text_and_marks_undisplayable_images() -> None:
    wide = _png(1792, 1024, RED)
    entries = [
        _entry("wide", image=wide, media_type="image/png", size="1792x1024", cost_usd=0.04,
               warnings=["a warning that goes on and on " * 12]),
        _entry("svg", image=b"<svg xmlns='http://www.w3.org/2000/svg'/>", media_type="image/svg+xml"),
        _entry("broken", error_class="ServiceUnavailableError", error="x" * 2000, exit_code=4),
    ]
    sheet = contact_sheet(entries, "é" * 500, "size 1792x1024")
    assert sheet.size[0] == 16 + 3 * (420 + 16)
    colours = {colour for _, colour in sheet.getcolors(maxcolors=1 << 20) or []}
    assert RED in colours and FAIL_PANEL in colours
    page = html_report(entries, "<script>alert(1)</script>", "size 1792x1024")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<figure") == 3 and not EXTERNAL.search(page)
