"""imgsdk.toml: loading, interpolation, validation errors, precedence, declarations and profile defaults."""

from __future__ import annotations

import logging
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import FAKE_KEY_VAR, FakeServer, Harness, error_reply, images_reply

import imgsdk
from imgsdk.config import Config, find_config_path, load_config
from imgsdk.errors import ConfigError, ModelNotFoundError, ServiceUnavailableError, UnsupportedOptionError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# -- loading -------------------------------------------------------------------------------------------------------

def test_a_full_file_loads(tmp_path: Path) -> None:
    path = write(tmp_path / "conf" / "imgsdk.toml", """
        default = "hero"
        on_unsupported = "warn"

        [providers.hero]
        model = "fake-test:sync-model"
        base_url = "http://proxy.test/v1"
        size = "1792x1024"
        quality = "hd"
        style = "natural"
        on_unsupported = "strict"
        timeout = 120
        max_retries = 3
        max_concurrency = 2
        provider_options = { moderation = "low" }

        [providers.offline]
        model = "local"
    """)
    config = load_config(path)
    assert isinstance(config, Config)
    assert config.path == str(path)
    assert config.default == "hero"
    assert config.on_unsupported == "warn"
    hero = config.profiles["hero"]
    assert (hero.adapter, hero.model, hero.base_url) == ("fake-test", "sync-model", "http://proxy.test/v1")
    assert dict(hero.defaults) == {"size": "1792x1024", "quality": "hd", "style": "natural"}
    assert (hero.on_unsupported, hero.timeout, hero.max_retries, hero.max_concurrency) == ("strict", 120, 3, 2)
    assert dict(hero.provider_options) == {"moderation": "low"}
    offline = config.profiles["offline"]
    assert (offline.adapter, offline.model) == ("local", "placeholder")  # the adapter's default model


def test_a_dict_config_has_no_path() -> None:
    config = load_config({"providers": {"p": {"model": "local:placeholder"}}})
    assert config.path is None
    assert config.profiles["p"].model == "placeholder"


def test_no_config_anywhere_is_an_empty_config() -> None:
    config = load_config()
    assert (config.profiles, config.default, config.path) == ({}, None, None)


def test_client_from_file(tmp_path: Path) -> None:
    path = write(tmp_path / "x.toml", """
        [providers.default]
        model = "local:placeholder"
    """)
    client = imgsdk.Client.from_file(path)
    assert client.config.default == "default"
    assert client.capabilities().model == "placeholder"
    assert "default" in repr(client)


# -- ${VAR} interpolation ---------------------------------------------------------------------------------------

def test_env_reference_is_interpolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAKE_KEY_VAR, "sk-from-env")
    monkeypatch.setenv("FAKE_HOST", "gateway.test")
    path = write(tmp_path / "imgsdk.toml", f"""
        [providers.p]
        model = "fake-test:sync-model"
        api_key = "${{{FAKE_KEY_VAR}}}"
        base_url = "https://${{FAKE_HOST}}:8443/v1"
    """)
    profile = load_config(path).profiles["p"]
    assert profile.api_key == "sk-from-env"
    assert profile.base_url == "https://gateway.test:8443/v1"
    assert "sk-from-env" not in repr(profile)  # the key is kept out of reprs


def test_env_reference_default_is_used_only_when_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "imgsdk.toml", """
        [providers.p]
        model = "fake-test:sync-model"
        base_url = "${FAKE_BASE_URL:-http://fallback.test}"
        size = "${FAKE_SIZE:-}1024x1024"
    """)
    profile = load_config(path).profiles["p"]
    assert profile.base_url == "http://fallback.test"
    assert profile.defaults["size"] == "1024x1024"
    monkeypatch.setenv("FAKE_BASE_URL", "http://from-env.test")
    assert load_config(path).profiles["p"].base_url == "http://from-env.test"


def test_missing_env_variable_names_file_key_and_variable(tmp_path: Path) -> None:
    path = write(tmp_path / "imgsdk.toml", """
        [providers.hero]
        model = "fake-test:sync-model"
        api_key = "${FAKE_NOT_SET_ANYWHERE}"
    """)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message
    assert "providers.hero.api_key" in message
    assert "FAKE_NOT_SET_ANYWHERE" in message
    assert (caught.value.path, caught.value.key) == (str(path), "providers.hero.api_key")


# -- errors ------------------------------------------------------------------------------------------------------

def test_unknown_profile_key_gets_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path / "imgsdk.toml", """
        [providers.hero]
        model = "fake-test:sync-model"
        qualty = "hd"
    """)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message and "providers.hero.qualty" in message
    assert "Did you mean 'quality'" in message
    assert caught.value.key == "providers.hero.qualty"


def test_unknown_top_level_key_gets_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path / "imgsdk.toml", 'defualt = "hero"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    assert "'defualt'" in str(caught.value) and "Did you mean 'default'" in str(caught.value)


@pytest.mark.parametrize(("line", "key", "expected"), [
    ('max_retries = "3"', "max_retries", "expected int, got str"),
    ("size = 1024", "size", "expected str, got int"),
    ('allow_unknown_model = "yes"', "allow_unknown_model", "expected bool"),
    ("n = true", "n", "expected int, got bool"),
    ('timeout = "soon"', "timeout", "expected int or float"),
    ('provider_options = "low"', "provider_options", "expected dict"),
])
def test_wrong_type_names_file_key_and_expected_type(tmp_path: Path, line: str, key: str, expected: str) -> None:
    path = write(tmp_path / "imgsdk.toml", f"""
        [providers.hero]
        model = "fake-test:sync-model"
        {line}
    """)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    assert f"providers.hero.{key}" in str(caught.value)
    assert expected in str(caught.value)


def test_boolean_timeout_is_a_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path / "imgsdk.toml", """
        [providers.hero]
        model = "fake-test:sync-model"
        timeout = true
    """)
    with pytest.raises(ConfigError, match=r"providers\.hero\.timeout"):
        load_config(path)


@pytest.mark.parametrize(("raw", "key", "fragment"), [
    ({"on_unsupported": "loud"}, "on_unsupported", "warn"),
    ({"providers": {"hero": {"model": "local", "on_unsupported": "loud"}}}, "providers.hero.on_unsupported", "strict"),
    ({"providers": "nope"}, "providers", "table"),
    ({"providers": {"hero": "local:placeholder"}}, "providers.hero", "table"),
    ({"providers": {"hero": {"size": "1024x1024"}}}, "providers.hero", "model"),
    ({"providers": {"hero": {"model": "local"}}, "default": "heor"}, "default", "Did you mean 'hero'"),
])
def test_invalid_values_are_config_errors_naming_the_key(raw: dict[str, Any], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(raw)
    assert caught.value.key == key
    assert fragment in str(caught.value)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "imgsdk.toml", '[providers.hero\nmodel = "local"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    assert "not valid TOML" in str(caught.value)
    assert caught.value.path == str(path)


def test_missing_explicit_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "imgsdk.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)


def test_unreadable_file_names_it(tmp_path: Path) -> None:
    directory = tmp_path / "a-directory.toml"
    directory.mkdir()
    with pytest.raises(ConfigError) as caught:
        load_config(directory)
    assert str(directory) in str(caught.value)
    assert "cannot read" in str(caught.value)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files whatever their mode")
def test_file_without_read_permission_names_it(tmp_path: Path) -> None:
    path = write(tmp_path / "imgsdk.toml", 'default = "x"\n')
    path.chmod(0)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(path)


def test_file_that_is_not_utf8_names_it(tmp_path: Path) -> None:
    path = tmp_path / "imgsdk.toml"
    path.write_bytes(b'default = "h\xe9ro"\n')  # Latin-1, as an old editor might save it
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)


def test_unknown_adapter_in_model_names_file_key_and_suggests(tmp_path: Path) -> None:
    path = write(tmp_path / "imgsdk.toml", """
        [providers.hero]
        model = "fake-tset:sync-model"
    """)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message and "providers.hero.model" in message
    assert "no adapter named 'fake-tset'" in message
    assert "Did you mean 'fake-test'" in message


def test_literal_api_key_works_but_warns_without_logging_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path / "imgsdk.toml", """
        [providers.hero]
        model = "fake-test:sync-model"
        api_key = "sk-literal-secret-0123456789"
    """)
    with caplog.at_level(logging.WARNING, logger="imgsdk"):
        config = load_config(path)
    assert config.profiles["hero"].api_key == "sk-literal-secret-0123456789"
    assert len(caplog.records) == 1
    record = caplog.records[0]
    assert record.levelno == logging.WARNING
    assert "providers.hero.api_key" in record.getMessage() and "literal" in record.getMessage()
    assert f"${{{FAKE_KEY_VAR}}}" in record.getMessage()  # says what to write instead
    assert "sk-literal-secret-0123456789" not in caplog.text


def test_env_reference_api_key_does_not_warn(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAKE_KEY_VAR, "sk-env")
    path = write(tmp_path / "imgsdk.toml", f"""
        [providers.hero]
        model = "fake-test:sync-model"
        api_key = "${{{FAKE_KEY_VAR}}}"
    """)
    with caplog.at_level(logging.WARNING, logger="imgsdk"):
        load_config(path)
    assert caplog.records == []


# -- default profile ----------------------------------------------------------------------------------------------

def test_default_names_a_profile(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "imgsdk.toml", """
        default = "b"
        [providers.a]
        model = "local"
        [providers.b]
        model = "fake-test:poll-model"
    """))
    assert config.default == "b"
    assert imgsdk.Client(config).target().reference == "fake-test:poll-model"


def test_a_profile_named_default_is_the_default(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "imgsdk.toml", """
        [providers.other]
        model = "local"
        [providers.default]
        model = "fake-test:poll-model"
    """))
    assert config.default == "default"
    assert imgsdk.Client(config).target().profile.name == "default"  # type: ignore[union-attr]


def test_explicit_default_wins_over_a_profile_named_default(tmp_path: Path) -> None:
    config = load_config({"default": "other", "providers": {"other": {"model": "local"},
                                                             "default": {"model": "fake-test"}}})
    assert config.default == "other"


def test_imgsdk_provider_overrides_the_file_default(monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"default": "a", "providers": {"a": {"model": "local"}, "b": {"model": "fake-test:poll-model"}}}
    monkeypatch.setenv("IMGSDK_PROVIDER", "b")
    assert imgsdk.Client(config).target().reference == "fake-test:poll-model"
    monkeypatch.setenv("IMGSDK_PROVIDER", "fake-test:sync-model")  # a reference works too
    assert imgsdk.Client(config).target().reference == "fake-test:sync-model"
    assert imgsdk.Client(config).target("a").reference == "local:placeholder"  # an explicit argument wins


# -- precedence -----------------------------------------------------------------------------------------------------

def _profile_file(path: Path, name: str) -> Path:
    return write(path, f"""
        default = "{name}"
        [providers.{name}]
        model = "local:placeholder"
    """)


def test_precedence_explicit_then_env_then_cwd_then_user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = _profile_file(Path(os.environ["XDG_CONFIG_HOME"]) / "imgsdk" / "imgsdk.toml", "user")
    assert find_config_path() == user
    assert load_config().default == "user"

    local = _profile_file(tmp_path / "imgsdk.toml", "local")  # the test runs in tmp_path
    assert find_config_path().resolve() == local.resolve()  # type: ignore[union-attr]
    assert load_config().default == "local"

    env = _profile_file(tmp_path / "env" / "env.toml", "env")
    monkeypatch.setenv("IMGSDK_CONFIG", str(env))
    assert find_config_path() == env
    assert load_config().default == "env"

    explicit = _profile_file(tmp_path / "explicit.toml", "explicit")
    assert find_config_path(explicit) == explicit
    assert load_config(explicit).default == "explicit"
    assert imgsdk.Client(explicit).config.default == "explicit"
    assert imgsdk.Client().config.default == "env"


def test_user_config_directory_defaults_to_home_dot_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = _profile_file(tmp_path / "home" / ".config" / "imgsdk" / "imgsdk.toml", "homeconf")
    assert find_config_path() == path


def test_imgsdk_config_pointing_nowhere_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMGSDK_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=r"missing\.toml"):
        load_config()


# -- model declarations --------------------------------------------------------------------------------------------

DECLARED = """
    default = "new"
    [providers.new]
    model = "fake-test:brand-new"

    [models."fake-test:brand-new"]
    size = { mode = "fixed", sizes = ["512x512", "768x512"] }
    qualities = ["draft", "final"]
    max_images = 3
    seed = true
    seed_range = [0, 1000]
    prices = [{ usd = 0.01 }]
    lifecycle = { status = "active", note = "preview" }
"""


def test_declared_model_has_the_declared_capabilities(tmp_path: Path) -> None:
    client = imgsdk.Client(write(tmp_path / "imgsdk.toml", DECLARED))
    caps = client.capabilities("fake-test:brand-new")
    assert caps.declared_by == "config"
    assert caps.model == "brand-new"
    assert (caps.size.mode, caps.size.sizes) == ("fixed", ("512x512", "768x512"))
    assert (caps.qualities, caps.max_images, caps.seed, caps.seed_range) == (("draft", "final"), 3, True, (0, 1000))
    assert caps.price_for(None, None) == 0.01
    assert caps.lifecycle.note == "preview"


def test_undeclared_unknown_model_is_refused_with_a_hint() -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        imgsdk.Client({}).target("fake-test:brand-new")
    assert '[models."fake-test:brand-new"]' in str(caught.value)
    assert "sync-model" in str(caught.value)  # the known models are listed


async def test_declared_model_is_used_on_the_wire(sync_harness: Harness, fake: FakeServer, tmp_path: Path) -> None:
    fake.on("POST", "/v1/images", images_reply())
    sync_harness.build(load_config(write(tmp_path / "imgsdk.toml", DECLARED)))
    result = await sync_harness.generate(size="1024x1024", quality="final", n=3, seed=7)
    assert fake.bodies() == [{"model": "brand-new", "prompt": "a red fox in snow", "n": 3, "size": "512x512",
                              "quality": "final", "seed": 7}]
    assert [(w.code, w.option, w.applied) for w in result.warnings] == [("adapted", "size", "512x512")]
    assert result.provider == "fake-test:brand-new"
    assert result.cost_usd == pytest.approx(0.03)


def test_declaration_with_an_unknown_field_gets_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path / "imgsdk.toml", """
        [models."fake-test:brand-new"]
        max_image = 3
    """)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    assert 'models."fake-test:brand-new".max_image' in str(caught.value)
    assert "Did you mean 'max_images'" in str(caught.value)


def test_declaration_with_a_bad_size_table_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"models": {"fake-test:x": {"size": {"mode": "fixed", "sises": ["1x1"]}}}})
    assert caught.value.key == 'models."fake-test:x"'


def test_declaration_that_is_not_a_table_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"models": {"fake-test:x": 3}})
    assert caught.value.key is not None and "fake-test:x" in caught.value.key


# -- profile defaults and policy ------------------------------------------------------------------------------------

PROFILES = {
    "default": "loose",
    "providers": {
        "loose": {"model": "fake-test:sync-model", "size": "1000x1000", "quality": "hd"},
        "tight": {"model": "fake-test:sync-model", "on_unsupported": "strict"},
        "fragile": {"model": "fake-test:sync-model", "max_retries": 0},
    },
}


async def test_profile_defaults_apply_and_warn_like_user_values(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", "/v1/images", images_reply())
    harness.build(PROFILES)
    result = await harness.generate()
    assert fake.bodies()[0]["size"] == "1024x1024"
    assert fake.bodies()[0]["quality"] == "high"
    assert [(w.code, w.option, w.requested, w.applied) for w in result.warnings] == [
        ("adapted", "size", "1000x1000", "1024x1024"), ("translated", "quality", "hd", "high")]
    assert result.profile == "loose"


async def test_call_values_win_over_profile_defaults(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", "/v1/images", images_reply())
    harness.build(PROFILES)
    result = await harness.generate(size="1792x1024", quality="low")
    assert (fake.bodies()[0]["size"], fake.bodies()[0]["quality"]) == ("1792x1024", "low")
    assert result.warnings == []


async def test_an_explicit_n_of_1_wins_over_the_profile_n(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", "/v1/images", images_reply())
    harness.build({"providers": {"p": {"model": "fake-test:sync-model", "n": 2}}})
    result = await harness.generate(provider="p", n=1)
    assert [body["n"] for body in fake.bodies()] == [1]
    assert len(result.images) == 1


async def test_the_profile_n_applies_when_the_call_does_not_say(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", "/v1/images", images_reply())
    harness.build({"providers": {"p": {"model": "fake-test:sync-model", "n": 2, "seed": 40}}})
    result = await harness.generate(provider="p")
    assert fake.bodies() == [{"model": "sync-model", "prompt": "a red fox in snow", "n": 2, "seed": 40}]
    assert len(result.images) == 2
    await harness.generate(provider="p", seed=0)  # an explicit seed of 0 is a value, not "unset"
    assert fake.bodies()[-1]["seed"] == 0


async def test_profile_strict_mode_refuses_before_the_network(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", "/v1/images", images_reply())
    harness.build(PROFILES)
    with pytest.raises(UnsupportedOptionError) as caught:
        await harness.generate(provider="tight", style="cartoon")
    assert (caught.value.option, caught.value.value) == ("style", "cartoon")
    assert fake.count() == 0
    result = await harness.generate(provider="tight", style="cartoon", on_unsupported="warn")  # the call wins
    assert [w.option for w in result.warnings] == ["style"]
    result = await harness.generate(provider="loose", style="cartoon")
    assert "style" in [w.option for w in result.warnings]


async def test_top_level_strict_applies_to_every_profile(harness: Harness, fake: FakeServer) -> None:
    harness.build({"on_unsupported": "strict", "providers": {"p": {"model": "fake-test:sync-model"}}})
    with pytest.raises(UnsupportedOptionError):
        await harness.generate(provider="p", quality="ultra")
    assert fake.count() == 0


async def test_profile_max_retries(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", "/v1/images", error_reply(500))
    harness.build(PROFILES)
    with pytest.raises(ServiceUnavailableError):
        await harness.generate(provider="fragile")
    assert fake.count("POST") == 1


async def test_profile_base_url_and_api_key_reach_the_wire(harness: Harness, fake: FakeServer,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAKE_KEY_VAR, "sk-profile-key")
    fake.on("POST", "/gateway/v1/images", images_reply())
    harness.build({"providers": {"gw": {"model": "fake-test:sync-model", "base_url": "http://gw.test/gateway/",
                                        "api_key": f"${{{FAKE_KEY_VAR}}}"}}})
    await harness.generate(provider="gw")
    sent = fake.sent("POST")[0]
    assert str(sent.url) == "http://gw.test/gateway/v1/images"
    assert sent.headers["authorization"] == "Bearer sk-profile-key"


async def test_profile_provider_options_merge_under_the_adapter(harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", "/v1/images", images_reply())
    harness.build({"providers": {"p": {"model": "fake-test:sync-model",
                                       "provider_options": {"moderation": "low", "tier": "a"}}}})
    await harness.generate(provider="p", provider_options={"fake-test": {"tier": "b"}})
    body = fake.bodies()[0]
    assert (body["moderation"], body["tier"]) == ("low", "b")  # the call's options win
