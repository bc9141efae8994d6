"""What the public sees (issue 12, items 1, 4 and 10 on the web side): only reviewed, published
fact-checks, unless the operator opts in to a "waiting for review" list, and then only what is
circulating, masked, never hidden, forgotten, imported-unchecked, spam or merged.

Citizens talk to the real bot through the Bot API emulator; the public pages are served over
HTTP on loopback from the same database, as `crowdcheck serve --pages-only` beside `run` does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from sqlmodel import select

from bot.config import Config
from bot.services import build_services
from factdb import closing, publishing
from factdb.interchange.importer import import_file
from factdb.models import Claim, ClaimStatus
from factdb.privacy import mask_personal
from tests.harness import Tipline
from tests.web_site import start_site

PRIVATE = "Ona from flat 4 cheats on her husband, call her on +370 612 34567 and tell him"
RUMOUR = "The water in the northern district is poisoned from tonight, do not drink it"


@asynccontextmanager
async def public_site(tipline: Tipline, **settings: Any) -> AsyncIterator[Callable[..., Any]]:
    """The public pages beside the running bot, on the same database; figures not cached, so
    each look is the truth at that moment."""
    config: Config = tipline.runtime.config.with_overrides(**settings)
    runner, base = await start_site(build_services(config, tipline.db), stats_cache_seconds=0)
    async with aiohttp.ClientSession() as http:

        async def get(path: str) -> tuple[int, str]:
            async with http.get(base + path, allow_redirects=False) as r:
                return r.status, await r.text()

        try:
            yield get
        finally:
            await runner.cleanup()


async def ask_by(tipline: Tipline, text: str, *citizens: int) -> None:
    for uid in citizens:
        await tipline.ask(uid, text)


def claim_id_of(tipline: Tipline, text: str) -> int:
    with tipline.db.session() as s:
        # Intake stores the masked text (factdb.privacy): look the claim up by what was kept.
        claim = s.exec(select(Claim).where(Claim.text == mask_personal(text))).one()
        return claim.id  # type: ignore[return-value]


async def test_nothing_a_citizen_sent_is_public_until_a_reviewer_publishes_it(tipline: Tipline) -> None:
    # Three people forward the same private gossip: circulating, but nobody has checked it.
    await ask_by(tipline, PRIVATE, 701, 702, 703)
    async with public_site(tipline) as get:
        for path in ("/stats", "/claims", "/claims?q=cheats", "/feed/claimreview.json"):
            status, body = await get(path)
            assert status == 200, path
            assert "husband" not in body and "flat 4" not in body, path
        _, stats = await get("/stats")
        assert "Requests today" in stats  # the figures are still there: counts, not words
        assert "not yet checked" not in stats and "Waiting for review" not in stats
        status, _ = await get(f"/claims/{claim_id_of(tipline, PRIVATE)}")
        assert status == 404


async def test_an_opted_in_waiting_list_shows_only_what_three_people_asked_masked(tipline: Tipline) -> None:
    await ask_by(tipline, RUMOUR, 711, 712, 713)  # three different people
    lonely = "My boss Rimas at rimas@example.org fakes his invoices, everyone should know"
    await ask_by(tipline, lonely, 714, 714, 714)  # one person, three times: one asker
    hidden = "The mayor secretly sold the central park to a casino company last week"
    await ask_by(tipline, hidden, 715, 716, 717)
    spam = "Buy cheap followers now at the best price, three thousand followers a day"
    await ask_by(tipline, spam, 718, 719, 720)
    with tipline.db.session() as s:
        assert s.exec(select(Claim).where(Claim.text == RUMOUR)).one().request_count == 3
    # A reviewer hides one with the button (its column, set as the button would) and marks spam.
    hidden_id, spam_id = claim_id_of(tipline, hidden), claim_id_of(tipline, spam)

    def hide_and_spam(session: Any) -> None:
        session.get(Claim, hidden_id).public_hidden = True
        closing.mark_spam(session, spam_id, 9001)

    tipline.db.transaction(hide_and_spam)

    async with public_site(tipline, public_queue=True) as get:
        _, html = await get("/stats")
    assert "Waiting for review" in html and "do not share them as fact" in html
    assert "northern district is poisoned" in html and "3 people asked" in html
    assert "invoices" not in html and "rimas@" not in html  # one asker is not circulating
    assert "central park" not in html  # hidden by a reviewer
    assert "followers" not in html  # spam
    # The threshold is the operator's: at 4, nothing here qualifies.
    async with public_site(tipline, public_queue=True, public_queue_min_askers=4) as get:
        _, html = await get("/stats")
    assert "poisoned" not in html and "Nothing is waiting for review." in html


async def test_personal_data_is_masked_on_the_waiting_list(tipline: Tipline) -> None:
    await ask_by(tipline, PRIVATE, 721, 722, 723)
    async with public_site(tipline, public_queue=True) as get:
        _, html = await get("/stats")
    assert "cheats on her husband" in html  # circulating, so listed…
    assert "612 34567" not in html and "[phone]" in html  # …without the phone number


async def test_citizens_who_used_forget_do_not_count(tipline: Tipline) -> None:
    await ask_by(tipline, RUMOUR, 731, 732, 733)
    async with public_site(tipline, public_queue=True) as get:
        _, html = await get("/stats")
        assert "northern district is poisoned" in html
        await tipline.ask(733, "/forget")  # now only two people are still linked to it
        _, html = await get("/stats")
        assert "poisoned" not in html
        await tipline.ask(731, "/forget")
        await tipline.ask(732, "/forget")  # everyone who asked is gone
        _, html = await get("/stats")
        assert "poisoned" not in html


async def test_an_imported_row_without_a_verdict_is_never_on_the_waiting_list(
    tipline: Tipline, tmp_path: Path
) -> None:
    unchecked = "Scientists confirm the new bridge will collapse within a year of opening"
    feed = tmp_path / "partner.jsonl"
    feed.write_text(json.dumps({"id": "partner-77", "text": unchecked}) + "\n")
    import_file(tipline.db, feed)
    with tipline.db.session() as s:
        tipline.runtime.svc.index.refresh(s)
    await ask_by(tipline, unchecked, 741, 742, 743)
    with tipline.db.session() as s:
        claim = s.exec(select(Claim).where(Claim.external_id == "partner-77")).one()
        assert claim.status == ClaimStatus.NEW and claim.request_count >= 3
    async with public_site(tipline, public_queue=True) as get:
        _, html = await get("/stats")
    assert "bridge will collapse" not in html


async def test_the_public_reads_the_reviewers_wording_of_a_claim(tipline: Tipline) -> None:
    original = "OMG my cousin Jonas (+370 600 11111) saw 5G masts making birds fall dead in Kaunas!!!"
    claim_id = tipline.seed_published(original, summary="Birds do not die from 5G signals.")
    wording = "5G masts make birds fall dead in Kaunas."

    def reword(session: Any) -> None:
        session.get(Claim, claim_id).public_text = wording

    tipline.db.transaction(reword)
    async with public_site(tipline) as get:
        _, page = await get(f"/claims/{claim_id}")
        _, listing = await get("/claims")
        _, feed = await get("/feed/claimreview.json")
    for body in (page, listing):
        assert wording in body and "cousin Jonas" not in body
    (element,) = json.loads(feed)["dataFeedElement"]
    assert element["claimReviewed"] == wording


async def test_a_retracted_claim_leaves_the_public_pages_but_stays_in_the_counts(tipline: Tipline) -> None:
    claim_id = tipline.seed_published("Vinegar cures measles in two days", summary="It does not.")
    tipline.seed_published("Garlic protects against the flu", summary="It does not.")
    tipline.db.transaction(lambda s: publishing.retract(s, claim_id, 9001, "A source was misquoted."))
    async with public_site(tipline) as get:
        _, listing = await get("/claims")
        _, search = await get("/claims?q=vinegar")
        _, feed = await get("/feed/claimreview.json")
        status, page = await get(f"/claims/{claim_id}")
        _, stats = await get("/stats")
    assert "Vinegar" not in listing and "Garlic" in listing and "1 published fact check" in listing
    assert "Vinegar" not in search and "0 results" in search
    assert [e["claimReviewed"] for e in json.loads(feed)["dataFeedElement"]] == [
        "Garlic protects against the flu"
    ]
    assert status == 410 and "withdrawn" in page and "A source was misquoted." in page
    assert "Vinegar" not in page  # the withdrawn claim's words are not shown either
    assert "Withdrawn</dt><dd>1</dd>" in stats.replace("&nbsp;", "").replace("  ", "")
