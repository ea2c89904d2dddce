"""The workflow node's input and output as pydantic models, for whoever builds a workflow around it.

A workflow editor draws the node's form from :data:`NodeInput`'s JSON Schema (the three choices, their
defaults, which fields are required) and types the ``{{ step.output.field }}`` references of later steps from
:data:`NodeOutput`'s. :func:`imgsdk.node.schema` returns both.

Fields of :class:`NodeInput`:

- ``provider`` (required): a profile name from ``imgsdk.toml`` or ``"adapter:model"``; not blank.
- ``prompt`` (required): the text; may hold ``{{ step.output.field }}`` references; not blank.
- ``size``: ``1024x1024`` (default), ``1024x1792`` or ``1792x1024``.
- ``quality``: ``standard`` (default) or ``hd``; DALL·E 3 only, translated or dropped elsewhere.
- ``style``: ``vivid`` (default) or ``natural``; DALL·E 3 only, dropped elsewhere.

Fields of :class:`NodeOutput`:

- ``url``: the image; temporary when it is the provider's URL (save it at once).
- ``revised_prompt``: the prompt the model used.
- ``size``: ``"WxH"`` of the generated image.

:func:`imgsdk.node.run` does not import pydantic (importing it and building these models takes 140–190 ms
here): it validates by hand, and a test checks that the hand validation and these models accept and refuse the
same inputs. Python callers may also pass None for an optional field (meaning "not set"); the schema, meant for
JSON forms, has no null.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["NodeInput", "NodeOutput", "schema"]

# At least one character that str.strip() keeps (what node.run checks). Listed one by one (Python's whitespace,
# str.isspace) rather than \s, which means something else in each regex dialect: pydantic's (Rust) lacks
# U+001C-U+001F, and a JSON-Schema editor's (ECMAScript) adds U+FEFF and lacks U+0085.
_NOT_BLANK = r"[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


class NodeInput(BaseModel):
    """The "Image Generation" node's configuration."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, title="Image Generation: input")

    provider: str = Field(
        pattern=_NOT_BLANK, description="A profile name from imgsdk.toml, or 'adapter:model' (e.g. openai:gpt-image-2)",
        examples=["openai:gpt-image-2", "local:placeholder"])
    prompt: str = Field(
        pattern=_NOT_BLANK, description="What to draw. May contain {{ step.output.field }} references to earlier "
        "steps' outputs", examples=["{{ write_prompt.output.text }}"])
    size: Literal["1024x1024", "1024x1792", "1792x1024"] = Field(
        "1024x1024", description="Pixel size; on models without these sizes the nearest one is used, with a warning")
    quality: Literal["standard", "hd"] = Field(
        "standard", description="DALL·E 3 only; translated (hd → high on GPT-image) or dropped elsewhere")
    style: Literal["vivid", "natural"] = Field("vivid", description="DALL·E 3 only; dropped elsewhere")


class NodeOutput(BaseModel):
    """What the node returns: exactly these three fields."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, title="Image Generation: output")

    url: str = Field(description="The image. A provider URL is temporary (providers expire them): save the image "
                     "at once. A data: or file: URL when the provider sent bytes or the image was stored")
    revised_prompt: str = Field(description="The prompt the model actually used (its rewrite, else the prompt sent)")
    size: str = Field(pattern=r"^\d+x\d+$", description="WIDTHxHEIGHT of the generated image", examples=["1024x1024"])


def schema() -> dict[str, Any]:
    """``{"input": JSON Schema, "output": JSON Schema}`` of the node."""
    return {"input": NodeInput.model_json_schema(), "output": NodeOutput.model_json_schema()}
