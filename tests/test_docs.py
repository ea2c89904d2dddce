"""The documentation cannot drift from the code: generated pages are fresh, examples run, links resolve.

- ``docs/capabilities.md`` is exactly ``imgsdk models --markdown``; every ``<!-- generated: ... -->`` part of
  a page is what ``docs/_tools/generate.py`` computes now (refresh both with ``python docs/_tools/generate.py``).
- Getting started: every ``imgsdk ...`` command and every Python snippet runs offline in a fresh directory
  (the section about adding a real key is the one part that needs a key, so it is not run). Elsewhere, every
  Python snippet that uses only the offline renderer runs too.
- The adapter guide's example adapter passes the conformance suite; every TOML example loads as a config.
- Relative links (and their anchors) resolve, every page is in the nav, every shipped adapter has a page.
``mkdocs build --strict`` in CI checks the rest.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
import tomllib
import unicodedata
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(?P<lang>[\w-]*)(?P<attrs>[^\n]*)\n(?P<body>.*?)^```\s*$", re.DOTALL | re.MULTILINE)
# A provider other than the offline renderer (a provider= argument, or an "adapter:model" string), or a key.
NON_LOCAL = re.compile(r"""provider\s*=\s*["'](?!local)|["'](?:openai|azure|openai-compatible|stability|google|xai|"""
                       r"""together|bfl|replicate|fal|comfyui|automatic1111|acme):|azure\.identity|api_key""")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("imgsdk_docs_generate", DOCS / "_tools" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pages() -> list[Path]:
    return sorted(path for path in DOCS.rglob("*.md") if "_tools" not in path.parts)


def _blocks(text: str) -> list[tuple[str, str, str, str]]:
    """(language, title, body, the section heading above it) of every fenced block, in order."""
    found = []
    for match in FENCE.finditer(text):
        headings = re.findall(r"^##+ (.+)$", text[: match.start()], re.MULTILINE)
        title = re.search(r'title="([^"]+)"', match.group("attrs"))
        found.append((match.group("lang"), title.group(1) if title else "", match.group("body"),
                      headings[-1] if headings else ""))
    return found


def _environment(tmp_path: Path) -> dict[str, str]:
    """The machine of someone who just installed imgsdk: no key, no config, no proxy."""
    env = {key: value for key, value in os.environ.items()
           if not key.endswith(("_API_KEY", "_API_TOKEN", "_KEY", "_TOKEN", "_PROXY", "_proxy"))
           and not key.startswith("IMGSDK_")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    return env


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


# -- generated pages -------------------------------------------------------------------------------------
def test_the_committed_capability_matrix_is_what_imgsdk_models_markdown_prints(tmp_path: Path) -> None:
    printed = _run([sys.executable, "-m", "imgsdk.cli", "models", "--markdown"], tmp_path, _environment(tmp_path))
    assert printed.returncode == 0, printed.stderr
    committed = (DOCS / "capabilities.md").read_text(encoding="utf-8")
    assert printed.stdout == committed, (
        "docs/capabilities.md is stale: run `imgsdk models --markdown > docs/capabilities.md` "
        "(or python docs/_tools/generate.py) and commit it")
    assert committed.count("\n| ") > 60  # every model is a row, not just the header


def test_every_generated_part_of_the_docs_is_fresh() -> None:
    stale = _generator().stale_pages()
    assert not stale, (f"stale generated docs: {', '.join(str(p.relative_to(ROOT)) for p in stale)}; "
                       "run `python docs/_tools/generate.py` and commit the result")


def test_generated_blocks_hold_content() -> None:
    empty = [f"{path.relative_to(DOCS)}: {args}" for path in _pages()
             for args, body in re.findall(r"<!-- generated: ([^>]*) -->\n(.*?)<!-- /generated -->",
                                          path.read_text(encoding="utf-8"), re.DOTALL) if not body.strip()]
    assert not empty


# -- examples that run -----------------------------------------------------------------------------------
def _commands(body: str) -> list[list[str]]:
    """Every ``imgsdk ...`` command of a shell block (continuations joined, ``&&`` chains split)."""
    commands = []
    for line in body.replace("\\\n", " ").splitlines():
        for segment in line.split("&&"):
            words = shlex.split(segment, comments=True)
            if words[:1] == ["imgsdk"]:
                commands.append([sys.executable, "-m", "imgsdk.cli", *words[1:]])
    return commands


def test_getting_started_runs_on_a_fresh_machine(tmp_path: Path) -> None:
    env, ran = _environment(tmp_path), {"shell": 0, "python": 0}
    for lang, title, body, section in _blocks((DOCS / "getting-started.md").read_text(encoding="utf-8")):
        if "real key" in section.lower():
            assert "export " in body or "${" in body or NON_LOCAL.search(body) or lang == "toml", body
            continue  # the one part that needs a key (and the network)
        if lang == "toml" and title:
            (tmp_path / title).write_text(body, encoding="utf-8")
        elif lang in ("bash", "sh", "console"):
            for command in _commands(body):
                result = _run(command, tmp_path, env)
                assert result.returncode == 0, f"{shlex.join(command[2:])}\n{result.stdout}\n{result.stderr}"
                ran["shell"] += 1
        elif lang == "python":
            result = _run([sys.executable, "-c", body], tmp_path, env)
            assert result.returncode == 0, f"{body}\n{result.stderr}"
            ran["python"] += 1
    assert ran["shell"] >= 6 and ran["python"] >= 2, ran
    with Image.open(tmp_path / "fox.png") as fox, Image.open(tmp_path / "lighthouse.png") as lighthouse:
        assert fox.size == (1792, 1024)  # the last fox came from the config's default profile
        assert lighthouse.size == (1792, 1024)
    assert len(list((tmp_path / "boats").iterdir())) == 3
    assert (tmp_path / "compare.png").is_file() and (tmp_path / "compare.html").is_file()


@pytest.mark.parametrize("page", [p for p in _pages() if p.name != "getting-started.md"
                                  and any(lang == "python" for lang, *_ in _blocks(p.read_text("utf-8")))],
                         ids=lambda p: str(p.relative_to(DOCS)))
def test_offline_python_snippets_run(page: Path, tmp_path: Path) -> None:
    snippets = [body for lang, title, body, _ in _blocks(page.read_text(encoding="utf-8"))
                if lang == "python" and not title and not NON_LOCAL.search(body) and "await " not in body]
    if not snippets:
        pytest.skip("every Python snippet on this page needs a provider key")
    runner = ("import sys\nfor number, code in enumerate(sys.argv[1:], 1):\n"
              "    exec(compile(code, f'snippet {number}', 'exec'), {'__name__': '__main__'})\n")
    result = _run([sys.executable, "-c", runner, *snippets], tmp_path, _environment(tmp_path))
    assert result.returncode == 0, result.stderr


def test_the_adapter_guide_example_passes_the_conformance_suite(tmp_path: Path) -> None:
    files = {title: body for lang, title, body, _ in _blocks((DOCS / "guides" / "writing-an-adapter.md")
                                                             .read_text(encoding="utf-8"))
             if lang == "python" and title.endswith(".py")}
    assert set(files) == {"acme_imgsdk.py", "test_acme_contract.py"}
    for name, body in files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    env = dict(_environment(tmp_path), PYTHONPATH=str(tmp_path))
    result = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                   "test_acme_contract.py"], tmp_path, env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(r"\b9 passed\b", result.stdout), result.stdout[-500:]


def test_every_toml_example_is_a_valid_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from imgsdk.config import load_config

    checked = 0
    for page in _pages():
        for lang, title, body, _ in _blocks(page.read_text(encoding="utf-8")):
            if lang != "toml" or title == "pyproject.toml":
                continue
            for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", body):
                monkeypatch.setenv(name, "dummy-value-for-the-docs-test")
            try:
                load_config(tomllib.loads(body))
            except Exception as error:
                pytest.fail(f"{page.relative_to(DOCS)}: {type(error).__name__}: {error}\n{body}")
            checked += 1
    assert checked >= 20


# -- structure -------------------------------------------------------------------------------------------
def _slug(heading: str) -> str:
    """Python-Markdown's toc slug: ASCII, word characters, spaces and hyphens to single hyphens."""
    text = unicodedata.normalize("NFKD", re.sub(r"`", "", heading)).encode("ascii", "ignore").decode()
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", text).strip().lower())


def test_relative_links_and_anchors_resolve() -> None:
    broken = []
    for page in _pages():
        text = FENCE.sub("", page.read_text(encoding="utf-8"))
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists():
                broken.append(f"{page.relative_to(DOCS)}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", FENCE.sub("", resolved.read_text("utf-8")), re.MULTILINE)
                if anchor not in {_slug(h) for h in headings}:
                    broken.append(f"{page.relative_to(DOCS)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_every_page_is_in_the_nav_and_every_shipped_adapter_has_one() -> None:
    from imgsdk.cli.models import shipped_adapters

    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    missing = [str(page.relative_to(DOCS)) for page in _pages() if f" {page.relative_to(DOCS)}" not in nav]
    assert not missing, f"pages missing from the nav in mkdocs.yml: {missing}"
    for name in shipped_adapters():
        page = DOCS / "providers" / f"{name}.md"
        assert page.is_file(), f"adapter {name!r} has no page"
        text = page.read_text(encoding="utf-8")
        assert f"<!-- generated: models {name} -->" in text or f"<!-- generated: options {name} " in text
        assert "## Configuration" in text and "```toml" in text, f"{page.name} has no config example"


def test_the_profile_keys_table_lists_exactly_the_config_keys() -> None:
    from imgsdk.config import COMMON_KEYS

    text = (DOCS / "concepts" / "configuration.md").read_text(encoding="utf-8")
    table = text.split("## Profile keys", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE))
    assert documented == set(COMMON_KEYS), {"undocumented": set(COMMON_KEYS) - documented,
                                            "not a key": documented - set(COMMON_KEYS)}


def test_the_api_reference_covers_the_contract_modules() -> None:
    modules = ("errors", "capabilities", "request", "result", "adapter", "client", "config", "policy")
    for module in modules:
        page = DOCS / "reference" / f"{module}.md"
        assert f"::: imgsdk.{module}" in page.read_text(encoding="utf-8")


def test_every_source_tag_in_the_declarations_is_resolved() -> None:
    from imgsdk.cli.models import collect, shipped_adapters

    tags: set[str] = set()
    for _, caps in collect(None, shipped_adapters()):
        for text in (caps.price_source, caps.lifecycle.source, caps.lifecycle.note):
            tags |= set(re.findall(r"\[([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)", text or ""))
    resolved = set(re.findall(r"`([A-Z][A-Z0-9-]+)`", (DOCS / "providers" / "sources.md").read_text("utf-8")))
    assert tags and tags <= resolved, sorted(tags - resolved)

