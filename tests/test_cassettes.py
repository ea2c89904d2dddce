"""Replay every cassette through the real client and the real httpx2 transport (vcrpy intercepts it).

The network is never touched: record_mode "none" makes any request that is not in the cassette fail, and the
body matcher makes a replay fail when imgsdk stops sending exactly what was recorded.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cassette_scenarios import CANARY, SCENARIOS, Scenario

import imgsdk
from imgsdk.testing import find_secrets, use_cassette

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.path)
def test_replay(scenario: Scenario) -> None:
    sleeps: list[float] = []
    config = scenario.config("replay-key-not-a-secret")
    with use_cassette(CASSETTES / scenario.path), imgsdk.Client(config, sleep=sleeps.append) as client:
        if "error" in scenario.expect:
            with pytest.raises(imgsdk.ImgSDKError) as caught:
                client.generate(provider="main", **scenario.call)
            assert type(caught.value).__name__ == scenario.expect["error"] or any(
                cls.__name__ == scenario.expect["error"] for cls in type(caught.value).__mro__)
            if "stage" in scenario.expect:
                assert caught.value.stage == scenario.expect["stage"]  # type: ignore[attr-defined]
            return
        result = client.generate(provider="main", **scenario.call)
    expect = scenario.expect
    assert result.url
    if "size" in expect:
        assert result.size == expect["size"]
        assert result.images[0].media_type == "image/png"
    if "url" in expect:
        assert result.url == expect["url"]
        assert result.images[0].expires_at is not None
    assert result.revised_prompt == expect.get("revised_prompt", scenario.call["prompt"])
    if "warnings" in expect:
        assert [(w.code, w.option) for w in result.warnings] == expect["warnings"]
    if "usage_total" in expect:
        assert result.usage is not None and result.usage["total_tokens"] == expect["usage_total"]
    if "sleeps" in expect:
        assert sleeps == expect["sleeps"]
    if "metadata_key" in expect:
        assert expect["metadata_key"] in result.images[0].metadata
    assert result.to_node_output().keys() == {"url", "revised_prompt", "size"}


def test_unrecorded_request_fails_loudly() -> None:
    scenario = SCENARIOS[0]
    changed = dict(scenario.call, prompt="a prompt that was never recorded")
    with (use_cassette(CASSETTES / scenario.path), imgsdk.Client(scenario.config("k"), sleep=lambda s: None) as c,
          pytest.raises(Exception, match=r"(?i)cassette|can't overwrite|no match")):
        c.generate(provider="main", **changed)


@pytest.mark.parametrize("adapter", sorted({s.adapter for s in SCENARIOS}))
def test_cassettes_hold_no_credentials(adapter: str) -> None:
    assert find_secrets(CASSETTES / adapter, extra=tuple(CANARY.values())) == []
    for file in (CASSETTES / adapter).glob("*.yaml"):
        text = file.read_text()
        assert "REDACTED" in text or "authorization" not in text.lower()
        assert file.stat().st_size < 64_000, f"{file} is too large for a cassette"
