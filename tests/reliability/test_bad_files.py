"""Bad files: every broken config (and batch) file gives an error naming the file, the line or key, and what
was expected — from the library and from the command line (exit code 2, one line on stderr)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import imgsdk
from imgsdk.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
GOOD_PROFILE = '[providers.main]\nmodel = "openai:gpt-image-2"\n'

# name: (file text, what the message must contain besides the file name)
BROKEN: dict[str, tuple[str, tuple[str, ...]]] = {
    "invalid-toml": ('default = "main"\n[providers.main]\nmodel = "openai:gpt-image-2"\nsize = 1024x1024\n',
                     ("not valid TOML", "line 4", "Expected")),
    "unknown-key": (GOOD_PROFILE + 'sise = "1024x1024"\n',
                    ("'providers.main.sise'", "unknown key", "Did you mean 'size'", "Allowed:")),
    "unknown-top-level-key": ('defualt = "main"\n' + GOOD_PROFILE,
                              ("'defualt'", "Did you mean 'default'", "Allowed: default")),
    "wrong-type": (GOOD_PROFILE + 'n = "2"\n', ("'providers.main.n'", "expected int", "got str '2'")),
    "wrong-value": (GOOD_PROFILE + 'on_unsupported = "strictly"\n',
                    ("'providers.main.on_unsupported'", 'expected "warn" or "strict"', "'strictly'")),
    "unknown-adapter": ('[providers.main]\nmodel = "opnai:gpt-image-2"\n',
                        ("'providers.main.model'", "no adapter named 'opnai'", "Did you mean 'openai'")),
    "missing-env-var": (GOOD_PROFILE + 'api_key = "${IMGSDK_RELIABILITY_UNSET_VAR}"\n',
                        ("'providers.main.api_key'", "IMGSDK_RELIABILITY_UNSET_VAR is not set",
                         "export IMGSDK_RELIABILITY_UNSET_VAR=")),
    "default-names-no-profile": ('default = "mian"\n' + GOOD_PROFILE,
                                 ("'default'", "names no profile", "Did you mean 'main'")),
}


@pytest.fixture(autouse=True)
def _no_stray_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMGSDK_RELIABILITY_UNSET_VAR", raising=False)
    monkeypatch.delenv("IMGSDK_CONFIG", raising=False)


@pytest.mark.matrix("B-CONFIG", adapters="-",
                    failure="imgsdk.toml with: invalid TOML, an unknown key (profile and top level), a wrong type, "
                            "a wrong value, an unknown adapter, a missing environment variable, a default naming "
                            "no profile",
                    outcome="ConfigError naming the file, the line (TOML) or the key, and what was expected "
                            "(with a did-you-mean where one fits)")
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_config_names_file_key_and_expectation(case: str, tmp_path: Path) -> None:
    text, expected = BROKEN[case]
    path = tmp_path / "imgsdk.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        imgsdk.Client(path)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from: {message}"
    assert caught.value.path == str(path)


@pytest.mark.matrix("B-CONFIG-CLI", adapters="-",
                    failure="`imgsdk generate --config <broken file>` for each broken file of B-CONFIG",
                    outcome="exit code 2 and one `imgsdk: error:` line naming the file and the key or line; "
                            "no traceback")
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_config_on_the_command_line(case: str, tmp_path: Path) -> None:
    text, expected = BROKEN[case]
    path = tmp_path / "imgsdk.toml"
    path.write_text(text)
    env = {k: v for k, v in os.environ.items() if k not in ("IMGSDK_CONFIG", "IMGSDK_RELIABILITY_UNSET_VAR")}
    done = subprocess.run([sys.executable, "-m", "imgsdk.cli", "generate", "a fox", "--config", str(path),
                           "-o", str(tmp_path / "out")], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"imgsdk: error: {path}"), done.stderr
    assert all(fragment in done.stderr for fragment in expected), done.stderr
    assert "Traceback" not in done.stderr


_BUG_MODEL_TYPES = ("bug: imgsdk/config.py:declare_model: capability fields are not type-checked: "
                    "max_images = \"4\" is stored as a string (a TypeError at the first generate()), and a string "
                    "where a list is expected (qualities = \"hd\", sizes = \"1024x1024\") becomes a tuple of its "
                    "characters")


@pytest.mark.matrix("B-MODEL-TYPES", adapters="openai-compatible",
                    failure='a [models."adapter:model"] declaration with a wrong type: max_images = "4", '
                            'qualities = "hd", size.sizes = "1024x1024"',
                    outcome="ConfigError naming the file, the capability key and the expected type")
@pytest.mark.parametrize(("line", "key", "expected"), [
    ('max_images = "4"', "max_images", "int"),
    ('qualities = "hd"', "qualities", "list"),
    ('size = { mode = "fixed", sizes = "1024x1024" }', "size", "list"),
])
def test_wrong_capability_types_are_refused(line: str, key: str, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "imgsdk.toml"
    path.write_text(f'[models."openai-compatible:my-model"]\n{line}\n')
    with pytest.raises(ConfigError) as caught:
        imgsdk.Client(path)
    message = str(caught.value)
    assert str(path) in message and key in message and expected in message, message


@pytest.mark.matrix("B-UNREADABLE", adapters="-",
                    failure="the config path cannot be read (it is a directory: the tests run as root, where "
                            "chmod 000 does not stop a read)",
                    outcome="ConfigError naming the path and the operating system's reason")
def test_unreadable_config_path(tmp_path: Path) -> None:
    folder = tmp_path / "imgsdk.toml"
    folder.mkdir()
    with pytest.raises(ConfigError) as caught:
        imgsdk.Client(folder)
    message = str(caught.value)
    assert message.startswith(str(folder)) and "cannot read the config file" in message
    assert "directory" in message.lower(), message


@pytest.mark.matrix("B-UNREADABLE-CHMOD", adapters="-",
                    failure="the config file has mode 000 (only meaningful when not running as root)",
                    outcome="ConfigError naming the path and 'Permission denied'")
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="running as root: chmod 000 does not stop root from reading (B-UNREADABLE covers it)")
def test_config_without_read_permission(tmp_path: Path) -> None:
    path = tmp_path / "imgsdk.toml"
    path.write_text(GOOD_PROFILE)
    path.chmod(0)
    try:
        with pytest.raises(ConfigError) as caught:
            imgsdk.Client(path)
    finally:
        path.chmod(0o600)
    assert str(path) in str(caught.value) and "Permission denied" in str(caught.value)


def _batch(tmp_path: Path, lines: str) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    requests = tmp_path / "requests.jsonl"
    requests.write_text(lines)
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN")) and k != "IMGSDK_CONFIG"}
    done = subprocess.run([sys.executable, "-m", "imgsdk.cli", "batch", str(requests), "--out", str(out),
                           "--provider", "local:placeholder"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120, check=False)
    return done, requests, out


def _reported(done: subprocess.CompletedProcess[str], out: Path) -> str:
    manifest = out / "manifest.jsonl"
    return done.stdout + done.stderr + (manifest.read_text(errors="replace") if manifest.exists() else "")


@pytest.mark.matrix("B-BATCH-LINES", adapters="local",
                    failure="`imgsdk batch` over a JSONL file with broken lines: invalid JSON (line 2), no prompt "
                            "(line 3), an unknown key (line 4)",
                    outcome="each broken line reported as FILE:LINE with what was expected, and skipped; the good "
                            "line still runs; exit code 2; no traceback")
def test_batch_reports_broken_lines(tmp_path: Path) -> None:
    done, requests, out = _batch(tmp_path, '{"prompt": "a red fox"}\n{"prompt": "a cat",\n{"size": "1024x1024"}\n'
                                           '{"prompt": "an owl", "sise": "1024x1024"}\n')
    reported = _reported(done, out)
    assert done.returncode == 2, reported
    assert f"{requests}:2: skipped: not valid JSON" in reported, reported
    assert f"{requests}:3: skipped:" in reported and '"prompt" must be a non-empty string' in reported
    assert f"{requests}:4: skipped:" in reported and "unknown key 'sise'" in reported and "allowed:" in reported
    assert "Traceback" not in reported
    assert len(list(out.glob("*.png"))) == 1, "the good line (1) produced no image"


_BUG_BATCH_TYPES = ("bug: imgsdk/request.py:ImageRequest.__post_init__ (and imgsdk/cli/batch.py:_item, "
                    "_Runner._run): option types are not checked, so a JSON line with \"size\": 1024 crashes the "
                    "whole batch with an AttributeError traceback (exit 1, later lines never run), and "
                    "\"n\": \"two\" is reported as \"invalid literal for int() with base 10\" instead of naming "
                    "the option and the expected type")


@pytest.mark.matrix("B-BATCH-TYPES", adapters="local",
                    failure='`imgsdk batch` with well-formed JSON lines holding wrongly typed options: '
                            '"n": "two" (line 2), "size": 1024 (line 3)',
                    outcome="each reported with FILE:LINE (or its line number), the option and the expected type; "
                            "the other lines still run; exit code 2; no traceback")
def test_batch_reports_wrongly_typed_options(tmp_path: Path) -> None:
    done, _requests, out = _batch(tmp_path, '{"prompt": "a red fox"}\n{"prompt": "an owl", "n": "two"}\n'
                                            '{"prompt": "a cat", "size": 1024}\n{"prompt": "a hare"}\n')
    reported = _reported(done, out)
    assert "Traceback" not in reported, reported[-3000:]
    assert done.returncode == 2, reported
    assert "invalid literal" not in reported, reported
    for line, option in ((2, "n"), (3, "size")):
        assert f":{line}:" in reported or f"line {line}" in reported, reported
        assert f"{option}" in reported
    assert len(list(out.glob("*.png"))) == 2, "the good lines (1 and 4) must still produce their images"
