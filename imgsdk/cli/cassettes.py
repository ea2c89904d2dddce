"""``imgsdk cassettes check [DIR] [--max-kb N]``: credentials and oversized payloads in cassettes, for CI.

Prints one line per finding, ``file:line: what`` (a secret shows only its first four characters and its length),
and exits 1 when there is any, 0 when the cassettes are clean, 2 when there is nothing to check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["run_cassettes"]


def run_cassettes(args: argparse.Namespace) -> int:
    from imgsdk.testing.scan import cassette_files, scan

    root = Path(args.directory)
    if not root.exists():
        print(f"imgsdk: error: {root} does not exist: give the folder of your cassettes (default: cassettes)",
              file=sys.stderr)
        return 2
    files = cassette_files(root)
    if not files:
        print(f"imgsdk: error: no cassette (*.yaml, *.yml, *.json) under {root}", file=sys.stderr)
        return 2
    if args.max_kb is not None and args.max_kb < 1:
        print("imgsdk: error: --max-kb must be at least 1", file=sys.stderr)
        return 2
    findings = scan(root, max_kb=args.max_kb)
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} finding(s) in {len({f.path for f in findings})} of {len(files)} cassette(s): "
              "re-record through imgsdk.testing.vcr_config (it scrubs credentials and shrinks images), or remove "
              "the values by hand, then check again", file=sys.stderr)
        return 1
    print(f"{len(files)} cassette(s) checked: no credentials, none over {args.max_kb} KB")
    return 0
