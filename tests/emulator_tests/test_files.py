"""Files through PTB as a picture-reading bot meets them: photos in several sizes, documents,
GIFs, videos and video notes with thumbnails, voice and audio; getFile and downloads with
Telegram's 20 MB limit; sendPhoto and sendChatAction."""

from __future__ import annotations

import io

import aiohttp
import pytest
from PIL import Image
from telegram import Bot, Update
from telegram.error import BadRequest

from tests.emulator import BotApiEmulator
from tests.emulator_tests.helpers import TOKEN, USER


def picture(width: int, height: int, *, exif_gps: bool = False, fmt: str = "JPEG") -> bytes:
    image = Image.new("RGB", (width, height), (30, 90, 160))
    for x in range(0, width, 40):  # something to see, so sizes differ in content
        image.paste((240, 240, 240), (x, 0, x + 10, height))
    out = io.BytesIO()
    if exif_gps:
        exif = Image.Exif()
        exif[0x8825] = {1: "N", 2: (54.0, 41.0, 0.0)}  # GPSInfo: where the phone was
        image.save(out, format=fmt, exif=exif)
    else:
        image.save(out, format=fmt)
    return out.getvalue()


async def last_update(emu: BotApiEmulator, bot: Bot) -> Update:
    update = Update.de_json(emu.pending_updates[-1], bot)
    assert update is not None
    return update


async def test_a_photo_arrives_in_sizes_each_downloadable_without_exif(emu: BotApiEmulator, bot: Bot) -> None:
    original = picture(2000, 1500, exif_gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get(0x8825)
    emu.send_photo(USER, original, caption="Is this true?")
    message = (await last_update(emu, bot)).message
    assert message is not None and message.caption == "Is this true?"
    sizes = message.photo
    assert [max(s.width, s.height) for s in sizes] == [90, 320, 800, 1280]
    assert len({s.file_id for s in sizes}) == len({s.file_unique_id for s in sizes}) == 4

    largest = await bot.get_file(sizes[-1].file_id)
    assert largest.file_path is not None and "/photos/file_" in largest.file_path
    data = bytes(await largest.download_as_bytearray())
    assert len(data) == largest.file_size == sizes[-1].file_size
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("JPEG", (1280, 960))
        assert not image.getexif().get(0x8825)  # Telegram re-encodes photos: no location
    smallest = bytes(await (await bot.get_file(sizes[0])).download_as_bytearray())
    assert Image.open(io.BytesIO(smallest)).size == (90, 68)


async def test_documents_keep_their_bytes_and_mime_type(emu: BotApiEmulator, bot: Bot) -> None:
    png = picture(300, 200, exif_gps=True, fmt="PNG")
    emu.send_document(USER, "screenshot.png", png, caption="forwarded to me")
    message = (await last_update(emu, bot)).message
    assert message is not None and message.document is not None
    assert (message.document.mime_type, message.document.file_name) == ("image/png", "screenshot.png")
    file = await bot.get_file(message.document.file_id)
    assert file.file_path is not None and file.file_path.endswith(".png") and "/documents/" in file.file_path
    assert bytes(await file.download_as_bytearray()) == png  # documents are not re-encoded

    emu.send_document(USER, "not-a-picture.jpg", b"MZ\x90\x00 an executable", mime_type="image/jpeg")
    disguised = (await last_update(emu, bot)).message
    assert disguised is not None and disguised.document is not None
    assert disguised.document.mime_type == "image/jpeg"
    assert bytes(await (await bot.get_file(disguised.document)).download_as_bytearray()).startswith(b"MZ")


async def test_gifs_videos_and_video_notes_come_with_thumbnails(emu: BotApiEmulator, bot: Bot) -> None:
    frame = picture(640, 360)
    emu.send_media(USER, "animation", b"\x00\x00\x00\x18ftypmp42", thumbnail=frame, caption="lol")
    message = (await last_update(emu, bot)).message
    assert message is not None and message.animation is not None and message.document is not None
    assert message.animation.mime_type == "video/mp4" and message.caption == "lol"
    assert message.animation.thumbnail is not None
    thumb = await bot.get_file(message.animation.thumbnail)
    assert thumb.file_path is not None and "/thumbnails/" in thumb.file_path
    with Image.open(io.BytesIO(bytes(await thumb.download_as_bytearray()))) as image:
        assert image.format == "JPEG" and max(image.size) == 320

    emu.send_media(USER, "video", b"\x00\x00\x00\x18ftypisom", thumbnail=frame, width=1280, height=720)
    video = (await last_update(emu, bot)).message
    assert video is not None and video.video is not None and video.video.thumbnail is not None
    assert (video.video.width, video.video.height, video.video.mime_type) == (1280, 720, "video/mp4")
    file = await bot.get_file(video.video)
    assert bytes(await file.download_as_bytearray()) == b"\x00\x00\x00\x18ftypisom"

    emu.send_media(USER, "video_note", b"note", thumbnail=frame)
    note = (await last_update(emu, bot)).message
    assert note is not None and note.video_note is not None and note.video_note.thumbnail is not None
    with pytest.raises(ValueError, match="no caption"):
        emu.send_media(USER, "video_note", b"note", caption="x")

    emu.send_media(USER, "voice", b"OggS voice")
    emu.send_media(USER, "audio", b"ID3 song", file_name="song.mp3")
    voice, audio = (Update.de_json(u, bot) for u in emu.pending_updates[-2:])
    assert voice is not None and voice.message is not None and voice.message.voice is not None
    assert voice.message.voice.mime_type == "audio/ogg"
    assert audio is not None and audio.message is not None and audio.message.audio is not None
    assert (audio.message.audio.file_name, audio.message.audio.mime_type) == ("song.mp3", "audio/mpeg")


async def test_get_file_refuses_files_over_20_mb_like_telegram(
    emu: BotApiEmulator, bot: Bot, http: aiohttp.ClientSession
) -> None:
    emu.send_media(USER, "video", b"big", file_size=25 * 1024 * 1024)
    video = (await last_update(emu, bot)).message
    assert video is not None and video.video is not None and video.video.file_size == 25 * 1024 * 1024
    with pytest.raises(BadRequest, match="File is too big"):
        await bot.get_file(video.video)

    exactly = 20 * 1024 * 1024
    emu.send_document(USER, "edge.bin", b"\0" * exactly)
    emu.send_document(USER, "over.bin", b"\0" * (exactly + 1))
    edge, over = (Update.de_json(u, bot) for u in emu.pending_updates[-2:])
    assert edge is not None and edge.message is not None and edge.message.document is not None
    assert over is not None and over.message is not None and over.message.document is not None
    assert (await bot.get_file(edge.message.document)).file_size == exactly
    with pytest.raises(BadRequest, match="File is too big"):
        await bot.get_file(over.message.document)

    # Downloads need the right token and a path getFile gave.
    path = (await bot.get_file(edge.message.document)).file_path
    assert path is not None
    relative = path.split(f"/file/bot{TOKEN}/", 1)[1]
    async with http.get(f"{emu.base_file_url}123456:wrong/{relative}") as response:
        assert response.status == 401
    async with http.get(f"{emu.base_file_url}{TOKEN}/documents/file_999.bin") as response:
        assert response.status == 404


async def test_the_bot_sends_photos_by_upload_and_by_file_id(emu: BotApiEmulator, bot: Bot) -> None:
    sent = await bot.send_photo(
        USER, picture(1600, 1200), caption="<b>False</b>: an old photo", parse_mode="HTML"
    )
    assert [max(s.width, s.height) for s in sent.photo] == [90, 320, 800, 1280]
    assert sent.caption == "False: an old photo"
    assert [e.type for e in sent.caption_entities] == ["bold"]
    again = await bot.send_photo(USER, sent.photo[-1].file_id, caption="again")
    assert [s.file_id for s in again.photo] == [s.file_id for s in sent.photo]

    view = emu.last_bot_message(USER)
    assert view is not None and view.kind == "photo" and view.text == "again"

    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_photo(USER, picture(10, 10), caption="<b>oops", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(USER, b"this is not a picture")
    document = await bot.send_document(USER, b"a,b\n", filename="x.csv")
    assert document.document is not None
    with pytest.raises(BadRequest, match=r"(?i)type of file mismatch"):
        await bot.send_photo(USER, document.document.file_id)


async def test_chat_actions_are_recorded(emu: BotApiEmulator, bot: Bot) -> None:
    await bot.send_chat_action(USER, "upload_photo")
    await bot.send_chat_action(USER, "typing")
    assert emu.chat_actions(USER) == ["upload_photo", "typing"]
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(USER, "dancing")
