"""Benchmark the offline placeholder renderer: median time for a 1792x1024 PNG vs a 100 ms target.

Run: ``python benchmarks/bench_render.py [--runs 20]``.  Exit status 1 if any case misses the target.
Works before packaging too (falls back to loading ``adapters/local_render.py`` by path).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGET_MS = 100.0
PROMPT = "A lighthouse on a rocky coast at sunset, golden light, crashing waves, watercolour style"


def _load() -> Callable[..., bytes]:
    try:
        from imgsdk.adapters.local_render import render_placeholder  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        path = Path(__file__).resolve().parent.parent / "adapters" / "local_render.py"
        spec = importlib.util.spec_from_file_location("_imgsdk_local_render", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        render_placeholder = module.render_placeholder
    fn: Callable[..., bytes] = render_placeholder
    return fn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    render = _load()
    cases: list[tuple[str, dict[str, Any]]] = [
        ("standard vivid", {"quality": "standard", "style": "vivid"}),
        ("hd natural", {"quality": "hd", "style": "natural"}),
    ]
    ok = True
    for name, opts in cases:
        label = f"local:placeholder · 1792x1024 · {opts['quality']} · {opts['style']} · seed 42"
        render(PROMPT, 1792, 1024, seed=42, label=label, **opts)  # warm-up (font load, imports)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            data = render(PROMPT, 1792, 1024, seed=42, label=label, **opts)
            times.append((time.perf_counter() - start) * 1000)
        median = statistics.median(times)
        verdict = "PASS" if median < TARGET_MS else "FAIL"
        ok &= median < TARGET_MS
        print(f"1792x1024 png {name:15s} median {median:6.1f} ms  (min {min(times):.1f}, "
              f"max {max(times):.1f}, {len(data) // 1024} KiB, n={args.runs})  "
              f"target {TARGET_MS:.0f} ms: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
