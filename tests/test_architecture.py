"""Package directions: adapters ← modern ← telepoints_compat ← migrations, composed in wsgi.py.

Every import statement of every module is parsed (including imports inside functions and
`TYPE_CHECKING` blocks); an arrow pointing the wrong way fails with the file and line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("adapters", "modern", "telepoints_compat", "migrations", "wsgi")
ALLOWED = {
    "adapters": set(),
    "modern": {"adapters"},
    "telepoints_compat": {"modern", "adapters"},
    "migrations": {"telepoints_compat", "modern", "adapters"},
}


def _imported_packages(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, name.split(".")[0]) for name in names
                  if name.split(".")[0] in OURS]
    return found


def _violations(package: str) -> list[str]:
    problems = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, target in _imported_packages(path):
            if target != package and target not in ALLOWED[package]:
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    return problems


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_follow_the_package_directions(package: str) -> None:
    assert _violations(package) == []


def test_the_checker_catches_a_wrong_arrow(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from telepoints_compat import soap\n")
    assert _imported_packages(module) == [(2, "telepoints_compat")]
