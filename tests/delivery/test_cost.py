"""Cost: from the price table (size and quality; resolution tiers for ratio models) or token usage; None when
unknown, never a guess; a fan-out sums its calls."""

from __future__ import annotations

import base64
import json

import httpx2
import pytest

import imgsdk
from delivery.support import no_sleep, png_bytes
from imgsdk.cli import main
from imgsdk.costs import price_per_image
from imgsdk.planning import plan
from imgsdk.request import ImageRequest

B64 = base64.b64encode(png_bytes()).decode()


def openai_client(model: str, body: dict[str, object]) -> imgsdk.Client:
    config = {"providers": {"p": {"model": f"openai:{model}", "base_url": "https://gw.example/v1",
                                  "api_key": "${GW_KEY}"}}}
    transport = httpx2.MockTransport(lambda request: httpx2.Response(200, json=body))
    return imgsdk.Client(config, transport=transport, sleep=no_sleep)


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_KEY", "sk-gw-0123456789abcdef")
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-test-key-0123456789abcdef")


def test_a_fan_out_sums_the_table_price_per_size_and_quality() -> None:
    with openai_client("dall-e-3", {"data": [{"b64_json": B64}]}) as client:
        standard = client.generate("a fox", provider="p", n=3)
        wide_hd = client.generate("a fox", provider="p", n=2, size="1792x1024", quality="hd")
    assert standard.cost_usd == pytest.approx(0.12)  # 3 calls x $0.040 (standard, 1024x1024)
    assert wide_hd.cost_usd == pytest.approx(0.24)  # 2 calls x $0.120 (hd, 1792x1024)


def test_token_usage_prices_gpt_image() -> None:
    usage = {"input_tokens": 50, "output_tokens": 4160, "input_tokens_details": {"text_tokens": 50, "image_tokens": 0}}
    with openai_client("gpt-image-1", {"data": [{"b64_json": B64}], "usage": usage}) as client:
        result = client.generate("a fox", provider="p")
    assert result.cost_usd == pytest.approx((50 * 5.0 + 4160 * 40.0) / 1_000_000)


def test_unknown_price_is_none_not_a_guess() -> None:
    with openai_client("gpt-image-2", {"data": [{"b64_json": B64}]}) as client:
        result = client.generate("a fox", provider="p", n=2)
    assert result.cost_usd is None


def test_ratio_models_are_priced_by_their_resolution_tier() -> None:
    with imgsdk.Client({}, sleep=no_sleep) as client:
        target = client.target("google:gemini-3-pro-image")

    def price(**google: str) -> float | None:
        prepared = plan(target, ImageRequest("a fox", size="16:9", provider_options={"google": google})).calls[0]
        return price_per_image(target.capabilities, prepared)

    assert price() == 0.134  # the default tier (1K): the table's general line
    assert price(image_size="4K") == 0.24  # the 4K line
    assert price(image_size="2K") is None  # no 2K line: unknown, not the 1K price
    assert price_per_image(target.capabilities, plan(target, ImageRequest("a fox")).calls[0].with_(
        resolution="4K")) == 0.24


def test_models_command_shows_prices_with_their_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "openai", "--json"]) == 0
    models = {entry["model"]: entry for entry in json.loads(capsys.readouterr().out)}
    dalle = models["openai:dall-e-3"] if "openai:dall-e-3" in models else models["dall-e-3"]
    assert dalle["price_date"] == "2023-12-25" and dalle["prices"]
    assert main(["models", "openai"]) == 0
    assert "$0.040-0.120/image (2023-12-25)" in capsys.readouterr().out
