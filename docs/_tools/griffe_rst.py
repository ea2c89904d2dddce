"""Griffe extension for the API reference: imgsdk's docstrings use a little reST inline markup.

``:class:`~imgsdk.errors.ConfigError``` and friends become code spans (``ConfigError``; the ``~`` keeps only
the last name, as Sphinx does), and a paragraph ending in ``::`` (reST's "a literal block follows") ends in a
colon, so the indented block after it renders as code. Double-backtick literals are already Markdown.
Loaded by mkdocstrings (``mkdocs.yml``: ``extensions: [docs/_tools/griffe_rst.py]``).
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj|const):`(~?)\.?([^`]+)`")
_LITERAL = re.compile(r"(?m)^(.*?)[ \t]*::$")


def convert(text: str) -> str:
    """The docstring with reST roles as code spans and ``::`` paragraph ends as colons."""
    text = _ROLE.sub(lambda m: f"`{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}`", text)
    return _LITERAL.sub(lambda m: f"{m.group(1)}:" if m.group(1).strip() else "", text)


class ReSTInline(Extension):
    """Rewrites every docstring once the object tree is loaded."""

    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
