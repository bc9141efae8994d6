"""The shape of the code: arrows one way (docs/architecture.md).

Read from the source with `ast`, nothing imported, so a bad import fails here by name rather
than somewhere later as a half-initialised module. The layers, outermost first:

    bot  →  handlers  →  handlers.views  →  factdb

A layer imports only layers to its right; `factdb` (the domain) imports no Telegram. The Bot API
emulator is a test double: the product never imports it at module level, and only the offline
demo (bot/demo.py) imports it at all, inside a function.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("bot", "handlers", "factdb")
# Outermost first: each may import those after it, never one before it.
LAYERS = ("bot", "handlers", "handlers.views", "factdb")
EMULATOR = ("bot.emulator", "tests.emulator")
EMULATOR_ALLOWED_IN = {"bot.demo"}  # lazily, inside a function
DOMAIN_MUST_NOT_IMPORT = ("bot", "handlers", "telegram")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the module imported (a submodule when `from pkg import sub` names one)
    line: int
    top_level: bool  # runs when the module is imported (not inside a function or TYPE_CHECKING)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, top_level: bool):
    """Every import statement below `node`, with whether it runs at import time."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, top_level
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) or (
            isinstance(child, ast.If) and _is_type_checking(child.test)
        ):
            yield from _walk(child, False)
        else:
            yield from _walk(child, top_level)


def imports_of(path: Path, root: Path, modules: set[str]) -> list[Import]:
    """The imports of one file, resolved against the modules of the tree (`modules`)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    for node, top in _walk(ast.parse(path.read_text(encoding="utf-8"), str(path)), True):
        if isinstance(node, ast.Import):
            found += [Import(name, alias.name, node.lineno, top) for alias in node.names]
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join([*anchor, *([base] if base else [])])
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            found.append(Import(name, sub if sub in modules else base, node.lineno, top))
    return found


def scan(root: Path, packages: tuple[str, ...] = (*PRODUCT, "tests.emulator")) -> list[Import]:
    files = [
        p
        for pkg in packages
        if (root / pkg.replace(".", "/")).is_dir()
        for p in sorted((root / pkg.replace(".", "/")).rglob("*.py"))
    ]
    modules = {module_name(p, root) for p in files}
    # `from a import b, c` is one import of `a` when neither is a module: counted once
    return list(dict.fromkeys(imp for p in files for imp in imports_of(p, root, modules)))


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer_of(module: str) -> str | None:
    matches = [layer for layer in LAYERS if within(module, layer)]
    return max(matches, key=len) if matches else None


def layer_violations(found: list[Import]) -> list[str]:
    """Imports that point outwards (or sideways) between layers."""
    bad = []
    for imp in found:
        src, dst = layer_of(imp.source), layer_of(imp.target)
        if src is None or dst is None or src == dst or any(within(imp.source, e) for e in EMULATOR):
            continue
        if LAYERS.index(dst) < LAYERS.index(src):
            bad.append(f"{imp.source}:{imp.line} imports {imp.target} ({src} → {dst} points back)")
    return bad


def package_cycles(found: list[Import]) -> list[str]:
    """Pairs of layers that import each other (directly, by any import, lazy ones included)."""
    edges = {(layer_of(i.source), layer_of(i.target)) for i in found}
    return sorted(f"{a} ↔ {b}" for a, b in edges if a and b and a < b and (b, a) in edges and a != b)


def module_cycles(found: list[Import]) -> list[list[str]]:
    """Strongly connected groups of modules through imports that run at import time."""
    graph: dict[str, set[str]] = {}
    for imp in found:
        if imp.top_level and imp.source != imp.target:
            graph.setdefault(imp.source, set()).add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def domain_violations(found: list[Import]) -> list[str]:
    return [
        f"{i.source}:{i.line} imports {i.target}"
        for i in found
        if within(i.source, "factdb") and any(within(i.target, p) for p in DOMAIN_MUST_NOT_IMPORT)
    ]


def emulator_violations(found: list[Import]) -> list[str]:
    bad = []
    for i in found:
        if any(within(i.source, e) for e in EMULATOR) or not any(within(i.target, e) for e in EMULATOR):
            continue
        if i.top_level or i.source not in EMULATOR_ALLOWED_IN:
            how = "at module level" if i.top_level else "outside the demo"
            bad.append(f"{i.source}:{i.line} imports the emulator ({i.target}) {how}")
    return bad


@pytest.fixture(scope="module")
def found() -> list[Import]:
    return scan(ROOT)


def test_layers_point_one_way(found: list[Import]) -> None:
    assert layer_violations(found) == []


def test_no_two_packages_import_each_other(found: list[Import]) -> None:
    assert package_cycles(found) == []


def test_no_import_cycle_between_modules(found: list[Import]) -> None:
    assert module_cycles(found) == []


def test_the_domain_knows_no_telegram_and_no_bot(found: list[Import]) -> None:
    assert domain_violations(found) == []


def test_the_product_does_not_import_the_emulator(found: list[Import]) -> None:
    assert emulator_violations(found) == []


def test_the_checks_catch_what_they_are_for(tmp_path: Path) -> None:
    """A small tree with every fault: each check names it (a check that cannot fail checks nothing)."""
    files = {
        "bot/__init__.py": "",
        "bot/app.py": "from handlers import router\n",
        "bot/emulator/__init__.py": "",
        "bot/demo.py": "def run():\n    from bot.emulator import x\n",
        "handlers/__init__.py": "",
        "handlers/router.py": "from bot import app\nfrom bot.emulator import y\n",
        "handlers/common.py": "from handlers.views import texts\n",
        "handlers/views/__init__.py": "",
        "handlers/views/texts.py": "from handlers import router\n",
        "factdb/__init__.py": "",
        "factdb/a.py": "from factdb import b\nimport telegram\n",
        "factdb/b.py": "from . import a\n",
        "factdb/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from factdb import d\n",
        "factdb/d.py": "from factdb import c\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = scan(tmp_path)
    assert layer_violations(found) == [
        "handlers.router:1 imports bot.app (handlers → bot points back)",
        "handlers.router:2 imports bot.emulator (handlers → bot points back)",
        "handlers.views.texts:1 imports handlers.router (handlers.views → handlers points back)",
    ]
    assert package_cycles(found) == ["bot ↔ handlers", "handlers ↔ handlers.views"]
    # a TYPE_CHECKING import does not run: c ↔ d is no cycle
    assert module_cycles(found) == [["bot.app", "handlers.router"], ["factdb.a", "factdb.b"]]
    assert domain_violations(found) == ["factdb.a:2 imports telegram"]
    assert emulator_violations(found) == [
        "handlers.router:2 imports the emulator (bot.emulator) at module level"
    ]
