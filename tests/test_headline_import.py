"""A partner's fact-check headline comes in with the claim, finds the claim when citizens ask the
way headlines put it, and goes out again: JSON Lines and CSV `title`, ClaimReview `headline`.

Each test runs on a real SQLite file and, when reachable, on PostgreSQL (the `db` fixture).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from factdb.db import Database
from factdb.interchange import exporter, importer
from factdb.matching import Matcher
from factdb.models import Clarification
from tests.test_interchange import claims, write_jsonl
from tests.test_interchange_export import ORG, PUBLIC, add_own_claim, export_text

# A partner's claims as their articles state them, each with the article's headline: people ask
# about a rumour the way the headline puts it, not the way the claim sentence does.
LEMON = {
    "id": "pc-lemon",
    "text": "Drinking a glass of warm lemon water on an empty stomach every morning reverses "
    "type 2 diabetes within thirty days.",
    "title": "Can Lemon Water Cure Diabetes in a Month?",
    "verdict": "false",
    "url": "https://partner.example.net/fc/lemon",
    "lang": "en",
    "published": "2024-05-01",
    "partner": "Partner Checks",
}
WATER = {
    "id": "pc-water",
    "text": "The city will shut off tap water for three days next week so everyone must store water now.",
    "title": "Is the City Cutting Off Tap Water for Three Days?",
    "verdict": "false",
    "url": "https://partner.example.net/fc/water",
    "lang": "en",
    "published": "2024-05-02",
}
BREATH = {  # a partner record without a headline
    "id": "pc-breath",
    "text": "Holding your breath for ten seconds without coughing proves you do not have the virus.",
    "verdict": "false",
    "url": "https://partner.example.net/fc/breath",
    "lang": "en",
}
FEED = [LEMON, WATER, BREATH]
ASKED = "can lemon water cure diabetes?"  # a citizen's message, worded like LEMON's headline


def untitled(records: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in r.items() if k != "title"} for r in records]


def headlines(db: Database) -> dict[str, str | None]:
    return {eid: claim.headline for eid, (claim, _) in claims(db).items()}


@pytest.fixture
def index(db: Database) -> Iterator[Matcher]:
    """The bot's match index, started before any import: it learns of imports through the
    change feed, as a running bot does."""
    matcher = Matcher()
    with db.session() as s:
        matcher.refresh(s)
    yield matcher


# --- importing ------------------------------------------------------------------------------


def test_a_citizen_asking_the_way_a_partners_headline_puts_it_finds_the_claim(
    db: Database, tmp_path: Path, index: Matcher
) -> None:
    importer.import_file(db, write_jsonl(tmp_path / "feed.jsonl", FEED))

    with db.session() as s:
        assert index.refresh(s) == 3
        found = index.match(ASKED, s)
        assert headlines(db)["pc-lemon"] == "Can Lemon Water Cure Diabetes in a Month?"
        lemon = claims(db)["pc-lemon"][0].id
        # Found by the headline alone: the claim comes first among the buttons (a headline
        # finds, it does not answer alone: docs/matching.md, "Headlines")...
        assert (found.decision, found.offered[0].claim_id) == ("maybe", lemon)
        # ...while the headline's own question is answered, and so is a question the claim's
        # own words answer.
        asked = index.match("Can lemon water cure diabetes in a month?", s)
        assert (asked.claim_id, asked.decision) == (lemon, "match")
        water = index.match("Is the city cutting off tap water?", s)
        assert (water.claim_id, water.decision) == (claims(db)["pc-water"][0].id, "match")
    assert headlines(db)["pc-breath"] is None


def test_a_feed_sent_again_with_titles_makes_known_claims_findable_by_them(
    db: Database, tmp_path: Path, index: Matcher
) -> None:
    importer.import_file(db, write_jsonl(tmp_path / "old.jsonl", untitled(FEED)))
    with db.session() as s:
        index.refresh(s)
        # By the claim sentence alone the question is only a "maybe".
        assert index.match(ASKED, s).decision != "match"
        assert index.match("Can lemon water cure diabetes in a month?", s).decision != "match"

    report = importer.import_file(db, write_jsonl(tmp_path / "new.jsonl", FEED))
    assert (report.added, report.updated, report.unchanged) == (0, 2, 1)
    with db.session() as s:
        assert index.refresh(s) == 2  # the two claims whose headline came: the change feed saw them
        assert index.match("Can lemon water cure diabetes in a month?", s).decision == "match"
        assert index.match(ASKED, s).offered[0].claim_id == claims(db)["pc-lemon"][0].id


def test_importing_the_same_titled_file_twice_changes_nothing(
    db: Database, tmp_path: Path, index: Matcher
) -> None:
    path = write_jsonl(tmp_path / "feed.jsonl", FEED)
    importer.import_file(db, path)
    with db.session() as s:
        index.refresh(s)
    stamp = claims(db)["pc-lemon"][0].updated_at

    again = importer.import_file(db, path)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert headlines(db)["pc-lemon"] == LEMON["title"]
    assert claims(db)["pc-lemon"][0].updated_at == stamp
    with db.session() as s:
        assert index.refresh(s) == 0  # nothing written, so nothing for the index to re-read


def test_a_corrected_headline_replaces_the_old_one_and_a_feed_without_titles_keeps_it(
    db: Database, tmp_path: Path, index: Matcher
) -> None:
    importer.import_file(db, write_jsonl(tmp_path / "feed.jsonl", FEED))
    with db.session() as s:
        index.refresh(s)
    corrected = dict(LEMON, title="Does Lemon Water Reverse Diabetes?")

    report = importer.import_file(db, write_jsonl(tmp_path / "fix.jsonl", [corrected]))
    assert (report.added, report.updated) == (0, 1)
    assert headlines(db)["pc-lemon"] == "Does Lemon Water Reverse Diabetes?"
    with db.session() as s:
        assert index.refresh(s) == 1  # the change feed saw the new headline
        assert index.match("does lemon water reverse diabetes", s).decision == "match"

    # A corrections feed without titles says nothing about them: the headline stays.
    report = importer.import_file(db, write_jsonl(tmp_path / "plain.jsonl", untitled([corrected])))
    assert (report.updated, report.unchanged) == (0, 1)
    assert headlines(db)["pc-lemon"] == "Does Lemon Water Reverse Diabetes?"
    # An empty title does: the partner took the headline away.
    report = importer.import_file(db, write_jsonl(tmp_path / "none.jsonl", [dict(LEMON, title="  ")]))
    assert report.updated == 1
    assert headlines(db)["pc-lemon"] is None


def test_headline_is_read_as_a_synonym_and_cleaned_like_text(db: Database, tmp_path: Path) -> None:
    records = [
        dict(untitled([LEMON])[0], headline="Can  Lemon Water\n   Cure Diabetes?"),
        dict(WATER, title=WATER["text"]),  # the claim sentence again: no second wording
        dict(BREATH, title="x" * 4097),
    ]
    report = importer.import_file(db, write_jsonl(tmp_path / "feed.jsonl", records))

    assert report.added == 2
    assert [(p.where, p.reason) for p in report.problems] == [
        ("line 3", "title is 4097 characters, over the limit of 4096")
    ]
    assert headlines(db) == {"pc-lemon": "Can Lemon Water Cure Diabetes?", "pc-water": None}


def test_a_spreadsheet_with_a_title_column(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(
        "ID;Text;Verdict;URL;Title\n"
        "s-1;Onions in socks cure the flu;false;https://p.example.net/s1;Do Onions in Socks Cure the Flu?\n"
        "s-2;Garlic water stops COVID;false;https://p.example.net/s2;\n",
        encoding="utf-8",
    )
    assert importer.import_file(db, path).added == 2
    assert headlines(db) == {"s-1": "Do Onions in Socks Cure the Flu?", "s-2": None}


def review(url: str, claim: str, **extra: object) -> dict[str, object]:
    """A partner's ClaimReview of `claim` at `url`, rated False."""
    return {
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": claim,
        "reviewRating": {"@type": "Rating", "alternateName": "False"},
        **extra,
    }


def test_a_claimreview_headline_and_afps_name_are_read(db: Database, tmp_path: Path) -> None:
    def harbour(n: int, **extra: object) -> dict[str, object]:
        return review(
            f"https://p.example.net/cr/{n}", f"Claim number {n} about the harbour closing for good", **extra
        )

    page = {
        "@context": "https://schema.org",
        "@graph": [
            harbour(1, headline="Is the Harbour Closing for Good?"),
            # AFP's sites put the article's title in the ClaimReview's `name`.
            harbour(2, name="No, the harbour is not closing"),
            harbour(3, headline={"@value": "¿Cierra el puerto?", "@language": "es"}),
            harbour(4),
        ],
    }
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(page), encoding="utf-8")
    assert importer.import_file(db, path).added == 4
    assert headlines(db) == {
        "https://p.example.net/cr/1": "Is the Harbour Closing for Good?",
        "https://p.example.net/cr/2": "No, the harbour is not closing",
        "https://p.example.net/cr/3": "¿Cierra el puerto?",
        "https://p.example.net/cr/4": None,
    }


def test_a_fact_check_page_titled_only_on_its_article_gives_the_claim_that_title(
    db: Database, tmp_path: Path
) -> None:
    # Most publishers' pages carry the title on a NewsArticle beside the ClaimReview, not on it.
    def ferry(n: int, **extra: object) -> dict[str, object]:
        claim = f"Claim number {n}: the ferry to the islands stops for the winter"
        return review(f"https://p.example.net/fc/{n}/", claim, **extra)

    def article(n: int, headline: str) -> dict[str, object]:
        return {
            "@type": "NewsArticle",
            "mainEntityOfPage": f"https://p.example.net/fc/{n}",
            "headline": headline,
        }

    graph = {
        "@context": "https://schema.org",
        "@graph": [
            ferry(1),
            article(1, "Is the Island Ferry Stopping All Winter?"),
            ferry(2, headline="The review's own title wins"),
            article(2, "Not this one"),
            ferry(3),  # no article at its address: no title
            article(9, "An unrelated article"),
        ],
    }
    (tmp_path / "feed.json").write_text(json.dumps(graph), encoding="utf-8")
    page = (
        "<html><head>"
        '<script type="application/ld+json">'
        + json.dumps(
            {
                "@context": "https://schema.org",
                **review(
                    "https://p.example.net/fc/4",
                    "Claim number 4: the ferry to the islands stops for the winter",
                ),
            }
        )
        + "</script>"
        '<script type="application/ld+json">'
        + json.dumps(
            {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Ferry Rumour, Checked"}
        )
        + "</script></head><body>…</body></html>"
    )
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    assert importer.import_file(db, tmp_path / "feed.json").added == 3
    assert importer.import_file(db, tmp_path / "page.html").added == 1
    assert headlines(db) == {
        "https://p.example.net/fc/1/": "Is the Island Ferry Stopping All Winter?",
        "https://p.example.net/fc/2/": "The review's own title wins",
        "https://p.example.net/fc/3/": None,
        "https://p.example.net/fc/4": "Ferry Rumour, Checked",  # the page's one article
    }


# --- exporting and round trips --------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "claimreview"])
def test_an_export_carries_the_headline_and_imports_back_with_it(
    db: Database, tmp_path: Path, empty_db: Database, fmt: str
) -> None:
    importer.import_file(db, write_jsonl(tmp_path / "feed.jsonl", FEED))
    path = tmp_path / f"export.{'json' if fmt == 'claimreview' else fmt}"
    path.write_text(export_text(db, fmt), encoding="utf-8")

    report = importer.import_file(empty_db, path)
    assert (report.added, report.problems) == (3, [])
    expected = {"pc-lemon": LEMON["title"], "pc-water": WATER["title"], "pc-breath": None}
    assert headlines(empty_db) == headlines(db) == expected
    again = importer.import_file(empty_db, path)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)


def test_the_csv_export_adds_title_as_its_last_column(db: Database, tmp_path: Path) -> None:
    importer.import_file(db, write_jsonl(tmp_path / "feed.jsonl", [LEMON]))
    (header, row) = list(csv.reader(io.StringIO(export_text(db, "csv"))))
    # Partners read the columns by position: the ones before stay where they were.
    assert header == [
        "id", "text", "verdict", "summary", "url", "lang", "published",
        "sources", "source_url", "author", "pictures", "title",
    ]  # fmt: skip
    assert row[-1] == LEMON["title"]
    assert header == list(exporter.COLUMNS)


def test_claimreview_headline_only_while_the_review_is_the_partners(db: Database, tmp_path: Path) -> None:
    importer.import_file(db, write_jsonl(tmp_path / "feed.jsonl", [LEMON, WATER]))
    own = add_own_claim(db, "Eating bananas at night stops heart attacks")
    water_id = claims(db)["pc-water"][0].id

    def reviewer_rewrites_the_clarification(s: Session) -> None:
        clar = s.exec(select(Clarification).where(Clarification.claim_id == water_id)).one()
        clar.author_id, clar.summary = 777001, "Our own check: the water stays on."

    db.transaction(reviewer_rewrites_the_clarification)
    elements = {e["identifier"]: e for e in json.loads(export_text(db, "claimreview"))["dataFeedElement"]}

    # The partner's article (its url, its author): its headline is that article's title.
    assert elements["pc-lemon"]["headline"] == LEMON["title"]
    assert elements["pc-lemon"]["url"] == LEMON["url"]
    # Our reviewers wrote this review: another article, whose title the partner's is not.
    assert "headline" not in elements["pc-water"]
    assert "headline" not in elements[f"{PUBLIC}/claims/{own}"]
    # JSON Lines still carries it: `title` is the claim's imported headline, for round trips.
    records = {r["id"]: r for r in map(json.loads, export_text(db, "jsonl").splitlines())}
    assert records["pc-water"]["title"] == WATER["title"]
    assert records["pc-water"]["author"] == ORG
