"""``imgsdk batch``: a manifest per result or error, broken lines reported and skipped, --resume never pays twice
(poll jobs recorded before polling are resumed, not resubmitted), Ctrl-C and crashes leave a usable manifest."""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

import imgsdk
from delivery.fakes import FakeServer, ok
from delivery.support import no_sleep, png_bytes
from imgsdk.cli.batch import MANIFEST, Manifest, read_items, run_batch

CONFIG = {"providers": {"fake": {"model": "delivery-fake:one", "max_concurrency": 4}}, "default": "fake"}


def args(tmp_path: Path, *, resume: bool = False, concurrency: int = 2, provider: str | None = None) -> Any:
    return argparse.Namespace(file=str(tmp_path / "prompts.jsonl"), out=str(tmp_path / "out"), provider=provider,
                              concurrency=concurrency, resume=resume, config=None, strict=False)


def write_lines(tmp_path: Path, *lines: Any) -> None:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    (tmp_path / "prompts.jsonl").write_text(text + "\n", encoding="utf-8")


def records(tmp_path: Path) -> list[dict[str, Any]]:
    return list(Manifest.read(tmp_path / "out" / MANIFEST))


def fail_prompt(bad: str) -> Any:
    def answer(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return (400, {"error": "refused"}) if body["prompt"] == bad else ok(body)
    return answer


def test_three_of_four_succeed_three_images_saved_one_error_reported(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    write_lines(tmp_path, {"id": "fox", "prompt": "a {{ animal }}", "vars": {"animal": "fox"}},
                {"id": "owl", "prompt": "an owl", "options": {"style": "vivid"}},
                "{this line is broken",
                {"id": "bad", "prompt": "refuse me"},
                {"prompt": "a heron", "seed": 7})
    server = FakeServer(fail_prompt("refuse me"))
    with imgsdk.Client(CONFIG, transport=server.transport(), sleep=no_sleep) as client:
        code = run_batch(args(tmp_path), client=client)
    assert code == 2  # a broken line (2) and a rejected request (2)
    err = capsys.readouterr().err
    assert "prompts.jsonl:3: skipped" in err  # the broken line, by number; the batch went on
    by_id = {record["id"]: record for record in records(tmp_path)}
    assert sorted(record["status"] for record in by_id.values()) == ["done", "done", "done", "error"]
    assert by_id["bad"]["error"]["type"] == "RequestRejectedError"
    saved = sorted(p.name for p in (tmp_path / "out").iterdir() if p.suffix == ".png")
    assert len(saved) == 3 and "fox_1.png" in saved and "owl_1.png" in saved
    assert by_id["fox"]["paths"] == ["fox_1.png"] and by_id["fox"]["provider"] == "delivery-fake:one"
    assert by_id["fox"]["cost_usd"] == 0.01 and by_id["fox"]["warnings"] == ["the provider shortened the prompt"]
    assert {body["prompt"] for body in server.bodies} == {"a fox", "an owl", "refuse me", "a heron"}


def test_resume_skips_what_is_done_and_retries_errors(tmp_path: Path) -> None:
    write_lines(tmp_path, {"id": "a", "prompt": "first"}, {"id": "b", "prompt": "second"})
    server = FakeServer(fail_prompt("second"))
    with imgsdk.Client(CONFIG, transport=server.transport(), sleep=no_sleep) as client:
        assert run_batch(args(tmp_path), client=client) == 2
        with pytest.raises(imgsdk.ConfigError, match="--resume"):
            run_batch(args(tmp_path), client=client)  # never silently paid for again
        server.answer = ok
        assert run_batch(args(tmp_path, resume=True), client=client) == 0
    assert [body["prompt"] for body in server.bodies].count("first") == 1
    assert [r["status"] for r in records(tmp_path) if r["id"] == "b"] == ["error", "done"]


def test_read_items_reports_broken_lines_by_number(tmp_path: Path) -> None:
    write_lines(tmp_path, {"prompt": "ok"}, "[1, 2]", {"prompt": ""}, {"prompt": "x", "colour": "red"},
                {"id": "same", "prompt": "a"}, {"id": "same", "prompt": "b"}, "", {"prompt": "ok"})
    items, broken = read_items(tmp_path / "prompts.jsonl")
    assert [number for number, _ in broken] == [2, 3, 4, 6]
    assert "unknown key 'colour'" in broken[2][1] and "already used on line 5" in broken[3][1]
    assert len(items) == 3 and items[0].id != items[2].id  # identical lines get distinct ids


def test_a_torn_last_manifest_line_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / MANIFEST).write_text('{"id": "a", "status": "done", "paths": []}\n{"id": "b", "sta',
                                             encoding="utf-8")
    assert [record["id"] for record in records(tmp_path)] == ["a"]


# -- submit-and-poll providers: the job is recorded before polling and resumed, never resubmitted -------------------

def bfl_wire(interrupt_polls: bool, counts: dict[str, int]) -> httpx2.MockTransport:
    png = png_bytes(8, 8)

    def handler(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        counts[path] = counts.get(path, 0) + 1
        if request.method == "POST":
            return httpx2.Response(200, json={"id": "task-1", "polling_url": "https://api.bfl.ai/v1/get_result?id=task-1",
                                              "cost": 4})
        if path == "/v1/get_result":
            if interrupt_polls:
                raise KeyboardInterrupt  # Ctrl-C while polling: the job is paid for, not finished
            return httpx2.Response(200, json={"status": "Ready", "result": {
                "sample": "https://delivery.bfl.example/sample.jpeg", "seed": 5}})
        return httpx2.Response(200, content=png, headers={"content-type": "image/png"})

    return httpx2.MockTransport(handler)


def test_a_poll_job_interrupted_while_polling_is_resumed_not_resubmitted(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BFL_API_KEY", "bfl-test-key-0123456789")
    write_lines(tmp_path, {"id": "flux", "prompt": "a fox in snow"})
    counts: dict[str, int] = {}
    with imgsdk.Client({}, transport=bfl_wire(True, counts), sleep=no_sleep) as client, \
            pytest.raises(KeyboardInterrupt):
        run_batch(args(tmp_path, provider="bfl:flux-pro-1.1"), client=client)
    [submitted] = records(tmp_path)
    assert submitted["status"] == "submitted" and submitted["job"]["job_id"] == "task-1"
    assert counts == {"/v1/flux-pro-1.1": 1, "/v1/get_result": 1}
    with imgsdk.Client({}, transport=bfl_wire(False, counts), sleep=no_sleep) as client:
        assert run_batch(args(tmp_path, resume=True, provider="bfl:flux-pro-1.1"), client=client) == 0
    assert counts["/v1/flux-pro-1.1"] == 1  # paid once: the resume polled the recorded job
    done = records(tmp_path)[-1]
    assert done["status"] == "done" and done["paths"] == ["flux_r1_1.png"]
    assert (tmp_path / "out" / "flux_r1_1.png").read_bytes()[:4] == b"\x89PNG"
    assert done["cost_usd"] == 0.04


def test_a_resumed_fan_out_asks_again_only_for_the_seeds_never_submitted(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """n=3 with seed 100 on a one-image-per-call poll model is three calls with seeds 100, 101 and 102. The crash
    left call 1 (seed 101) submitted: the resume polls it, and submits 100 and 102, not 100 and 101 again."""
    monkeypatch.setenv("BFL_API_KEY", "bfl-test-key-0123456789")
    write_lines(tmp_path, {"id": "flux", "prompt": "a fox in snow", "n": 3, "seed": 100})
    (tmp_path / "out").mkdir()
    job = {"adapter": "bfl", "model": "flux-pro-1.1", "job_id": "task-1", "index": 1, "n": 1, "seed": 101,
           "data": {"polling_url": "https://api.bfl.ai/v1/get_result?id=task-1"}}
    (tmp_path / "out" / MANIFEST).write_text(json.dumps({"id": "flux", "line": 1, "status": "submitted",
                                                         "job": job}) + "\n", encoding="utf-8")
    seeds: list[int] = []
    counts: dict[str, int] = {}
    wire = bfl_wire(False, counts)

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.method == "POST":
            seeds.append(json.loads(request.read())["seed"])
        return wire.handle_request(request)

    with imgsdk.Client({}, transport=httpx2.MockTransport(handler), sleep=no_sleep) as client:
        assert run_batch(args(tmp_path, resume=True, provider="bfl:flux-pro-1.1"), client=client) == 0
    assert sorted(seeds) == [100, 102]
    assert counts["/v1/get_result"] == 3  # the recorded job and the two new ones, each polled once
    done = records(tmp_path)[-1]
    assert done["status"] == "done" and len(done["paths"]) == 3 == len(set(done["paths"]))
    submitted = [record["job"] for record in records(tmp_path) if record["status"] == "submitted"][1:]
    assert sorted((job["index"], job["seed"]) for job in submitted) == [(0, 100), (0, 102)]


@pytest.mark.parametrize(("jobs", "missing", "asked"), [
    ([{"seed": 101, "n": 1}], 3, [(1, 100), (2, 102)]),                  # call 1 of four done: 100, then 102-103
    ([{"seed": 100, "n": 1}, {"seed": 101, "n": 1}], 2, [(2, 102)]),    # a 1-per-call fallback's jobs
    ([{"seed": 100, "n": 2}], 2, [(2, 102)]),                            # one call of 2 images done
    ([{"seed": 100, "n": 2}], 3, [(3, 102)]),   # 2 slots covered, 1 image came back: from the next slot
    ([{"seed": 100, "n": 1}, {"seed": 100, "n": 1}], 3, [(3, 101)]),  # the same job twice: no slot twice
    ([{"seed": None, "n": 1}], 3, [(3, 100)]),  # an older manifest without seeds: the count
])
def test_resume_asks_for_the_seed_slots_no_job_covers(jobs: list[dict[str, Any]], missing: int,
                                                       asked: list[tuple[int, int]]) -> None:
    """A line of n=4 with seed 100: image i has seed slot 100 + i."""
    from imgsdk.cli.batch_manifest import still_wanted

    wanted = still_wanted({"n": 4, "seed": 100}, jobs, missing, 4, 100)
    assert [(options["n"], options["seed"]) for options in wanted] == asked


def test_resume_takes_n_and_seed_from_the_profile_when_the_line_has_none() -> None:
    from imgsdk.cli.batch_manifest import effective_n_and_seed, still_wanted

    assert effective_n_and_seed({}, {"n": 3, "seed": 42}) == (3, 42)
    assert effective_n_and_seed({"n": 2}, {"n": 3, "seed": 42}) == (2, 42)
    assert effective_n_and_seed({}, {}) == (1, None)
    assert effective_n_and_seed({"seed": None, "n": None}, {"n": 2, "seed": 100}) == (2, 100)  # null: not set
    assert still_wanted({}, [{"seed": 42, "n": 1}], 2, 3, 42) == [{"n": 2, "seed": 43}]


def test_b64_answers_use_base64_in_the_batch_too(tmp_path: Path) -> None:
    """The local renderer through the CLI (no client injected): the real entry point, offline."""
    from imgsdk.cli import main

    write_lines(tmp_path, {"id": "one", "prompt": "a red fox", "size": "64x64", "n": 2})
    code = main(["batch", str(tmp_path / "prompts.jsonl"), "--out", str(tmp_path / "out"), "-p", "local:placeholder"])
    assert code == 0
    [done] = records(tmp_path)
    assert done["paths"] == ["one_1.png", "one_2.png"]
    assert base64.b64encode((tmp_path / "out" / "one_2.png").read_bytes())[:8] == b"iVBORw0K"
