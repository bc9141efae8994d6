"""Every catalog says everything the code says, with the same placeholders and the right plurals.

The reference is a fresh extraction from the source (what `scripts/i18n extract` would write), not
the committed template: a string added to the code and never extracted still fails here. Fix a
failure with `scripts/i18n update`, then translate what it left empty or marked fuzzy.
"""

from __future__ import annotations

import gettext
import string
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.config import Config
from handlers.views import i18n
from handlers.views.i18n import LANGUAGE_NAMES, Translator, negotiate

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "handlers" / "views" / "locales"
TEMPLATE = LOCALES / "crowdcheck.pot"
# The same keywords as scripts/i18n: t._("…"), N_("…"), t.ngettext("…", "…", n).
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}

# gettext's plural rules (not CLDR's: Lithuanian has a fourth CLDR category, for fractions only).
PLURAL_FORMS = {
    "zh_TW": "nplurals=1; plural=0;",
    "es": "nplurals=2; plural=(n != 1);",
    "lt": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && (n%100<10 || n%100>=20) ? 1 : 2);",
}
# Which form each count takes: the rule must pick these, whatever its spelling.
PLURAL_SAMPLES = {
    "zh_TW": {0: 0, 1: 0, 2: 0, 11: 0, 21: 0},
    "es": {0: 1, 1: 0, 2: 1, 11: 1, 21: 1, 101: 1},
    "lt": {0: 2, 1: 0, 2: 1, 9: 1, 10: 2, 11: 2, 12: 2, 19: 2, 20: 2, 21: 0, 22: 1, 101: 0, 111: 2, 112: 2},
}


def catalog_dirs() -> list[str]:
    return sorted(p.parent.parent.name for p in LOCALES.glob("*/LC_MESSAGES/crowdcheck.po"))


CATALOGS = catalog_dirs()


@cache
def source_messages() -> dict[str, str | None]:
    """msgid -> msgid_plural (None for singular-only), straight from the code."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str, str | None] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        if isinstance(message, tuple):
            found[message[0]] = message[1]
        else:
            found.setdefault(message, None)
    return found


@cache
def catalog(lang: str) -> Catalog:
    with (LOCALES / lang / "LC_MESSAGES" / "crowdcheck.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def placeholders(text: str) -> set[str]:
    """The `{…}` fields of a str.format string, e.g. {"name", "n"} (a stray brace raises)."""
    fields = set()
    for _literal, name, spec, conversion in string.Formatter().parse(text):
        if name is not None:
            fields.add(name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else ""))
    return fields


def forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, list | tuple) else [message.string]


def test_the_source_has_strings_to_translate() -> None:
    found = source_messages()
    assert "Done! I'll write to you in English from now on." in found
    assert "False" in found  # N_() in handlers/views/texts.py
    assert found["{n} request"] == "{n} requests"  # ngettext keeps both forms


def test_the_committed_template_matches_the_source() -> None:
    with TEMPLATE.open("rb") as fh:
        template = read_po(fh)
    in_template = {m.id[0] if isinstance(m.id, tuple) else m.id for m in template if m.id}
    assert in_template == set(source_messages()), "run scripts/i18n update"


@pytest.mark.parametrize("lang", CATALOGS)
def test_every_message_is_translated(lang: str) -> None:
    cat = catalog(lang)
    missing, fuzzy, untranslated, wrong_count = [], [], [], []
    for msgid, plural in source_messages().items():
        message = cat.get(msgid)
        if message is None:
            missing.append(msgid)
        elif message.fuzzy:
            fuzzy.append(msgid)
        elif not all(s.strip() for s in forms(message)):
            untranslated.append(msgid)
        elif plural is not None and (not message.pluralizable or len(forms(message)) != cat.num_plurals):
            wrong_count.append(msgid)
    problems = {
        "missing": missing,
        "fuzzy (check and translate again)": fuzzy,
        "empty": untranslated,
        f"not {cat.num_plurals} plural forms": wrong_count,
    }
    assert not any(problems.values()), f"{lang}: run scripts/i18n update, then translate: " + repr(
        {k: v for k, v in problems.items() if v}
    )


@pytest.mark.parametrize("lang", CATALOGS)
def test_placeholders_and_markup_survive_translation(lang: str) -> None:
    """`{name}` in the English must be `{name}` in every form of the translation, nothing more,
    and a translation must not add HTML-special characters (replies are sent as Telegram HTML)."""
    wrong = []
    for message in catalog(lang):
        if not message.id or not any(forms(message)):
            continue
        ids = list(message.id) if isinstance(message.id, tuple) else [message.id]
        expected = set().union(*(placeholders(i) for i in ids))
        for n, text in enumerate(forms(message)):
            if not text:
                continue
            try:
                got = placeholders(text)
            except ValueError as exc:
                wrong.append((ids[0], n, f"broken braces: {exc}"))
                continue
            if got != expected:
                wrong.append((ids[0], n, f"{sorted(got)} instead of {sorted(expected)}"))
            for char in "<>&":
                if char in text and not any(char in i for i in ids):
                    wrong.append((ids[0], n, f"adds {char!r}, which breaks Telegram HTML"))
    assert not wrong, f"{lang}: " + "\n".join(map(repr, wrong))


@pytest.mark.parametrize("lang", CATALOGS)
def test_plural_forms_header_is_right(lang: str) -> None:
    cat = catalog(lang)
    expected = PLURAL_FORMS.get(lang) or Catalog(locale=lang).plural_forms
    assert cat.plural_forms == expected
    rule = gettext.c2py(cat.plural_expr)
    for n, form in PLURAL_SAMPLES.get(lang, {}).items():
        assert rule(n) == form, f"{lang}: {n} should take plural form {form}"


@pytest.mark.parametrize("lang", CATALOGS)
def test_the_running_bot_picks_the_right_plural_form(lang: str) -> None:
    """Through handlers.views.i18n, which compiles the .po at start-up: the header reaches gettext."""
    t = Translator(lang.replace("_", "-"), tuple(c.replace("_", "-") for c in CATALOGS))
    message = catalog(lang).get("{n} request")
    rule = gettext.c2py(catalog(lang).plural_expr)
    for n in (1, 2, 5, 11, 21, 22):
        assert t.ngettext("{n} request", "{n} requests", n) == forms(message)[rule(n)]


@pytest.mark.parametrize("lang", CATALOGS)
def test_choosing_a_language_confirms_it_by_its_own_name(lang: str) -> None:
    """The Spanish for "…in English from now on" says español, not English."""
    said = catalog(lang).get("Done! I'll write to you in English from now on.").string
    own_name = Locale.parse(lang).get_language_name(lang)
    assert "English" not in said
    assert own_name[:5].casefold() in said.casefold(), f"{lang}: {said!r} should name {own_name!r}"


def test_spanish_is_spanish() -> None:
    t = Translator("es")
    assert t._("Which language should I use?") == "¿En qué idioma te escribo?"
    assert t._("False") == "Falso"
    assert t.ngettext("{n} request", "{n} requests", 3).format(n=3) == "3 consultas"
    assert Translator("pt")._("False") == "False"  # no catalog: the English source


def test_verdict_labels_use_each_languages_fact_checking_terms() -> None:
    assert [Translator("zh-TW")._(v) for v in ("False", "Misleading", "Missing context", "True")] == [
        "錯誤",
        "誤導",
        "缺乏脈絡",
        "正確",
    ]
    assert Translator("lt")._("Missing context") == "Trūksta konteksto"
    assert Translator("es")._("Satire") == "Sátira"


@pytest.mark.parametrize(
    ("telegram", "catalog_tag"),
    [
        ("zh-tw", "zh-TW"),
        ("zh-TW", "zh-TW"),
        ("zh_TW", "zh-TW"),
        ("zh-Hant", "zh-TW"),
        ("zh-hant", "zh-TW"),
        ("zh-HK", "zh-TW"),
        ("zh", "zh-TW"),  # Simplified readers read Traditional better than English
        ("es", "es"),
        ("es-AR", "es"),
        ("es-419", "es"),
        ("lt", "lt"),
        ("lt-LT", "lt"),
        ("en-GB", "en"),
        ("pt", "en"),
        ("pt-BR", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_a_telegram_language_finds_its_catalog(telegram: str | None, catalog_tag: str) -> None:
    assert negotiate(telegram) == catalog_tag
    assert negotiate(telegram, Config.locales) == catalog_tag


def test_a_language_not_enabled_falls_back_to_english() -> None:
    assert negotiate("lt-LT", ("en", "es")) == "en"
    assert Translator("lt", ("en", "es"))._("False") == "False"


@pytest.mark.parametrize("lang", CATALOGS)
def test_every_catalog_can_be_chosen_in_slash_language(lang: str) -> None:
    """A catalog nobody can pick is dead weight: it needs its name for /language, and to be on
    by default (docs/i18n.md, "Adding a language")."""
    tag = lang.replace("_", "-")
    assert tag in i18n.available()
    assert tag in LANGUAGE_NAMES, f"add {tag!r} with its own name to handlers.views.i18n.LANGUAGE_NAMES"
    assert tag in Config.locales, f"add {tag!r} to the default locales in bot/config.py"


@pytest.mark.parametrize(
    ("lang", "past", "future_guard"),
    [("en", "47 seconds ago", "in "), ("es", "hace 47 segundos", "dentro de")],
)
def test_a_time_in_the_past_reads_as_ago(lang: str, past: str, future_guard: str) -> None:
    now = datetime(2026, 5, 1, 12, 0, 47, tzinfo=UTC)
    t = Translator(lang)
    assert t.ago(now - timedelta(seconds=47), now) == past
    # A moment ahead of this worker's clock (written by another worker) is not the future.
    assert future_guard not in t.ago(now + timedelta(seconds=2), now)
