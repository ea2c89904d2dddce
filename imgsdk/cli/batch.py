"""``imgsdk batch prompts.jsonl --out DIR [--concurrency N] [--resume]``: many requests, never paid twice.

One request per line, a JSON object::

    {"id": "hero", "prompt": "a {{ animal }} at dawn", "vars": {"animal": "fox"}, "size": "1792x1024"}
    {"prompt": "a lighthouse", "options": {"quality": "hd", "n": 2}, "provider": "stability-core"}

``prompt`` is required; options go at the top level or under ``options``; ``vars`` (or ``context``) fills
template references; ``provider`` overrides ``--provider``; ``id`` names the line (default: a hash of its
content, stable when lines are added or moved). A broken line is reported with its number and skipped.

``DIR/manifest.jsonl`` records, one JSON line each, appended and fsync'd one by one (so Ctrl-C or a crash
leaves every finished line intact; a torn last line is ignored on reading):

- ``{"id", "status": "submitted", "job": {...}}`` — a job of a submit-and-poll provider, recorded *before*
  it is polled, so ``--resume`` finishes it with ``client.resume`` instead of submitting (and paying) again;
- ``{"id", "status": "done", "paths", "provider", "warnings", "errors", "cost_usd"}`` — the images are on
  disk (saved as each call returned, via ``persist_to``);
- ``{"id", "status": "error", "error": {"type", "message"}}`` — retried by ``--resume``.

``--resume`` skips ``done`` lines and resumes ``submitted`` jobs; without it, an existing manifest is refused
rather than paid for again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from imgsdk.cli.batch_manifest import MANIFEST as MANIFEST  # re-exported: `from imgsdk.cli.batch import MANIFEST`
from imgsdk.cli.batch_manifest import Manifest, _state, effective_n_and_seed, still_wanted
from imgsdk.errors import ConfigError, ImgSDKError

__all__ = ["Item", "Manifest", "read_items", "run_batch"]

OPTION_KEYS = frozenset({"size", "quality", "style", "n", "seed", "negative_prompt", "output_format", "background",
                         "user", "timeout", "provider_options", "allow_unknown_model", "allow_retired"})
_LINE_KEYS = frozenset({"id", "prompt", "options", "vars", "context", "provider"}) | OPTION_KEYS


@dataclass
class Item:
    """One line of the batch file."""

    id: str
    line: int
    prompt: str
    options: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] | None = None
    provider: str | None = None


def _item(raw: Any, line: int) -> Item:
    if not isinstance(raw, dict):
        raise ValueError("expected a JSON object")
    unknown = set(raw) - _LINE_KEYS
    if unknown:
        raise ValueError(f"unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(_LINE_KEYS))})")
    prompt = raw.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError('"prompt" must be a non-empty string')
    options = {key: raw[key] for key in OPTION_KEYS if key in raw}
    extra = raw.get("options") or {}
    if not isinstance(extra, dict) or set(extra) - OPTION_KEYS:
        raise ValueError(f'"options" must be an object with keys among {", ".join(sorted(OPTION_KEYS))}')
    _check_options(prompt, {**options, **extra})
    context = raw.get("vars", raw.get("context"))
    if context is not None and not isinstance(context, dict):
        raise ValueError('"vars" must be an object')
    provider = raw.get("provider")
    if provider is not None and not isinstance(provider, str):
        raise ValueError('"provider" must be a string')
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False)
    ident = str(raw["id"]) if raw.get("id") not in (None, "") else hashlib.sha256(canonical.encode()).hexdigest()[:12]
    return Item(ident, line, prompt, {**options, **extra}, context, provider)


def _check_options(prompt: str, options: dict[str, Any]) -> None:
    """Refuse a line whose options could never make a request (a wrong type), naming the option."""
    from imgsdk.errors import InvalidRequestError
    from imgsdk.request import ImageRequest

    fields = {key: value for key, value in options.items() if key not in ("allow_unknown_model", "allow_retired")}
    try:
        ImageRequest(prompt=prompt, **fields)
    except InvalidRequestError as error:
        raise ValueError(f"{error.option or 'options'}: {error}") from None


def read_items(path: str | os.PathLike[str]) -> tuple[list[Item], list[tuple[int, str]]]:
    """The valid lines and the broken ones (line number, reason); blank lines are skipped."""
    items: list[Item] = []
    broken: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    with open(path, encoding="utf-8") as stream:
        for number, text in enumerate(stream, 1):
            if not text.strip():
                continue
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as error:
                broken.append((number, f"not valid JSON ({error.msg}, column {error.colno})"))
                continue
            try:
                item = _item(raw, number)
            except ValueError as error:
                broken.append((number, str(error)))
                continue
            if item.id in seen and raw.get("id") in (None, ""):  # the same line twice: two requests
                item.id = f"{item.id}-{sum(1 for known in seen if known.startswith(item.id)) + 1}"
            if item.id in seen:
                broken.append((number, f"id {item.id!r} is already used on line {seen[item.id]}"))
                continue
            seen[item.id] = number
            items.append(item)
    return items, broken


def _stem(ident: str) -> str:
    from imgsdk.storage import safe_slug

    slug = safe_slug(ident, 40)
    return slug if slug == ident else f"{slug}-{hashlib.sha256(ident.encode()).hexdigest()[:6]}"


class _Progress:
    """A rich progress bar on a terminal (``imgsdk[rich]``), plain lines otherwise."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.count, self.stream = total, 0, stream
        self.bar: Any = None
        self.task: Any = None
        if total and stream.isatty():
            import importlib

            try:  # an extra: imported by name so the type checker does not need it
                rich_progress = importlib.import_module("rich.progress")
            except ImportError:
                print("imgsdk: pip install 'imgsdk[rich]' for a progress bar", file=stream)
            else:
                self.bar = rich_progress.Progress(transient=False)
                self.bar.start()
                self.task = self.bar.add_task("generating", total=total)

    def advance(self, item: Item, message: str) -> None:
        self.count += 1
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"{item.id}: {message}")
        else:
            print(f"[{self.count}/{self.total}] line {item.line} ({item.id}): {message}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


class _Runner:
    def __init__(self, client: Any, args: argparse.Namespace, out: Path, manifest: Manifest,
                 jobs: dict[str, list[dict[str, Any]]]) -> None:
        self.client, self.args, self.out, self.manifest, self.jobs = client, args, out, manifest, jobs

    def _relative(self, image: Any) -> str:
        return os.path.relpath(image.path, self.out) if image.path and "://" not in image.path else str(image.path)

    def run(self, item: Item) -> dict[str, Any]:
        try:
            return self._run(item)
        except (ImgSDKError, ValueError, TypeError, OSError) as error:
            record = {"id": item.id, "line": item.line, "status": "error",
                      "error": {"type": type(error).__name__, "message": str(error),
                                "exit_code": getattr(error, "exit_code", 2)}}
            self.manifest.write(record)
            return record

    def _run(self, item: Item) -> dict[str, Any]:
        from imgsdk.adapter import JobHandle

        stem = _stem(item.id)
        provider = item.provider or self.args.provider
        images: list[Any] = []
        results: list[Any] = []
        jobs = self.jobs.get(item.id, [])
        for number, job in enumerate(jobs, 1):  # paid for before a crash: finish, never resubmit
            handle = JobHandle.from_json(json.dumps(job))
            results.append(self.client.resume(handle, persist_to=self.out,
                                              filename_template=f"{stem}_r{number}_{{index}}.{{ext}}"))
            images += results[-1].images
        config = self.client.config
        profile = config.profiles.get(provider or config.default or "")
        wanted, seed = effective_n_and_seed(item.options, profile.defaults if profile is not None else {})
        if len(images) < wanted or not results:
            def submitted(handle: JobHandle) -> None:
                self.manifest.write({"id": item.id, "line": item.line, "status": "submitted",
                                     "job": json.loads(handle.to_json())})

            for number, options in enumerate(still_wanted(item.options, jobs, wanted - len(images), wanted, seed)):
                if self.args.strict:
                    options["on_unsupported"] = "strict"
                results.append(self.client.generate(
                    item.prompt, provider=provider, context=item.context, persist_to=self.out,
                    filename_template=f"{stem}_{f'm{number}_' if jobs else ''}{{index}}.{{ext}}",
                    on_submitted=submitted, **options))
                images += results[-1].images
        costs = [result.cost_usd for result in results]
        record = {"id": item.id, "line": item.line, "status": "done",
                  "paths": [self._relative(image) for image in images], "provider": results[-1].provider,
                  "profile": results[-1].profile,
                  "warnings": [warning.message for result in results for warning in result.warnings],
                  "errors": [str(error) for result in results for error in result.errors],
                  "cost_usd": None if None in costs else round(sum(c or 0.0 for c in costs), 6)}
        self.manifest.write(record)
        return record


def run_batch(args: argparse.Namespace, *, client: Any = None) -> int:
    """Run the batch; exit 0 when every line was done, else the highest error exit code (2 for broken lines).

    ``client`` replaces the :class:`~imgsdk.Client` built from ``--config`` (tests pass one with a fake
    transport).
    """
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    if any(True for _ in Manifest.read(manifest_path)) and not args.resume:
        raise ConfigError(f"{manifest_path} already records a batch: pass --resume to finish it (finished lines are "
                          "skipped, submitted jobs resumed), or choose another --out")
    if args.concurrency < 1:
        raise ConfigError(f"--concurrency must be ≥ 1, got {args.concurrency}")
    items, broken = read_items(args.file)
    for number, reason in broken:
        print(f"imgsdk: {args.file}:{number}: skipped: {reason}", file=sys.stderr)
    done, jobs = _state(manifest_path)
    todo = [item for item in items if item.id not in done]
    if len(todo) < len(items):
        print(f"imgsdk: resuming: {len(items) - len(todo)} line(s) already done", file=sys.stderr)
    from imgsdk.client import Client

    owned = client is None
    client = client or Client(args.config)
    manifest = Manifest(manifest_path)
    progress = _Progress(len(todo), sys.stderr)
    codes = [2] if broken else []
    finished = 0
    pool = ThreadPoolExecutor(max_workers=args.concurrency)
    try:
        runner = _Runner(client, args, out, manifest, jobs)
        futures = {pool.submit(runner.run, item): item for item in todo}
        for future in as_completed(futures):
            record = future.result()
            if record["status"] == "done":
                finished += 1
                progress.advance(futures[future], f"{len(record['paths'])} image(s)")
            else:
                codes.append(int(record["error"]["exit_code"]))
                progress.advance(futures[future], f"error: {record['error']['message'][:120]}")
    except KeyboardInterrupt:
        print("imgsdk: interrupted: finishing the requests in flight (they are paid for); run again with "
              "--resume to do the rest", file=sys.stderr)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        progress.close()
        manifest.close()
        if owned:
            client.close()
    print(f"imgsdk: {finished}/{len(todo)} line(s) done, {len(todo) - finished} failed, {len(broken)} broken; "
          f"manifest: {manifest_path}", file=sys.stderr)
    return max(codes, default=0)
