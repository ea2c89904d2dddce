"""imgsdk's benchmark suite (issue 7): one command, one table of targets, ratios and verdicts.

    pip install -e ".[bench]"          # openai, litellm, matplotlib: the peers and the plot
    python benchmarks/run.py           # full run (~1-2 min): prints the table, rewrites docs/performance.md
    python benchmarks/run.py --quick   # CI smoke mode (< 60 s): fewer calls and runs, docs untouched

Every number is measured in the same run, against a loopback fake OpenAI images server
(``benchmarks/fake_server.py``) running in its own process; each contender runs in its own worker process
(``benchmarks/peers.py``) and every memory or start-up figure comes from a fresh interpreter
(``benchmarks/probes.py``). A contender that cannot be installed or run is reported "not measured" with the
reason, never estimated. Progress goes to stderr; the table to stdout. Exit status: 0, or with ``--check``
1 when any target fails (2 when the harness itself broke).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from fake_server import FakeImagesServer  # noqa: E402
from peers import PEERS  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
PLOT = ROOT / "docs" / "performance-latency.png"
BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
MIB = 1024 * 1024
LABELS = {"raw-httpx2": "raw httpx2", "imgsdk": "imgsdk", "raw-httpx2-async": "raw httpx2 async",
          "imgsdk-async": "imgsdk async", "openai": "openai SDK", "litellm": "LiteLLM"}


@dataclass
class Row:
    number: str
    target: str
    measured: str
    baseline: str = ""
    ratio: str = ""
    verdict: str = "INFO"  # PASS, FAIL, INFO, NOT MEASURED
    notes: list[str] = field(default_factory=list)


@dataclass
class Settings:
    quick: bool
    calls: int
    block: int
    start_runs: int
    rss_runs: int
    fan_repeats: int
    render_runs: int
    save_count: int
    peers: tuple[str, ...]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def clean_env() -> dict[str, str]:
    """The environment for child processes: no user config, key or provider choice leaks in."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("IMGSDK_CONFIG", "IMGSDK_PROVIDER", "OPENAI_API_KEY", "OPENAI_BASE_URL",
                          "PYTHONPROFILEIMPORTTIME", "PYTHONSTARTUP")}
    env["IMGSDK_BENCH_KEY"] = "test-key"
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    env["XDG_CONFIG_HOME"] = WORKDIR  # no ~/.config/imgsdk/imgsdk.toml either
    return env


WORKDIR = tempfile.mkdtemp(prefix="imgsdk-bench-cwd-")  # children run here: no ./imgsdk.toml, no source tree


def probe(*args: str, timeout: float = 300) -> dict[str, Any]:
    """Run ``probes.py ARGS`` in a fresh interpreter; its last stdout line is JSON."""
    try:
        done = subprocess.run([sys.executable, str(HERE / "probes.py"), *args], capture_output=True, text=True,
                              cwd=WORKDIR, env=clean_env(), timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"probe {args[0]} did not finish within {timeout:.0f} s") from error
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"probe {args[0]} failed: {tail[:200]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def module_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def installed_copy_matches() -> str | None:
    """A warning when the imgsdk being measured is not the working tree's code (non-editable install)."""
    import importlib.util

    spec = importlib.util.find_spec("imgsdk")
    if spec is None or spec.origin is None:
        return "imgsdk is not installed in this interpreter: pip install -e '.[bench]'"
    installed = Path(spec.origin).parent
    if installed.resolve() == (ROOT / "imgsdk").resolve():
        return None
    stale = []
    for source, target in ((ROOT / "imgsdk", installed), (ROOT / "adapters", installed / "adapters")):
        for path in source.rglob("*.py"):
            other = target / path.relative_to(source)
            if not other.exists() or hashlib.sha256(other.read_bytes()).digest() != \
                    hashlib.sha256(path.read_bytes()).digest():
                stale.append(str(path.relative_to(ROOT)))
    if stale:
        return (f"the installed imgsdk ({installed}) differs from the working tree in {len(stale)} file(s) "
                f"({', '.join(stale[:4])}{'...' if len(stale) > 4 else ''}): reinstall to measure this tree")
    return None


# -- 1. per-call overhead ----------------------------------------------------------------------------------
@dataclass
class Calls:
    """Per-call latencies (µs) of each contender, and each round's median (for paired ratios)."""

    latencies: dict[str, list[float]]
    rounds: dict[str, list[float]]
    unavailable: dict[str, str]


def measure_calls(base_url: str, image_bytes: int, peers: tuple[str, ...], calls: int, block: int) -> Calls:
    """Start one worker per contender, then run them in interleaved rounds of ``block`` calls (rotating the
    order), so load from other processes that comes and goes is shared by all."""
    workers: dict[str, subprocess.Popen[str]] = {}
    unavailable: dict[str, str] = {}
    for peer in peers:
        workers[peer] = subprocess.Popen([sys.executable, str(HERE / "peers.py"), peer, base_url, str(image_bytes)],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, text=True, cwd=WORKDIR, env=clean_env())
    for peer, process in list(workers.items()):
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        if not first.startswith("READY"):
            unavailable[peer] = first.removeprefix("ERROR ") or f"worker exited ({process.wait()})"
            process.wait()
            del workers[peer]
    latencies: dict[str, list[float]] = {peer: [] for peer in workers}
    rounds: dict[str, list[float]] = {peer: [] for peer in workers}
    # Bounded: a contender that hangs is killed (its readline then returns "" and the run reports it).
    watchdog = threading.Timer(120 + calls * len(workers) * max(0.05, image_bytes / 50e6),
                               lambda: [process.kill() for process in workers.values()])
    watchdog.start()
    try:
        for index in range(max(1, calls // block)):
            order = list(workers)
            order = order[index % len(order):] + order[:index % len(order)]  # rotate: no one always first
            for peer in order:
                process = workers[peer]
                assert process.stdin is not None and process.stdout is not None
                process.stdin.write(f"run {block}\n")
                process.stdin.flush()
                answer = process.stdout.readline().strip()
                if not answer.startswith("["):
                    raise RuntimeError(f"{peer} worker: {answer or 'died'}")
                values = [ns / 1000 for ns in json.loads(answer)]  # microseconds
                latencies[peer] += values
                rounds[peer].append(statistics.median(values))
    finally:
        watchdog.cancel()
        for process in workers.values():
            try:
                assert process.stdin is not None
                process.stdin.write("quit\n")
                process.stdin.close()
                process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
    return Calls(latencies, rounds, unavailable)


def per_call(server: FakeImagesServer, settings: Settings) -> tuple[list[Row], dict[str, list[float]]]:
    log(f"per-call overhead: {settings.calls} calls each, 1 KB image, {', '.join(settings.peers)}")
    measured_calls = measure_calls(server.base_url, 1024, settings.peers, settings.calls, settings.block)
    rows = compare(measured_calls, settings.block, [
        ("1a", f"per call ({settings.calls} sequential, 1 KB b64): imgsdk ≤ 1.25× raw httpx2", "imgsdk",
         "raw-httpx2", "max", 1.25),
        ("1b", "per call: imgsdk async ≤ 1.25× raw httpx2 async", "imgsdk-async", "raw-httpx2-async", "max", 1.25),
        ("1c", "per call: imgsdk faster than openai SDK", "imgsdk", "openai", "faster", 1.0),
        ("1d", "per call: imgsdk ≥ 5× faster than LiteLLM", "imgsdk", "litellm", "faster", 5.0),
    ])
    latencies = measured_calls.latencies
    for row in rows:
        if row.number == "1b" and "imgsdk-async" in latencies and "raw-httpx2" in latencies:
            versus_sync = statistics.median(latencies["imgsdk-async"]) / statistics.median(latencies["raw-httpx2"])
            row.notes.append(f"vs sync raw httpx2: {versus_sync:.2f}×")
    if not settings.quick:
        big = 1_500_000
        peers = tuple(peer for peer in ("raw-httpx2", "imgsdk", "openai") if peer in settings.peers)
        log(f"per-call, realistic image: {big / 1e6:.1f} MB b64_json, 100 calls each, {', '.join(peers)}")
        big_calls = measure_calls(server.url_with(image_bytes=big), big, peers, 100, 20)
        rows += compare(big_calls, 20, [
            ("1e", "per call, 1.5 MB b64 image: imgsdk vs raw httpx2 (not graded)", "imgsdk", "raw-httpx2",
             "info", 1.0),
            ("1f", "per call, 1.5 MB b64 image: imgsdk vs openai SDK (not graded)", "imgsdk", "openai", "info", 1.0),
        ])
    return rows, latencies


def compare(calls: Calls, block: int, specs: list[tuple[str, str, str, str, str, float]]) -> list[Row]:
    """One row per (number, target, contender, baseline, kind, limit); kind: max (ratio ≤ limit), faster
    (at least ``limit`` times faster), info (not graded)."""
    latencies, rounds, unavailable = calls.latencies, calls.rounds, calls.unavailable

    def stat(peer: str) -> tuple[float, float]:
        values = latencies[peer]
        return statistics.median(values), statistics.fmean(values)

    def measured(peer: str) -> str:
        median, mean = stat(peer)
        unit, scale = ("ms", 1000.0) if median >= 10_000 else ("µs", 1.0)
        return f"{median / scale:.0f} {unit}/call (mean {mean / scale:.0f})"

    rows: list[Row] = []
    for number, target, peer, base, kind, limit in specs:
        if not all(name in latencies or name in unavailable for name in (peer, base)):
            continue  # not selected with --peers
        if peer in unavailable or base in unavailable:
            missing = peer if peer in unavailable else base
            rows.append(Row(number, target, "not measured", LABELS[base], "", "NOT MEASURED",
                            [f"{LABELS[missing]} could not run: {unavailable[missing]}"]))
            continue
        # The ratio pairs the contenders in time: the median over rounds of (median / baseline's median in
        # the same round), so load from other processes that comes and goes hits both sides alike.
        ratio = statistics.median(a / b for a, b in zip(rounds[peer], rounds[base], strict=True))
        mean_ratio = stat(peer)[1] / stat(base)[1]

        def passes(value: float, kind: str = kind, limit: float = limit) -> bool:
            return value <= limit if kind == "max" else value <= 1 / limit

        def text(value: float, kind: str = kind) -> str:
            return f"{value:.2f}× ({1 / value:.1f}× faster)" if kind == "faster" else f"{value:.2f}×"

        verdict = "INFO" if kind == "info" else ("PASS" if passes(ratio) else "FAIL")
        row = Row(number, target, measured(peer), f"{LABELS[base]} {measured(base)}", text(ratio), verdict)
        if kind != "info" and passes(ratio) != passes(mean_ratio):
            row.notes.append(f"on means the ratio is {text(mean_ratio)} "
                             f"({'PASS' if passes(mean_ratio) else 'FAIL'}): noisy")
        rows.append(row)
    if rows:
        rows[0].notes.append(f"ratios: median over {len(next(iter(rounds.values()), []))} interleaved rounds of "
                             f"{block} calls of (contender's median / baseline's median, same round)")
    return rows


# -- 2. cold start -----------------------------------------------------------------------------------------
def imgsdk_command() -> list[str]:
    script = Path(sys.executable).parent / "imgsdk"
    if script.exists():
        return [str(script)]
    found = shutil.which("imgsdk")
    return [found] if found else [sys.executable, "-m", "imgsdk.cli"]


IMPORTS_CODE = """
import sys
before = set(sys.modules)
import imgsdk
loaded = set(sys.modules) - before
import json
forbidden = ("openai", "litellm", "fsspec", "s3fs", "rich", "google", "boto3", "replicate", "fal_client")
heavy = ("httpx2", "httpcore2", "pydantic", "tenacity", "PIL", "anyio", "ssl", "asyncio", "email", "json")
print(json.dumps({"modules": len(loaded), "forbidden_loaded": [m for m in forbidden if m in loaded],
                  "heavy_loaded": [m for m in heavy if m in loaded]}))
"""


def timed_run(command: list[str], env: dict[str, str], limit: float = 120.0) -> float:
    """Wall milliseconds of one run. A blocking ``wait()``: ``subprocess.run(timeout=…)`` polls with growing
    sleeps, which rounds short runs up to its poll steps; a timer kills a run that hangs instead."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=WORKDIR, env=env)
    watchdog = threading.Timer(limit, process.kill)
    watchdog.start()
    try:
        process.wait()
    finally:
        watchdog.cancel()
    return (time.perf_counter() - start) * 1000


def cold_start(settings: Settings) -> list[Row]:
    commands = {
        "pass": [sys.executable, "-c", "pass"],
        "import imgsdk": [sys.executable, "-c", "import imgsdk"],
        "imgsdk --help": [*imgsdk_command(), "--help"],
        "import httpx2": [sys.executable, "-c", "import httpx2"],
    }
    if module_version("openai"):
        commands["import openai"] = [sys.executable, "-c", "import openai"]
    log(f"cold start: {settings.start_runs} runs each of {', '.join(commands)}")
    env = clean_env()
    times: dict[str, list[float]] = {name: [] for name in commands}
    failures: dict[str, str] = {}
    for name, command in commands.items():  # one untimed run each: the OS file cache, .pyc files
        done = subprocess.run(command, capture_output=True, cwd=WORKDIR, env=env, check=False, timeout=120)
        if done.returncode != 0 and name != "imgsdk --help":
            failures[name] = done.stderr.decode(errors="replace").strip().splitlines()[-1][:200]
    for _ in range(settings.start_runs):
        for name, command in commands.items():
            if name in failures:
                continue
            times[name].append(timed_run(command, env))
    median = {name: statistics.median(values) for name, values in times.items() if values}
    rows = []
    base = f"python -c pass {median['pass']:.0f} ms"
    openai_ms = median.get("import openai")
    if openai_ms:
        base += f"; import openai {openai_ms:.0f} ms"
    for number, name, limit in (("2a", "import imgsdk", 150.0), ("2b", "imgsdk --help", 250.0)):
        if name in failures:
            rows.append(Row(number, f"cold start: {name} ≤ {limit:.0f} ms", "not measured", base, "",
                            "NOT MEASURED", [failures[name]]))
            continue
        ratio = f"{median[name] / median['pass']:.1f}× pass"
        if openai_ms:
            ratio += f", {median[name] / openai_ms:.2f}× openai"
        rows.append(Row(number, f"cold start: `{name}` ≤ {limit:.0f} ms",
                        f"{median[name]:.0f} ms", base, ratio, "PASS" if median[name] <= limit else "FAIL",
                        [f"{name}: median of {settings.start_runs}, min {min(times[name]):.0f} ms, "
                         f"max {max(times[name]):.0f} ms"]))
    if "import httpx2" in median:
        rows[0].notes.append(f"import httpx2 alone: {median['import httpx2']:.0f} ms")
    try:
        done = subprocess.run([sys.executable, "-c", IMPORTS_CODE], capture_output=True, text=True, cwd=WORKDIR,
                              env=clean_env(), check=True, timeout=120)
        modules = json.loads(done.stdout.strip().splitlines()[-1])
        forbidden = modules["forbidden_loaded"]
        rows.append(Row("2c", "`import imgsdk` loads no provider SDK, fsspec, rich",
                        f"{modules['modules']} modules; forbidden: {', '.join(forbidden) or 'none'}",
                        "", "", "FAIL" if forbidden else "PASS",
                        [f"heavy modules loaded at import: {', '.join(modules['heavy_loaded']) or 'none'}"]))
    except (subprocess.CalledProcessError, ValueError, IndexError) as error:
        rows.append(Row("2c", "`import imgsdk` loads no provider SDK, fsspec, rich", "not measured", "", "",
                        "NOT MEASURED", [str(error)]))
    return rows


# -- 3. peak RSS -------------------------------------------------------------------------------------------
def peak_rss(server: FakeImagesServer, settings: Settings) -> list[Row]:
    log(f"peak RSS after import + one call: {settings.rss_runs} runs each")
    peers = ("openai",) if settings.quick else ("openai", "litellm")  # LiteLLM's import alone takes seconds
    modes = ["raw-httpx2", "imgsdk"] + [peer for peer in peers if peer in settings.peers]
    results: dict[str, float] = {}
    notes = []
    for mode in ["pass", *modes]:
        values = []
        for _ in range(settings.rss_runs):
            try:
                values.append(probe("rss", mode, server.base_url)["peak_kib"] / 1024)
            except RuntimeError as error:
                notes.append(f"{mode}: {error}")
                break
        if values:
            results[mode] = statistics.median(values)
    if "imgsdk" not in results:
        return [Row("3", "peak RSS after import + one call ≤ 40 MiB", "not measured", "", "", "NOT MEASURED",
                    notes)]
    value = results["imgsdk"]
    base = ", ".join(f"{LABELS.get(mode, 'interpreter alone')} {results[mode]:.1f} MiB"
                     for mode in ("raw-httpx2", "openai", "litellm", "pass") if mode in results)
    ratio = f"{value / results['raw-httpx2']:.2f}× raw httpx2" if "raw-httpx2" in results else ""
    notes.append("peak RSS = VmHWM of a fresh interpreter (ru_maxrss on Linux inherits the parent's size)")
    return [Row("3", "peak RSS after import + one call ≤ 40 MiB", f"{value:.1f} MiB", base, ratio,
                "PASS" if value <= 40 else "FAIL", notes)]


# -- 4. fan-out --------------------------------------------------------------------------------------------
def fan_out(server: FakeImagesServer, settings: Settings) -> list[Row]:
    log("fan-out: n=8 on dall-e-3 (1 image per call), 200 ms server latency")
    try:
        result = probe("fanout", server.url_with(latency_ms=200), str(settings.fan_repeats))
    except RuntimeError as error:
        return [Row("4", "fan-out n=8 ≤ 1.2× one call", "not measured", "", "", "NOT MEASURED", [str(error)])]
    one = result["one"]["median_s"]
    rows = []
    for number, key, target, graded in (
            ("4a", "eight", "fan-out n=8, dall-e-3, 200 ms: ≤ 1.2× one call", True),
            ("4b", "eight_async", "fan-out n=8, AsyncClient: ≤ 1.2× one call", True),
            ("4c", "eight_concurrency8", "fan-out n=8, profile max_concurrency=8", False)):
        entry = result[key]
        ratio = entry["median_s"] / one
        verdict = ("PASS" if ratio <= 1.2 and entry["images"] == 8 else "FAIL") if graded else "INFO"
        rows.append(Row(number, target, f"{entry['median_s'] * 1000:.0f} ms, {entry['images']}/8 images",
                        f"one call {one * 1000:.0f} ms", f"{ratio:.2f}×", verdict,
                        [f"{key}: median of {result['repeats']}; errors {entry['errors']}"]))
    return rows


# -- 5. rate limit -----------------------------------------------------------------------------------------
def rate_limit(server: FakeImagesServer, settings: Settings) -> list[Row]:
    images, rpm, scale, burst = 120, 60, 60.0, 1
    log(f"rate limit: {images} images (dall-e-3, 1 per call) against {rpm} rpm ×{scale:g} time scale")
    rows = []
    for number, client_rpm, target in (
            ("5a", 0, f"rate limit: {images} images, {rpm} rpm (×{scale:g}), no client limit set: ≥ 90 %, "
                      "0 failed, 0 lost"),
            ("5b", rpm * scale, f"rate limit: same, profile requests_per_minute = {rpm} (×{scale:g})")):
        try:
            result = probe("ratelimit", server.root, server.base_url, str(images), str(rpm), str(scale), str(burst),
                           str(client_rpm))
        except RuntimeError as error:
            rows.append(Row(number, target, "not measured", "", "", "NOT MEASURED", [str(error)]))
            continue
        if "unsupported" in result:
            rows.append(Row(number, target, "not measured", "", "", "NOT MEASURED",
                            [f"this imgsdk has no client-side rate limit: {result['unsupported']}"]))
            continue
        used = result["delivered"] / result["allowed_in_wall"]
        lost = result["served"] - result["delivered"]
        ok = used >= 0.9 and result["failed"] == 0 and lost == 0
        kinds = ", ".join(f"{count} {name}" for name, count in result["error_kinds"].items())
        rows.append(Row(number, target,
                        f"{result['delivered']}/{images} delivered in {result['wall_s']:.2f} s; "
                        f"{result['failed']} failed, {lost} lost",
                        f"allowed {result['allowed_rate']:.0f}/s + burst {burst}",
                        f"{used * 100:.0f} % of allowed", "PASS" if ok else "FAIL",
                        [f"{result['rate_limited']} answers were 429 out of {result['generations']} POSTs"
                         + (f"; failures: {kinds}" if kinds else "")]))
    return rows


# -- 6. memory while saving --------------------------------------------------------------------------------
def save_memory(server: FakeImagesServer, settings: Settings) -> list[Row]:
    size = 4 * MIB
    count = settings.save_count
    log(f"memory: saving {count} images of {size // MIB} MiB (one generate + save each"
        f"{'' if settings.quick else f'; then one n={count}'})")
    small, big = server.base_url, server.url_with(image_bytes=size)
    rows = []
    for number, batch in (("6a", False), ("6b", True))[:1 if settings.quick else 2]:  # 6b: ~1 GiB, slow
        target = (f"memory: save {count} × 4 MiB one by one: peak RSS +≤ 3× image"
                  if not batch else f"memory: generate(n={count}) + save, 4 MiB each")
        try:
            result = probe("save", small, big, str(count), *(["batch"] if batch else []))
        except RuntimeError as error:
            rows.append(Row(number, target, "not measured", "", "", "NOT MEASURED", [str(error)]))
            continue
        growth = (result["end_kib"] - result["start_kib"]) * 1024
        ratio = growth / size
        note = [f"{result['files']} files, {result['saved_bytes'] / MIB:.0f} MiB written"]
        if result["after_first_kib"] is not None:
            first = (result["after_first_kib"] - result["start_kib"]) * 1024
            note.append(f"growth after the first image {first / MIB:.1f} MiB, images 2..{count} add "
                        f"{(growth - first) / MIB:.1f} MiB")
        rows.append(Row(number, target, f"+{growth / MIB:.1f} MiB peak RSS", "one image 4.0 MiB",
                        f"{ratio:.1f}× one image", ("PASS" if ratio <= 3 else "FAIL") if not batch else "INFO",
                        note))
    return rows


# -- 7. offline renderer -----------------------------------------------------------------------------------
def renderer(settings: Settings) -> list[Row]:
    log(f"offline renderer: 1792x1024, {settings.render_runs} runs each")
    try:
        result = probe("render", str(settings.render_runs))
    except RuntimeError as error:
        return [Row("7", "offline renderer 1792x1024 ≤ 100 ms", "not measured", "", "", "NOT MEASURED",
                    [str(error)])]
    direct, sdk = result["direct"], result["sdk"]
    return [
        Row("7a", "renderer 1792x1024 via imgsdk.generate ≤ 100 ms",
            f"{sdk['median_ms']:.1f} ms", f"render function {direct['median_ms']:.1f} ms",
            f"{sdk['median_ms'] / direct['median_ms']:.2f}× direct", "PASS" if sdk["median_ms"] <= 100 else "FAIL",
            [f"median of {result['runs']}; {sdk['bytes'] // 1024} KiB PNG"]),
        Row("7b", "renderer 1792x1024, render_placeholder() ≤ 100 ms", f"{direct['median_ms']:.1f} ms",
            "", "", "PASS" if direct["median_ms"] <= 100 else "FAIL",
            [f"min {direct['min_ms']:.1f} ms, max {direct['max_ms']:.1f} ms"]),
    ]


# -- output ------------------------------------------------------------------------------------------------
def text_table(rows: list[Row]) -> str:
    header = ("#", "target", "measured", "baseline (same run)", "ratio", "verdict")
    cells = [header] + [(r.number, r.target, r.measured, r.baseline, r.ratio, r.verdict) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    line = "+".join("-" * (w + 2) for w in widths)
    out = [" | ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)), line]
    out += [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells[1:]]
    notes = [f"  {r.number}: {note}" for r in rows for note in r.notes]
    return "\n".join(out + (["", "notes:", *notes] if notes else []))


def markdown_table(rows: list[Row]) -> str:
    out = ["| # | target | measured | baseline (same run) | ratio | verdict |", "|---|---|---|---|---|---|"]
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    out += [f"| {r.number} | {cell(r.target)} | {cell(r.measured)} | {cell(r.baseline)} | {cell(r.ratio)} | "
            f"**{r.verdict}** |" for r in rows]
    notes = [f"- {r.number}: {note}" for r in rows for note in r.notes]
    return "\n".join(out + (["", "Notes from the run:", "", *notes] if notes else []))


def plot(latencies: dict[str, list[float]], path: Path) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no plot (pip install -e '.[bench]')"
    import math

    names = [peer for peer in PEERS if latencies.get(peer)]
    # Shapes on a log scale (the contenders span 10×); tails beyond the 99.5th percentile are cut from the
    # violins only (they are GC pauses and scheduler noise, and they would flatten everything else).
    data = []
    for peer in names:
        values = sorted(latencies[peer])
        cut = values[min(len(values) - 1, int(len(values) * 0.995))]
        data.append([math.log10(value) for value in values if value <= cut])
    figure, axis = plt.subplots(figsize=(10, 5.2), dpi=110)
    parts = axis.violinplot(data, showmedians=False, showextrema=False, widths=0.85, points=200)
    for body, name in zip(parts["bodies"], names, strict=True):  # type: ignore[arg-type]
        body.set_facecolor("#1f77b4" if name.startswith("imgsdk") else "#9a9a9a")
        body.set_alpha(0.55)
    axis.boxplot(data, widths=0.18, showfliers=False, medianprops={"color": "black"})
    for index, peer in enumerate(names, start=1):
        median = statistics.median(latencies[peer])
        axis.annotate(f"{median:.0f} µs", (index, math.log10(median)), xytext=(14, 0), textcoords="offset points",
                      va="center", fontsize=9)
    low, high = min(min(values) for values in data), max(max(values) for values in data)
    ticks = [tick for tick in (100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000, 20000, 50000)
             if low - 0.1 <= math.log10(tick) <= high + 0.1]
    axis.set_yticks([math.log10(tick) for tick in ticks], [f"{tick:,}" for tick in ticks])
    axis.set_xticks(range(1, len(names) + 1), [LABELS[name] for name in names])
    axis.set_ylabel("per-call latency (µs, log scale)")
    axis.set_title(f"One image request (1 KB b64_json) over loopback keep-alive, {len(latencies[names[0]])} "
                   "calls each\n(violins cut at the 99.5th percentile; boxes: quartiles, whiskers 1.5 IQR)",
                   fontsize=10)
    axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return None


def environment() -> str:
    versions = ", ".join(f"{name} {module_version(name) or 'not installed'}"
                         for name in ("imgsdk", "httpx2", "openai", "litellm", "matplotlib"))
    return (f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
            f"{os.cpu_count()} CPUs, {loadavg()}; {versions}; {source_state()}")


def source_state() -> str:
    """Which code was measured: the commit, and whether imgsdk's sources had uncommitted changes."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "imgsdk", "adapters"],
                               capture_output=True, text=True, check=True, timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "source: not a git checkout"
    return f"source: commit {head}" + (f" + uncommitted changes in {len(dirty)} imgsdk/adapters file(s)" if dirty
                                        else "")


def loadavg() -> str:
    """Other processes' load skews timings on a small machine: every report states it."""
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    return "load average {:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())


def write_doc(rows: list[Row], settings: Settings, plot_note: str | None, started_env: str) -> None:
    today = dt.date.today().isoformat()
    section = "\n".join([
        BEGIN,
        f"Measured on {today} with `python benchmarks/run.py{' --quick' if settings.quick else ''}` "
        f"({started_env}; at the end: {loadavg()}).",
        "",
        markdown_table(rows),
        "",
        plot_note or f"![per-call latency distributions]({PLOT.name})",
        END,
    ])
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(head + section + tail, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="imgsdk benchmarks (issue 7)")
    parser.add_argument("--quick", action="store_true", help="CI smoke mode: fewer calls and runs (< 60 s)")
    parser.add_argument("--calls", type=int, help="per-call contenders: calls each (default 1000; quick 300)")
    parser.add_argument("--peers", help=f"comma-separated subset of {','.join(PEERS)}")
    parser.add_argument("--docs", action=argparse.BooleanOptionalAction, default=None,
                        help="rewrite docs/performance.md and the plot (default: on for a full run, off for --quick)")
    parser.add_argument("--check", action="store_true", help="exit 1 when any target fails")
    args = parser.parse_args(argv)
    quick = args.quick
    settings = Settings(quick=quick, calls=args.calls or (300 if quick else 1000), block=50,
                        start_runs=5 if quick else 15, rss_runs=1 if quick else 3, fan_repeats=2 if quick else 5,
                        render_runs=5 if quick else 20, save_count=50,
                        peers=tuple(args.peers.split(",")) if args.peers else PEERS)
    started = time.perf_counter()
    started_env = environment()
    log(started_env)
    if warning := installed_copy_matches():
        log(f"WARNING: {warning}")
    rows: list[Row] = []
    latencies: dict[str, list[float]] = {}
    try:
        with FakeImagesServer() as server:
            log(f"fake server on {server.root}")
            part, latencies = per_call(server, settings)
            rows += part
            rows += cold_start(settings)
            rows += peak_rss(server, settings)
            rows += fan_out(server, settings)
            rows += rate_limit(server, settings)
            rows += save_memory(server, settings)
        rows += renderer(settings)
    except Exception as error:  # the harness broke: say so, print what was measured
        log(f"ERROR: the benchmark harness failed: {type(error).__name__}: {error}")
        print(text_table(rows))
        return 2
    finally:
        shutil.rmtree(WORKDIR, ignore_errors=True)
    rows.sort(key=lambda row: (row.number[0], row.number))
    print(text_table(rows))
    write_docs = args.docs if args.docs is not None else not quick
    if write_docs:
        plot_note = plot(latencies, PLOT) if latencies else "no latencies measured: no plot"
        write_doc(rows, settings, plot_note, started_env)
        log(f"wrote {DOC.relative_to(ROOT)}" + ("" if plot_note else f" and {PLOT.relative_to(ROOT)}"))
    log(f"done in {time.perf_counter() - started:.0f} s; {loadavg()}")
    failed = [row.number for row in rows if row.verdict == "FAIL"]
    if failed:
        log(f"targets missed: {', '.join(failed)}")
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
