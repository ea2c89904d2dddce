"""The per-call contenders, each run in its own worker process so no library's import weighs on another's.

Every contender does the same work per call against the fake server: POST the same JSON to
``/v1/images/generations`` on a reused keep-alive connection, decode the JSON, base64-decode the image and
hand back the bytes (the length is checked, so nobody can skip the work).

- ``raw-httpx2`` / ``raw-httpx2-async``: one ``httpx2.Client`` / ``AsyncClient``, ``post(json=…)``,
  ``json()``, ``b64decode`` — the floor any client built on httpx2 can reach.
- ``imgsdk`` / ``imgsdk-async``: ``Client.generate(prompt, provider="bench")`` with the openai adapter.
- ``openai``: ``OpenAI(max_retries=0).images.generate(model=…, prompt=…)``.
- ``litellm``: ``litellm.image_generation(model="openai/…", api_base=…)``.

Worker protocol (``python benchmarks/peers.py PEER BASE_URL IMAGE_BYTES``): prints ``READY <setup ms>`` after
import, client creation and a warm-up; then for each stdin line ``run N`` prints one JSON list of N per-call
latencies in nanoseconds; ``quit`` (or end of stdin) exits. Any failure prints ``ERROR <reason>`` and exits 1.
"""

from __future__ import annotations

import base64
import os
import sys
import time
from collections.abc import Callable
from typing import Any

PEERS = ("raw-httpx2", "imgsdk", "raw-httpx2-async", "imgsdk-async", "openai", "litellm")
MODEL = "gpt-image-2"
PROMPT = "A lighthouse on a rocky coast at sunset, golden light, crashing waves, watercolour style"
KEY_ENV = "IMGSDK_BENCH_KEY"
KEY = "test-key"
WARMUP = 30


def imgsdk_config(profiles: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A config dict whose profiles read the key from ``$IMGSDK_BENCH_KEY`` (set here to a dummy)."""
    os.environ.setdefault(KEY_ENV, KEY)
    return {"providers": {name: {"api_key": f"${{{KEY_ENV}}}", **profile} for name, profile in profiles.items()}}


def bench_profile(base_url: str, model: str = f"openai:{MODEL}", **extra: Any) -> dict[str, Any]:
    return {"model": model, "base_url": base_url, **extra}


def _sync_peer(peer: str, base_url: str) -> Callable[[], bytes]:
    if peer == "raw-httpx2":
        import httpx2

        http = httpx2.Client(timeout=httpx2.Timeout(600.0, connect=10.0), follow_redirects=False)
        url = f"{base_url}/images/generations"
        headers = {"Authorization": f"Bearer {KEY}"}
        body = {"model": MODEL, "prompt": PROMPT, "n": 1}  # exactly what imgsdk sends for this model

        def raw() -> bytes:
            response = http.post(url, json=body, headers=headers)
            response.raise_for_status()
            return base64.b64decode(response.json()["data"][0]["b64_json"])

        return raw
    if peer == "imgsdk":
        import imgsdk

        client = imgsdk.Client(config=imgsdk_config({"bench": bench_profile(base_url)}))

        def sdk() -> bytes:
            return client.generate(PROMPT, provider="bench").images[0].data

        return sdk
    if peer == "openai":
        import openai

        oai = openai.OpenAI(api_key=KEY, base_url=base_url, max_retries=0)

        def official() -> bytes:
            result = oai.images.generate(model=MODEL, prompt=PROMPT)
            assert result.data and result.data[0].b64_json
            return base64.b64decode(result.data[0].b64_json)

        return official
    if peer == "litellm":
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch at import
        os.environ.setdefault("LITELLM_TELEMETRY", "False")
        import litellm

        litellm.telemetry = False
        litellm.suppress_debug_info = True

        def lite() -> bytes:
            result = litellm.image_generation(model=f"openai/{MODEL}", prompt=PROMPT, api_base=base_url,
                                              api_key=KEY, max_retries=0)
            return base64.b64decode(result.data[0].b64_json)

        return lite
    raise SystemExit(f"ERROR unknown peer {peer!r}")


def _async_peer(peer: str, base_url: str) -> Callable[[], Any]:
    if peer == "raw-httpx2-async":
        import httpx2

        http = httpx2.AsyncClient(timeout=httpx2.Timeout(600.0, connect=10.0), follow_redirects=False)
        url = f"{base_url}/images/generations"
        headers = {"Authorization": f"Bearer {KEY}"}
        body = {"model": MODEL, "prompt": PROMPT, "n": 1}

        async def raw() -> bytes:
            response = await http.post(url, json=body, headers=headers)
            response.raise_for_status()
            return base64.b64decode(response.json()["data"][0]["b64_json"])

        return raw
    if peer == "imgsdk-async":
        import imgsdk

        client = imgsdk.AsyncClient(config=imgsdk_config({"bench": bench_profile(base_url)}))

        async def sdk() -> bytes:
            result = await client.generate(PROMPT, provider="bench")
            return await result.images[0].adata()

        return sdk
    raise SystemExit(f"ERROR unknown peer {peer!r}")


def worker(peer: str, base_url: str, image_bytes: int) -> int:
    import asyncio
    import json

    started = time.perf_counter()
    is_async = peer.endswith("-async")
    loop = asyncio.new_event_loop() if is_async else None
    try:
        if loop is not None:
            acall = _async_peer(peer, base_url)

            async def block(n: int) -> list[int]:
                out = []
                for _ in range(n):
                    start = time.perf_counter_ns()
                    data = await acall()
                    out.append(time.perf_counter_ns() - start)
                    if len(data) != image_bytes:
                        raise RuntimeError(f"got {len(data)} bytes, expected {image_bytes}")
                return out

            def run(n: int) -> list[int]:
                return loop.run_until_complete(block(n))
        else:
            call = _sync_peer(peer, base_url)

            def run(n: int) -> list[int]:
                out = []
                for _ in range(n):
                    start = time.perf_counter_ns()
                    data = call()
                    out.append(time.perf_counter_ns() - start)
                    if len(data) != image_bytes:
                        raise RuntimeError(f"got {len(data)} bytes, expected {image_bytes}")
                return out

        run(WARMUP)
    except BaseException as error:  # report why this contender cannot be measured
        print(f"ERROR {type(error).__name__}: {str(error)[:300]}".replace("\n", " "), flush=True)
        return 1
    print(f"READY {(time.perf_counter() - started) * 1000:.0f}", flush=True)
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        try:
            print(json.dumps(run(int(command[1]))), flush=True)
        except BaseException as error:
            print(f"ERROR {type(error).__name__}: {str(error)[:300]}".replace("\n", " "), flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(worker(sys.argv[1], sys.argv[2], int(sys.argv[3])))
