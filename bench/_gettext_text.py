"""Real human-translated text available offline: the machine's gettext catalogs.

Debian installs its programs' message catalogs under /usr/share/locale/<lang>/LC_MESSAGES/*.mo
(coreutils, apt, systemd, glib, GTK, PostgreSQL, ...). Each maps an English message (msgid) to
a translator's rendering (msgstr), so they are both a monolingual corpus per language and a
parallel English↔X corpus. They are software messages, not rumours: the register differs, but
the words, the spelling and the script are real. The texts are read at run time and never
copied into this repository (each catalog keeps its own package's licence).
"""

from __future__ import annotations

import gettext
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["CATALOG_DIRS", "DOMAINS", "Message", "is_heldout_domain", "load_messages"]

LOCALE_ROOT = Path("/usr/share/locale")

# Our language tags -> the catalog folders that hold that language.
CATALOG_DIRS: dict[str, tuple[str, ...]] = {
    "es": ("es",),
    "lt": ("lt",),
    "zh-TW": ("zh_TW",),
    "zh-CN": ("zh_CN",),
    "pt": ("pt", "pt_BR"),
    "it": ("it",),
    "ca": ("ca",),
    "lv": ("lv",),
    "pl": ("pl",),
}

# Catalogs of names (countries, languages, currencies, keyboard layouts) are mostly proper
# nouns shared across languages: no evidence of the language they are listed under.
_SKIP_DOMAINS = re.compile(r"^(iso_|xkeyboard-config|shared-mime-info)")
_FORMAT_RE = re.compile(
    r"%[-+ #0-9.*]*(?:l|ll|h|z|j|t|L)?[a-zA-Z%]|%\([a-z_]+\)[sd]|\{[^}]*\}|<[^>]*>|\$\{?\w+\}?"
)
_MNEMONIC_RE = re.compile(r"(?<=\w)_(?=\w)|^_|&(?=\w)")
_SPACE_RE = re.compile(r"\s+")
# Lines that are code, options, paths or key names rather than prose.
_CODE_RE = re.compile(r"--|::|=|/\w|\\|\w\.\w+\(|[<>|@#]|^\W")

# The catalogs the sets were built from (those installed here on 2026-12-07): installing a
# package adds catalogs and would change every set built from them (chromium's dependencies
# did, at 06:47 that day: gtk30, libsecret, system-config-printer, ...), so the figures in the
# docs could no longer be reproduced. Only these domains are read.
DOMAINS = frozenset({
    "Linux-PAM", "PackageKit", "adduser", "appstream", "apt", "at-spi2-core", "avahi", "bash",
    "bfd", "binutils", "coreutils", "diffutils", "dpkg", "dpkg-dev", "elfutils", "findutils",
    "gas", "gawk", "gdk-pixbuf", "gettext-runtime", "gettext-tools", "git", "glib20", "gnupg2",
    "gnutls30", "gold", "gprof", "grep", "gsettings-desktop-schemas", "gstreamer-1.0", "gtk20",
    "gtk20-properties", "initdb-15", "ld", "libapt-pkg6.0", "libc", "libidn2", "libpq5-15",
    "make", "man-db", "man-db-gnulib", "net-tools", "opcodes", "pg_amcheck-15",
    "pg_archivecleanup-15", "pg_basebackup-15", "pg_checksums-15", "pg_config-15",
    "pg_controldata-15", "pg_ctl-15", "pg_dump-15", "pg_resetwal-15", "pg_rewind-15",
    "pg_test_fsync-15", "pg_test_timing-15", "pg_upgrade-15", "pg_verifybackup-15",
    "pg_waldump-15", "pgscripts-15", "plpgsql-15", "polkit-1", "popt", "postgres-15", "procps-ng",
    "psmisc", "psql-15", "python-apt", "sed", "shadow", "software-properties", "systemd", "tar",
    "wget", "wget-gnulib", "xdg-user-dirs", "xz", "zvbi",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Message:
    domain: str  # the catalog, e.g. "coreutils"
    source: str  # the English msgid, cleaned
    text: str  # the translation, cleaned


def clean(text: str) -> str:
    """The message as prose: no printf/brace placeholders, markup or menu mnemonics."""
    text = _FORMAT_RE.sub(" ", text)
    text = _MNEMONIC_RE.sub("", text)
    return _SPACE_RE.sub(" ", text).strip(" :.,;-\u3000")


def _prose(text: str, min_letters: int) -> bool:
    letters = sum(ch.isalpha() for ch in text)
    return letters >= min_letters and not _CODE_RE.search(text) and letters >= 0.6 * len(text)


def is_heldout_domain(domain: str) -> bool:
    """A quarter of the catalogs, fixed by name: never looked at while tuning."""
    return hashlib.sha1(domain.encode()).digest()[0] % 4 == 0


def _catalog(path: Path) -> dict[object, object]:
    try:
        with path.open("rb") as f:
            return gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    except (OSError, UnicodeDecodeError, ValueError):  # a broken or non-UTF-8 catalog
        return {}


@lru_cache(maxsize=16)  # English comes from the es catalogs: read once
def load_messages(lang: str, min_letters: int = 3) -> list[Message]:
    """Every distinct translated prose message of `lang` (one of CATALOG_DIRS), sorted."""
    seen: set[str] = set()
    out: list[Message] = []
    for folder in CATALOG_DIRS[lang]:
        for mo in sorted((LOCALE_ROOT / folder / "LC_MESSAGES").glob("*.mo")):
            domain = mo.stem
            if _SKIP_DOMAINS.match(domain) or domain not in DOMAINS:
                continue
            for key, value in _catalog(mo).items():
                if not isinstance(key, str) or not isinstance(value, str) or not key:
                    continue  # plural forms and the header
                source = clean(key.split("\x04")[-1])  # drop a msgctxt
                text = clean(value)
                if text == source or text in seen or "\n" in value.strip():
                    continue  # untranslated, duplicate, or a multi-line help text
                if not (_prose(text, min_letters) and _prose(source, min_letters)):
                    continue
                seen.add(text)
                out.append(Message(domain, source, text))
    return out
