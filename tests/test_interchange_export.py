"""Our fact-checks going out (factdb.interchange.exporter) and what a partner reads back: ClaimReview,
JSON Lines and CSV exports, round trips, what never leaves (who asked, which reviewer, phone
numbers), and links that may not come in. Partners' files coming in: tests/test_interchange.py.

Each test runs on a real SQLite file and, when reachable, on PostgreSQL (the `db` fixture).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlmodel import select

from factdb.db import Database
from factdb.interchange import claimreview, exporter, importer
from factdb.models import Citizen, Claim, Clarification, Request, utcnow
from tests.test_interchange import PARTNER_FEED, claims, write_jsonl

ORG = "Example Fact Check"
PUBLIC = "https://checks.example.org"


def add_own_claim(
    db: Database,
    text: str,
    *,
    verdict: str = "false",
    sources: tuple[str, ...] = ("https://who.example.int/mythbusters",),
) -> int:
    """A claim one of our reviewers published through the bot (author_id = the reviewer)."""

    def go(s: object) -> int:
        claim = Claim(
            text=text,
            normalized=text.lower(),
            lang="en",
            status="published",
            published_at=utcnow(),
            request_count=3,
            provenance=json.dumps({"type": "user", "from": "Grandma Jones"}),
        )
        s.add(claim)  # type: ignore[attr-defined]
        s.flush()  # type: ignore[attr-defined]
        s.add(
            Clarification(
                claim_id=claim.id,
                lang="en",
                verdict=verdict,  # type: ignore[attr-defined]
                summary="Health authorities say this is not true.",
                sources=json.dumps(list(sources)),
                author_id=777001,
                author_name="Reviewer Rita",
            )
        )
        return claim.id  # type: ignore[return-value]

    return db.transaction(go)


def export_text(db: Database, fmt: str) -> str:
    out = io.StringIO()
    exporter.export(db, fmt, out, org_name=ORG, public_url=PUBLIC)  # type: ignore[arg-type]
    return out.getvalue()


# --- exporting and round trips --------------------------------------------------------------


def test_claimreview_export_is_what_fact_check_tools_read_and_imports_back(
    db: Database, tmp_path: Path, empty_db: Database
) -> None:
    importer.import_file(db, write_jsonl(tmp_path / "feed.jsonl", PARTNER_FEED))
    own = add_own_claim(db, "Eating bananas at night stops heart attacks")

    feed = json.loads(export_text(db, "claimreview"))  # one valid JSON document
    assert feed["@context"] == "https://schema.org" and feed["@type"] == "DataFeed"
    elements = {e["identifier"]: e for e in feed["dataFeedElement"]}
    assert len(elements) == 4

    mine = elements[f"{PUBLIC}/claims/{own}"]
    assert mine["@type"] == "ClaimReview"
    assert mine["claimReviewed"] == "Eating bananas at night stops heart attacks"
    assert mine["reviewRating"] == {
        "@type": "Rating",
        "ratingValue": 1,
        "bestRating": 5,
        "worstRating": 1,
        "alternateName": "False",
    }
    assert mine["author"] == {"@type": "Organization", "name": ORG, "url": PUBLIC}
    assert mine["url"] == f"{PUBLIC}/claims/{own}"
    assert mine["inLanguage"] == "en"
    assert mine["datePublished"] == utcnow().date().isoformat()
    item = mine["itemReviewed"]
    assert item["@type"] == "Claim" and item["datePublished"]
    # Forwarded from a private person: never named, and no made-up "Person: Unknown" instead.
    assert "author" not in item

    partner = elements["pf-1"]
    assert partner["url"] == "https://partner.example.net/fc/1"  # the partner's own article
    assert partner["author"]["name"] == "Partner Checks"
    assert partner["datePublished"] == "2024-05-01"
    assert partner["itemReviewed"]["datePublished"] == "2024-05-01"
    assert elements["pf-2"]["reviewRating"]["alternateName"] == "Misleading"
    assert elements["pf-2"]["reviewRating"]["ratingValue"] == 2

    path = tmp_path / "feed.json"
    path.write_text(json.dumps(feed), encoding="utf-8")
    report = importer.import_file(empty_db, path)
    assert (report.added, report.problems) == (4, [])
    theirs = claims(empty_db)
    ours = claims(db)
    for eid, (claim, clar) in ours.items():
        key = eid if claim.external_id else f"{PUBLIC}/claims/{claim.id}"
        other_claim, other_clar = theirs[key]
        assert other_claim.text == claim.text
        assert (other_clar.verdict, other_clar.lang) == (clar.verdict, clar.lang)
        assert other_clar.summary == clar.summary
        assert json.loads(other_clar.sources) == json.loads(clar.sources)
    assert theirs["pf-1"][1].url == "https://partner.example.net/fc/1"
    assert theirs[f"{PUBLIC}/claims/{own}"][1].url == f"{PUBLIC}/claims/{own}"


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_jsonl_and_csv_exports_import_back_unchanged(
    db: Database, tmp_path: Path, empty_db: Database, fmt: str
) -> None:
    importer.import_file(db, write_jsonl(tmp_path / "feed.jsonl", PARTNER_FEED))
    add_own_claim(
        db, "Onions in socks absorb the flu", sources=("https://a.example.org/1", "https://b.example.org/2")
    )
    text = export_text(db, fmt)
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert list(rows[0])[:7] == ["id", "text", "verdict", "summary", "url", "lang", "published"]
    path = tmp_path / f"export.{fmt}"
    path.write_text(text, encoding="utf-8")

    report = importer.import_file(empty_db, path)
    assert (report.added, report.problems) == (4, [])
    ours = sorted(
        (c.text, k.verdict, k.lang, k.summary, json.loads(k.sources)) for c, k in claims(db).values()
    )
    theirs = sorted(
        (c.text, k.verdict, k.lang, k.summary, json.loads(k.sources)) for c, k in claims(empty_db).values()
    )
    assert theirs == ours
    # …and exporting it again from there gives the same records.
    again = importer.import_file(empty_db, path)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 4)


def test_export_never_contains_who_asked_nor_which_reviewer(db: Database) -> None:
    claim_id = add_own_claim(db, "The water supply will be cut for three days")

    def ask(s: object) -> None:
        citizen = Citizen(telegram_user_id=555123987, chat_id=555123987, lang="en")
        s.add(citizen)  # type: ignore[attr-defined]
        s.flush()  # type: ignore[attr-defined]
        s.add(
            Request(
                claim_id=claim_id,
                citizen_id=citizen.id,
                update_id=91919191,  # type: ignore[attr-defined]
                text="my neighbour Ojo sent me this, is it true?",
                lang="en",
            )
        )

    db.transaction(ask)
    for fmt in ("csv", "jsonl", "claimreview"):
        out = export_text(db, fmt)
        assert "The water supply will be cut" in out
        for secret in ("555123987", "91919191", "neighbour Ojo", "Reviewer Rita", "777001", "Grandma Jones"):
            assert secret not in out, (fmt, secret)


def test_phone_numbers_and_emails_in_a_claim_are_masked_on_export(db: Database) -> None:
    add_own_claim(db, "Call +1 (555) 010-9999 or write to help@scam.example.com for free masks")
    for fmt in ("csv", "jsonl", "claimreview"):
        out = export_text(db, fmt)
        assert "010-9999" not in out and "help@scam.example.com" not in out
        assert "Call [phone] or write to [email] for free masks" in out


def test_claimreview_for_a_page_is_self_contained(db: Database) -> None:
    own = add_own_claim(db, "Garlic cures measles")
    with db.session() as s:
        claim = s.get(Claim, own)
        clar = s.exec(select(Clarification).where(Clarification.claim_id == own)).one()
    review = claimreview.claimreview_for(claim, clar, org_name=ORG, public_url=None)  # type: ignore[arg-type]
    assert review["@context"] == "https://schema.org"
    assert review["author"] == {"@type": "Organization", "name": ORG}
    # Without a public site the first source is where the fact-check can be read.
    assert review["url"] == "https://who.example.int/mythbusters"
    assert review["identifier"] == f"example-fact-check:claim:{own}"


def test_a_csv_export_opened_in_a_spreadsheet_runs_no_formula_and_imports_back_exactly(
    db: Database, tmp_path: Path, empty_db: Database
) -> None:
    formula = '=HYPERLINK("http://evil.example/x","Click for the truth")'
    summary = "@SUM(1+1)*cmd|' /C calc'!A0"
    add_own_claim(db, formula)
    db.transaction(lambda s: s.exec(select(Clarification)).one().__setattr__("summary", summary))
    text = export_text(db, "csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)
    assert rows[1][1] == "'" + formula and rows[1][3] == "'" + summary
    assert all(line.startswith('"') for line in text.splitlines())  # every field quoted
    record = json.loads(export_text(db, "jsonl"))
    assert (record["text"], record["summary"]) == (formula, summary)  # JSON Lines stays exact
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    report = importer.import_file(empty_db, path)
    assert report.problems == []
    claim, clar = next(iter(claims(empty_db).values()))
    assert (claim.text, clar.summary) == (formula, summary)


def test_an_import_with_a_javascript_source_is_rejected_with_its_line(db: Database, tmp_path: Path) -> None:
    bad = dict(PARTNER_FEED[0], id="js", url="javascript:alert(1)")
    report = importer.import_file(db, write_jsonl(tmp_path / "f.jsonl", [PARTNER_FEED[1], bad]))
    assert report.added == 1 and [p.where for p in report.problems] == ["line 2"]
    assert "http" in report.problems[0].reason


def test_csv_and_claimreview_imports_reject_javascript_and_data_links_with_their_row(
    db: Database, tmp_path: Path
) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "id,text,verdict,url,sources,lang\n"
        "c-1,Onions in socks cure the flu,false,https://p.example.net/c1,,en\n"
        "c-2,Lemons cure diabetes,false,javascript:alert(1),,en\n"
        'c-3,Salt water cures measles,false,https://p.example.net/c3,"data:text/html;base64,PHNjcmlwdD4=",en\n',
        encoding="utf-8",
    )
    report = importer.import_file(db, sheet)
    assert report.added == 1
    assert [p.where for p in report.problems] == ["row 3", "row 4"]
    assert all("http" in p.reason for p in report.problems), report.problems

    feed = {
        "@context": "https://schema.org",
        "@type": "DataFeed",
        "dataFeedElement": [
            {
                "@type": "ClaimReview",
                "url": "https://p.example.net/cr/1",
                "claimReviewed": "5G towers spread the virus",
                "reviewRating": {"@type": "Rating", "alternateName": "False"},
            },
            {
                "@type": "ClaimReview",
                "url": "javascript:alert(document.cookie)",
                "claimReviewed": "Tap water is poisoned tonight",
                "reviewRating": {"@type": "Rating", "alternateName": "False"},
            },
            {
                "@type": "ClaimReview",
                "url": "data:text/html,<script>alert(1)</script>",
                "claimReviewed": "Banks close for a month",
                "reviewRating": {"@type": "Rating", "alternateName": "False"},
            },
        ],
    }
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(feed), encoding="utf-8")
    report = importer.import_file(db, path)
    assert report.added == 1
    assert [p.where for p in report.problems] == ["item 2", "item 3"]
    assert all("http" in p.reason for p in report.problems)
    assert {c.text for c, _ in claims(db).values()} == {
        "Onions in socks cure the flu",
        "5G towers spread the virus",
    }


def test_claimreview_author_is_our_organisation_never_an_unknown_person(db: Database) -> None:
    own = add_own_claim(db, "Chewing ice cures a fever")
    out = io.StringIO()
    exporter.export(
        db, "claimreview", out, org_name=ORG, public_url=PUBLIC, org_url="https://about.example.org"
    )
    feed = json.loads(out.getvalue())
    (review,) = feed["dataFeedElement"]
    assert review["identifier"] == f"{PUBLIC}/claims/{own}"
    assert review["author"] == {"@type": "Organization", "name": ORG, "url": "https://about.example.org"}
    assert "Person" not in out.getvalue() and "Unknown" not in out.getvalue()


def test_a_reviewers_public_wording_is_what_every_export_carries(db: Database, tmp_path: Path) -> None:
    original = "My neighbour Ana Ruiz at 12 Elm Street says the tap water is poisoned tonight"
    wording = "The tap water is poisoned tonight"
    own = add_own_claim(db, original)

    def reword(s: object) -> None:
        claim = s.get(Claim, own)  # type: ignore[attr-defined]
        claim.public_text = wording

    db.transaction(reword)
    record = json.loads(export_text(db, "jsonl"))
    assert record["text"] == wording
    (row,) = csv.DictReader(io.StringIO(export_text(db, "csv")))
    assert row["text"] == wording
    feed = json.loads(export_text(db, "claimreview"))
    assert feed["dataFeedElement"][0]["claimReviewed"] == wording
    for fmt in ("jsonl", "csv", "claimreview"):
        out = export_text(db, fmt)
        assert "Ana Ruiz" not in out and "Elm Street" not in out, fmt
