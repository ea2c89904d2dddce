"""The ``imgsdk`` command line, run as a real subprocess (``python -m imgsdk.cli``) with no key and no network.

A few exit-code tests run ``imgsdk.cli.main`` in-process instead, against the fake provider, because the
refusals and outages they need cannot happen offline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import httpx2
import pytest
from conftest import FakeServer, error_reply, images_reply
from PIL import Image

import imgsdk
import imgsdk.client
from imgsdk import registry
from imgsdk.cli import main

PROMPT = "a red fox in snow"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``imgsdk ARGS`` in ``cwd`` with this test's environment (no provider key, empty user config)."""
    env = dict(os.environ)
    env["HOME"] = str(cwd)
    env.pop("PYTHONSTARTUP", None)
    return subprocess.run([sys.executable, "-m", "imgsdk.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=180)


def image_at(path: Path) -> Image.Image:
    image = Image.open(path)
    image.load()
    return image


# -- generate, offline -----------------------------------------------------------------------------------------

def test_generate_writes_a_1024_png_with_no_key(tmp_path: Path) -> None:
    done = cli("generate", PROMPT, "-o", "fox.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "fox.png"
    image = image_at(tmp_path / "fox.png")
    assert image.format == "PNG"
    assert image.size == (1024, 1024)
    # the one-line notice says the offline renderer served and how to configure a real provider
    assert "local:placeholder" in done.stderr and "OPENAI_API_KEY" in done.stderr
    assert "warning" not in done.stderr


def test_generate_node_options(tmp_path: Path) -> None:
    done = cli("generate", PROMPT, "--size", "1792x1024", "--quality", "hd", "--style", "natural", "-o", "wide.png",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert image_at(tmp_path / "wide.png").size == (1792, 1024)
    assert "warning" not in done.stderr  # the offline renderer supports every node option


def test_generate_json(tmp_path: Path) -> None:
    done = cli("generate", PROMPT, "--json", "-o", "out/", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert {"url", "revised_prompt", "size", "warnings", "paths"} <= set(output)
    assert output["revised_prompt"] == PROMPT
    assert output["size"] == "1024x1024"
    assert output["warnings"] == []
    assert len(output["paths"]) == 1
    saved = tmp_path / output["paths"][0]
    assert saved.parent == tmp_path / "out"
    assert image_at(saved).size == (1024, 1024)
    url = output["url"]
    assert url.startswith(("data:image/png;base64,", "file://"))
    if url.startswith("file://"):
        assert Path(url.removeprefix("file://")) == saved.resolve()


def test_generate_json_reports_warnings(tmp_path: Path) -> None:
    done = cli("generate", PROMPT, "--negative-prompt", "blurry", "--json", "-o", "fox.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    warnings = json.loads(done.stdout)["warnings"]
    assert len(warnings) == 1 and "negative_prompt" in warnings[0]
    assert "imgsdk: warning:" in done.stderr and "negative_prompt" in done.stderr  # and on stderr


def test_generate_several_images_into_a_directory(tmp_path: Path) -> None:
    done = cli("generate", PROMPT, "-n", "2", "--seed", "7", "--size", "256x128", "-o", "many/", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    paths = [tmp_path / line for line in done.stdout.split()]
    assert len(paths) == 2 and len(set(paths)) == 2
    assert all(image_at(path).size == (256, 128) for path in paths)
    assert paths[0].read_bytes() != paths[1].read_bytes()  # seeds 7 and 8


def test_generate_other_format(tmp_path: Path) -> None:
    done = cli("generate", PROMPT, "--format", "jpeg", "--size", "128x128", "-o", "fox.jpg", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert image_at(tmp_path / "fox.jpg").format == "JPEG"


def test_generate_with_template_variables(tmp_path: Path) -> None:
    done = cli("generate", "a {{ animal }} in {{ scene.place }}", "--var", "animal=fox", "--var",
               "scene.place=deep snow", "--json", "--size", "64x64", "-o", "fox.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["revised_prompt"] == "a fox in deep snow"


def test_generate_missing_template_variable_is_a_usage_error(tmp_path: Path) -> None:
    done = cli("generate", "a {{ animal }}", "--var", "colour=red", "-o", "fox.png", cwd=tmp_path)
    assert done.returncode == 2
    assert "animal" in done.stderr
    assert not (tmp_path / "fox.png").exists()


@pytest.mark.parametrize("pair", ["no-equals-sign", "=value"])
def test_generate_malformed_var_is_a_usage_error(tmp_path: Path, pair: str) -> None:
    done = cli("generate", "a {{ x }}", "--var", pair, cwd=tmp_path)
    assert done.returncode == 2
    assert "KEY=VALUE" in done.stderr


def test_generate_strict_refuses_an_option_the_model_lacks(tmp_path: Path) -> None:
    done = cli("generate", PROMPT, "--strict", "--negative-prompt", "blurry", "-o", "fox.png", cwd=tmp_path)
    assert done.returncode == 2
    assert "imgsdk: error:" in done.stderr
    assert "negative_prompt" in done.stderr and "strict" in done.stderr
    assert not (tmp_path / "fox.png").exists()
    assert done.stdout == ""


@pytest.mark.parametrize(("args", "fragment"), [
    (["--size", "big"], "not a size"),
    (["-n", "0"], "n must be"),
    (["--seed", "-1"], "out of range"),
])
def test_generate_invalid_request_is_exit_2(tmp_path: Path, args: list[str], fragment: str) -> None:
    done = cli("generate", PROMPT, *args, cwd=tmp_path)
    assert done.returncode == 2
    assert fragment in done.stderr


def test_empty_prompt_is_exit_2(tmp_path: Path) -> None:
    done = cli("generate", "   ", cwd=tmp_path)
    assert done.returncode == 2
    assert "prompt" in done.stderr


@pytest.mark.parametrize("provider", ["opnai", "opnai:dall-e-3"])
def test_unknown_provider_is_exit_2_with_did_you_mean(tmp_path: Path, provider: str) -> None:
    done = cli("generate", PROMPT, "--provider", provider, cwd=tmp_path)
    assert done.returncode == 2
    assert "Did you mean 'openai'" in done.stderr


def test_missing_key_for_openai_names_the_variable(tmp_path: Path) -> None:
    try:
        registry.get_adapter("openai")
    except Exception as error:  # written in another branch of the work
        pytest.skip(f"the openai adapter is not importable yet: {error}")
    done = cli("generate", PROMPT, "--provider", "openai", "-o", "fox.png", cwd=tmp_path)
    assert done.returncode == 2
    assert "OPENAI_API_KEY" in done.stderr
    assert not (tmp_path / "fox.png").exists()


# -- config -----------------------------------------------------------------------------------------------------

def test_config_file_profile_defaults(tmp_path: Path) -> None:
    (tmp_path / "conf.toml").write_text(textwrap.dedent("""
        [providers.wide]
        model = "local:placeholder"
        size = "1792x1024"
    """), encoding="utf-8")
    done = cli("generate", PROMPT, "--config", "conf.toml", "--provider", "wide", "-o", "fox.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert image_at(tmp_path / "fox.png").size == (1792, 1024)


def test_local_imgsdk_toml_is_picked_up(tmp_path: Path) -> None:
    (tmp_path / "imgsdk.toml").write_text(textwrap.dedent("""
        [providers.default]
        model = "local:placeholder"
        size = "1024x1792"
    """), encoding="utf-8")
    done = cli("generate", PROMPT, "-o", "tall.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert image_at(tmp_path / "tall.png").size == (1024, 1792)
    assert "no provider configured" not in done.stderr  # configured: no offline notice


def test_bad_config_is_exit_2_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("[providers.x\n", encoding="utf-8")
    done = cli("generate", PROMPT, "--config", "broken.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert "broken.toml" in done.stderr


# -- models, help, version --------------------------------------------------------------------------------------

def test_models_json_for_one_adapter(tmp_path: Path) -> None:
    done = cli("models", "local", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    models = json.loads(done.stdout)
    assert [(m["adapter"], m["model"]) for m in models] == [("local", "placeholder")]
    placeholder = models[0]
    assert placeholder["size"]["mode"] == "free"
    assert placeholder["lifecycle"]["status"] == "active"


def test_models_json_lists_every_adapter(tmp_path: Path) -> None:
    done = cli("models", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    models = json.loads(done.stdout)
    references = {f"{m['adapter']}:{m['model']}" for m in models}
    assert "local:placeholder" in references
    assert all({"size", "qualities", "max_images", "lifecycle", "prices"} <= set(m) for m in models)


def test_models_table(tmp_path: Path) -> None:
    done = cli("models", "local", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert "model" in header and "lifecycle" in header
    assert any(row.startswith("local:placeholder") for row in rows)


def test_models_of_an_unknown_adapter_is_exit_2(tmp_path: Path) -> None:
    done = cli("models", "opnai", cwd=tmp_path)
    assert done.returncode == 2
    assert "Did you mean 'openai'" in done.stderr


def test_help_and_version(tmp_path: Path) -> None:
    done = cli("--help", cwd=tmp_path)
    assert done.returncode == 0
    assert "generate" in done.stdout and "models" in done.stdout
    done = cli("generate", "--help", cwd=tmp_path)
    assert done.returncode == 0
    for option in ("--provider", "--size", "--quality", "--style", "--strict", "--json", "--config", "--var"):
        assert option in done.stdout
    done = cli("--version", cwd=tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, f"imgsdk {imgsdk.__version__}")


def test_no_command_is_exit_2(tmp_path: Path) -> None:
    done = cli(cwd=tmp_path)
    assert done.returncode == 2
    assert "generate" in done.stdout


def test_help_does_not_import_the_sdk(tmp_path: Path) -> None:
    code = ("import sys\nfrom imgsdk.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('httpx2', 'PIL', 'imgsdk.client', 'imgsdk.adapters.local') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


# -- exit codes against the fake provider, in-process -------------------------------------------------------

@pytest.fixture
def fake_cli(fake: FakeServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeServer:
    """``imgsdk generate`` with a default profile on the fake provider, over MockTransport, never sleeping."""
    (tmp_path / "imgsdk.toml").write_text('[providers.default]\nmodel = "fake-test:sync-model"\n', encoding="utf-8")

    class TestClient(imgsdk.Client):
        def __init__(self, config: Any = None, **options: Any) -> None:
            super().__init__(config, transport=fake.transport(), sleep=lambda seconds: None, **options)

    monkeypatch.setattr(imgsdk.client, "Client", TestClient)
    return fake


def test_cli_success_against_a_provider(fake_cli: FakeServer, capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    fake_cli.on("POST", "/v1/images", images_reply())
    assert main(["generate", PROMPT, "--quality", "hd", "-o", "fox.png"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "fox.png"
    assert "warning" in err and "quality" in err  # hd was translated, and said so
    assert fake_cli.bodies()[0]["quality"] == "high"
    assert image_at(tmp_path / "fox.png").format == "PNG"


def test_cli_strict_against_a_provider_sends_nothing(fake_cli: FakeServer, capsys: pytest.CaptureFixture[str],
                                                     ) -> None:
    fake_cli.on("POST", "/v1/images", images_reply())
    assert main(["generate", PROMPT, "--quality", "hd", "--strict"]) == 2
    assert "quality" in capsys.readouterr().err
    assert fake_cli.count() == 0


@pytest.mark.parametrize(("answer", "code"), [
    (error_reply(401, "invalid key"), 3),
    (error_reply(403, "not allowed"), 3),
    (error_reply(429, "quota", code="insufficient_quota"), 3),
    (error_reply(400, "size is not valid"), 2),
    (error_reply(500, "down"), 4),
    (error_reply(429, "slow down"), 4),
])
def test_cli_exit_codes_for_provider_errors(fake_cli: FakeServer, capsys: pytest.CaptureFixture[str],
                                            answer: Any, code: int, tmp_path: Path) -> None:
    fake_cli.on("POST", "/v1/images", answer)
    assert main(["generate", PROMPT, "-o", "fox.png"]) == code
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("imgsdk: error:") and "fake-test:sync-model" in err
    assert not (tmp_path / "fox.png").exists()


def test_cli_content_policy_is_exit_3(fake_cli: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    fake_cli.on("POST", "/v1/jobs", lambda request: httpx2.Response(202, json={"id": "job-1"}))
    fake_cli.on("GET", "/v1/jobs/job-1", lambda request: httpx2.Response(200, json={"status": "moderated",
                                                                                    "reason": "nsfw"}))
    assert main(["generate", PROMPT, "--provider", "fake-test:poll-model"]) == 3
    assert "moderation" in capsys.readouterr().err


def test_cli_partial_result_saves_what_arrived(fake_cli: FakeServer, capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    ok = images_reply()
    fake_cli.on("POST", "/v1/images", lambda request: (
        error_reply(400, "this one failed")(request) if json.loads(request.content)["seed"] == 2 else ok(request)))
    assert main(["generate", PROMPT, "-n", "3", "--seed", "0", "-o", "out/"]) == 0
    out, err = capsys.readouterr()
    assert len(out.split()) == 2
    assert "partial" in err and "this one failed" in err


def test_models_skips_an_adapter_that_cannot_load(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    broken = EntryPoint(name="broken-extra", value="imgsdk_no_such_package.adapter:Broken", group=registry.GROUP)
    monkeypatch.setattr(registry, "_points", {**registry._entry_points(), "broken-extra": broken})
    assert main(["models", "--json"]) == 0
    out, err = capsys.readouterr()
    references = {f"{m['adapter']}:{m['model']}" for m in json.loads(out)}
    assert "local:placeholder" in references and "fake-test:sync-model" in references
    assert "broken-extra" in err
    assert main(["models", "broken-extra"]) == 2  # named explicitly: its error, with an install hint
    assert "pip install" in capsys.readouterr().err
