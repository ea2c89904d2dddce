"""Replay every cassette through the real client and the real httpx2 transport (vcrpy intercepts it).

The network is never touched: the clients are imgsdk.testing's ReplayClient, whose guard refuses any request no
cassette answers, and the record mode is "none". The body matcher makes a replay fail when imgsdk stops sending
exactly what was recorded; retries and polls ask for their waits (checked below) but never sleep.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cassette_scenarios import ADAPTERS, CANARY_FORMS, KEY_VARIABLE, SCENARIOS, Scenario, run

from imgsdk.testing import ReplayClient, UnrecordedRequestError, scan, use_cassette

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
PLACEHOLDER = "replay-placeholder-key-0000"  # replays need a key to build requests; never a real one


def replay(scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> tuple[object, ReplayClient, object]:
    monkeypatch.setenv(KEY_VARIABLE[scenario.adapter], PLACEHOLDER)
    with use_cassette(CASSETTES / scenario.path) as cassette, ReplayClient(scenario.config()) as client:
        outcome = run(scenario, client)
    return outcome, client, cassette


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.path)
def test_replay(scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    outcome, client, cassette = replay(scenario, monkeypatch)
    expect = scenario.expect
    assert cassette.all_played, f"{scenario.path}: {cassette.play_count} of {len(cassette)} exchanges replayed"
    assert client.sleeps == expect.get("sleeps", []), "the waits asked for (none of them was slept)"
    if "error" in expect:
        error = outcome.error
        assert error is not None and any(kind.__name__ == expect["error"] for kind in type(error).__mro__), error
        if "stage" in expect:
            assert error.stage == expect["stage"]
        return
    assert outcome.error is None, outcome.error
    result = outcome.result
    assert [(warning.code, warning.option) for warning in result.warnings] == expect["warnings"]
    if node := expect.get("node"):
        assert outcome.node["size"] == node["size"]
        assert outcome.node["revised_prompt"] == node["revised_prompt"]
        if node["url"] is not None:
            assert outcome.node["url"] == node["url"]
        if node["url_prefix"] is not None:
            assert outcome.node["url"].startswith(node["url_prefix"])
    assert all(image.url and image.revised_prompt for image in result.images)
    if "size" in expect:
        assert result.size == expect["size"]
    if "media_type" in expect:
        assert result.images[0].media_type == expect["media_type"]
    if "images" in expect:
        assert len(result.images) == expect["images"]
    if "fetched" in expect:
        assert outcome.fetched == expect["fetched"]
    if "url" in expect:
        assert result.url == expect["url"]
    if expect.get("expires"):
        assert result.images[0].expires_at is not None
    if "revised_prompt" in expect:
        assert result.revised_prompt == expect["revised_prompt"]
    if "usage_total" in expect:
        assert result.usage is not None and result.usage["total_tokens"] == expect["usage_total"]
    if "metadata_key" in expect:
        assert expect["metadata_key"] in result.images[0].metadata


def test_every_adapter_has_node_calls_and_a_moderation_case() -> None:
    """Issue 5: the node's default call and the social-media example per adapter, moderation where it exists."""
    for adapter in ADAPTERS:
        calls = [scenario.call for scenario in SCENARIOS if scenario.adapter == adapter]
        assert any(call.get("size") in (None, "1024x1024") for call in calls), adapter
        assert any(call.get("size") == "1792x1024" and call.get("quality") == "hd" for call in calls), adapter
        if adapter not in ("comfyui", "automatic1111"):  # self-hosted: no moderation exists to record
            assert any(s.expect.get("error") == "ContentPolicyError" for s in SCENARIOS if s.adapter == adapter)
    files = {path.relative_to(CASSETTES).as_posix() for path in CASSETTES.rglob("*.yaml")}
    assert files == {scenario.path for scenario in SCENARIOS}, "a cassette without a scenario, or the reverse"


def test_poll_sequences_are_replayed_whole() -> None:
    """Submit, pending ×k, done and the download, for every polling provider."""
    for adapter in ("bfl", "replicate", "fal", "comfyui"):
        longest = max(len(s.answers) for s in SCENARIOS if s.adapter == adapter)
        assert longest >= 3, adapter
        assert any(s.fetch for s in SCENARIOS if s.adapter == adapter), f"{adapter}: no image download recorded"


def test_a_changed_request_fails_loudly_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = SCENARIOS[0]
    monkeypatch.setenv(KEY_VARIABLE[scenario.adapter], PLACEHOLDER)
    changed = dict(scenario.call, prompt="a prompt that was never recorded")
    with use_cassette(CASSETTES / scenario.path), ReplayClient(scenario.config()) as client, \
            pytest.raises(UnrecordedRequestError) as caught:
        client.generate(provider="main", **changed)
    message = str(caught.value)
    assert "POST https://api.openai.com/v1/images/generations" in message
    assert "body.prompt" in message and "a prompt that was never recorded" in message
    assert (caught.value.method, caught.value.url) == ("POST", "https://api.openai.com/v1/images/generations")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_cassettes_hold_no_credentials_and_stay_small(adapter: str) -> None:
    assert scan(CASSETTES / adapter, max_kb=64, extra=CANARY_FORMS) == []
    for file in (CASSETTES / adapter).glob("*.yaml"):
        text = file.read_text()
        assert not any(canary in text for canary in CANARY_FORMS)
        for header in ("authorization", "x-key", "x-goog-api-key", "api-key"):
            if f"      {header}:\n" in text:
                assert f"      {header}:\n      - REDACTED\n" in text, (file, header)
