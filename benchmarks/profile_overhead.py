"""Where imgsdk's own time and memory go on one image call (companion to ``run.py`` when a target misses).

    python benchmarks/profile_overhead.py                 # cProfile of 1000 sync calls (1 KB image)
    python benchmarks/profile_overhead.py --async         # the same through AsyncClient
    python benchmarks/profile_overhead.py --memory        # tracemalloc of one 4 MiB b64_json call + save
    python benchmarks/profile_overhead.py --retries       # what the client does against a 429 bucket
    python benchmarks/profile_overhead.py --mock          # imgsdk's own time per call, without sockets

Runs against the same loopback fake server as the benchmark (in its own process). The profile is printed
twice: by own time (the hot spots) and by cumulative time restricted to imgsdk's files (the layers).

``--mock`` answers both raw httpx2 and imgsdk from an in-process ``httpx2.MockTransport`` (the same 1 KB
b64_json answer), so no socket, scheduler or server noise is in the figures: it prints the per-call time of
each (the fastest of 40 interleaved blocks of 100 calls), the difference (imgsdk's own work), and the
functions whose own time differs most between the two under cProfile (profiled microseconds are about twice
the real ones, but rank the same).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fake_server import FakeImagesServer  # noqa: E402
from peers import PROMPT, bench_profile, imgsdk_config  # noqa: E402


def cpu(server: FakeImagesServer, calls: int, use_async: bool, limit: int) -> None:
    import imgsdk

    config = imgsdk_config({"bench": bench_profile(server.base_url)})
    profiler = cProfile.Profile()
    if use_async:
        async def run() -> None:
            async with imgsdk.AsyncClient(config=config) as client:
                for _ in range(30):
                    await client.generate(PROMPT, provider="bench")
                profiler.enable()
                for _ in range(calls):
                    await client.generate(PROMPT, provider="bench")
                profiler.disable()

        asyncio.run(run())
    else:
        with imgsdk.Client(config=config) as client:
            for _ in range(30):
                client.generate(PROMPT, provider="bench")
            profiler.enable()
            for _ in range(calls):
                client.generate(PROMPT, provider="bench")
            profiler.disable()
    for order, restriction in (("tottime", limit), ("cumulative", "imgsdk|adapters")):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs() if order == "tottime" else \
            pstats.Stats(profiler, stream=out)
        stats.sort_stats(order)
        if isinstance(restriction, str):
            stats.print_stats(restriction, limit)
        else:
            stats.print_stats(restriction)
        print(f"=== {calls} {'async' if use_async else 'sync'} calls, by {order} ===")
        print(out.getvalue())


def mock(calls: int, limit: int) -> None:
    import base64
    import json

    import httpx2
    from fake_server import make_png
    from peers import KEY, MODEL

    import imgsdk

    answer = json.dumps({"created": 1, "data": [{"b64_json": base64.b64encode(make_png(1024)).decode()}]}).encode()

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=answer, headers={"content-type": "application/json"})

    base = "http://127.0.0.1:9/v1"  # never connected to: the mock transport answers
    http = httpx2.Client(transport=httpx2.MockTransport(handler), timeout=httpx2.Timeout(600.0, connect=10.0))
    body, headers = {"model": MODEL, "prompt": PROMPT, "n": 1}, {"Authorization": f"Bearer {KEY}"}
    client = imgsdk.Client(config=imgsdk_config({"bench": bench_profile(base)}),
                           transport=httpx2.MockTransport(handler))

    def raw() -> bytes:
        response = http.post(f"{base}/images/generations", json=body, headers=headers)
        response.raise_for_status()
        return base64.b64decode(response.json()["data"][0]["b64_json"])

    def sdk() -> bytes:
        return client.generate(PROMPT, provider="bench").images[0].data

    for _ in range(300):
        raw(), sdk()
    best = {"raw httpx2": float("inf"), "imgsdk": float("inf")}
    for _ in range(40):
        for name, function in (("raw httpx2", raw), ("imgsdk", sdk)):
            start = time.perf_counter()
            for _ in range(100):
                function()
            best[name] = min(best[name], (time.perf_counter() - start) * 1e4)
    print(f"in-process mock transport: raw httpx2 {best['raw httpx2']:.1f} µs/call, imgsdk {best['imgsdk']:.1f} "
          f"µs/call: imgsdk's own work {best['imgsdk'] - best['raw httpx2']:.1f} µs/call")
    own: list[dict[tuple[str, str], float]] = []
    for function in (sdk, raw):
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(calls):
            function()
        profiler.disable()
        table: dict[tuple[str, str], float] = {}
        for (filename, _, name), (_, _, own_time, _, _) in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
            key = (Path(filename).name, name)
            table[key] = table.get(key, 0.0) + own_time
        own.append(table)
    rows = sorted(((own[0].get(key, 0.0) - own[1].get(key, 0.0), key) for key in set(own[0]) | set(own[1])),
                  reverse=True)
    print(f"=== own time, imgsdk minus raw httpx2, profiled µs per call (top {limit}) ===")
    for difference, (filename, name) in rows[:limit]:
        print(f"{difference / calls * 1e6:8.2f}  {filename}:{name}")


def memory(server: FakeImagesServer, size: int, top: int) -> None:
    import imgsdk

    config = imgsdk_config({"small": bench_profile(server.base_url),
                            "big": bench_profile(server.url_with(image_bytes=size))})
    with imgsdk.Client(config=config) as client, tempfile.TemporaryDirectory() as folder:
        client.generate(PROMPT, provider="small").save(Path(folder) / "warm.png")
        tracemalloc.start(25)
        result = client.generate(PROMPT, provider="big")
        _, peak_generate = tracemalloc.get_traced_memory()
        snapshot = tracemalloc.take_snapshot()
        tracemalloc.reset_peak()
        result.save(Path(folder) / "big.png")
        held, peak_save = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(f"one {size / 2**20:.1f} MiB image as b64_json: peak traced during generate {peak_generate / 2**20:.1f} MiB,"
          f" during save {peak_save / 2**20:.1f} MiB; held by the result afterwards {held / 2**20:.1f} MiB")
    print(f"=== what the result still holds after generate (top {top}, by line) ===")
    for stat in snapshot.statistics("lineno")[:top]:
        print(f"{stat.size / 2**20:8.2f} MiB  {stat.traceback[0]}")


def retries(server: FakeImagesServer, images: int) -> None:
    import logging

    import imgsdk

    logging.basicConfig(level=logging.WARNING, format="%(relativeCreated)6.0f ms %(threadName)s %(message)s")
    logging.getLogger("imgsdk.http").setLevel(logging.DEBUG)  # one line per request sent: see the retries
    client = imgsdk.Client(config=imgsdk_config({"rl": bench_profile(server.base_url, "openai:dall-e-3")}))
    client.generate(PROMPT, provider="rl", n=4)
    server.configure(rpm=60, time_scale=60, burst=1)
    start = time.perf_counter()
    result = client.generate(PROMPT, provider="rl", n=images)
    print(f"{len(result.images)}/{images} images, {len(result.errors)} errors in {time.perf_counter() - start:.2f} s;"
          f" server: {server.stats()['rate_limited']} answers were 429")
    for error in result.errors[:3]:
        print("  ", type(error).__name__, str(error)[:160])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--async", dest="use_async", action="store_true")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--retries", action="store_true")
    parser.add_argument("--mock", action="store_true")
    parser.add_argument("--size", type=int, default=4 * 2**20)
    parser.add_argument("--limit", type=int, default=30)
    args = parser.parse_args()
    if args.mock:
        mock(min(args.calls, 5000), args.limit)
        return 0
    with FakeImagesServer() as server:
        if args.memory:
            memory(server, args.size, args.limit)
        elif args.retries:
            retries(server, 20)
        else:
            cpu(server, args.calls, args.use_async, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
