"""Measurements that need a fresh interpreter: each ``python benchmarks/probes.py NAME ARGS…`` prints one
JSON object on its last stdout line. ``run.py`` starts them; they are usable alone for digging.

- ``rss MODE BASE_URL``: peak RSS after importing a client and making one call (MODE: pass, raw-httpx2,
  imgsdk, openai, litellm). Peak RSS is ``VmHWM`` on Linux (see :func:`_peak_kib`), else ``ru_maxrss``.
- ``save BASE_URL_SMALL BASE_URL_BIG COUNT [batch]``: peak RSS growth while saving COUNT big images, one
  ``generate`` + ``save`` at a time (or one ``generate(n=COUNT)`` + ``save`` with ``batch``).
- ``fanout BASE_URL REPEATS``: wall time of one call vs n=8 on dall-e-3 (one image per call).
- ``ratelimit ROOT BASE_URL IMAGES RPM SCALE BURST [CLIENT_RPM]``: IMAGES one-image calls against the server's
  bucket (CLIENT_RPM: the profile's ``requests_per_minute``, none by default).
- ``render RUNS``: the offline renderer at 1792x1024, through ``imgsdk.generate`` and called directly.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peers import KEY, MODEL, PROMPT, bench_profile, imgsdk_config  # noqa: E402


def _peak_kib() -> int:
    """This process's peak RSS in KiB.

    On Linux ``ru_maxrss`` is inherited across fork+exec: a child started by a 30 MiB parent reports at least
    30 MiB whatever it does. ``VmHWM`` (the high-water mark of the process's own memory map) is the same
    figure without that inheritance, so it is used where ``/proc`` exists.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # macOS reports bytes


def _emit(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


def rss(mode: str, base_url: str) -> None:
    import base64

    if mode == "pass":
        pass
    elif mode == "raw-httpx2":
        import httpx2

        with httpx2.Client() as http:
            response = http.post(f"{base_url}/images/generations", json={"model": MODEL, "prompt": PROMPT, "n": 1},
                                 headers={"Authorization": f"Bearer {KEY}"})
            base64.b64decode(response.json()["data"][0]["b64_json"])
    elif mode == "imgsdk":
        import imgsdk

        with imgsdk.Client(config=imgsdk_config({"bench": bench_profile(base_url)})) as client:
            client.generate(PROMPT, provider="bench").images[0].data  # noqa: B018
    elif mode == "openai":
        import openai

        result = openai.OpenAI(api_key=KEY, base_url=base_url, max_retries=0).images.generate(
            model=MODEL, prompt=PROMPT)
        base64.b64decode(result.data[0].b64_json or "")  # type: ignore[index]
    elif mode == "litellm":
        import os

        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm

        result = litellm.image_generation(model=f"openai/{MODEL}", prompt=PROMPT, api_base=base_url, api_key=KEY)
        base64.b64decode(result.data[0].b64_json)
    else:
        raise SystemExit(f"unknown mode {mode}")
    _emit({"mode": mode, "peak_kib": _peak_kib()})


def save(small_url: str, big_url: str, count: int, batch: bool = False) -> None:
    import tempfile

    import imgsdk

    client = imgsdk.Client(config=imgsdk_config({"small": bench_profile(small_url),
                                                  "big": bench_profile(big_url)}))
    with tempfile.TemporaryDirectory(prefix="imgsdk-bench-") as folder:
        out = Path(folder)
        # Warm-up with a 1 KB image: imports, connection, first-use caches are paid before the baseline.
        client.generate(PROMPT, provider="small").save(out / "warm.png")
        start = _peak_kib()
        after_first = None
        image_bytes = 0
        if batch:
            result = client.generate(PROMPT, provider="big", n=count)
            paths = result.save(out / "batch.png")
            image_bytes = len(result.images[0].data)
            del result
        else:
            paths = []
            for index in range(count):
                result = client.generate(PROMPT, provider="big")
                paths += result.save(out / f"image-{index}.png")
                image_bytes = len(result.images[0].data)
                del result
                if index == 0:
                    after_first = _peak_kib()
        end = _peak_kib()
        saved = sum(path.stat().st_size for path in paths)
    client.close()
    _emit({"count": count, "batch": batch, "files": len(paths), "saved_bytes": saved, "image_bytes": image_bytes,
           "start_kib": start, "after_first_kib": after_first, "end_kib": end})


def fanout(base_url: str, repeats: int) -> None:
    import asyncio
    import statistics

    import imgsdk

    config = imgsdk_config({"fan": bench_profile(base_url, "openai:dall-e-3"),
                            "fan8": bench_profile(base_url, "openai:dall-e-3", max_concurrency=8)})
    client = imgsdk.Client(config=config)

    def timed(provider: str, n: int) -> tuple[float, int, int]:
        start = time.perf_counter()
        result = client.generate(PROMPT, provider=provider, n=n)
        return time.perf_counter() - start, len(result.images), len(result.errors)

    timed("fan", 8)  # warm-up: imports, connections
    timed("fan8", 8)
    one = [timed("fan", 1) for _ in range(repeats)]
    eight = [timed("fan", 8) for _ in range(repeats)]
    eight_c8 = [timed("fan8", 8) for _ in range(repeats)]
    client.close()

    async def run_async() -> list[tuple[float, int, int]]:
        async with imgsdk.AsyncClient(config=config) as aclient:
            await aclient.generate(PROMPT, provider="fan", n=8)
            out = []
            for _ in range(repeats):
                start = time.perf_counter()
                result = await aclient.generate(PROMPT, provider="fan", n=8)
                out.append((time.perf_counter() - start, len(result.images), len(result.errors)))
            return out

    eight_async = asyncio.run(run_async())

    def summary(rows: list[tuple[float, int, int]]) -> dict[str, Any]:
        return {"median_s": statistics.median(r[0] for r in rows), "images": min(r[1] for r in rows),
                "errors": max(r[2] for r in rows)}

    _emit({"one": summary(one), "eight": summary(eight), "eight_concurrency8": summary(eight_c8),
           "eight_async": summary(eight_async), "repeats": repeats})


def ratelimit(root: str, base_url: str, images: int, rpm: float, scale: float, burst: int,
              client_rpm: float = 0) -> None:
    import urllib.request

    import imgsdk

    def server(method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(root + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    # client_rpm: the profile's own client-side limit (requests_per_minute), time-scaled like the server's.
    extra = {"requests_per_minute": client_rpm} if client_rpm else {}
    try:
        client = imgsdk.Client(config=imgsdk_config({"rl": bench_profile(base_url, "openai:dall-e-3", **extra)}))
    except imgsdk.ConfigError as error:
        _emit({"unsupported": str(error)[:200]})
        return
    client.generate(PROMPT, provider="rl", n=4)  # warm-up (no limit yet): imports, 4 connections
    server("POST", "/_bench/config", {"rpm": rpm, "time_scale": scale, "burst": burst})
    start = time.perf_counter()
    error_kinds: dict[str, int] = {}
    try:
        result = client.generate(PROMPT, provider="rl", n=images)
        delivered, errors = len(result.images), list(result.errors)
    except imgsdk.ProviderError as error:  # every call failed
        delivered, errors = 0, [error] * images
    wall = time.perf_counter() - start
    for error in errors:
        error_kinds[type(error).__name__] = error_kinds.get(type(error).__name__, 0) + 1
    stats = server("GET", "/_bench/stats")
    server("POST", "/_bench/config", {})
    client.close()
    rate = rpm / 60.0 * scale
    _emit({"requested": images, "delivered": delivered, "failed": len(errors), "error_kinds": error_kinds,
           "served": stats["images_served"], "rate_limited": stats["rate_limited"],
           "generations": stats["generations"], "wall_s": wall, "allowed_rate": rate, "burst": burst,
           "allowed_in_wall": burst + rate * wall,
           "server_span_s": (stats["last_at"] - stats["first_at"]) if stats["first_at"] else None})


def render(runs: int) -> None:
    import statistics

    from bench_render import PROMPT as RENDER_PROMPT
    from bench_render import _load

    import imgsdk

    render_placeholder = _load()
    label = "local:placeholder · 1792x1024 · standard · vivid · seed 0"

    def direct() -> int:
        return len(render_placeholder(RENDER_PROMPT, 1792, 1024, seed=0, label=label, quality="standard",
                                      style="vivid"))

    def through_sdk() -> int:
        return len(imgsdk.generate(RENDER_PROMPT, provider="local:placeholder", size="1792x1024").images[0].data)

    sizes = {"direct": direct(), "sdk": through_sdk()}  # warm-up (fonts, imports)
    times: dict[str, list[float]] = {"direct": [], "sdk": []}
    for _ in range(runs):
        for name, function in (("direct", direct), ("sdk", through_sdk)):
            start = time.perf_counter()
            function()
            times[name].append((time.perf_counter() - start) * 1000)
    _emit({name: {"median_ms": statistics.median(values), "min_ms": min(values), "max_ms": max(values),
                  "bytes": sizes[name]} for name, values in times.items()} | {"runs": runs})


def main(argv: list[str]) -> int:
    name, args = argv[0], argv[1:]
    if name == "rss":
        rss(args[0], args[1])
    elif name == "save":
        save(args[0], args[1], int(args[2]), batch=len(args) > 3 and args[3] == "batch")
    elif name == "fanout":
        fanout(args[0], int(args[1]))
    elif name == "ratelimit":
        ratelimit(args[0], args[1], int(args[2]), float(args[3]), float(args[4]), int(args[5]),
                  float(args[6]) if len(args) > 6 else 0)
    elif name == "render":
        render(int(args[0]))
    else:
        raise SystemExit(f"unknown probe {name!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
