"""Citizens' pictures are never public until a reviewer shows them (issue 14, "Public and
partners"): the button in the moderators' group, the claim's page, `/pictures/{id}.jpg`,
ClaimReview (page, feed, export) and the JSON Lines/CSV exports. On SQLite and PostgreSQL;
the button end to end through the Bot API emulator."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from bot.config import Config
from bot.services import build_services
from factdb.db import Database
from factdb.interchange import exporter
from factdb.media.pictures import Picture
from factdb.media.public_pictures import public_picture_bytes, public_pictures_by_claim
from factdb.models import AuditLog, Claim, ClaimStatus
from handlers.views import callbacks as cb
from handlers.views.keyboards import markup, picture_buttons
from handlers.views.review_texts import picture_caption
from tests.conftest import ADMIN
from tests.harness import REVIEW_CHAT, Tipline, shown
from tests.picture_site import (
    Web,
    assert_well_formed,
    feed_images,
    feed_images_any,
    image_objects,
    images,
    serving,
    store_picture,
    stored_bytes,
)
from tests.web_site import ORG, PUBLIC, jsonld, seed_claim

SHOW, HIDE = "Show on the public page", "Make private again"
OUTSIDER = 9077  # in the moderators' group, not a reviewer


@pytest.fixture
async def site(db: Database) -> AsyncIterator[Web]:
    async for w in serving(build_services(Config(database_url=db.url, public_url=PUBLIC, org_name=ORG), db)):
        yield w


# -- end to end: the reviewer's button --------------------------------------------------------
async def test_a_picture_is_public_only_after_a_reviewer_shows_it_and_until_the_claim_is_retracted(
    tipline: Tipline,
) -> None:
    emu, db, svc = tipline.emu, tipline.db, tipline.runtime.svc
    claim_id = tipline.seed_published("The bridge collapsed this morning, look at the photo")
    picture_id = store_picture(db, claim_id)
    path = f"/pictures/{picture_id}.jpg"
    # The picture as the moderators' group shows it (bot/delivery.py, notices.render_job): the
    # photo, its caption, and the button (handlers/views/keyboards.py).
    t = svc.t(None)
    with db.session() as session:
        caption = picture_caption(t, session.get(Claim, claim_id), session.get(Picture, picture_id))  # type: ignore[arg-type]
    assert "Private" in caption
    await tipline.runtime.app.bot.send_photo(
        REVIEW_CHAT,
        photo=stored_bytes(db, picture_id),
        caption=caption,
        parse_mode="HTML",
        reply_markup=markup(picture_buttons(t, picture_id, False)),
    )
    card = await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: m.kind == "photo")
    assert card.callback_data(SHOW) == f"pp:{picture_id}:1"

    async for site in serving(svc):
        status, html = await site.page(claim_id)
        assert status == 200 and images(html) == [] and image_objects(jsonld(html)) == []
        assert (await site.get(path))[0] == 404
        assert feed_images(await site.feed(), claim_id) == []

        # Someone in the group who is not a reviewer: told, nothing changes.
        answer = await emu.wait_for_callback_answer(
            await tipline.press(OUTSIDER, card, SHOW, chat_id=REVIEW_CHAT)
        )
        assert "Only reviewers" in answer["text"] and answer["show_alert"]
        assert (await site.get(path))[0] == 404
        assert images((await site.page(claim_id))[1]) == []

        answer = await emu.wait_for_callback_answer(
            await tipline.press(ADMIN, card, SHOW, chat_id=REVIEW_CHAT)
        )
        assert "public page" in answer["text"]
        card = await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: HIDE in m.button_texts() and m.edited)
        assert card.callback_data(HIDE) == f"pp:{picture_id}:0"
        assert card.kind == "photo" and "Shown on the public page." in card.text  # the caption says so

        status, html = await site.page(claim_id)
        assert_well_formed(html)
        [img] = images(html)
        assert f'src="{path}"' in img and 'loading="lazy"' in img and "alt=" in img
        assert image_objects(jsonld(html)) == [PUBLIC + path]
        assert feed_images(await site.feed(), claim_id) == [PUBLIC + path]
        status, body, response = await site.get(path)
        assert status == 200 and body == stored_bytes(db, picture_id) and body[:3] == b"\xff\xd8\xff"
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "max-age" in response.headers["Cache-Control"]
        again, _, _ = await site.get(path, headers={"If-None-Match": response.headers["ETag"]})
        assert again == 304

        # A stale "Show" pressed again (the old message) changes nothing and flips nothing back.
        stale = f"pp:{picture_id}:1"
        await emu.wait_for_callback_answer(
            emu.press_button(ADMIN, REVIEW_CHAT, card.message_id, stale, forge=True)
        )
        assert (await site.get(path))[0] == 200

        # Private again, then public again, then the claim is withdrawn.
        await emu.wait_for_callback_answer(await tipline.press(ADMIN, card, HIDE, chat_id=REVIEW_CHAT))
        card = await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: SHOW in m.button_texts())
        assert "Private" in card.text
        assert (await site.get(path))[0] == 404 and images((await site.page(claim_id))[1]) == []
        assert feed_images(await site.feed(), claim_id) == []
        await emu.wait_for_callback_answer(await tipline.press(ADMIN, card, SHOW, chat_id=REVIEW_CHAT))
        await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: HIDE in m.button_texts())
        assert (await site.get(path))[0] == 200

        emu.send_text(ADMIN, f"/retract {claim_id} The photo is from another country")
        await emu.wait_for_bot_message(ADMIN, lambda m: "etract" in shown(m) or "ithdr" in shown(m))
        status, html = await site.page(claim_id)
        assert status == 410 and images(html) == []
        assert (await site.get(path))[0] == 404
        assert all(
            e["identifier"] != f"{PUBLIC}/claims/{claim_id}" for e in (await site.feed())["dataFeedElement"]
        )

    with db.session() as session:
        actions = session.exec(
            select(AuditLog.action, AuditLog.actor_id, AuditLog.claim_id)
            .where(AuditLog.action.startswith("picture_"))  # type: ignore[attr-defined]
            .order_by(AuditLog.id)  # type: ignore[arg-type]
        ).all()
    assert actions == [
        ("picture_public", ADMIN, claim_id),
        ("picture_private", ADMIN, claim_id),
        ("picture_public", ADMIN, claim_id),
    ]


async def test_a_forged_button_for_an_erased_picture_is_refused_kindly(tipline: Tipline) -> None:
    emu = tipline.emu
    message = await tipline.runtime.app.bot.send_message(REVIEW_CHAT, "Picture #424242")
    query = emu.press_button(
        ADMIN, REVIEW_CHAT, message.message_id, cb.make(cb.Code.PICTURE_PUBLIC, 424242, 1), forge=True
    )
    answer = await emu.wait_for_callback_answer(query)
    assert "erased" in answer["text"]


# -- the domain and the site ------------------------------------------------------------------
async def test_a_merged_claims_picture_shows_on_the_claim_it_joined(db: Database, site: Web) -> None:
    survivor = seed_claim(db, "Tap water will be cut for three days from Monday")
    middle = seed_claim(db, "Water cut for 3 days from Monday!!", status=ClaimStatus.NEW)
    first = seed_claim(db, "water will be cut 3 days", status=ClaimStatus.NEW)

    def merge(session: Any, source: int, target: int) -> None:
        claim = session.get(Claim, source)
        claim.status, claim.merged_into_id = ClaimStatus.MERGED, target

    db.transaction(lambda s: merge(s, first, middle))
    db.transaction(lambda s: merge(s, middle, survivor))  # a chain: first → middle → survivor
    own = store_picture(db, survivor, 1, publishable=True)
    from_middle = store_picture(db, middle, 2, publishable=True)
    from_first = store_picture(db, first, 3, publishable=True)
    private = store_picture(db, first, 4)

    _, html = await site.page(survivor)
    wanted = [f"/pictures/{p}.jpg" for p in (own, from_middle, from_first)]
    assert [re.search(r'src="([^"]+)"', i).group(1) for i in images(html)] == wanted  # type: ignore[union-attr]
    assert image_objects(jsonld(html)) == [PUBLIC + w for w in wanted]
    assert (await site.get(f"/claims/{first}"))[0] == 302  # the duplicate's page still redirects
    for picture_id in (own, from_middle, from_first):
        assert (await site.get(f"/pictures/{picture_id}.jpg"))[0] == 200
    assert (await site.get(f"/pictures/{private}.jpg"))[0] == 404
    with db.session() as session:
        assert public_pictures_by_claim(session) == {survivor: [own, from_middle, from_first]}


async def test_the_address_of_a_picture_nobody_may_see_says_nothing(db: Database, site: Web) -> None:
    published = seed_claim(db, "The minister resigned last night, see the letter")
    in_review = seed_claim(db, "The mayor was arrested, photo attached", status=ClaimStatus.IN_REVIEW)
    spam = seed_claim(db, "Buy followers now", status=ClaimStatus.SPAM)
    private = store_picture(db, published, 1)
    unpublished = store_picture(db, in_review, 2, publishable=True)  # shown once the claim is published
    of_spam = store_picture(db, spam, 3, publishable=True)
    missing = "/pictures/999999.jpg"
    _, missing_body, _ = await site.get(missing)
    for picture_id in (private, unpublished, of_spam):
        path = f"/pictures/{picture_id}.jpg"
        status, body, response = await site.get(path)
        assert status == 404, path
        # The same page whatever is (or is not) behind the id; only the address in its links differs.
        assert body.replace(path.encode(), b"") == missing_body.replace(missing.encode(), b""), path
    for path in (
        f"/pictures/{private}.png",
        f"/pictures/{private}",
        "/pictures/%D9%A3.jpg",  # an Arabic-Indic digit
        "/pictures/+1.jpg",
        "/pictures/" + "9" * 30 + ".jpg",
    ):
        status, body, response = await site.get(path)
        assert status == 404 and response.headers["Content-Type"].startswith("text/html"), path
    assert images((await site.page(published))[1]) == []

    db.transaction(lambda s: setattr(s.get(Claim, in_review), "status", ClaimStatus.PUBLISHED))
    assert (await site.get(f"/pictures/{unpublished}.jpg"))[0] == 200


async def test_without_a_public_url_pictures_show_on_the_page_but_not_in_claimreview(db: Database) -> None:
    claim_id = seed_claim(db, "The stadium is on fire, look")
    picture_id = store_picture(db, claim_id, publishable=True)
    async for site in serving(build_services(Config(database_url=db.url, public_url=None, org_name=ORG), db)):
        status, html = await site.page(claim_id)
        assert status == 200 and len(images(html)) == 1
        assert image_objects(jsonld(html)) == []  # no address of ours to give
        assert feed_images_any(await site.feed()) == []
        assert (await site.get(f"/pictures/{picture_id}.jpg"))[0] == 200
    for fmt in ("claimreview", "jsonl", "csv"):
        out = io.StringIO()
        exporter.export(db, fmt, out, org_name=ORG, public_url=None)  # type: ignore[arg-type]
        assert "/pictures/" not in out.getvalue()


def test_exports_carry_the_addresses_of_public_pictures_never_their_bytes(db: Database) -> None:
    shown_id = seed_claim(db, "Flood in the old town, photo from this morning")
    other = seed_claim(db, "Schools close tomorrow")
    public_picture = store_picture(db, shown_id, 1, publishable=True)
    store_picture(db, shown_id, 2)  # private
    store_picture(db, other, 3)  # private
    url = f"{PUBLIC}/pictures/{public_picture}.jpg"

    def run(fmt: str) -> str:
        out = io.StringIO()
        exporter.export(db, fmt, out, org_name=ORG, public_url=PUBLIC)  # type: ignore[arg-type]
        return out.getvalue()

    feed = json.loads(run("claimreview"))
    assert feed_images(feed, shown_id) == [url] and feed_images(feed, other) == []
    records = {r["id"]: r for r in map(json.loads, run("jsonl").splitlines())}
    assert records[f"{PUBLIC}/claims/{shown_id}"]["pictures"] == [url]
    assert records[f"{PUBLIC}/claims/{other}"]["pictures"] == []
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(run("csv")))}
    assert rows[f"{PUBLIC}/claims/{shown_id}"]["pictures"] == url
    assert rows[f"{PUBLIC}/claims/{other}"]["pictures"] == ""
    for fmt in ("claimreview", "jsonl", "csv"):
        assert "/9j/" not in run(fmt)  # no base64 JPEG anywhere


def test_a_merge_loop_written_by_hand_shows_nothing_and_never_hangs(db: Database) -> None:
    a = seed_claim(db, "Loop one", status=ClaimStatus.NEW)
    b = seed_claim(db, "Loop two", status=ClaimStatus.NEW)

    def loop(session: Any) -> None:
        for source, target in ((a, b), (b, a)):
            claim = session.get(Claim, source)
            claim.status, claim.merged_into_id = ClaimStatus.MERGED, target

    db.transaction(loop)
    picture_id = store_picture(db, a, publishable=True)
    with db.session() as session:
        assert public_pictures_by_claim(session) == {}
        assert public_picture_bytes(session, picture_id) is None


async def test_forgetting_the_sender_takes_a_shown_picture_out_of_the_feed(db: Database, site: Web) -> None:
    from factdb.media.pictures import erase_citizen_pictures
    from factdb.models import Citizen

    claim_id = seed_claim(db, "The dam broke, here is the photo")

    def citizen(session: Any) -> int:
        person = Citizen(telegram_user_id=555, chat_id=555)
        session.add(person)
        session.flush()
        return person.id  # type: ignore[return-value]

    sender = db.transaction(citizen)
    picture_id = store_picture(db, claim_id, 7, publishable=True, citizen_id=sender)
    assert feed_images(await site.feed(), claim_id) == [f"{PUBLIC}/pictures/{picture_id}.jpg"]
    db.transaction(lambda s: erase_citizen_pictures(s, sender))
    assert feed_images(await site.feed(), claim_id) == []
    assert (await site.get(f"/pictures/{picture_id}.jpg"))[0] == 404
