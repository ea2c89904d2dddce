"""Where imgsdk's own time and memory go on one image call (companion to ``run.py`` when a target misses).

    python benchmarks/profile_overhead.py                 # cProfile of 1000 sync calls (1 KB image)
    python benchmarks/profile_overhead.py --async         # the same through AsyncClient
    python benchmarks/profile_overhead.py --memory        # tracemalloc of one 4 MiB b64_json call + save
    python benchmarks/profile_overhead.py --retries       # what the client does against a 429 bucket

Runs against the same loopback fake server as the benchmark (in its own process). The profile is printed
twice: by own time (the hot spots) and by cumulative time restricted to imgsdk's files (the layers).
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
    parser.add_argument("--size", type=int, default=4 * 2**20)
    parser.add_argument("--limit", type=int, default=30)
    args = parser.parse_args()
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
