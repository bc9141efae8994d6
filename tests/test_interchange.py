"""Stories of partners' files going in (factdb.interchange): JSON Lines, CSV, ClaimReview feeds
and pages, bad rows, and the partners' rating words. Our fact-checks going out and coming back:
tests/test_interchange_export.py.

Each test runs on a real SQLite file and, when reachable, on PostgreSQL (the `db` fixture).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from factdb.db import Database
from factdb.interchange import importer, ratings
from factdb.models import Claim, Clarification

PARTNER_FEED = [
    {
        "id": "pf-1",
        "text": "Drinking hot water every hour kills the virus in your throat",
        "verdict": "false",
        "summary": "Hot water does not kill viruses inside the body.",
        "url": "https://partner.example.net/fc/1",
        "lang": "en",
        "published": "2024-05-01",
        "partner": "Partner Checks",
        "reach": 12000,
    },  # an unknown field: ignored
    {
        "id": "pf-2",
        "text": "Vacunas con microchips para rastrear a la población",
        "verdict": "Engañoso",
        "url": "https://partner.example.net/fc/2",
        "lang": "es",
        "published": "2024-06-02",
    },
    {
        "id": "pf-3",
        "text": "市政府將在下週停水三天，請大家儲水",
        "verdict": "錯誤",
        "url": "https://partner.example.net/fc/3",
        "lang": "zh-tw",
        "published": "2024-07-03",
    },
]


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records),
        encoding="utf-8",
    )
    return path


def claims(db: Database) -> dict[str, tuple[Claim, Clarification]]:
    """external_id → (claim, its current clarification)."""
    with db.session() as s:
        rows = s.exec(
            select(Claim, Clarification)
            .join(Clarification, col(Clarification.claim_id) == col(Claim.id))
            .where(col(Clarification.is_current))
        ).all()
    return {c.external_id or str(c.id): (c, k) for c, k in rows}


def counts(db: Database) -> tuple[int, int]:
    with db.session() as s:
        return (
            s.exec(select(func.count()).select_from(Claim)).one(),
            s.exec(select(func.count()).select_from(Clarification)).one(),
        )


# --- importing ------------------------------------------------------------------------------


def test_a_partners_json_lines_file_becomes_published_claims(db: Database, tmp_path: Path) -> None:
    report = importer.import_file(db, write_jsonl(tmp_path / "feed.jsonl", PARTNER_FEED))

    assert (report.added, report.updated, report.problems) == (3, 0, [])
    got = claims(db)
    claim, clar = got["pf-1"]
    assert claim.status == "published" and claim.request_count == 0
    assert claim.normalized and claim.lang == "en"
    assert claim.source_url == clar.url == "https://partner.example.net/fc/1"
    assert claim.first_seen.date().isoformat() == "2024-05-01"
    assert (clar.verdict, clar.version, clar.is_current, clar.status) == ("false", 1, True, "published")
    assert json.loads(clar.sources) == ["https://partner.example.net/fc/1"]
    assert clar.author_name == "Partner Checks"
    # Partners' own words for their ratings, and a lower-case region, are understood.
    assert got["pf-2"][1].verdict == "misleading"
    assert got["pf-3"][1].verdict == "false" and got["pf-3"][1].lang == "zh-TW"
    # No summary given: the citizen still reads what the rating was and where to read more.
    assert got["pf-2"][1].summary == "Rated “Engañoso”. Details: https://partner.example.net/fc/2"


def test_importing_the_same_file_twice_changes_nothing_and_a_correction_updates_in_place(
    db: Database, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "feed.jsonl", PARTNER_FEED)
    importer.import_file(db, path)
    before = counts(db)
    stamp = claims(db)["pf-1"][0].updated_at

    again = importer.import_file(db, path)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert counts(db) == before

    corrected = [
        dict(
            PARTNER_FEED[0],
            text="Drinking hot water every hour kills the virus",
            verdict="Mostly False",
            summary="Updated: it does not.",
        )
    ]
    report = importer.import_file(db, write_jsonl(tmp_path / "fix.jsonl", corrected))
    assert (report.added, report.updated) == (0, 1)
    assert counts(db) == before  # updated in place: no second claim, no second clarification
    claim, clar = claims(db)["pf-1"]
    assert claim.text == "Drinking hot water every hour kills the virus"
    assert claim.normalized == "drinking hot water every hour kills the virus"
    assert (clar.verdict, clar.summary) == ("misleading", "Updated: it does not.")
    assert claim.updated_at > stamp  # the match index re-reads claims by updated_at


def test_bad_rows_are_reported_with_their_line_and_the_good_ones_kept(db: Database, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            PARTNER_FEED[0],
            {"id": "x-2", "verdict": "false", "url": "https://p.example.net/2"},
            '{"id": "x-3", "text": "broken',
            {"id": "x-4", "text": "Kinda wrong", "verdict": "kinda-sorta", "url": "https://p.example.net/4"},
            {"id": "x-5", "text": "y" * 4097, "verdict": "false", "url": "https://p.example.net/5"},
            "",
            {"id": "x-7", "text": "No source at all", "verdict": "false"},
            {"id": "x-8", "text": "When was this", "verdict": "unproven", "published": "last week"},
            ["not", "an", "object"],
            PARTNER_FEED[1],
        ],
    )
    report = importer.import_file(db, path)

    assert report.added == 2
    reasons = {p.where: p.reason for p in report.problems}
    assert list(reasons) == ["line 2", "line 3", "line 4", "line 5", "line 7", "line 8", "line 9"]
    assert reasons["line 2"] == "no text"
    assert reasons["line 3"].startswith("not valid JSON")
    assert "unknown verdict 'kinda-sorta'" in reasons["line 4"]
    assert "4097 characters" in reasons["line 5"]
    assert "needs a url or sources" in reasons["line 7"]
    assert "'last week' is not an ISO date" in reasons["line 8"]
    assert "JSON object" in reasons["line 9"]
    assert set(claims(db)) == {"pf-1", "pf-2"}


def test_a_csv_from_a_spreadsheet_is_read_with_row_numbers_for_problems(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    # Excel's "CSV UTF-8" starts with a byte order mark and may use semicolons.
    path.write_text(
        "\ufeffID;Text;Verdict;URL;Lang\n"
        "c-1;Onions in socks cure the flu;Pants on Fire;https://p.example.net/c1;en\n"
        ";;;;\n"
        "c-3;;false;https://p.example.net/c3;en\n"
        'c-4;"Garlic water, taken hot, stops COVID";Falso;https://p.example.net/c4;es\n',
        encoding="utf-8",
    )
    report = importer.import_file(db, path)
    assert report.added == 2
    assert [(p.where, p.reason) for p in report.problems] == [("row 4", "no text")]
    assert claims(db)["c-4"][0].text == "Garlic water, taken hot, stops COVID"


def test_a_claimreview_datafeed_with_wrapped_items(db: Database, tmp_path: Path) -> None:
    feed = {
        "@context": "https://schema.org",
        "@type": "DataFeed",
        "dataFeedElement": [
            {
                "@type": "DataFeedItem",
                "item": [
                    {
                        "@type": "ClaimReview",
                        "url": "https://p.example.net/cr/1",
                        "claimReviewed": "5G towers spread the virus",
                        "datePublished": "2024-03-04",
                        "inLanguage": "en",
                        "author": {"@type": "Organization", "name": "Partner Checks"},
                        "reviewRating": {"@type": "Rating", "alternateName": "Pants on Fire"},
                        "itemReviewed": {
                            "@type": "Claim",
                            "datePublished": "2024-03-01",
                            "appearance": [
                                {"@type": "CreativeWork", "url": "https://social.example.com/p/9"}
                            ],
                        },
                    }
                ],
            },
            {
                "@type": "ClaimReview",
                "url": "https://p.example.net/cr/2",
                "claimReviewed": "Lemon juice raises blood pH",
                # An unknown label: the number on its scale decides (2 of 1–7 is near the bottom).
                "reviewRating": {
                    "@type": "Rating",
                    "alternateName": "Nope nope",
                    "ratingValue": 2,
                    "bestRating": 7,
                    "worstRating": 1,
                },
            },
            {"@type": "Organization", "name": "not a review"},
        ],
    }
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(feed), encoding="utf-8")
    report = importer.import_file(db, path)

    assert report.added == 2
    assert [(p.where, p.reason) for p in report.problems] == [
        ("item 3", "not a ClaimReview (@type Organization)")
    ]
    got = claims(db)
    claim, clar = got["https://p.example.net/cr/1"]  # no id: the review's URL is the key
    assert clar.verdict == "false" and clar.author_name == "Partner Checks"
    assert claim.source_url == "https://social.example.com/p/9"
    assert clar.url == "https://p.example.net/cr/1"
    assert claim.first_seen.date().isoformat() == "2024-03-01"
    assert got["https://p.example.net/cr/2"][1].verdict == "misleading"


def test_a_fact_check_web_page_with_embedded_json_ld(db: Database, tmp_path: Path) -> None:
    review = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": "https://p.example.net/articles/garlic",
        "claimReviewed": "Garlic in your ears cures an ear infection",
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": "1",
            "bestRating": "5",
            "worstRating": "1",
            "alternateName": "Falso",
        },
        "inLanguage": "es",
        "datePublished": "2024-02-02",
    }
    page = (
        "<!doctype html><html><head><title>Garlic</title>"
        '<script type="application/ld+json">{"@context":"https://schema.org",'
        '"@type":"BreadcrumbList","itemListElement":[]}</script>'
        f'<script type="application/ld+json">\n{json.dumps(review)}\n</script>'
        "</head><body><p>Falso.</p></body></html>"
    )
    path = tmp_path / "garlic.html"
    path.write_text(page, encoding="utf-8")
    report = importer.import_file(db, path)
    assert (report.added, report.problems) == (1, [])
    claim, clar = claims(db)["https://p.example.net/articles/garlic"]
    assert (clar.verdict, clar.lang, claim.lang) == ("false", "es", "es")

    (tmp_path / "plain.html").write_text("<html><body>No markup</body></html>", encoding="utf-8")
    with pytest.raises(importer.ImportFailed, match="no ClaimReview"):
        importer.import_file(db, tmp_path / "plain.html")


def test_an_unusable_file_fails_with_one_clear_line(db: Database, tmp_path: Path) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("just some notes\n", encoding="utf-8")
    with pytest.raises(importer.ImportFailed, match="Cannot tell the format"):
        importer.import_file(db, odd)
    broken = tmp_path / "feed.json"
    broken.write_text('{"@type": "DataFeed", ', encoding="utf-8")
    with pytest.raises(importer.ImportFailed, match="not valid JSON"):
        importer.import_file(db, broken)
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(importer.ImportFailed, match="no “text” column"):
        importer.import_file(db, sheet)


def test_records_from_the_bot_are_imported_with_item_numbers(db: Database) -> None:
    report = importer.import_records(db, [PARTNER_FEED[0], {"text": "no verdict, no url"}, {}])
    assert report.added == 2  # a claim without verdict is kept as a new claim to check
    assert [(p.where, p.reason) for p in report.problems] == [("item 3", "no text")]


# --- ratings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "verdict"),
    [
        ("False", "false"),
        ("Pants on Fire", "false"),
        ("PANTS-ON-FIRE!", "false"),
        ("pants-fire", "false"),
        ("Fake", "false"),
        ("Incorrect", "false"),
        ("Falso", "false"),
        ("Falsa", "false"),
        ("錯誤", "false"),
        ("谣言", "false"),
        ("Netiesa", "false"),
        ("Engañoso", "misleading"),
        ("ENGANOSO", "misleading"),
        ("Misleading", "misleading"),
        ("Mostly False", "misleading"),
        ("Half True", "mixed"),
        ("half-true", "mixed"),
        ("Mostly True", "true"),
        ("Missing context", "missing_context"),
        ("missing_context", "missing_context"),
        ("Satire", "satire"),
        ("Unproven", "unproven"),
        ("Unverified", "unproven"),
        ("Not a claim", "not_a_claim"),
        ("Something else", None),
    ],
)
def test_partners_rating_words_map_to_our_verdicts(label: str, verdict: str | None) -> None:
    assert ratings.to_verdict(label) == verdict


def test_numeric_ratings_are_the_fallback() -> None:
    assert ratings.from_number(1) == "false"
    assert ratings.from_number("5", 5, 1) == "true"
    assert ratings.from_number(3, 5, 1) == "mixed"
    assert ratings.from_number(9, 10, 0) == "true"
    assert ratings.from_number(6, 5, 1) is None


def test_a_deployment_adds_its_partners_words(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    extra = tmp_path / "ratings.json"
    extra.write_text(json.dumps({"Cuidado": "misleading", "Verdadeiro": "true"}), encoding="utf-8")
    monkeypatch.setenv("CROWDCHECK_RATINGS_FILE", str(extra))
    assert ratings.to_verdict("cuidado") == "misleading"
    assert ratings.to_verdict("Pants on Fire") == "false"  # built-ins stay
    extra.write_text(json.dumps({"Cuidado": "beware"}), encoding="utf-8")
    with pytest.raises(ratings.RatingsFileError, match="not one of"):
        ratings.to_verdict("cuidado")
