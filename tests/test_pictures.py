"""Citizens forward pictures: screenshots, memes, photos, GIFs, videos (issue 14).

Every picture here is drawn by the test (bench/_pictures.py), sent through the Bot API emulator
as Telegram would deliver it (a photo re-encoded into sizes, a document as sent, a video with
its thumbnail), fetched by the bot with getFile, read, and answered.
"""

from __future__ import annotations

import asyncio
import io
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import func, select

from bench._picture_texts import texts
from bench._pictures import chat_screenshot, jpeg, meme, phone_viewer, photo
from factdb.db import Database
from factdb.media import ocr
from factdb.media.hashing import picture_hash
from factdb.media.pictures import Picture, record_picture
from factdb.models import Claim, ClaimStatus, Outbox, OutboxKind, Request
from tests.conftest import ADMIN, running_bot
from tests.emulator import BotApiEmulator
from tests.harness import REVIEW_CHAT, Tipline, shown

OCR = ocr.ocr_status()
needs_tesseract = pytest.mark.skipif(not OCR.available, reason=OCR.advice)
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
SUMMARY = "This picture was made with an image generator; no such event happened."


def keep_picture(tipline: Tipline, claim_id: int, image: Image.Image) -> None:
    """A picture reviewers already have on a claim, as an earlier citizen's copy leaves it."""
    data = jpeg(image)
    tipline.db.transaction(
        lambda s: record_picture(
            s, claim_id=claim_id, citizen_id=None, jpeg=data, size=image.size, phash=picture_hash(image)
        )
    )


def pictures(tipline: Tipline) -> list[Picture]:
    with tipline.db.session() as s:
        return list(s.exec(select(Picture).order_by(Picture.id)).all())  # type: ignore[arg-type]


@needs_tesseract
@pytest.mark.parametrize("lang", ["en", "es", "lt", "zh-TW"])
async def test_a_screenshot_of_a_checked_message_is_answered_in_each_language(
    tipline: Tipline, lang: str
) -> None:
    rumour = texts(lang, 1, 77)[0]
    tipline.seed_published(rumour, summary=SUMMARY, lang=lang)
    tipline.emu.send_photo(601, jpeg(chat_screenshot(rumour, lang, 5)))
    answer = await tipline.emu.wait_for_bot_message(601, timeout=30)
    assert SUMMARY in shown(answer), (lang, shown(answer))
    assert "typing" in tipline.emu.chat_actions(601)  # the citizen saw the bot working
    with tipline.db.session() as s:
        request = s.exec(select(Request)).one()
        assert request.media_kind == "photo" and request.decision == "match"


async def test_a_travelled_copy_is_answered_by_its_look_even_without_any_text(tipline: Tipline) -> None:
    original = photo(11)
    claim_id = tipline.seed_published("Photo of the flooded airport", summary=SUMMARY)
    keep_picture(tipline, claim_id, original)
    # screenshotted on a phone, the way such pictures travel
    copy = phone_viewer(original, random.Random(3))
    tipline.emu.send_photo(602, jpeg(copy, quality=70))
    answer = await tipline.emu.wait_for_bot_message(602, timeout=30)
    assert SUMMARY in shown(answer)
    with tipline.db.session() as s:
        assert s.exec(select(Request)).one().decision == "picture"
        assert s.get(Claim, claim_id).request_count == 1  # type: ignore[union-attr]
    assert len(pictures(tipline)) == 1  # a recognised copy is not stored again


async def test_a_different_picture_in_the_same_style_is_a_new_claim(tipline: Tipline) -> None:
    claim_id = tipline.seed_published("Photo of the flooded airport", summary=SUMMARY)
    keep_picture(tipline, claim_id, photo(11))
    tipline.emu.send_photo(603, jpeg(photo(12)))
    reply = await tipline.emu.wait_for_bot_message(603, timeout=30)
    assert SUMMARY not in shown(reply) and "Nobody has asked about this yet" in shown(reply)


async def test_a_screenshot_of_another_message_in_the_same_chat_app_is_not_taken_for_a_checked_one(
    tipline: Tipline,
) -> None:
    """Screenshots of one app share a layout (their plain pHashes are a few bits apart): only
    the text in them, and the fine hash, tell them apart."""
    checked, other = texts("en", 2, 78)
    claim_id = tipline.seed_published(checked, summary=SUMMARY)
    keep_picture(tipline, claim_id, chat_screenshot(checked, "en", 8))
    tipline.emu.send_photo(614, jpeg(chat_screenshot(other, "en", 8)))
    reply = await tipline.emu.wait_for_bot_message(614, timeout=30)
    assert SUMMARY not in shown(reply)
    with tipline.db.session() as s:
        assert s.exec(select(Request)).one().claim_id != claim_id


async def test_a_new_picture_reaches_reviewers_as_a_photo_under_its_card(tipline: Tipline) -> None:
    picture = meme(21, "The minister bought a yacht with our taxes", "en")
    tipline.emu.send_photo(604, jpeg(picture), caption="is this real??")
    await tipline.emu.wait_for_bot_message(604, timeout=30)
    card = await tipline.emu.wait_for_bot_message(REVIEW_CHAT, lambda m: m.kind != "photo")
    shot = await tipline.emu.wait_for_bot_message(REVIEW_CHAT, lambda m: m.kind == "photo", timeout=15)
    assert "is this real" in shown(card)
    claim_id = tipline.db.transaction(lambda s: s.exec(select(Claim.id)).one())
    assert f"#{claim_id}" in shown(shot)
    assert shot.raw.get("reply_to_message", {}).get("message_id") == card.message_id
    if OCR.available:
        assert "yacht" in shown(shot).lower()  # the text read from it, for reviewers
    (kept,) = pictures(tipline)
    assert kept.claim_id == claim_id and not kept.publishable
    # a reviewer may show it on the public page (tests/test_public_pictures.py follows that on)
    assert shot.button_texts() == ["Show on the public page"]


async def test_location_and_camera_data_never_reach_the_database(tipline: Tipline) -> None:
    # A document keeps the sender's bytes, EXIF and all (a photo would be re-encoded by Telegram).
    image = photo(31)
    exif = Image.Exif()
    exif[0x010F] = "SecretPhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (54.0, 41.0, 12.0), 3: "E", 4: (25.0, 16.0, 48.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    assert b"SecretPhoneMaker" in out.getvalue()
    tipline.emu.send_document(605, "IMG_2041.jpg", out.getvalue(), mime_type="image/jpeg")
    await tipline.emu.wait_for_bot_message(605, timeout=30)
    (kept,) = pictures(tipline)
    assert kept.data is not None and b"SecretPhoneMaker" not in kept.data
    assert not Image.open(io.BytesIO(kept.data)).getexif()


def _gif(frames: list[Image.Image]) -> bytes:
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    return out.getvalue()


def _mp4(image: Image.Image, tmp: Path) -> bytes:
    still = tmp / "still.png"
    image.save(still)
    video = tmp / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-loop", "1", "-i", str(still), "-t", "2",
         "-pix_fmt", "yuv420p", "-vf", "scale=640:-2", str(video)],
        check=True, timeout=60,
    )  # fmt: skip
    return video.read_bytes()


async def test_a_gif_is_recognised_by_its_frames(tipline: Tipline) -> None:
    original = photo(41)
    claim_id = tipline.seed_published("Video of tanks in the city centre", summary=SUMMARY)
    keep_picture(tipline, claim_id, original)
    gif = _gif([original, original.transpose(Image.Transpose.FLIP_LEFT_RIGHT)])
    tipline.emu.send_media(606, "animation", gif)
    assert SUMMARY in shown(await tipline.emu.wait_for_bot_message(606, timeout=30))


@needs_ffmpeg
async def test_a_video_is_recognised_by_its_key_frames(tipline: Tipline, tmp_path: Path) -> None:
    original = photo(42)
    claim_id = tipline.seed_published("Video of tanks in the city centre", summary=SUMMARY)
    keep_picture(tipline, claim_id, original)
    tipline.emu.send_media(607, "video", _mp4(original, tmp_path), caption="look!!")
    assert SUMMARY in shown(await tipline.emu.wait_for_bot_message(607, timeout=30))


async def test_a_video_too_big_to_fetch_is_judged_by_its_thumbnail(tipline: Tipline) -> None:
    original = photo(43)
    claim_id = tipline.seed_published("Video of tanks in the city centre", summary=SUMMARY)
    keep_picture(tipline, claim_id, original)
    tipline.emu.send_media(608, "video", b"\0" * 64, thumbnail=jpeg(original), file_size=60 * 1024 * 1024)
    assert SUMMARY in shown(await tipline.emu.wait_for_bot_message(608, timeout=30))


async def test_what_cannot_be_opened_gets_a_kind_answer_and_nothing_is_stored(tipline: Tipline) -> None:
    emu = tipline.emu
    emu.send_document(609, "holiday.jpg", jpeg(photo(5)), mime_type="image/jpeg", file_size=25 * 1024 * 1024)
    assert "too big" in shown(await emu.wait_for_bot_message(609, timeout=30))
    # named like a picture, but a web page: judged by what it is, not by its name
    emu.send_document(610, "photo.jpg", b"<html><script>alert(1)</script></html>", mime_type="image/jpeg")
    assert "not this kind of file" in shown(await emu.wait_for_bot_message(610, timeout=30))
    # a 300-byte PNG that claims to be 60,000 x 60,000 pixels
    emu.send_document(611, "bomb.png", _png_header(60_000, 60_000), mime_type="image/png")
    assert "couldn't open this picture" in shown(await emu.wait_for_bot_message(611, timeout=30))
    emu.send_message(612, voice=True)
    assert "voice messages" in shown(await emu.wait_for_bot_message(612, timeout=30))
    await emu.wait_until_idle()
    assert pictures(tipline) == []
    with tipline.db.session() as s:
        assert s.exec(select(func.count()).select_from(Request)).one() == 0


def _png_header(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


async def test_forget_erases_the_citizens_pictures_and_their_photo_in_the_moderators_group(
    tipline: Tipline,
) -> None:
    emu = tipline.emu
    emu.send_photo(613, jpeg(photo(51)))
    await emu.wait_for_bot_message(613, timeout=30)
    shot = await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: m.kind == "photo", timeout=15)
    assert len(pictures(tipline)) == 1
    emu.send_text(613, "/forget")
    await emu.wait_for_bot_message(613, lambda m: "delete" in m.text.lower(), since=0, timeout=15)
    assert pictures(tipline) == []
    for _ in range(100):  # the photo is taken down through the outbox, a moment later
        if all(m.message_id != shot.message_id for m in emu.chat(REVIEW_CHAT)):
            break
        await asyncio.sleep(0.1)
    assert all(m.message_id != shot.message_id for m in emu.chat(REVIEW_CHAT))
    with tipline.db.session() as s:
        assert s.exec(select(func.count()).select_from(Claim)).one() == 0
        assert (
            s.exec(select(func.count()).select_from(Outbox).where(Outbox.kind == OutboxKind.PICTURE)).one()
            == 0
        )


async def test_four_pictures_at_once_are_all_answered(tipline: Tipline) -> None:
    claim_id = tipline.seed_published("Photo of the flooded airport", summary=SUMMARY)
    keep_picture(tipline, claim_id, photo(61))
    for user in range(620, 624):
        tipline.emu.send_photo(user, jpeg(phone_viewer(photo(61), random.Random(user))))
    answers = await asyncio.gather(
        *(tipline.emu.wait_for_bot_message(user, timeout=60) for user in range(620, 624))
    )
    assert all(SUMMARY in shown(a) for a in answers)
    assert tipline.claim(claim_id).request_count == 4
    assert tipline.claim(claim_id).status == ClaimStatus.PUBLISHED


async def test_without_ocr_pictures_are_still_recognised_by_their_look(tipline: Tipline) -> None:
    """A machine without Tesseract: the bot runs, says so at start-up and in `crowdcheck doctor`
    (tests/test_media_ocr.py), and still answers copies of pictures it has."""
    tipline.runtime.svc.reader.ocr = False
    original = photo(71)
    claim_id = tipline.seed_published("Photo of the flooded airport", summary=SUMMARY)
    keep_picture(tipline, claim_id, original)
    tipline.emu.send_photo(630, jpeg(phone_viewer(original, random.Random(9))))
    assert SUMMARY in shown(await tipline.emu.wait_for_bot_message(630, timeout=30))
    # a screenshot's text cannot be read: it waits for reviewers like any new message
    rumour = texts("en", 1, 79)[0]
    tipline.seed_published(rumour, summary="Not this one.")
    tipline.emu.send_photo(631, jpeg(chat_screenshot(rumour, "en", 4)))
    reply = await tipline.emu.wait_for_bot_message(631, timeout=30)
    assert "Nobody has asked about this yet" in shown(reply)


async def test_a_picture_nobody_sent_before_is_checked_and_its_later_copies_are_answered_at_once(
    tipline: Tipline,
) -> None:
    """The whole story: Rasa forwards a photo without a word; reviewers see it and publish;
    Rasa is told; Tomas later sends a copy that travelled through a phone and gets the answer."""
    emu = tipline.emu
    original = photo(81)
    emu.send_photo(640, jpeg(original))
    assert "Nobody has asked about this yet" in shown(await emu.wait_for_bot_message(640, timeout=30))
    card = await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: m.kind != "photo")
    assert "no text we could read" in shown(card)
    await emu.wait_for_bot_message(REVIEW_CHAT, lambda m: m.kind == "photo", timeout=15)
    preview = await tipline.write_and_publish(
        ADMIN, card, summary=SUMMARY, sources="https://factcheck.example.org/airport"
    )
    # Words for what was checked: the public page, ClaimReview and Rasa's notice need them.
    refusal = await emu.wait_for_callback_answer(await tipline.press(ADMIN, preview, "Publish"))
    assert "/reword" in refusal["text"] and tipline.claim(1).status != ClaimStatus.PUBLISHED
    claim_id = tipline.db.transaction(lambda s: s.exec(select(Claim.id)).one())
    emu.send_text(ADMIN, f"/reword {claim_id} Photo said to show the airport flooded this week")
    await emu.wait_for_bot_message(ADMIN, lambda m: "flooded" in shown(m))
    await tipline.press(ADMIN, preview, "Publish")
    notice = await emu.wait_for_bot_message(640, lambda m: SUMMARY in shown(m), timeout=15)
    assert "airport flooded" in shown(notice)
    emu.send_photo(641, jpeg(phone_viewer(original, random.Random(4)), quality=70))
    assert SUMMARY in shown(await emu.wait_for_bot_message(641, timeout=30))


async def test_a_citizen_over_the_daily_picture_limit_is_told_before_anything_is_downloaded(
    db: Database, emulator: BotApiEmulator
) -> None:
    async with running_bot(emulator, db, pictures_per_day=1) as tipline:
        tipline.emu.send_photo(650, jpeg(photo(91)))
        await tipline.emu.wait_for_bot_message(650, timeout=30)
        fetched = sum(1 for r in tipline.emu.requests_log if r["method"] == "getFile")
        tipline.emu.send_photo(650, jpeg(photo(92)))
        reply = await tipline.emu.wait_for_bot_message(650, timeout=30)
        assert "a lot of pictures today" in shown(reply)
        assert sum(1 for r in tipline.emu.requests_log if r["method"] == "getFile") == fetched
        tipline.emu.send_text(650, "Schools close tomorrow because of a new virus, tell everyone")
        assert "Thanks" in shown(await tipline.emu.wait_for_bot_message(650))  # text goes on


@needs_tesseract
async def test_a_phone_number_in_a_screenshot_is_masked_before_it_is_stored(tipline: Tipline) -> None:
    text = "Call +370 612 34567 now to get the free vaccine money before Friday"
    tipline.emu.send_photo(660, jpeg(chat_screenshot(text, "en", 12)))
    await tipline.emu.wait_for_bot_message(660, timeout=30)
    (kept,) = pictures(tipline)
    with tipline.db.session() as s:
        stored = [kept.ocr_text or "", *(r.text or "" for r in s.exec(select(Request)).all())]
        stored += [c.text for c in s.exec(select(Claim)).all()]
    assert any("vaccine" in t for t in stored)
    assert not any("612" in t or "34567" in t for t in stored), stored


async def test_forget_while_the_photo_is_on_its_way_to_reviewers_still_takes_it_down(
    tipline: Tipline,
) -> None:
    """The erasure cannot know the photo's message id while Telegram has not answered yet: the
    sender, finishing, finds the picture gone and takes its message down itself."""
    emu = tipline.emu
    emu.hold("sendPhoto", chat_id=REVIEW_CHAT)
    emu.send_photo(670, jpeg(photo(93)))
    await emu.wait_for_bot_message(670, timeout=30)
    for _ in range(100):
        if emu.held_calls:
            break
        await asyncio.sleep(0.1)
    assert emu.held_calls  # the photo is on its way
    emu.send_text(670, "/forget")
    await emu.wait_for_bot_message(670, lambda m: "delete" in m.text.lower(), since=0, timeout=15)
    emu.release_holds()
    for _ in range(100):
        shown_photos = [m for m in emu.chat(REVIEW_CHAT) if m.kind == "photo"]
        deleted = any(r["method"] == "deleteMessage" for r in emu.requests_log)
        if deleted and not shown_photos:
            break
        await asyncio.sleep(0.1)
    assert not [m for m in emu.chat(REVIEW_CHAT) if m.kind == "photo"]
    assert pictures(tipline) == []
