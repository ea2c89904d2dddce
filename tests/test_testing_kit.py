"""imgsdk.testing: tiny images, scrubbing, matching, the network guard, the fake provider, the contract's teeth,
``imgsdk cassettes check``, the canary proof, and docs/testing.md run as a user's test suite."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx2
import pytest
from cassette_scenarios import CANARY as CANARIES
from cassette_scenarios import CANARY_FORMS, KEY_VARIABLE, SCENARIOS, Scenario, run
from PIL import Image
from record_cassettes import scripted
from vcr.request import Request

import imgsdk
from imgsdk import media
from imgsdk.adapter import Endpoint, Secret, WireRequest
from imgsdk.adapters.openai import OpenAIAdapter
from imgsdk.cli import main as cli
from imgsdk.errors import (
    ContentPolicyError,
    ModelRetiredError,
    ProviderTimeoutError,
    QuotaExceededError,
    RateLimitError,
    UnsupportedOptionError,
)
from imgsdk.testing import ReplayClient, UnrecordedRequestError, make_vcr, scan, use_cassette
from imgsdk.testing.images import shrink_body, shrink_image, shrink_text, tiny_image
from imgsdk.testing.matching import body_matcher
from imgsdk.testing.scrub import SCRUBBED, Scrubber

ROOT = Path(__file__).resolve().parent.parent
CANARY = "sk-canary-KIT-0123456789abcdefghij"


def noisy(width: int, height: int, fmt: str = "PNG") -> bytes:
    """An image that does not compress (noise), as real generations do not."""
    out = io.BytesIO()
    Image.effect_noise((width, height), 80).convert("RGB").save(out, format=fmt)
    return out.getvalue()


def vcr_request(method: str, uri: str, body: bytes | None = None, **headers: str) -> Request:
    return Request(method, uri, body, {name.replace("_", "-"): value for name, value in headers.items()})


# -- tiny images ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "media_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"),
                                                 ("WEBP", "image/webp"), ("GIF", "image/gif")])
def test_images_shrink_to_the_same_size_and_format(fmt: str, media_type: str) -> None:
    original = noisy(640, 360, fmt)
    tiny = shrink_image(original)
    assert tiny is not None and len(tiny) < len(original) / 10
    assert (media.image_size(tiny), media.sniff_media_type(tiny)) == ("640x360", media_type)
    assert shrink_image(tiny) == tiny, "shrinking is idempotent (a recorded request still matches)"


def test_a_1792x1024_png_becomes_a_few_hundred_bytes() -> None:
    assert len(tiny_image(1792, 1024, "PNG")) < 600
    assert len(tiny_image(1792, 1024, "JPEG")) < 8000  # JPEG codes every 8x8 block: still a few KB


def test_base64_images_are_found_in_any_json_field_and_data_urls() -> None:
    encoded = base64.b64encode(noisy(300, 200)).decode()
    body = json.dumps({"data": [{"b64_json": encoded}], "nested": {"x": [f"data:image/png;base64,{encoded}"]},
                       "text": "not an image", "short": "iVBOR"}).encode()
    shrunk = json.loads(shrink_body(body) or b"{}")
    for value in (shrunk["data"][0]["b64_json"], shrunk["nested"]["x"][0].split(",", 1)[1]):
        assert media.image_size(base64.b64decode(value)) == "300x200" and len(value) < len(encoded) / 10
    assert shrunk["nested"]["x"][0].startswith("data:image/png;base64,")
    assert (shrunk["text"], shrunk["short"]) == ("not an image", "iVBOR")
    assert shrink_text("x" * 500) is None and shrink_body(b'{"a": 1}') is None


def test_multipart_uploads_are_shrunk_part_by_part() -> None:
    request = httpx2.Request("POST", "https://api.example.com/edit", data={"prompt": "a fox"},
                             files={"image": ("in.png", noisy(256, 256), "image/png")})
    body = request.read()
    shrunk = shrink_body(body, request.headers["content-type"])
    assert shrunk is not None and len(shrunk) < len(body) / 10
    assert b'name="prompt"\r\n\r\na fox\r\n' in shrunk
    image = shrunk.split(b"\r\n\r\n", 2)[2].rsplit(b"\r\n--", 1)[0]
    assert media.image_size(image) == "256x256"


# -- scrubbing -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("header", "value"), [
    ("Authorization", f"Bearer {CANARY}"), ("authorization", f"Key {CANARY}"), ("api-key", CANARY),
    ("x-key", CANARY), ("x-goog-api-key", CANARY), ("Cookie", f"session={CANARY}"),
    ("authorization", "Basic " + base64.b64encode(f"user:{CANARY}".encode()).decode())])
def test_every_credential_header_is_scrubbed_and_its_echo_too(header: str, value: str) -> None:
    scrubber = Scrubber()
    request = scrubber.request(vcr_request("POST", "https://api.example.com/v1/x", b'{"prompt": "p"}',
                                           **{header: value}))
    assert request.headers[header] == SCRUBBED
    echo = json.dumps({"error": {"message": f"Incorrect API key provided: {CANARY[:12]}... and {CANARY}"}})
    response = scrubber.response({"status": {"code": 401}, "headers": {"content-type": ["application/json"]},
                                  "body": {"string": echo.encode()}})
    assert CANARY not in response["body"]["string"].decode()


def test_urls_query_keys_signatures_and_user_info_are_scrubbed() -> None:
    scrubber = Scrubber()
    request = scrubber.request(vcr_request(
        "GET", f"https://user:{CANARY}@host.example.com/v1/models/m:predict?key={CANARY}&alt=json&sig=abc"))
    assert CANARY not in request.uri and "alt=json" in request.uri
    assert "key=REDACTED" in request.uri and "sig=REDACTED" in request.uri and "REDACTED@host" in request.uri
    body = json.dumps({"url": "https://blob.example.com/img.png?se=2026&sig=0123456789abcdefXYZ", "api_key": "k" * 9,
                       "webhook_secret": "s" * 9, "note": "AIza" + "A" * 35}).encode()
    response = scrubber.response({"status": {"code": 200}, "headers": {"x-request-id": ["req_1"],
                                                                       "set-cookie": ["a=b"]},
                                  "body": {"string": body}})
    cleaned = json.loads(response["body"]["string"])
    assert cleaned["url"].endswith("se=2026&sig=REDACTED")
    assert cleaned["api_key"] == cleaned["webhook_secret"] == SCRUBBED and "AIza" not in cleaned["note"]
    assert response["headers"]["x-request-id"] == response["headers"]["set-cookie"] == [SCRUBBED]


def test_environment_keys_are_scrubbed_wherever_they_appear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BFL_API_KEY", "plain-bfl-key-without-any-known-shape")
    config = imgsdk.testing.vcr_config()
    response = config["before_record_response"]({"status": {"code": 200}, "headers": {}, "body": {
        "string": b"your key plain-bfl-key-without-any-known-shape is invalid"}})
    assert response["body"]["string"] == b"your key REDACTED is invalid"


# -- matching --------------------------------------------------------------------------------------------
def test_json_bodies_match_as_data_and_volatile_ids_are_ignored() -> None:
    recorded = vcr_request("POST", "http://h/prompt", b'{"prompt": {"a": 1}, "client_id": "111"}')
    live = vcr_request("POST", "http://h/prompt", b'{"client_id":"222","prompt":{"a":1}}')
    body_matcher(live, recorded)
    changed = vcr_request("POST", "http://h/prompt", b'{"client_id":"222","prompt":{"a":2}}')
    with pytest.raises(AssertionError, match=r"body\.prompt\.a: recorded 1, now 2"):
        body_matcher(changed, recorded)


def test_multipart_bodies_match_whatever_their_random_boundary() -> None:
    def multipart(prompt: str) -> Request:
        request = httpx2.Request("POST", "https://h/v2beta", files={"prompt": (None, prompt)})
        return vcr_request("POST", "https://h/v2beta", request.read(), content_type=request.headers["content-type"])

    first, second = multipart("a fox"), multipart("a fox")
    assert first.body != second.body  # two random boundaries
    body_matcher(second, first)
    with pytest.raises(AssertionError, match="differs"):
        body_matcher(multipart("a wolf"), first)


# -- the network guard and no-wait clients -----------------------------------------------------------------
def test_without_a_cassette_the_guard_blocks_and_names_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", CANARY)
    with ReplayClient() as client, pytest.raises(UnrecordedRequestError) as caught:
        client.generate("a fox", provider="google:gemini-3.1-flash-image")
    assert caught.value.method == "POST"
    assert caught.value.url.endswith("/v1beta/models/gemini-3.1-flash-image:generateContent")
    assert "No cassette is active" in str(caught.value) and CANARY not in str(caught.value)


async def test_the_async_client_is_guarded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    async with imgsdk.testing.AsyncReplayClient() as client:
        with pytest.raises(UnrecordedRequestError, match=r"POST https://api\.openai\.com/v1/images/generations"):
            await client.generate("a fox", provider="openai:gpt-image-2")


async def test_async_replay_of_a_poll_sequence_never_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = next(s for s in SCENARIOS if s.path == "bfl/node_default.yaml")
    monkeypatch.setenv(KEY_VARIABLE["bfl"], "replay-placeholder-key-0000")
    with use_cassette(ROOT / "cassettes" / scenario.path):
        async with imgsdk.testing.AsyncReplayClient(scenario.config()) as client:
            result = await client.generate(provider="main", **scenario.call)
            data = await result.images[0].adata()
    assert media.image_size(data) == "1024x1024" and client.sleeps == [0.5, 0.75, 1.125]


# -- the canary proof ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.name in ("node_default", "moderation")],
                         ids=lambda s: s.path)
def test_a_canary_key_recorded_through_the_kit_appears_nowhere(scenario: Scenario, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VARIABLE[scenario.adapter], CANARIES[scenario.adapter])
    target = tmp_path / "recorded.yaml"
    with make_vcr("once").use_cassette(str(target)), \
            imgsdk.Client(scenario.config(), transport=scripted(scenario), sleep=lambda s: None) as client:
        run(scenario, client)
    text = target.read_text()
    assert "REDACTED" in text or scenario.adapter == "openai-compatible"
    for form in CANARY_FORMS:
        assert form not in text
    assert scan(target, max_kb=64, extra=CANARY_FORMS) == []


def test_a_canary_echoed_by_the_server_in_body_and_headers_is_scrubbed(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)

    def server(request: httpx2.Request) -> httpx2.Response:
        assert request.headers["authorization"] == f"Bearer {CANARY}"  # the real key went out...
        return httpx2.Response(401, headers={"x-echo": CANARY, "set-cookie": f"s={CANARY}"}, json={"error": {
            "message": f"Incorrect API key provided: {CANARY}", "type": "invalid_request_error",
            "code": "invalid_api_key"}})

    target = tmp_path / "echo.yaml"
    config = {"providers": {"main": {"model": "openai:gpt-image-2", "api_key": "${OPENAI_API_KEY}"}}}
    with use_cassette(target, "once"), imgsdk.Client(config, transport=httpx2.MockTransport(server)) as client, \
            pytest.raises(imgsdk.AuthenticationError):
        client.generate("a fox", provider="main")
    text = target.read_text()
    assert CANARY not in text and CANARY[:20] not in text  # ...and nothing of it came back
    assert scan(target, extra=(CANARY,)) == []


# -- the fake provider --------------------------------------------------------------------------------------
def test_fake_images_are_deterministic_and_record_what_was_asked(imgsdk_fake_adapter: Any) -> None:
    with ReplayClient() as client:
        first = client.generate("a fox", provider="fake:fake-ratio", size="16:9", seed=7, n=2,
                                negative_prompt="blur", output_format="webp")
        again = client.generate("a fox", provider="fake:fake-ratio", size="16:9", seed=7, n=2,
                                negative_prompt="blur", output_format="webp")
        other = client.generate("a wolf", provider="fake:fake-ratio", size="16:9", seed=7)
    assert [image.data for image in first.images] == [image.data for image in again.images]
    assert first.images[0].data != first.images[1].data != other.images[0].data
    assert (first.size, first.images[0].media_type, first.images[1].seed) == ("1024x576", "image/webp", 8)
    call = imgsdk_fake_adapter.calls[0]
    assert (call.prompt, call.aspect_ratio, call.seed, call.n, call.negative_prompt) == ("a fox", "16:9", 7, 2,
                                                                                         "blur")


def test_fake_declarations_drive_the_real_policy(imgsdk_fake_adapter: Any) -> None:
    with ReplayClient() as client:
        result = client.generate("a fox", provider="fake:fake-square", size="1536x1024", style="natural")
        with pytest.raises(UnsupportedOptionError):
            client.generate("a fox", provider="fake:fake-square", seed=3, on_unsupported="strict")
        with pytest.raises(ModelRetiredError, match="fake-square"):
            client.generate("a fox", provider="fake:fake-retired")
    assert result.size == "1792x1024" and [w.code for w in result.warnings] == ["adapted"]
    assert imgsdk_fake_adapter.calls[0].style == "natural"


def test_fake_scripted_failures(imgsdk_fake_adapter: Any) -> None:
    fake = imgsdk_fake_adapter
    with ReplayClient() as client:
        fake.script.fail("rate_limit", times=2, retry_after=0.25)  # pacing: waited out
        assert client.generate("a fox", provider="fake:fake-square").size == "1024x1024"
        assert client.sleeps == [0.25, 0.25]  # asked for, none slept
        fake.script.fail("rate_limit", times=3, retry_after=None)  # no Retry-After: the retries run out
        with pytest.raises(RateLimitError):
            client.generate("a fox", provider="fake:fake-square")
        assert len(client.sleeps) == 4
        fake.script.fail("quota")
        with pytest.raises(QuotaExceededError):
            client.generate("a fox", provider="fake:fake-square")
        fake.script.fail("moderation_output")
        with pytest.raises(ContentPolicyError) as caught:
            client.generate("a fox", provider="fake:fake-square")
        assert caught.value.stage == "output"
        with pytest.raises(ProviderTimeoutError, match="did not finish"):
            client.generate("a fox", provider="fake:fake-poll", provider_options={"fake": {"fail": "timeout"}})
    assert [call.outcome for call in fake.calls] == (["rate_limit"] * 2 + ["ok"] + ["rate_limit"] * 3
                                                      + ["quota", "moderation_output", "timeout"])
    assert fake.cancelled == ["job-9"], "a timed-out job is cancelled"


def test_fake_poll_jobs_are_polled_until_done(imgsdk_fake_adapter: Any) -> None:
    imgsdk_fake_adapter.script.pending(3)
    with ReplayClient() as client:
        result = client.generate("a fox", provider="fake:fake-poll", size="512x768")
    assert result.size == "512x768" and client.sleeps == [0.5, 0.75, 1.125, 1.6875]


@pytest.fixture
def imgsdk_fake_adapter() -> Any:
    from imgsdk.testing.fake import fake_adapter

    fake = fake_adapter()
    fake.reset()
    yield fake
    fake.reset()


# -- the contract has teeth -------------------------------------------------------------------------------
def test_the_contract_catches_broken_adapters() -> None:
    from dataclasses import replace

    from imgsdk.adapters.openai import MODELS
    from imgsdk.capabilities import Lifecycle
    from imgsdk.testing.contract_answers import cases
    from imgsdk.testing.contract_checks import DEFAULT_STATUSES, ContractViolation

    class Broken(OpenAIAdapter):
        secret_headers = ()  # the key is in "Authorization", which is not declared

        def build_request(self, call: Any, endpoint: Endpoint) -> WireRequest:
            wire = super().build_request(call.with_(style=None), endpoint)  # drops style
            if call.seed is not None:
                wire.json["seed"] = call.seed  # undeclared... but the policy drops it first
            return wire

    adapter = Broken()
    models = {"dall-e-3": replace(MODELS["dall-e-3"], quality_default="ultra",
                                  lifecycle=Lifecycle(status="deprecated", deprecated_on="2026-05-01",
                                                      shutdown_on="2026-04-01", replacement="dall-e-9")),
              "no-images": replace(MODELS["dall-e-3"], model="no-images", max_images=0)}
    found = cases(adapter, Endpoint("https://api.openai.com/v1", api_key=Secret(CANARY)), models, [], [],
                  DEFAULT_STATUSES)
    failures = {}
    for case, check in found.items():
        try:
            check()
        except ContractViolation as violation:
            failures[case] = str(violation)
        except Exception as error:  # what Contract.run reports as "the adapter raised ..."
            failures[case] = f"raised {error}"
    assert "quality_default 'ultra'" in failures["capabilities:dall-e-3"]
    assert "max_images is 0" in failures["capabilities:no-images"]
    assert "is after shutdown_on" in failures["lifecycle:dall-e-3"]
    assert "replacement 'dall-e-9'" in failures["lifecycle:dall-e-3"]
    assert "the adapter drops it" in failures["supported:dall-e-3:style"]
    assert "secret_headers" in failures["request:dall-e-3"]
    assert "no success sample" in failures["adapter:samples"]
    assert "unsupported:dall-e-3:seed" not in failures  # the policy dropped it: it never reached the wire


# -- imgsdk cassettes check ----------------------------------------------------------------------------------
def test_cassettes_check_passes_on_our_cassettes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["cassettes", "check", str(ROOT / "cassettes")]) == 0
    assert re.search(r"\d+ cassette\(s\) checked: no credentials", capsys.readouterr().out)


def test_cassettes_check_fails_naming_file_and_line_never_the_secret(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    source = (ROOT / "cassettes" / "openai" / "gpt_image_2_basic.yaml").read_text()
    leaked = source.replace("      authorization:\n      - REDACTED", f"      authorization:\n      - Bearer {CANARY}")
    (tmp_path / "leak.yaml").write_text(leaked)
    binary = base64.encodebytes(f"token {CANARY} in a binary body".encode()).decode()
    (tmp_path / "binary.yaml").write_text("    body:\n      string: !!binary |\n"
                                          + "".join(f"        {line}\n" for line in binary.splitlines()))
    (tmp_path / "big.yaml").write_text("body: '" + "A" * 3000 + "'\n")
    assert cli(["cassettes", "check", str(tmp_path), "--max-kb", "2"]) == 1
    out = capsys.readouterr().out
    line = leaked.splitlines().index(f"      - Bearer {CANARY}") + 1
    assert f"{tmp_path / 'leak.yaml'}:{line}: " in out
    assert f"{tmp_path / 'binary.yaml'}:2: in a binary body" in out
    assert f"{tmp_path / 'big.yaml'}:1: the cassette is 2.9 KB, over the 2 KB limit" in out
    assert CANARY not in out and CANARY[:8] not in out


def test_cassettes_check_with_nothing_to_check(tmp_path: Path) -> None:
    assert cli(["cassettes", "check", str(tmp_path / "missing")]) == 2
    assert cli(["cassettes", "check", str(tmp_path)]) == 2


PLUGIN_EXTRAS = '''
import os

import pytest

from imgsdk.testing import UnrecordedRequestError
from imgsdk.testing.plugin import REPLAY_KEY


@pytest.mark.asyncio  # pytest-asyncio's strict mode, a user's default: the plugin's async fixture works there
async def test_the_async_client_uses_the_fake_and_never_waits(imgsdk_async_client, imgsdk_fake):
    imgsdk_fake.script.pending(2)
    result = await imgsdk_async_client.generate("a fox", provider="fake:fake-poll", size="256x256")
    assert result.size == "256x256" and imgsdk_async_client.sleeps == [0.5, 0.75, 1.125]


def test_an_unmarked_test_cannot_reach_the_network(imgsdk_client):
    with pytest.raises(UnrecordedRequestError, match="No cassette is active"):
        imgsdk_client.generate("a fox", provider="bfl:flux-2-pro")


def test_replays_get_placeholder_keys(imgsdk_client, imgsdk_replay_keys):
    assert "OPENAI_API_KEY" in imgsdk_replay_keys and os.environ["OPENAI_API_KEY"] == REPLAY_KEY


def test_vcr_config_is_imgsdks(vcr_config):
    assert "imgsdk_body" in vcr_config["match_on"] and "record_mode" not in vcr_config
'''


# -- docs/testing.md, run as a user's test suite --------------------------------------------------------------
def test_the_docs_example_runs_as_a_test_suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (ROOT / "docs" / "testing.md").read_text()
    for step in ("--record-mode=once", "imgsdk cassettes check", "export OPENAI_API_KEY", 'pytest_plugins = ['):
        assert step in doc
    files = dict(re.findall(r'```python title="([^"]+)"\n(.*?)```', doc, re.DOTALL))
    assert set(files) == {"conftest.py", "test_banner.py", "test_thumbnails.py"}
    for name, code in files.items():
        (tmp_path / name).write_text(code)
    (tmp_path / "test_plugin_extras.py").write_text(PLUGIN_EXTRAS)  # the plugin's other promises, same run
    # Step 3, recorded the way a user would, but answered by the documented OpenAI body instead of the network.
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    answer = {"created": 1713833628, "data": [{"b64_json": base64.b64encode(noisy(1792, 1024)).decode()}],
              "size": "1792x1024", "quality": "high", "output_format": "png"}
    cassette = tmp_path / "cassettes" / "test_banner" / "test_banner.yaml"
    with use_cassette(cassette, "once"), imgsdk.Client(transport=httpx2.MockTransport(
            lambda request: httpx2.Response(200, json=answer))) as client:
        client.generate("A lighthouse on a cliff at dawn, watercolour", provider="openai:gpt-image-2",
                        size="1792x1024", quality="hd")
    assert cli(["cassettes", "check", str(tmp_path / "cassettes")]) == 0
    assert cassette.stat().st_size < 4000 and CANARY not in cassette.read_text()
    # Step 5: plain `pytest`, no key in the environment.
    env = {key: value for key, value in os.environ.items() if not key.endswith(("_API_KEY", "_TOKEN", "_KEY"))
           and key not in ("IMGSDK_CONFIG", "IMGSDK_PROVIDER")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "test_banner.py::test_banner PASSED" in done.stdout
    assert done.stdout.count("test_thumbnails.py::") == 3 and "8 passed" in done.stdout
