"""``imgsdk generate``: one request, images saved, paths (or JSON) printed."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from imgsdk.errors import InvalidRequestError


def parse_vars(pairs: list[str]) -> dict[str, Any]:
    """``["a.b=1", "c=2"]`` → ``{"a": {"b": "1"}, "c": "2"}``."""
    context: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidRequestError(f"--var {pair!r}: expected KEY=VALUE (e.g. --var topic=foxes)")
        node = context
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise InvalidRequestError(f"--var {pair!r}: {part!r} is already a value, not a group")
            node = child
        node[parts[-1]] = value
    return context


def run_generate(args: argparse.Namespace) -> int:
    from imgsdk.client import Client

    options: dict[str, Any] = {"size": args.size, "quality": args.quality, "style": args.style, "n": args.n,
                               "seed": args.seed, "negative_prompt": args.negative_prompt,
                               "output_format": args.output_format}
    if args.strict:
        options["on_unsupported"] = "strict"
    if args.var:
        options["context"] = parse_vars(args.var)
    with Client(args.config) as client:
        result = client.generate(args.prompt, provider=args.provider, **options)
        for warning in result.warnings:
            print(f"imgsdk: warning: {warning}", file=sys.stderr)
        for error in result.errors:
            print(f"imgsdk: error (partial result): {error}", file=sys.stderr)
        paths = [str(path) for path in result.save(args.output)]
    if args.json:
        output = result.to_node_output()
        if output["url"].startswith("data:"):
            output["url"] = f"file://{__import__('os').path.abspath(paths[0])}"
        output.update(provider=result.provider, warnings=[w.message for w in result.warnings], paths=paths,
                      cost_usd=result.cost_usd)
        print(json.dumps(output, indent=2))
    else:
        print("\n".join(paths))
    return 0
