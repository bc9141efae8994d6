"""Validating one record: the contract's fields in, a Row ready to be written (or why not).

Runs in worker processes for big files (`normalize()` is the dominant cost of an import), so
`prepare` takes and returns only picklable values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from factdb.interchange import inert, ratings
from factdb.interchange.importer.report import Item, Problem
from factdb.language import detect_language, wait_for_models
from factdb.models import VERDICTS_NEEDING_SOURCES, Verdict
from factdb.normalize import normalize

MAX_TEXT = 4096  # Telegram's message limit: longer text cannot be shown to a citizen in one go
_VERDICTS = frozenset(v.value for v in Verdict)
_NEED_SOURCES = frozenset(v.value for v in VERDICTS_NEEDING_SOURCES)
_LANG_RE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


@dataclass(slots=True)
class Row:
    """A record that passed validation, ready to be written."""

    where: str
    external_id: str
    text: str
    normalized: str
    lang: str | None
    verdict: str | None  # None: a claim to check, imported as `new` without clarification
    summary: str
    url: str | None
    source_url: str | None
    sources: str  # JSON list
    published: datetime | None
    first_seen: datetime | None
    author: str | None
    # the headline of the partner's fact-check ("Did 122 prisoners … return to the battlefield?"),
    # a second wording the matcher finds the claim by; None when the record has none
    headline: str | None = None
    # the record carries a headline field (`title`/`headline`, even empty): only then does a
    # re-import change a stored headline, so a feed without titles does not erase them
    headline_given: bool = False


class BadRecord(ValueError):
    pass


def _str(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _name(value: object) -> str | None:
    """A person's or organisation's name from a string, {"name": …} or a list of those."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return _str(value)


_SPACES = re.compile(r"\s+")
HEADLINE_FIELDS = ("title", "headline")  # `title` as research data names it; `headline` as schema.org


def _headline(record: dict[str, Any], text: str) -> tuple[str | None, bool]:
    """(the cleaned headline or None, whether the record has the field at all)."""
    if not any(f in record for f in HEADLINE_FIELDS):
        return None, False
    value = next((v for v in (record.get(f) for f in HEADLINE_FIELDS) if _str(v) is not None), None)
    # A headline is one line: the line breaks and runs of spaces a scraped title brings are
    # layout, not words. Like the text it is stored as given otherwise (pages escape on output).
    headline = _SPACES.sub(" ", _str(value) or "").strip() or None
    if headline is not None and len(headline) > MAX_TEXT:
        raise BadRecord(f"title is {len(headline)} characters, over the limit of {MAX_TEXT}")
    if headline is not None and _SPACES.sub(" ", text) == headline:
        headline = None  # the claim's own words again: nothing the matcher does not index already
    return headline, True


def parse_datetime(value: object, what: str) -> datetime | None:
    text = _str(value)
    if text is None:
        return None
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadRecord(f"{what} {text!r} is not an ISO date such as 2024-05-31") from None
    # A time without zone is taken as UTC: the contract speaks of dates, not local times.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _lang(value: object) -> str | None:
    tag = _str(value)
    if tag is None:
        return None
    tag = tag.replace("_", "-")
    if not _LANG_RE.match(tag) or len(tag) > 16:
        raise BadRecord(f"lang {tag!r} is not a BCP 47 tag such as en or zh-TW")
    parts = tag.split("-")
    # Canonical casing (zh-tw → zh-TW, sr-latn → sr-Latn) so "the same language" compares equal.
    out = [parts[0].lower()]
    for p in parts[1:]:
        out.append(p.upper() if len(p) == 2 else p.title() if len(p) == 4 else p.lower())
    return "-".join(out)


def _web_url(value: object, what: str) -> str | None:
    """An http(s) address or None; any other scheme (javascript:, data:, file:) is refused, so it
    can never reach a ClaimReview url, appearance or citation we publish."""
    url = _str(value)
    if url is not None and not inert.is_web_url(url):
        shown = url if len(url) <= 60 else url[:59] + "…"
        raise BadRecord(f"{what} {shown!r} is not an http:// or https:// address")
    return url


def _sources(value: object, url: str | None) -> list[str]:
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("["):
            try:
                value = json.loads(value)
            except ValueError:
                raise BadRecord("sources is not a JSON list of URLs") from None
        else:  # CSV: URLs separated by spaces or new lines (URLs never contain either)
            value = value.split()
    if isinstance(value, list):
        found = [s for s in (_web_url(v, "source") for v in value) if s]
        if found:
            return list(dict.fromkeys(found))
    elif value is not None:
        raise BadRecord("sources must be a list of URLs")
    return [url] if url else []


def _verdict(record: dict[str, Any]) -> tuple[str | None, str | None]:
    """(our verdict, the partner's own label) from `verdict`, `rating` or a numeric rating."""
    raw = _str(record.get("verdict"))
    if raw is not None and raw in _VERDICTS:
        return raw, None
    label = raw or _str(record.get("rating"))
    best, worst = record.get("best_rating"), record.get("worst_rating")
    if label is not None:
        found = ratings.to_verdict(label) or ratings.from_number(label, best, worst)
        # A label no table knows may still come with a number on a scale (ClaimReview).
        found = found or ratings.from_number(record.get("rating_value"), best, worst)
        if found is None:
            raise BadRecord(
                f"unknown verdict {label!r}: use one of {', '.join(sorted(_VERDICTS))}, or add it "
                "to the file named by CROWDCHECK_RATINGS_FILE"
            )
        return found, label
    value = record.get("rating_value")
    if value is not None:
        found = ratings.from_number(value, best, worst)
        if found is None:
            raise BadRecord(f"rating value {value!r} is outside its scale")
        return found, None
    return None, None


def _summary(verdict: str, label: str | None, author: str | None, url: str | None) -> str:
    # A partner feed without summaries still has to say something useful in a chat bubble.
    line = f"Rated “{label or ratings.LABELS[verdict]}”"
    if author:
        line += f" by {author}"
    return f"{line}. Details: {url}" if url else f"{line}."


def to_row(where: str, record: object) -> Row:
    """Validate one flat record (the contract's fields, plus ClaimReview's extras)."""
    if not isinstance(record, dict):
        raise BadRecord("expected a JSON object with at least text and verdict")
    if "__problem__" in record:  # found while reading a ClaimReview feed
        raise BadRecord(str(record["__problem__"]))
    text = _str(record.get("text"))
    if text is None:
        raise BadRecord("no text")
    if len(text) > MAX_TEXT:
        raise BadRecord(f"text is {len(text)} characters, over the limit of {MAX_TEXT}")
    url = _web_url(record.get("url"), "url")
    source_url = _web_url(record.get("source_url"), "source_url") or url
    verdict, label = _verdict(record)
    author = _name(record.get("author") or record.get("partner"))
    summary = _str(record.get("summary"))
    if summary is not None and len(summary) > MAX_TEXT:
        raise BadRecord(f"summary is {len(summary)} characters, over the limit of {MAX_TEXT}")
    sources = _sources(record.get("sources"), url)
    if verdict in _NEED_SOURCES and not sources:
        # The same rule reviewers follow: a factual verdict must cite where it comes from.
        raise BadRecord(f"verdict {verdict} needs a url or sources")
    normalized = normalize(text)
    external_id = _str(record.get("id")) or url
    if external_id is None:
        # No id and no url: the text itself is the only stable key a re-import can find.
        import hashlib

        external_id = "text:" + hashlib.sha1(normalized.encode()).hexdigest()
    if len(external_id) > 512:
        raise BadRecord("id (or url, used when there is no id) is longer than 512 characters")
    published = parse_datetime(record.get("published"), "published")
    first_seen = parse_datetime(record.get("first_seen"), "first_seen") or published
    lang = _lang(record.get("lang")) or _detected_language(text)
    headline, headline_given = _headline(record, text)
    return Row(
        where=where,
        external_id=external_id,
        text=text,
        normalized=normalized,
        lang=lang,
        verdict=verdict,
        summary=summary or (_summary(verdict, label, author, url) if verdict else ""),
        url=url,
        source_url=source_url,
        sources=json.dumps(sources, ensure_ascii=False),
        published=published,
        first_seen=first_seen,
        author=author[:256] if author else None,
        headline=headline,
        headline_given=headline_given,
    )


def prepare(items: list[Item]) -> tuple[list[Row], list[Problem]]:
    """Validate a chunk; runs in worker processes for big files, so it takes and returns
    only picklable values. `bytes` items are JSON Lines lines, still to be parsed."""
    rows: list[Row] = []
    problems: list[Problem] = []
    for where, raw in items:
        try:
            if isinstance(raw, str):  # the reader already found what is wrong (CSV cells)
                raise BadRecord(raw)
            if isinstance(raw, bytes):
                try:
                    record: object = json.loads(raw)
                except UnicodeDecodeError:
                    raise BadRecord("not UTF-8 text") from None
                except ValueError as exc:
                    raise BadRecord(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
            else:
                record = raw
            rows.append(to_row(where, record))
        except BadRecord as exc:
            problems.append(Problem(where, str(exc)))
    return rows, problems


def _detected_language(text: str) -> str | None:
    """The claim's language by the final detector (lingua's models loaded, 3-10 s once per
    process), not langdetect, its stand-in while they load: the stored language decides
    whether the matcher answers a message in another language (it offers instead), and
    langdetect reads English in capitals as German."""
    wait_for_models()
    return detect_language(text, None)
