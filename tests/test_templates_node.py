"""Templates (``{{ a.b.c }}``) and the workflow node (imgsdk.node.run / arun), on the offline renderer."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import FakeServer, Harness, images_reply
from PIL import Image

import imgsdk
from imgsdk import node
from imgsdk.errors import InvalidRequestError
from imgsdk.templates import TemplateError, references, render

SEED_CONFIG = {"provider": "local:placeholder", "prompt": "{{ write_prompt.output.text }}", "size": "1792x1024",
               "quality": "hd"}
SEED_TEXT = ("A photorealistic lighthouse on a basalt cliff at dawn, waves breaking below, warm light on the "
             "lantern room, gulls in the mist")
SEED_CONTEXT = {"write_prompt": {"output": {"text": SEED_TEXT}}}


@dataclass
class Step:
    output: Any


@dataclass
class Output:
    text: str
    tags: list[str]


# -- render ------------------------------------------------------------------------------------------------------

def test_render_walks_mappings() -> None:
    assert render("{{ a.b.c }}", {"a": {"b": {"c": "deep"}}}) == "deep"


def test_render_walks_list_indexes_including_negative() -> None:
    context = {"items": ["first", {"name": "second"}, "third"]}
    assert render("{{ items.0 }} / {{ items.1.name }} / {{ items.-1 }}", context) == "first / second / third"


def test_render_walks_attributes() -> None:
    context = {"step": Step(output=Output(text="from an object", tags=["a", "b"]))}
    assert render("{{ step.output.text }} #{{ step.output.tags.1 }}", context) == "from an object #b"


@pytest.mark.parametrize("template", ["{{a.b}}", "{{ a.b }}", "{{   a.b   }}", "{{\ta.b\n}}", "{{ a . b }}"])
def test_render_is_whitespace_tolerant(template: str) -> None:
    assert render(template, {"a": {"b": "x"}}) == "x"


def test_render_keeps_surrounding_text_and_formats_values() -> None:
    context = {"n": 3, "ratio": 1.5, "ok": True, "name": "fox"}
    assert render("{{n}} {{ name }}s, ratio {{ratio}}, ok={{ ok }}.", context) == "3 foxs, ratio 1.5, ok=True."


def test_render_without_references_is_the_identity() -> None:
    assert render("no references { here } {x}", {}) == "no references { here } {x}"


def test_rendered_values_are_not_rendered_again() -> None:
    assert render("{{ a }}", {"a": "{{ b }}", "b": "oops"}) == "{{ b }}"


def test_references_lists_them_in_order() -> None:
    assert references("{{ a.b }} and {{c}} and {{ a.b }}") == ["a.b", "c", "a.b"]


@pytest.mark.parametrize(("template", "context", "missing"), [
    ("{{ write_prompt.output.txt }}", SEED_CONTEXT, "'txt'"),
    ("{{ nothing }}", {}, "'nothing'"),
    ("{{ a.b }}", {"a": "a string"}, "'b'"),
    ("{{ items.5 }}", {"items": ["x"]}, "out of range"),
    ("{{ step.output.missing }}", {"step": Step(output=Output("t", []))}, "'missing'"),
    ("{{ step._private }}", {"step": Step(output=None)}, "'_private'"),
])
def test_missing_reference_raises_naming_it(template: str, context: Any, missing: str) -> None:
    with pytest.raises(TemplateError) as caught:
        render(template, context)
    reference = template.strip("{} ")
    assert caught.value.reference == reference
    assert reference in str(caught.value)
    assert missing in str(caught.value)
    assert isinstance(caught.value, InvalidRequestError)
    assert caught.value.option == "prompt"


def test_missing_reference_lists_what_is_there() -> None:
    with pytest.raises(TemplateError) as caught:
        render("{{ write_prompt.outptu.text }}", SEED_CONTEXT)
    assert "write_prompt has no 'outptu'" in str(caught.value)
    assert "output" in str(caught.value)


def test_none_value_raises_instead_of_rendering_empty() -> None:
    with pytest.raises(TemplateError) as caught:
        render("A {{ step.output.text }}", {"step": {"output": {"text": None}}})
    assert caught.value.reference == "step.output.text"
    assert "None" in str(caught.value)


def test_empty_reference_raises() -> None:
    with pytest.raises(TemplateError, match="empty reference"):
        render("{{ }}", {})


def test_template_error_is_exported() -> None:
    assert imgsdk.TemplateError is TemplateError
    assert imgsdk.render is render


# -- the node ------------------------------------------------------------------------------------------------------

def _decode(url: str) -> Image.Image:
    header, _, payload = url.partition(",")
    assert header == "data:image/png;base64"
    image = Image.open(io.BytesIO(base64.b64decode(payload)))
    image.load()
    return image


def test_seed_example_returns_exactly_the_three_outputs() -> None:
    output = node.run(SEED_CONFIG, SEED_CONTEXT)
    assert set(output) == {"url", "revised_prompt", "size"}
    assert output["size"] == "1792x1024"
    assert output["revised_prompt"] == SEED_TEXT
    image = _decode(output["url"])
    assert image.format == "PNG"
    assert image.size == (1792, 1024)


def test_seed_example_through_the_package_attribute() -> None:
    assert imgsdk.node.run(SEED_CONFIG, SEED_CONTEXT)["size"] == "1792x1024"


async def test_seed_example_async() -> None:
    output = await node.arun(SEED_CONFIG, SEED_CONTEXT)
    assert set(output) == {"url", "revised_prompt", "size"}
    assert (output["size"], output["revised_prompt"]) == ("1792x1024", SEED_TEXT)
    assert _decode(output["url"]).size == (1792, 1024)


def _spy(client: Any, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Keep the ImageResult behind node.run's three outputs, to look at its warnings."""
    results: list[Any] = []
    generate = client.generate

    def spy(*args: Any, **kwargs: Any) -> Any:
        results.append(generate(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(client, "generate", spy)
    return results


def test_node_defaults_and_no_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    client = imgsdk.Client()
    results = _spy(client, monkeypatch)
    output = node.run({"provider": "local:placeholder", "prompt": "a red fox in snow"}, client=client)
    assert output["size"] == "1024x1024"
    assert _decode(output["url"]).size == (1024, 1024)
    assert results[0].warnings == []  # the node's defaults never warn


async def test_node_defaults_never_warn_even_where_the_model_lacks_them(sync_harness: Harness, fake: FakeServer,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    fake.on("POST", "/v1/images", images_reply())
    client = sync_harness.build({"models": {"fake-test:tiny": {"size": {"mode": "fixed", "sizes": ["512x512"]}}}})
    results = _spy(client, monkeypatch)
    output = node.run({"provider": "fake-test:tiny", "prompt": "a fox"}, client=client)
    assert fake.bodies()[0]["size"] == "512x512"  # the default 1024x1024 adapted silently
    assert results[0].warnings == []
    assert set(output) == {"url", "revised_prompt", "size"}
    node.run({"provider": "fake-test:tiny", "prompt": "a fox", "size": "1024x1024", "style": "vivid"}, client=client)
    assert {w.option for w in results[1].warnings} == {"size", "style"}  # values the user set do warn


def test_node_is_deterministic_offline() -> None:
    config = {"provider": "local:placeholder", "prompt": "a red fox", "size": "1024x1792", "style": "natural"}
    assert node.run(config) == node.run(config)


async def test_node_defaults_are_soft_on_the_wire(sync_harness: Harness, fake: FakeServer) -> None:
    fake.on("POST", "/v1/images", images_reply())
    client = sync_harness.build()
    output = node.run({"provider": "fake-test:sync-model", "prompt": "a {{ animal }}"}, {"animal": "fox"},
                      client=client)
    # 1024x1024 is sent (the model has it); quality and style are left to the model's own defaults
    assert fake.bodies() == [{"model": "sync-model", "prompt": "a fox", "n": 1, "size": "1024x1024"}]
    assert set(output) == {"url", "revised_prompt", "size"}
    assert output["revised_prompt"] == "a fox"


async def test_node_values_the_user_set_are_translated_with_warnings(sync_harness: Harness,
                                                                     fake: FakeServer) -> None:
    fake.on("POST", "/v1/images", images_reply())
    client = sync_harness.build()
    node.run({"provider": "fake-test:sync-model", "prompt": "x", "size": "1792x1024", "quality": "hd",
              "style": "natural"}, client=client)
    assert fake.bodies()[0] == {"model": "sync-model", "prompt": "x", "n": 1, "size": "1792x1024",
                                "quality": "high", "style": "natural"}


@pytest.mark.parametrize(("config", "fragment"), [
    ({"provider": "local:placeholder", "prompt": "x", "size": "512x512"}, "size"),
    ({"provider": "local:placeholder", "prompt": "x", "quality": "ultra"}, "quality"),
    ({"provider": "local:placeholder", "prompt": "x", "style": "cartoon"}, "style"),
    ({"provider": "local:placeholder", "prompt": "x", "seed": 3}, "seed"),
    ({"provider": "local:placeholder", "prompt": ""}, "prompt"),
    ({"provider": "local:placeholder", "prompt": "   "}, "prompt"),
    ({"provider": "local:placeholder"}, "prompt"),
    ({"provider": "local:placeholder", "prompt": 42}, "prompt"),
])
def test_invalid_node_values_are_rejected(config: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        node.run(config, {})
    assert fragment in str(caught.value)


def test_node_prompt_that_renders_empty_is_rejected() -> None:
    with pytest.raises(InvalidRequestError, match="prompt is empty"):
        node.run({"provider": "local:placeholder", "prompt": "{{ a }}"}, {"a": "  "})


def test_node_missing_reference_is_rejected_naming_it() -> None:
    with pytest.raises(TemplateError) as caught:
        node.run({"provider": "local:placeholder", "prompt": "{{ write_prompt.output.text }}"}, {})
    assert "write_prompt.output.text" in str(caught.value)


async def test_node_arun_rejects_invalid_values_too() -> None:
    with pytest.raises(InvalidRequestError, match="quality"):
        await node.arun({"provider": "local:placeholder", "prompt": "x", "quality": "max"})


def test_node_declares_its_fields_and_defaults() -> None:
    assert node.FIELDS == ("provider", "prompt", "size", "quality", "style")
    assert node.DEFAULTS == {"size": "1024x1024", "quality": "standard", "style": "vivid"}
