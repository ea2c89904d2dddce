"""The manifest of ``imgsdk batch``: ``DIR/manifest.jsonl``, the append-only record that makes a batch resumable.

It holds the file name, :class:`Manifest` (each record written, flushed and fsync'd before the next, so a crash
leaves every finished line intact; a torn last line is skipped on reading) and the reading of a manifest back
into the state ``--resume`` needs (ids done, jobs submitted but not finished), and what a resumed line must still
ask for (:func:`still_wanted`). It is separate from
:mod:`imgsdk.cli.batch` because durability on disk is its own concern, independent of parsing the batch file
and running the requests; :mod:`imgsdk.cli.batch` imports ``MANIFEST`` and :class:`Manifest` back and still
exports them, so ``from imgsdk.cli.batch import MANIFEST, Manifest`` keeps working.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

__all__ = ["MANIFEST", "Manifest", "effective_n_and_seed", "still_wanted"]

MANIFEST = "manifest.jsonl"


class Manifest:
    """An append-only JSONL log; each record is written, flushed and fsync'd before the next."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stream: TextIO = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())

    @staticmethod
    def read(path: Path) -> Iterator[dict[str, Any]]:
        """Every complete record (a line torn by a crash, or garbage, is skipped)."""
        if not path.exists():
            return
        with open(path, encoding="utf-8") as stream:
            for text in stream:
                try:
                    record = json.loads(text)
                except ValueError:
                    continue
                if isinstance(record, dict) and "id" in record:
                    yield record

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            self._stream.write(line)
            self._stream.flush()
            os.fsync(self._stream.fileno())

    def close(self) -> None:
        self._stream.close()


def _state(path: Path) -> tuple[set[str], dict[str, list[dict[str, Any]]]]:
    """Ids already done, and the jobs submitted (not yet done) per id."""
    done: set[str] = set()
    jobs: dict[str, list[dict[str, Any]]] = {}
    for record in Manifest.read(path):
        ident, status = str(record["id"]), record.get("status")
        if status == "done":
            done.add(ident)
            jobs.pop(ident, None)
        elif status == "submitted" and isinstance(record.get("job"), dict):
            jobs.setdefault(ident, []).append(record["job"])
    return done, jobs


def effective_n_and_seed(options: dict[str, Any], defaults: Any) -> tuple[int, int | None]:
    """A line's ``n`` and ``seed``, else its profile's defaults (what the request will really use)."""
    n = options["n"] if options.get("n") is not None else defaults.get("n")  # null: not set, as in a request
    seed = options["seed"] if options.get("seed") is not None else defaults.get("seed")
    return (n if isinstance(n, int) and n > 0 else 1), (seed if isinstance(seed, int) else None)


def still_wanted(options: dict[str, Any], jobs: list[dict[str, Any]], missing: int, wanted: int,
                 seed: int | None) -> list[dict[str, Any]]:
    """The generate options that ask for what a line's resumed jobs do not cover.

    Nothing resumed: the line as it is. With a seed (the line's or its profile's), image *i* has seed slot
    ``seed + i`` (a fan-out gives call *k* the seed of its first image), and a resumed job covers ``n`` slots
    from its own seed: each run of slots no job covers is asked for with its first seed, so a resumed line ends
    with the images it would have had without the crash, not repeats of seeds already paid for. When the slots
    do not add up (a job returned fewer images than it covers), the missing count is asked for from the slot
    after the last one covered. Without a seed, or with jobs recorded without their call (an older manifest),
    the missing count.
    """
    if not jobs:
        return [dict(options)]
    if seed is None or any(job.get("seed") is None for job in jobs):
        return [dict(options, n=missing)]
    covered = {slot for job in jobs for slot in range(job["seed"], job["seed"] + int(job.get("n", 1)))}
    runs: list[list[int]] = []
    for slot in (slot for slot in range(seed, seed + wanted) if slot not in covered):
        if runs and runs[-1][-1] == slot - 1:
            runs[-1].append(slot)
        else:
            runs.append([slot])
    if sum(len(run) for run in runs) != missing:
        return [dict(options, n=missing, seed=max(covered) + 1)]
    return [dict(options, n=len(run), seed=run[0]) for run in runs]
