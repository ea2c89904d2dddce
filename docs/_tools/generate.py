"""Regenerate the parts of the docs that are computed from the code, so they cannot drift from it.

A page marks a generated part with a pair of comments::

    <!-- generated: options openai gpt-image-2 dall-e-3 -->
    ...replaced by this script...
    <!-- /generated -->

and ``docs/capabilities.md`` as a whole is ``imgsdk models --markdown``. Usage, from the repository root::

    python docs/_tools/generate.py           # rewrite every generated part in place
    python docs/_tools/generate.py --check   # exit 1 and name the stale pages (tests/test_docs.py does this)

Every table here comes from running the real code: the declarations, the policy engine
(:func:`imgsdk.policy.apply`), each adapter's ``build_request``, the resolver, the CLI's parser. Nothing
depends on the date or on the network.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(<!-- generated: (?P<args>[^>]*?) -->\n)(?P<body>.*?)(<!-- /generated -->)", re.DOTALL)
PROMPT = "a lighthouse at dawn, watercolour"
EXAMPLE_BASE = {"azure": "https://my-resource.openai.azure.com", "openai-compatible": "http://localhost:8080/v1"}
NODE_REQUEST = {"size": "1792x1024", "quality": "hd", "style": "natural"}
# The rows of every "what each option becomes" table: the node's own fields first, then the SDK's.
OPTION_CASES: tuple[tuple[str, Mapping[str, Any]], ...] = (
    ("size 1024x1024", {"size": "1024x1024"}), ("size 1792x1024", {"size": "1792x1024"}),
    ("size 1024x1792", {"size": "1024x1792"}), ("size 16:9", {"size": "16:9"}),
    ("quality standard", {"quality": "standard"}), ("quality hd", {"quality": "hd"}),
    ("style vivid", {"style": "vivid"}), ("style natural", {"style": "natural"}),
    ("n 4", {"n": 4}), ("seed 42", {"seed": 42}), ("negative_prompt", {"negative_prompt": "text, watermark"}),
    ("output_format webp", {"output_format": "webp"}), ("background transparent", {"background": "transparent"}),
    ("user", {"user": "user-1234"}),
)


# -- helpers --------------------------------------------------------------------------------------------
def _adapter(name: str) -> Any:
    from imgsdk.registry import get_adapter

    return get_adapter(name)


def _caps(reference: str) -> Any:
    adapter_name, _, model = reference.partition(":")
    adapter = _adapter(adapter_name)
    return adapter.capabilities(model, {}) or adapter.permissive_capabilities(model)


def _endpoint(adapter: Any) -> Any:
    """The adapter's own service, with a placeholder key that shows where the key goes (never a real one)."""
    from imgsdk.adapter import Endpoint, Secret

    key = Secret(f"${{{adapter.key_env[0]}}}") if adapter.key_env else None
    base = adapter.default_base_url or EXAMPLE_BASE.get(adapter.name, "https://example.invalid")
    return Endpoint(base_url=base, api_key=key, default_service=True)


def _short(message: str) -> str:
    """A warning without its trailing ``[adapter:model]`` (the table says which model)."""
    head, bracket, _ = message.rpartition(" [")
    return head if bracket and message.endswith("]") else message


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else json.dumps(value)
    return f"`{text if len(text) <= 70 else text[:67] + '…'}`"


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}`` (lists are kept whole, so a changed list shows as one value)."""
    if isinstance(value, Mapping) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def _wire(reference: str, request: Any) -> tuple[Any, list[Any], int]:
    """(the first call's WireRequest, the warnings, the number of calls) for ``request`` on ``reference``."""
    from imgsdk.policy import apply

    adapter_name = reference.partition(":")[0]
    adapter, caps = _adapter(adapter_name), _caps(reference)
    per_call = max(1, min(request.n, caps.max_images))
    prepared, warnings = apply(request, caps, adapter=adapter_name, n=per_call)
    return adapter.build_request(prepared, _endpoint(adapter)), warnings, math.ceil(request.n / per_call)


def _stable(body: Any) -> Any:
    """The body with per-process values (ComfyUI's client id) replaced, so the docs do not change per run."""
    if isinstance(body, dict) and "client_id" in body:
        return {**body, "client_id": "<a uuid, one per process>"}
    return body


def _payload(wire: Any) -> dict[str, Any]:
    body = wire.json if wire.json is not None else wire.form or {}
    return {"(url)": wire.url, **_flatten(body)}


def _node_request(options: Mapping[str, Any]) -> Any:
    """The request the workflow node makes for ``options`` (its defaults are soft: adapted silently)."""
    from imgsdk import node
    from imgsdk.request import ImageRequest

    _, prompt, fields = node._request({"provider": "x", "prompt": PROMPT, **options}, {})
    return ImageRequest(prompt=prompt, **fields)


# -- blocks ---------------------------------------------------------------------------------------------
def block_models(adapter: str) -> str:
    from imgsdk.cli.models import collect, markdown

    return markdown(collect(adapter))


def block_adapters() -> str:
    """One row per adapter shipped with imgsdk."""
    from imgsdk.cli.models import shipped_adapters

    rows = ["| adapter | provider | service | key | default model | models | answers |",
            "|---|---|---|---|---|---|---|"]
    for name in shipped_adapters():
        adapter = _adapter(name)
        catalogue = list(adapter.catalogue().values())
        answers = sorted({f"{caps.returns}, {caps.protocol}" for caps in catalogue}) or ["as the server says"]
        keys = ", ".join(f"`{k}`" for k in adapter.key_env)
        keys = "none" if not keys else keys if adapter.key_required else f"{keys} (optional)"
        rows.append(f"| [`{name}`]({name}.md) | {adapter.label} | `{adapter.default_base_url or 'your base_url'}` | "
                    f"{keys} | `{adapter.default_model or '-'}` | "
                    f"{len(catalogue) or 'declared in config'} | {'; '.join(answers)} |")
    return "\n".join(rows)


def block_sources(adapter: str) -> str:
    """Where each model's price and lifecycle facts come from."""
    lines = ["| model | default size | price source | lifecycle note | lifecycle source |", "|---|---|---|---|---|"]
    for caps in _adapter(adapter).catalogue().values():
        life = caps.lifecycle
        lines.append(f"| `{caps.model}` | {caps.size.default or '-'} | {_cell(caps.price_source or '-')} | "
                     f"{_cell(life.note or '-')} | {_cell(life.source or '-')} |")
    return "\n".join(lines)


def block_facts(adapter_name: str) -> str:
    """The adapter's class-level declarations: service, key, model, profile keys, credentials."""
    adapter = _adapter(adapter_name)
    keys = ", ".join(f"`{k}`" for k in adapter.key_env) or "none"
    extra = "".join(f"\n    - `{key}`: {text}" for key, text in adapter.profile_keys.items())
    retry = (f"only HTTP {', '.join(map(str, sorted(adapter.post_retry_statuses)))}, never after a connection "
             "broke mid-request (the job may exist already)" if adapter.post_retry_statuses is not None
             else "what the adapter's `is_retryable` accepts, and after a broken connection")
    return "\n".join([
        f"- adapter name: `{adapter.name}` (models are `{adapter.name}:MODEL`); label: {adapter.label}",
        f"- default service: `{adapter.default_base_url or 'none: base_url is required'}`",
        f"- API key: {keys}{'' if adapter.key_required else ' (optional)'}; sent in "
        f"{', '.join(f'`{h}`' for h in adapter.secret_headers) or 'no header'}",
        f"- default model: `{adapter.default_model or 'none: name one'}`",
        f"- profile keys besides the [common ones](../concepts/configuration.md#profile-keys): "
        f"{'none' if not extra else ''}{extra}",
        f"- the generation request (POST) is re-sent on: {retry}",
    ])


def block_options(adapter: str, *models: str) -> str:
    """Per model, each option alone against a prompt-only request: what changed on the wire, and why."""
    from imgsdk.errors import ImgSDKError
    from imgsdk.request import ImageRequest

    parts = []
    for model in models:
        reference = f"{adapter}:{model}"
        base_wire, _, _ = _wire(reference, ImageRequest(prompt=PROMPT))
        base = _payload(base_wire)
        sent = ", ".join(f"`{k}`" for k in base if k != "(url)") or "nothing but the URL"
        rows = [f"**`{reference}`**: a prompt-only request sends {sent} to "
                f"`{base_wire.method} {base_wire.url}`. Each option alone adds or changes:", "",
                "| option | on the wire | warning |", "|---|---|---|"]
        cases = [("node defaults", None), *OPTION_CASES]
        for label, options in cases:
            try:
                request = _node_request({}) if options is None else ImageRequest(prompt=PROMPT, **options)
                wire, warnings, calls = _wire(reference, request)
            except ImgSDKError as error:
                rows.append(f"| {label} | refused | {type(error).__name__}: {_cell(_short(str(error)))} |")
                continue
            payload = _payload(wire)
            changes = [f"`{k}` = {_code(v)}" for k, v in payload.items()
                       if k != "(url)" and (k not in base or base[k] != v)]
            changes += [f"`{k}` removed" for k in base if k not in payload]
            if payload["(url)"] != base["(url)"]:
                changes.insert(0, f"URL {wire.url}")
            if calls > 1:
                changes.insert(0, f"{calls} calls")
            said = "; ".join(f"`{w.code}`: {_cell(_short(w.message))}" for w in warnings) or "-"
            nothing = "not sent" if warnings else "nothing added"
            rows.append(f"| {label} | {_cell(', '.join(changes)) or nothing} | {said} |")
        parts.append("\n".join(rows))
    return "\n\n".join(parts)


def block_wire(reference: str, *pairs: str) -> str:
    """The full HTTP request for one request (``key=value`` pairs; default: the node's typical request)."""
    from imgsdk.request import ImageRequest

    options: dict[str, Any] = dict(NODE_REQUEST)
    for pair in pairs:
        key, _, value = pair.partition("=")
        options[key] = int(value) if value.isdigit() else value
    wire, warnings, calls = _wire(reference, ImageRequest(prompt=PROMPT, **options))
    asked = ", ".join(f"{k}={v}" for k, v in options.items())
    lines = [f"`{reference}`, asked for {asked}:", "", "```http", f"{wire.method} {wire.url}"
             + (f"?{'&'.join(f'{k}={v}' for k, v in wire.params.items())}" if wire.params else "")]
    lines += [f"{name}: {value}" for name, value in wire.headers.items()]
    if wire.form is not None:
        lines += ["content-type: multipart/form-data", "", json.dumps(wire.form, indent=2, ensure_ascii=False)]
    elif wire.json is not None:
        lines += ["content-type: application/json", "",
                  json.dumps(_stable(wire.json), indent=2, ensure_ascii=False)]
    lines.append("```")
    if calls > 1:
        lines += ["", f"This is the first of {calls} calls."]
    lines += ["", "Warnings:" if warnings else "No warnings."]
    lines += [f"- `{w.code}` ({w.option}): {_short(w.message)}" for w in warnings]
    return "\n".join(lines)


def _policy_examples() -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    yield "dropped", "openai:gpt-image-2", {"style": "natural"}
    yield "dropped", "openai:gpt-image-2", {"seed": 42}
    yield "dropped", "stability:stable-image-core", {"quality": "hd"}
    yield "adapted", "openai:gpt-image-1.5", {"size": "1792x1024"}
    yield "adapted", "bfl:flux-pro-1.1", {"size": "1792x1024"}
    yield "adapted", "stability:stable-image-core", {"size": "1792x1024"}
    yield "translated", "openai:gpt-image-2", {"quality": "hd"}
    yield "translated", "google:gemini-3.1-flash-image", {"size": "1920x1080"}
    yield "translated", "xai:grok-imagine-image-2.0", {"quality": "standard"}


def block_warnings() -> str:
    """One example of every warning code, each produced by running the code that produces it."""
    from imgsdk.policy import apply
    from imgsdk.request import ImageRequest

    rows = ["| code | request | model | `option`: requested → applied | message |", "|---|---|---|---|---|"]

    def add(code: str, asked: str, reference: str, warning: Any) -> None:
        assert warning.code == code, (code, warning)
        rows.append(f"| `{code}` | {asked} | `{reference}` | `{warning.option}`: {_code(warning.requested)} → "
                    f"{_code(warning.applied) if warning.applied is not None else 'not sent'} | "
                    f"{_cell(warning.message)} |")

    for code, reference, options in _policy_examples():
        adapter = reference.partition(":")[0]
        _, warnings = apply(ImageRequest(prompt=PROMPT, **options), _caps(reference), adapter=adapter)
        add(code, ", ".join(f"{k}={v}" for k, v in options.items()), reference, warnings[0])
    for code, asked, reference, warning in _runtime_warnings():
        add(code, asked, reference, warning)
    return "\n".join(rows)


def _runtime_warnings() -> Iterator[tuple[str, str, str, Any]]:
    """The codes the policy engine does not produce, from the code paths that do."""
    from imgsdk.client import Client
    from imgsdk.errors import ImgSDKError
    from imgsdk.planning import plan, resolve
    from imgsdk.request import ImageRequest

    config = {"providers": {"lan": {"model": "openai-compatible:my-model", "base_url": "http://localhost:8080/v1",
                                    "allow_unknown_model": True}}}
    from imgsdk.config import load_config

    target = resolve("lan", load_config(config))
    yield "unknown_model", "any", "openai-compatible:my-model", plan(target, ImageRequest(prompt=PROMPT)).warnings[0]
    # a deprecated model on its provider's service; one without a shutdown date, so that the page does not
    # change from day to day ("in N days")
    target = resolve("xai:grok-imagine-image-quality", load_config({}), api_key="not-a-key")
    yield "deprecated", "any", "xai:grok-imagine-image-quality", plan(target, ImageRequest(prompt=PROMPT)).warnings[0]
    # a fallback: the first profile's model is shut down on its own service, so the next profile serves
    client = Client({"providers": {"hero": {"model": "openai:dall-e-3", "fallbacks": ["offline"],
                                            "api_key": "${IMGSDK_DOCS_NO_KEY:-not-a-key}"},
                                   "offline": {"model": "local:placeholder"}}})
    try:
        found = [w for w in client.generate(PROMPT, provider="hero").warnings if w.code == "fallback"]
    except ImgSDKError:
        found = []  # fallbacks not wired into the client yet
    if found:
        yield "fallback", "provider=hero (dall-e-3, retired), fallbacks=[offline]", "local:placeholder", found[0]
    yield "provider", "model=my-checkpoint.safetensors", "automatic1111:my-checkpoint.safetensors", \
        _automatic1111_fallback()


def _automatic1111_fallback() -> Any:
    """AUTOMATIC1111 answering with another checkpoint than the one asked for (it falls back silently)."""
    import base64
    import io

    from PIL import Image

    from imgsdk.adapter import WireResponse
    from imgsdk.policy import apply
    from imgsdk.request import ImageRequest

    adapter, reference = _adapter("automatic1111"), "automatic1111:my-checkpoint.safetensors"
    prepared, _ = apply(ImageRequest(prompt=PROMPT), _caps(reference), adapter="automatic1111")
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    info = json.dumps({"sd_model_name": "v1-5-pruned-emaonly", "seed": 1})
    body = json.dumps({"images": [base64.b64encode(png.getvalue()).decode()], "info": info}).encode()
    images = adapter.parse_response(WireResponse(200, {"content-type": "application/json"}, body), prepared)
    return images.warnings[0]


def block_strict() -> str:
    """The same requests in strict mode: refused before any network call."""
    from imgsdk.errors import UnsupportedOptionError
    from imgsdk.policy import apply
    from imgsdk.request import ImageRequest

    rows = ["| request | model | `UnsupportedOptionError` | `.option` | `.value` | `.allowed` |",
            "|---|---|---|---|---|---|"]
    for _, reference, options in _policy_examples():
        try:
            apply(ImageRequest(prompt=PROMPT, **options), _caps(reference), adapter=reference.partition(":")[0],
                  mode="strict")
        except UnsupportedOptionError as error:
            allowed = error.allowed if not isinstance(error.allowed, tuple) else list(error.allowed)
            rows.append(f"| {', '.join(f'{k}={v}' for k, v in options.items())} | `{reference}` | "
                        f"{_cell(str(error))} | `{error.option}` | {_code(error.value)} | "
                        f"{_code(allowed) if allowed is not None else '-'} |")
    return "\n".join(rows)


def block_refusals() -> str:
    """What is refused in every mode, with the error each raises."""
    from imgsdk.config import load_config
    from imgsdk.errors import ImgSDKError
    from imgsdk.planning import resolve
    from imgsdk.policy import apply, check_lifecycle
    from imgsdk.request import ImageRequest

    def lifecycle() -> None:
        check_lifecycle(_caps("openai:dall-e-3"), adapter="openai", default_service=True)

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("an empty prompt", lambda: ImageRequest(prompt=" ")),
        ("size \"big\"", lambda: ImageRequest(prompt=PROMPT, size="big")),
        ("a 4,001-character prompt on `openai:dall-e-3`",
         lambda: apply(ImageRequest(prompt="x" * 4001), _caps("openai:dall-e-3"), adapter="openai")),
        ("seed 4294967295 on `stability:stable-image-core`",
         lambda: apply(ImageRequest(prompt=PROMPT, seed=2**32 - 1), _caps("stability:stable-image-core"),
                       adapter="stability")),
        ("`openai:dall-e-3` on OpenAI's own service", lifecycle),
        ("`openai:gpt-image-9` (a model nobody declared)",
         lambda: resolve("openai:gpt-image-9", load_config({}), api_key="${OPENAI_API_KEY}")),
        ("`openai:gpt-4o` (a chat model)",
         lambda: resolve("openai:gpt-4o", load_config({}), api_key="${OPENAI_API_KEY}")),
    ]
    rows = ["| asked for | raises | message |", "|---|---|---|"]
    for label, run in cases:
        try:
            run()
        except ImgSDKError as error:
            rows.append(f"| {label} | `{type(error).__name__}` | {_cell(str(error))} |")
        else:
            raise AssertionError(f"{label} was not refused")
    return "\n".join(rows)


def block_errors() -> str:
    """The error tree (from imgsdk.errors' docstring) and each class's CLI exit code."""
    import imgsdk.errors as errors

    doc = errors.__doc__ or ""
    tree = doc.split("::", 1)[1].split("\n\n")[1]
    rows = ["```text", "\n".join(line[4:] for line in tree.splitlines()), "```", "",
            "| class | is also | CLI exit code | meaning |", "|---|---|---|---|"]
    for name in sorted(errors.__all__, key=lambda n: [c.__name__ for c in getattr(errors, n).__mro__][::-1]):
        cls = getattr(errors, name)
        bases = ", ".join(f"`{b.__name__}`" for b in cls.__bases__ if b is not Exception)
        first = (cls.__doc__ or "").strip().splitlines()[0]
        rows.append(f"| `{name}` | {bases or '-'} | {cls.exit_code} | {_cell(first)} |")
    return "\n".join(rows)


def block_lifecycle() -> str:
    """Every model of the shipped adapters that is not simply active."""
    from imgsdk.cli.models import collect, shipped_adapters

    rows = ["| model | status | deprecated | shutdown | replacement | note |", "|---|---|---|---|---|---|"]
    for adapter, caps in collect(None, shipped_adapters()):
        life = caps.lifecycle
        if life.status == "active" and not life.shutdown_on:
            continue
        rows.append(f"| `{adapter}:{caps.model}` | {life.status} | {life.deprecated_on or '-'} | "
                    f"{life.shutdown_on or '-'} | {f'`{life.replacement}`' if life.replacement else '-'} | "
                    f"{_cell(life.note or '-')} |")
    return "\n".join(rows)


def _replacement(reference: str) -> str:
    adapter, _, _ = reference.partition(":")
    replacement = _caps(reference).lifecycle.replacement
    return replacement if ":" in replacement else f"{adapter}:{replacement}"


def block_migrate(reference: str, *pairs: str) -> str:
    """Old model vs its replacement: what the declarations say, and the old request run against both."""
    from imgsdk.cli.models import row
    from imgsdk.request import ImageRequest

    new = _replacement(reference)
    old_caps, new_caps = _caps(reference), _caps(new)
    old_row, new_row = row(reference.partition(":")[0], old_caps), row(new.partition(":")[0], new_caps)
    old_row["default size"], new_row["default size"] = old_caps.size.default or "-", new_caps.size.default or "-"
    old_row["prompt limit"] = str(old_caps.prompt_max_chars or "-")
    new_row["prompt limit"] = str(new_caps.prompt_max_chars or "-")
    fields = ("sizes", "default size", "quality", "style", "n/call", "seed", "negative", "formats", "returns",
              "url ttl", "protocol", "prompt limit", "price")
    lines = [f"| | `{reference}` | `{new}` |", "|---|---|---|"]
    lines += [f"| {name} | {_cell(old_row[name])} | {_cell(new_row[name])} |" for name in fields
              if old_row[name] != new_row[name]]
    options: dict[str, Any] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        options[key] = int(value) if value.isdigit() else value
    request = ImageRequest(prompt=PROMPT, **options)
    asked = ", ".join(f"`{k}={v}`" for k, v in options.items())
    lines += ["", f"The old model's typical request ({asked}) sent to each, through the policy engine and the "
              "adapter:", ""]
    for ref in (reference, new):
        wire, warnings, calls = _wire(ref, request)
        body = _stable(wire.json) if wire.json is not None else wire.form
        lines += [f"`{ref}`{f' ({calls} calls)' if calls > 1 else ''}:", "", "```json",
                  json.dumps(body, indent=2, ensure_ascii=False), "```", ""]
        lines += [f"- `{w.code}` ({w.option}): {_short(w.message)}" for w in warnings] or ["- no warnings"]
        lines.append("")
    return "\n".join(lines).rstrip()


def _command_table(title: str, parser: argparse.ArgumentParser, summary: str) -> list[str]:
    """One command's section, then its own subcommands' (``imgsdk cassettes check``)."""
    rows = [f"### `{title}`", "", parser.description or summary, "", "| argument | meaning | default |",
            "|---|---|---|"]
    nested: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            rows.append(f"| `{' | '.join(action.choices)}` | {_cell(action.metavar or 'subcommand')} | - |")
            for name, sub in action.choices.items():
                nested += ["", *_command_table(f"{title} {name}", sub, helps.get(name, ""))]
            continue
        flag = ", ".join(action.option_strings) or (action.metavar or action.dest).upper()
        metavar = f" {action.metavar or action.dest.upper()}" if action.option_strings and action.nargs != 0 else ""
        default = "-" if action.default in (None, False, []) or action.nargs == 0 else f"`{action.default}`"
        required = " (required)" if action.required and action.option_strings else ""
        rows.append(f"| `{flag}{metavar}` | {_cell(action.help or '')}{required} | {default} |")
    return rows + nested


def block_cli() -> str:
    """Every subcommand and its arguments, read from the parser (not from argparse's help layout)."""
    from imgsdk.cli import build_parser

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    summary = {choice.dest: choice.help or "" for choice in commands._choices_actions}
    return "\n\n".join("\n".join(_command_table(f"imgsdk {name}", sub, summary.get(name, "")))
                       for name, sub in commands.choices.items())


BLOCKS: dict[str, Callable[..., str]] = {
    "adapters": block_adapters, "models": block_models, "sources": block_sources, "facts": block_facts,
    "options": block_options,
    "wire": block_wire, "warnings": block_warnings, "strict": block_strict, "refusals": block_refusals,
    "errors": block_errors, "lifecycle": block_lifecycle, "migrate": block_migrate, "cli": block_cli,
}


# -- the driver ------------------------------------------------------------------------------------------
def render_page(text: str) -> str:
    """``text`` with every generated block recomputed."""
    def replace(match: re.Match[str]) -> str:
        name, *args = match.group("args").split()
        return f"{match.group(1)}{BLOCKS[name](*args).rstrip()}\n{match.group(4)}"

    return BLOCK.sub(replace, text)


def expected_pages() -> dict[Path, str]:
    """Every generated page as it should read now."""
    from imgsdk.cli.models import markdown_page

    pages = {DOCS / "capabilities.md": markdown_page() + "\n"}
    for path in sorted(DOCS.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if BLOCK.search(text):
            pages[path] = render_page(text)
    return pages


def stale_pages() -> list[Path]:
    return [path for path, text in expected_pages().items()
            if not path.exists() or path.read_text(encoding="utf-8") != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale pages (exit 1 if any)")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_pages()
        for path in stale:
            print(f"stale: {path.relative_to(DOCS.parent)}")
        if stale:
            print("run: python docs/_tools/generate.py")
        return 1 if stale else 0
    for path, text in expected_pages().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
