"""Record and replay imgsdk calls with vcrpy, safely: credentials scrubbed, bodies matched, no waiting.

Use it from pytest (opt in, so nothing changes in suites that do not ask for it)::

    # conftest.py
    pytest_plugins = ["imgsdk.testing.plugin"]

    # test_mine.py
    @pytest.mark.vcr                      # pytest-recording; cassettes under cassettes/<module>/<test>.yaml
    def test_banner(imgsdk_replay_client):
        result = imgsdk_replay_client.generate("a banner", provider="openai:gpt-image-2")
        assert result.size == "1024x1024"

or directly: ``with use_cassette("cassettes/openai/basic.yaml"): ...``. Record a new cassette with a real key in
the environment and ``pytest --record-mode=once``; then run ``imgsdk cassettes check cassettes/`` (or
:func:`find_secrets`) before committing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["CREDENTIAL_HEADERS", "SCRUBBED", "find_secrets", "use_cassette", "vcr_config"]

SCRUBBED = "REDACTED"
#: Every header any adapter uses for credentials, plus cookies and request ids (they identify accounts).
CREDENTIAL_HEADERS = ("authorization", "api-key", "x-key", "x-goog-api-key", "x-api-key", "cookie",
                      "set-cookie", "openai-organization", "openai-project")
_QUERY_SECRETS = ("key", "api_key", "api-key", "token", "access_token", "sig", "signature")
_SECRET_PATTERNS = (re.compile(r"sk-[A-Za-z0-9_-]{16,}"), re.compile(r"Bearer [A-Za-z0-9._~+/=-]{16,}"),
                    re.compile(r"Key [A-Za-z0-9:_-]{16,}"), re.compile(r"AIza[0-9A-Za-z_-]{20,}"),
                    re.compile(r"r8_[A-Za-z0-9]{20,}"), re.compile(r"xai-[A-Za-z0-9]{20,}"))


def _normalise_body(body: Any) -> Any:
    if body is None:
        return None
    raw = body.encode() if isinstance(body, str) else bytes(body)
    try:
        return json.loads(raw)
    except ValueError:
        pass
    # multipart: the boundary is random per request, so compare the parts without it
    match = re.match(rb"--([^\r\n]+)\r\n", raw)
    if match:
        return raw.replace(match.group(1), b"BOUNDARY")
    return raw


def body_matcher(recorded: Any, incoming: Any) -> None:
    """vcrpy matcher: JSON bodies compared as data, multipart with the boundary normalised."""
    first, second = _normalise_body(recorded.body), _normalise_body(incoming.body)
    if first != second:
        raise AssertionError(f"request body differs from the cassette:\n recorded: {first!r:.400}\n "
                             f"now:      {second!r:.400}")


def _scrub_request(request: Any) -> Any:
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in CREDENTIAL_HEADERS:
            headers[name] = [SCRUBBED]
    return response


def vcr_config(record_mode: str = "none") -> dict[str, Any]:
    """Keyword arguments for ``vcr.VCR``/pytest-recording: scrub, match bodies, refuse unrecorded requests."""
    return {
        "record_mode": record_mode,
        "filter_headers": [(name, SCRUBBED) for name in CREDENTIAL_HEADERS],
        "filter_query_parameters": [(name, SCRUBBED) for name in _QUERY_SECRETS],
        "before_record_request": _scrub_request,
        "before_record_response": _scrub_response,
        "match_on": ["method", "scheme", "host", "port", "path", "query", "imgsdk_body"],
        "decode_compressed_response": True,
    }


def make_vcr(record_mode: str = "none", cassette_dir: str | None = None) -> Any:
    """A configured ``vcr.VCR`` (vcrpy imported only here: it is a test extra)."""
    import vcr

    config = vcr_config(record_mode)
    if cassette_dir:
        config["cassette_library_dir"] = cassette_dir
    recorder = vcr.VCR(**config)
    recorder.register_matcher("imgsdk_body", body_matcher)
    return recorder


@contextmanager
def use_cassette(path: str | Path, record_mode: str = "none") -> Iterator[Any]:
    """Replay (or record, with ``record_mode="once"``) one cassette file."""
    with make_vcr(record_mode).use_cassette(str(path)) as cassette:
        yield cassette


def find_secrets(path: str | Path, extra: tuple[str, ...] = ()) -> list[str]:
    """Lines of a cassette (or every cassette under a folder) that look like credentials."""
    root = Path(path)
    files = [root] if root.is_file() else sorted(root.rglob("*.yaml")) + sorted(root.rglob("*.json"))
    found = []
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if any(p.search(line) for p in _SECRET_PATTERNS) or any(s and s in line for s in extra):
                found.append(f"{file}:{number}: {line.strip()[:120]}")
    return found
