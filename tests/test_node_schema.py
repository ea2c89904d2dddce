"""The node's JSON Schemas (imgsdk.node.schema, pydantic) agree with what imgsdk.node.run accepts and returns."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from imgsdk import node
from imgsdk.errors import InvalidRequestError
from imgsdk.node_schema import NodeInput, NodeOutput


def test_input_schema_is_the_nodes_form() -> None:
    schema = node.schema()["input"]
    assert schema["title"] == "Image Generation: input"
    assert schema["required"] == ["provider", "prompt"]
    assert schema["additionalProperties"] is False
    properties = schema["properties"]
    assert list(properties) == list(node.FIELDS)
    for name, default in node.DEFAULTS.items():
        assert properties[name]["default"] == default
    assert properties["size"]["enum"] == ["1024x1024", "1024x1792", "1792x1024"]
    assert properties["quality"]["enum"] == ["standard", "hd"]
    assert properties["style"]["enum"] == ["vivid", "natural"]
    assert "{{ step.output.field }}" in properties["prompt"]["description"]


def test_output_schema_is_exactly_the_three_outputs() -> None:
    schema = node.schema()["output"]
    assert schema["required"] == ["url", "revised_prompt", "size"]
    assert schema["additionalProperties"] is False
    assert "temporary" in schema["properties"]["url"]["description"]


def test_run_returns_what_the_output_schema_describes() -> None:
    output = node.run({"provider": "local:placeholder", "prompt": "a red fox", "size": "1024x1792"})
    validated = NodeOutput.model_validate(output)
    assert validated.size == "1024x1792"
    assert validated.revised_prompt == "a red fox"


def _hand_accepts(config: dict[str, Any]) -> bool:
    try:
        node._request(config, {"step": {"output": {"text": "a fox"}}})
    except InvalidRequestError:
        return False
    return True


def _model_accepts(config: dict[str, Any]) -> bool:
    # None is "not set" for Python callers of node.run; the schema, for JSON forms, has no null
    present = {key: value for key, value in config.items() if not (key in node.DEFAULTS and value is None)}
    try:
        NodeInput.model_validate(present)
    except ValidationError:
        return False
    return True


_VALUES = st.one_of(
    st.sampled_from(["1024x1024", "1024x1792", "1792x1024", "512x512", "standard", "hd", "high", "vivid", "natural",
                     "local:placeholder", "a fox", "", "   ", "\n", "\x1c", "\x1f\u2028", "\u3000"]),
    st.text(max_size=8), st.none(), st.integers(), st.booleans(), st.binary(max_size=4),
    st.lists(st.text(), max_size=1),
)


def _mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Three draws in four from ``valid``, else anything (a nested one_of would be flattened into equal parts)."""
    return st.integers(0, 3).flatmap(lambda pick: valid if pick else _VALUES)


_CHOICE = _mostly(st.sampled_from(["1024x1024", "1024x1792", "1792x1024", "standard", "hd", "vivid", "natural"]))
_TEXT = _mostly(st.sampled_from(["local:placeholder", "a fox", "{{ step.output.text }}"]))
_CONFIGS = st.one_of(
    # mostly valid: both required fields, options drawn from the choices and from anything at all
    st.fixed_dictionaries({"provider": _TEXT, "prompt": _TEXT},
                          optional={"size": _CHOICE, "quality": _CHOICE, "style": _CHOICE, "seed": _VALUES}),
    # anything: missing fields, unknown ones, wrong types
    st.dictionaries(st.sampled_from([*node.FIELDS, "seed", "Size"]), _VALUES, max_size=6),
)


@settings(max_examples=500, deadline=None)
@given(_CONFIGS)
def test_hand_validation_and_the_schema_agree(config: dict[str, Any]) -> None:
    accepted = _hand_accepts(config)
    assert accepted == _model_accepts(config), config
    event("accepted" if accepted else "refused")  # `pytest --hypothesis-show-statistics`: both kinds occur


@pytest.mark.parametrize(("config", "named"), [
    ({"prompt": "a fox"}, "provider"),
    ({"provider": "  ", "prompt": "a fox"}, "provider"),
    ({"provider": "local:placeholder", "prompt": " "}, "prompt"),
    ({"provider": "local:placeholder", "prompt": "a fox", "size": "512x512"}, "size"),
])
def test_refusals_name_the_field(config: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        node.run(config)
    assert caught.value.option == named


def test_run_does_not_import_pydantic() -> None:
    code = ("import sys, imgsdk.node as n; n.run({'provider': 'local:placeholder', 'prompt': 'a fox'}); "
            "print('pydantic' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
