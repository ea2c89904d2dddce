"""``{{ step.output.field }}`` references in prompts, resolved against a context.

References walk mappings (``a.b``), list indexes (``items.0``) and attributes, and tolerate whitespace
(``{{a.b}}`` and ``{{  a.b  }}`` are the same). A reference that does not resolve raises
:class:`TemplateError` naming it and the part that was missing: it never renders as an empty string, so a
broken workflow step cannot silently produce an empty or truncated prompt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import InvalidRequestError

__all__ = ["TemplateError", "references", "render"]

_REFERENCE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


class TemplateError(InvalidRequestError):
    """A ``{{ reference }}`` could not be resolved; ``reference`` is its text."""

    def __init__(self, message: str, *, reference: str) -> None:
        super().__init__(message, option="prompt")
        self.reference = reference


def references(template: str) -> list[str]:
    """The references a template uses, in order."""
    return [match.group(1) for match in _REFERENCE.finditer(template)]


def _lookup(context: Any, reference: str) -> Any:
    if not reference:
        raise TemplateError("an empty reference {{ }} in the prompt", reference=reference)
    value: Any = context
    walked: list[str] = []
    for part in reference.split("."):
        part = part.strip()
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, Sequence) and not isinstance(value, str) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(value) <= index < len(value):
                raise TemplateError(f"{{{{ {reference} }}}}: index {index} is out of range "
                                    f"({'.'.join(walked) or 'context'} has {len(value)} items)",
                                    reference=reference)
            value = value[index]
        elif not isinstance(value, Mapping) and not part.startswith("_") and hasattr(value, part):
            value = getattr(value, part)
        else:
            where = ".".join(walked) or "the context"
            keys = sorted(map(str, value)) if isinstance(value, Mapping) else []
            hint = f" (it has: {', '.join(keys[:10])})" if keys else ""
            raise TemplateError(f"{{{{ {reference} }}}} cannot be resolved: {where} has no {part!r}{hint}",
                                reference=reference)
        walked.append(part)
    if value is None:
        raise TemplateError(f"{{{{ {reference} }}}} resolved to nothing (None)", reference=reference)
    return value


def render(template: str, context: Any) -> str:
    """Replace every ``{{ reference }}`` with its value from ``context``."""
    return _REFERENCE.sub(lambda match: str(_lookup(context, match.group(1))), template)
