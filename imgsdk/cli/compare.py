"""``imgsdk compare``: one request sent to several providers at once, shown side by side.

People choose an image provider by looking, so the command answers with pictures: a contact sheet (PNG,
drawn with Pillow) and, with ``--html``, a single self-contained HTML file (images inline as ``data:`` URIs,
no external resource, so it opens offline). Each tile names the profile and ``adapter:model``, the size of
the bytes actually received, the latency, the cost and the warnings the policy engine produced; a provider
that fails becomes a labelled tile (error class and message), never a crash of the whole comparison.

The calls run concurrently on one :class:`~imgsdk.client.AsyncClient`. Exit code: 0 when at least one
provider delivered an image, else the first failure's code (2 config/request, 3 refused, 4 transient);
the sheet and the report are written either way.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import html
import io
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imgsdk.cli.compare_sheet import _facts, _seconds, contact_sheet
from imgsdk.errors import ImgSDKError, InvalidRequestError

if TYPE_CHECKING:
    from imgsdk.client import AsyncClient

__all__ = ["Entry", "compare", "contact_sheet", "html_report", "run_compare"]


@dataclass
class Entry:
    """One provider's outcome: ``image`` (bytes) and its facts, or ``error`` (``"ClassName: message"``)."""

    label: str
    provider: str
    latency: float
    image: bytes | None = None
    media_type: str | None = None
    size: str | None = None
    cost_usd: float | None = None
    warnings: list[str] = field(default_factory=list)
    revised_prompt: str | None = None
    error_class: str | None = None
    error: str | None = None
    exit_code: int = 0

    @property
    def ok(self) -> bool:
        return self.image is not None


def _message(text: str) -> str:
    """A warning's sentence without its trailing ``[adapter:model]`` (the tile already says it)."""
    head, bracket, _ = text.rpartition(" [")
    return head if bracket and text.endswith("]") else text


async def _one(client: AsyncClient, label: str, prompt: str, options: dict[str, Any]) -> Entry:
    start = time.perf_counter()
    entry = Entry(label=label, provider=label, latency=0.0)
    try:
        result = await client.generate(prompt, provider=label, **options)
        entry.latency = time.perf_counter() - start
        entry.provider, entry.cost_usd = result.provider, result.cost_usd
        entry.warnings = [_message(w.message) for w in result.warnings]
        entry.warnings += [f"partial failure: {type(e).__name__}: {e}" for e in result.errors]
        image = result.images[0]
        entry.revised_prompt = image.revised_prompt if image.revised_prompt != result.prompt else None
        data = await image.adata()  # a URL provider's bytes are fetched now, while the URL is valid
        entry.image, entry.media_type, entry.size = data, image.media_type, image.size
    except Exception as error:  # every failure becomes a tile, by design (a bug in an adapter too)
        entry.latency = entry.latency or time.perf_counter() - start
        entry.error_class, entry.error = type(error).__name__, str(error) or repr(error)
        adapter, model = getattr(error, "adapter", None), getattr(error, "model", None)
        if entry.provider == label and adapter and model:  # a profile that failed: name what it resolved to
            entry.provider = f"{adapter}:{model}"
        entry.exit_code = error.exit_code if isinstance(error, ImgSDKError) else 4
    return entry


async def compare(prompt: str, providers: list[str], *, config: str | None = None,
                  **options: Any) -> list[Entry]:
    """Send the same request to every provider concurrently; one :class:`Entry` each, in order."""
    from imgsdk.client import AsyncClient

    async with AsyncClient(config) as client:
        return list(await asyncio.gather(*(_one(client, label, prompt, options) for label in providers)))


# -- the HTML report ------------------------------------------------------------------------------------
_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;background:#fafaf8;color:#1c1e24}
header p{margin:.2em 0;color:#60646f}h1{font-size:1.05em;color:#60646f;margin:0}.prompt{font-size:1.3em;color:#1c1e24}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:20px;margin-top:20px}
figure{margin:0;background:#fff;border:1px solid #dcdde1;border-radius:8px;overflow:hidden}
figure:target{grid-column:1/-1}figure .close{display:none}figure:target .close{display:inline}
.frame{background:#e8e9ec;display:flex;align-items:center;justify-content:center;height:300px}
.frame a{display:contents}.frame img{max-width:100%;max-height:100%;width:auto;height:auto;display:block}
figure:target .frame{height:auto}figure:target .frame img{max-height:none}
.failed{border-color:#b02020}.failed .frame{background:#fde8e8;color:#7a1010;padding:16px;display:block;
height:auto;min-height:268px}
figcaption{padding:10px 14px}h2{font-size:1.05em;margin:0 0 .2em}.facts{color:#60646f;margin:0}
ul{margin:.4em 0 0;padding-left:1.2em;color:#965800}code{font-size:.9em}details{margin-top:.4em;color:#60646f}
"""
_SCRIPT = ("for(const i of document.querySelectorAll('figure img')){const f=i.closest('figure');"
           "const m=()=>{f.dataset.rendered=i.naturalWidth+'x'+i.naturalHeight};"
           "if(i.complete)m();else{i.addEventListener('load',m);i.addEventListener('error',m)}}")


def _tile_html(number: int, entry: Entry) -> str:
    escape = html.escape
    name = entry.label if entry.label == entry.provider else f"{entry.label} → {entry.provider}"
    facts = _facts(entry)
    if entry.ok:
        media = entry.media_type or "application/octet-stream"
        payload = base64.b64encode(entry.image or b"").decode("ascii")
        width, _, height = (entry.size or "").partition("x")
        dims = f' width="{width}" height="{height}"' if width.isdigit() and height.isdigit() else ""
        frame = (f'<a href="#tile-{number}"><img src="data:{escape(media)};base64,{payload}"{dims} '
                 f'alt="{escape(entry.provider)}"></a>')
    else:
        frame = f"<strong>FAILED · {escape(entry.error_class or '')}</strong><p>{escape(entry.error or '')}</p>"
    warnings = "".join(f"<li>{escape(w)}</li>" for w in entry.warnings)
    revised = (f"<details><summary>prompt used</summary>{escape(entry.revised_prompt)}</details>"
               if entry.revised_prompt else "")
    return (f'<figure class="tile {"ok" if entry.ok else "failed"}" id="tile-{number}" '
            f'data-label="{escape(entry.label)}" data-provider="{escape(entry.provider)}" '
            f'data-size="{escape(entry.size or "")}"><div class="frame">{frame}</div><figcaption>'
            f'<h2>{escape(name)} <a class="close" href="#">×</a></h2><p class="facts">{escape(facts)}</p>'
            f'{f"<ul>{warnings}</ul>" if warnings else "<p class=facts>no warnings</p>" if entry.ok else ""}'
            f"{revised}</figcaption></figure>")


def html_report(entries: list[Entry], prompt: str, request: str) -> str:
    """A single HTML file: every image inline, no external resource (the CSP forbids loading any)."""
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    policy = f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"
    tiles = "\n".join(_tile_html(number, entry) for number, entry in enumerate(entries, 1))
    ok = sum(entry.ok for entry in entries)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">\n'
            f"<title>imgsdk compare: {html.escape(prompt[:80])}</title><style>{_STYLE}</style></head>\n"
            f'<body><header><h1>imgsdk compare</h1><p class="prompt">{html.escape(prompt)}</p>'
            f"<p>{html.escape(request)} · {ok} of {len(entries)} delivered</p></header>\n"
            f"<main>\n{tiles}\n</main><script>{_SCRIPT}</script></body></html>\n")


# -- the command ----------------------------------------------------------------------------------------
def _write(path: Path, data: bytes) -> None:
    """Atomically: a temporary file in the same directory, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run_compare(args: argparse.Namespace) -> int:
    providers = [name.strip() for name in args.providers.split(",") if name.strip()]
    if not providers:
        raise InvalidRequestError("--providers is empty: give profile names or adapter:model references, "
                                  "comma-separated (e.g. --providers local:placeholder,openai:gpt-image-2)")
    options = {key: getattr(args, key) for key in ("size", "quality", "style") if getattr(args, key)}
    request = " · ".join(f"{key} {value}" for key, value in options.items()) or "each provider's defaults"
    entries = asyncio.run(compare(args.prompt, providers, config=args.config, **options))
    for entry in entries:
        if entry.ok:
            print(f"{entry.label}: {entry.provider} {entry.size} in {_seconds(entry.latency)}, "
                  f"{'cost unknown' if entry.cost_usd is None else f'${entry.cost_usd:.3f}'}, "
                  f"{len(entry.warnings)} warning(s)")
        else:
            print(f"{entry.label}: FAILED {entry.error_class}: {entry.error}")
    output = Path(args.output)
    if output.is_dir() or str(args.output).endswith(("/", os.sep)):
        output = output / "compare.png"
    buffer = io.BytesIO()
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}.get(output.suffix.lower(), "PNG")
    contact_sheet(entries, args.prompt, request).save(buffer, format=fmt)
    _write(output, buffer.getvalue())
    print(f"wrote {output}")
    if args.html:
        _write(Path(args.html), html_report(entries, args.prompt, request).encode("utf-8"))
        print(f"wrote {args.html}")
    if any(entry.ok for entry in entries):
        return 0
    return next(entry.exit_code for entry in entries)
