"""Write the cassettes of ``tests/cassette_scenarios.py`` through imgsdk.testing's recorder.

Documented mode (the default; what this repository's cassettes are): each call goes through the real imgsdk
client and vcrpy's real recorder, configured by :func:`imgsdk.testing.make_vcr` (credentials scrubbed, images
shrunk to tiny stand-ins of the same size and format), but an ``httpx2.MockTransport`` answers with the scripted
documented answers instead of the network. Keys are canaries from the environment; a cassette in which any
canary (in any of its wire forms) survives is refused and deleted.

Live mode (``--live``): the same calls against the real APIs, with real keys from the environment.

    python tests/record_cassettes.py                       # documented, every adapter
    python tests/record_cassettes.py --only bfl            # one adapter
    OPENAI_API_KEY=sk-... python tests/record_cassettes.py --live --only openai
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import httpx2
from cassette_scenarios import CANARY, CANARY_FORMS, KEY_VARIABLE, SCENARIOS, Outcome, Scenario, run

import imgsdk
from imgsdk.testing import make_vcr, scan

ROOT = Path(__file__).resolve().parent.parent / "cassettes"
MAX_KB = 64  # every cassette here must stay reviewable


def scripted(scenario: Scenario) -> httpx2.MockTransport:
    """A transport answering the scenario's requests in order, refusing any request it does not expect."""
    answers = list(scenario.answers)

    def handler(request: httpx2.Request) -> httpx2.Response:
        if not answers:
            raise AssertionError(f"{scenario.path}: unexpected extra request {request.method} {request.url}")
        answer = answers.pop(0)
        method, _, fragment = answer.expect.partition(" ")
        url = str(request.url)
        matches = url.endswith(fragment[:-1]) if fragment.endswith("$") else fragment in url
        if request.method != method or not matches:
            raise AssertionError(f"{scenario.path}: expected {answer.expect}, got {request.method} {url}")
        return httpx2.Response(answer.status, headers=answer.headers, content=answer.content())

    transport = httpx2.MockTransport(handler)
    transport.remaining = answers  # type: ignore[attr-defined]  # read after the call: all must be used
    return transport


def record(scenario: Scenario, live: bool) -> Outcome:
    target = ROOT / scenario.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    variable = KEY_VARIABLE[scenario.adapter]
    if not live:
        os.environ[variable] = CANARY[scenario.adapter]
    transport = None if live else scripted(scenario)
    with make_vcr("all", extra_secrets=CANARY_FORMS).use_cassette(str(target)), \
            imgsdk.Client(scenario.config(), transport=transport, sleep=lambda seconds: None) as client:
        outcome = run(scenario, client)
    if transport is not None and transport.remaining:  # type: ignore[attr-defined]
        raise SystemExit(f"{scenario.path}: {len(transport.remaining)} scripted answer(s) were never asked for")
    expected = scenario.expect.get("error")
    if (outcome.error is None) != (expected is None):
        raise SystemExit(f"{scenario.path}: expected {expected or 'success'}, got {outcome.error!r}")
    findings = scan(target, max_kb=MAX_KB, extra=CANARY_FORMS)
    if findings:
        target.unlink()
        raise SystemExit(f"refused {target}:\n" + "\n".join(map(str, findings)))
    print(f"wrote {target.relative_to(ROOT.parent)} ({target.stat().st_size} bytes, "
          f"{len(scenario.answers)} exchanges)")
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--live", action="store_true", help="call the real APIs (keys from the environment)")
    parser.add_argument("--only", help="record one adapter's cassettes")
    args = parser.parse_args()
    for scenario in SCENARIOS:
        if args.only in (None, scenario.adapter):
            record(scenario, args.live)


if __name__ == "__main__":
    main()
