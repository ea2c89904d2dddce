"""The manifest of ``imgsdk batch``: ``DIR/manifest.jsonl``, the append-only record that makes a batch resumable.

It holds the file name, :class:`Manifest` (each record written, flushed and fsync'd before the next, so a crash
leaves every finished line intact; a torn last line is skipped on reading) and the reading of a manifest back
into the state ``--resume`` needs (ids done, jobs submitted but not finished). It is separate from
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

__all__ = ["MANIFEST", "Manifest"]

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
