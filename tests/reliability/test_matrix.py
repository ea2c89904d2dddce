"""docs/reliability.md cannot drift: its matrix must equal what ``matrix.py`` renders from the tests, and every
test of the suite must be a row of it (and every row a test)."""

from __future__ import annotations

import importlib

import pytest

from reliability import matrix


def test_committed_matrix_matches_the_tests() -> None:
    assert matrix.committed() == matrix.render(), (
        "docs/reliability.md is stale: run  python tests/reliability/matrix.py --write")


def test_every_suite_test_is_a_row_and_ids_are_unique() -> None:
    rows = matrix.rows()
    ids = [row.id for row in rows]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    tested = {row.test.split("::")[1].split("[")[0] for row in rows}
    for module_name in matrix.MODULES:
        module = importlib.import_module(module_name)
        functions = {name for name, value in vars(module).items() if name.startswith("test_") and callable(value)}
        missing = functions - tested
        assert missing == set(), f"{module_name}: tests without a matrix row: {sorted(missing)}"
    assert {row.area for row in rows} == set(matrix.AREAS)


def test_every_row_names_an_existing_test() -> None:
    for row in matrix.rows():
        path, function = row.test.split("::")
        module = importlib.import_module(path.removeprefix("tests/").removesuffix(".py").replace("/", "."))
        assert callable(getattr(module, function.split("[")[0], None)), row


@pytest.mark.parametrize("flag", ["--check"])
def test_script_check_mode(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert matrix.main(["matrix.py", flag]) == 0
    assert "matches the tests" in capsys.readouterr().out
