"""The emulator is a test double: it lives beside the tests and never ships in the bot's wheel."""

from __future__ import annotations

import ast
import importlib.util
import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bot", "handlers", "factdb")


def test_the_product_package_has_no_emulator() -> None:
    import bot

    assert importlib.util.find_spec("tests.emulator") is not None
    # Look in the package's own folders: an editable install's finder may answer for
    # `bot.emulator` from another checkout.
    for package in PRODUCT:
        assert not list((ROOT / package).rglob("emulator*")), package
    assert not [path for path in bot.__path__ if (Path(path) / "emulator").exists()]


def test_the_wheel_holds_only_the_product_packages() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    shipped = find_packages(where=str(ROOT), include=include)
    assert "bot" in shipped and "handlers" in shipped and "factdb" in shipped
    assert not [name for name in shipped if name.split(".")[0] not in PRODUCT], shipped


def _module_level_imports(tree: ast.Module) -> list[str]:
    """Modules imported when the file is imported: top level and under `if`, not in functions
    (an import inside a function runs only when called) nor under `if TYPE_CHECKING:`."""
    found: list[str] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                pending.extend(node.body)
            pending.extend(node.orelse)
        elif isinstance(node, ast.Try | ast.With):
            pending.extend(node.body)
    return found


def test_no_product_module_imports_the_tests_when_imported() -> None:
    """Only the offline demo uses the emulator, and it imports it when it runs (bot/demo.py)."""
    offenders = []
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if any(name.split(".")[0] == "tests" for name in _module_level_imports(tree)):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
