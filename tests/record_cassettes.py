"""Write the cassettes of ``tests/cassette_scenarios.py``.

Documented mode (the default; what this repository's cassettes are): each call goes through the real imgsdk
client and vcrpy's real recorder, but the transport answers with the documented response body instead of the
network. Live mode (``--live``): the same calls against the real APIs with keys from the environment.

    python tests/record_cassettes.py             # documented
    OPENAI_API_KEY=sk-... python tests/record_cassettes.py --live --only openai
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import httpx2
from cassette_scenarios import CANARY, SCENARIOS, Scenario

from imgsdk import Client, ImgSDKError
from imgsdk.testing import find_secrets, make_vcr

ROOT = Path(__file__).resolve().parent.parent / "cassettes"


def record(scenario: Scenario, live: bool) -> None:
    answers = list(scenario.responses)

    def handler(request: httpx2.Request) -> httpx2.Response:
        status, headers, body = answers.pop(0)
        return httpx2.Response(status, headers=headers, content=json.dumps(body).encode())

    target = ROOT / scenario.path
    target.unlink(missing_ok=True)
    key = None if live else CANARY[scenario.adapter]
    if key is not None:  # through the environment, as a user would (a literal key in config warns)
        import os

        variable = "OPENAI_API_KEY" if scenario.adapter == "openai" else f"{scenario.adapter.upper()}_CANARY_KEY"
        os.environ[variable] = key
        key = f"${{{variable}}}"
    transport = None if live else httpx2.MockTransport(handler)
    with make_vcr("all").use_cassette(str(target)), \
            Client(scenario.config(key), transport=transport, sleep=lambda s: None) as client:
        try:
            client.generate(provider="main", **scenario.call)
        except ImgSDKError as error:
            print(f"  {scenario.path}: {type(error).__name__} (expected: {scenario.expect.get('error')})")
    leaks = find_secrets(target, extra=tuple(CANARY.values()))
    if leaks:
        raise SystemExit(f"credential left in {target}:\n" + "\n".join(leaks))
    print(f"wrote {target.relative_to(ROOT.parent)} ({target.stat().st_size} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--live", action="store_true")
    parser.add_argument("--only", help="one adapter")
    args = parser.parse_args()
    for scenario in SCENARIOS:
        if args.only in (None, scenario.adapter):
            record(scenario, args.live)


if __name__ == "__main__":
    main()
