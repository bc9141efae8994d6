"""Admins run the tipline from the moderators' group: reviewers, figures, files in and out."""

from __future__ import annotations

import json

from sqlmodel import select

from factdb import reviewers
from factdb.models import Citizen, Claim
from tests.conftest import ADMIN
from tests.harness import REVIEW_CHAT, Tipline, shown

JONAS = ADMIN


async def test_an_admin_adds_a_reviewer_by_replying_and_removes_them_by_username(tipline: Tipline) -> None:
    emu = tipline.emu
    emu.create_group(REVIEW_CHAT, "Moderators", members=[JONAS, 7001])
    emu.user(7001, "Rita", username="rita_checks")
    said = emu.send_text(7001, "Hi all, I'd like to help review", chat_id=REVIEW_CHAT)
    await emu.wait_until_idle()
    emu.send_text(JONAS, "/addreviewer", chat_id=REVIEW_CHAT, reply_to_message_id=said["message_id"])
    reply = await emu.wait_for_bot_message(REVIEW_CHAT)
    assert "Rita is now a reviewer" in shown(reply)
    with tipline.db.session() as s:
        assert reviewers.is_reviewer(s, 7001, set())
    emu.send_text(JONAS, "/reviewers", chat_id=REVIEW_CHAT)
    listing = await emu.wait_for_bot_message(REVIEW_CHAT)
    assert "7001" in listing.text and "Rita" in shown(listing)
    emu.send_text(JONAS, "/removereviewer @rita_checks", chat_id=REVIEW_CHAT)
    reply = await emu.wait_for_bot_message(REVIEW_CHAT)
    assert "no longer a reviewer" in shown(reply)
    with tipline.db.session() as s:
        assert not reviewers.is_reviewer(s, 7001, set())


async def test_only_admins_manage_reviewers_or_export(tipline: Tipline) -> None:
    tipline.db.transaction(lambda s: reviewers.add(s, 7002, name="Plain reviewer"))
    for command in ("/addreviewer 7003", "/export csv"):
        reply = await tipline.ask(7002, command)
        assert "Only admins can do this." in reply.text
    with tipline.db.session() as s:
        assert not reviewers.is_reviewer(s, 7003, set())


async def test_stats_show_the_week(tipline: Tipline) -> None:
    tipline.seed_published(
        "The river will flood the old town tonight, evacuate now", summary="No flood warning exists."
    )
    await tipline.ask(301, "The river will flood the old town tonight, evacuate now")
    await tipline.ask(302, "A new tax on bicycles starts on Monday according to the ministry of transport")
    reply = await tipline.ask(JONAS, "/stats")
    text = shown(reply)
    assert "Requests today: 2" in text and "Claims: 2" in text
    assert "bicycles" in text  # the most viral open claim


async def test_a_spanish_speaking_reviewer_reads_the_figures_in_spanish(tipline: Tipline) -> None:
    tipline.seed_published("The river will flood the old town tonight, evacuate now", summary="No flood.")
    await tipline.ask(301, "A new tax on bicycles starts on Monday according to the ministry of transport")
    tipline.emu.user(JONAS, "Jonas", language_code="es")
    text = shown(await tipline.ask(JONAS, "/stats"))
    assert "Afirmaciones: 2" in text and "Publicada 1" in text and "Nueva 1" in text
    assert "published" not in text and "new 1" not in text  # no raw status names


async def test_export_sends_a_claimreview_file_without_anyone_who_asked(tipline: Tipline) -> None:
    tipline.seed_published(
        "Free petrol vouchers are handed out at the town hall this Friday", summary="There are no vouchers."
    )
    await tipline.ask(
        303, "Free petrol vouchers are handed out at the town hall this Friday", first_name="Secret Person"
    )
    reply = await tipline.ask(JONAS, "/export claimreview")
    assert reply.document is not None and reply.document.filename == "crowdcheck-claimreview.json"
    feed = json.loads(reply.document.data)
    assert feed["@type"] == "DataFeed"
    review = (
        feed["dataFeedElement"][0]["item"][0]
        if "item" in feed["dataFeedElement"][0]
        else feed["dataFeedElement"][0]
    )
    assert "petrol vouchers" in json.dumps(review)
    raw = reply.document.data.decode()
    assert "Secret Person" not in raw and "303" not in raw


async def test_an_admin_sends_a_partners_file_and_its_checks_answer_citizens_at_once(
    tipline: Tipline,
) -> None:
    rows = [
        {
            "id": "partner-1",
            "text": "Schools will stay closed until March because of a new virus",
            "verdict": "false",
            "summary": "The education ministry says schools reopen on Monday as planned.",
            "url": "https://partner.example.org/schools",
            "lang": "en",
            "published": "2026-11-20",
        },
        {"id": "partner-2", "text": "", "verdict": "false"},
    ]
    data = ("\n".join(json.dumps(r) for r in rows) + "\n").encode()
    tipline.emu.send_document(JONAS, "partner.jsonl", data)
    reply = await tipline.emu.wait_for_bot_message(JONAS, timeout=8)
    assert "Imported: 1 added, 0 updated, 1 skipped." in shown(reply)
    assert "line 2" in shown(reply)
    answer = await tipline.ask(305, "Schools will stay closed until March because of a new virus")
    assert "schools reopen on Monday" in shown(answer)


async def test_a_citizen_sending_a_file_is_told_what_the_bot_can_read(tipline: Tipline) -> None:
    tipline.emu.send_document(306, "claims.jsonl", b'{"id": "x", "text": "sneaky", "verdict": "true"}\n')
    reply = await tipline.emu.wait_for_bot_message(306)
    assert "I can read text and pictures" in reply.text


async def test_a_reviewer_blocks_a_troll_and_releases_them(tipline: Tipline) -> None:
    await tipline.ask(304, "buy cheap followers now at my site best prices ever for everyone today")
    with tipline.db.session() as s:
        claim_id = max(c.id for c in s.exec(select(Claim)))
    reply = await tipline.ask(JONAS, f"/block {claim_id}")
    assert "Blocked 1 citizen" in reply.text
    tipline.emu.send_text(304, "another spam message about followers for sale at low prices")
    await tipline.emu.wait_until_idle()
    assert len(tipline.emu.bot_messages(304)) == 1  # silence: blocked
    held = await tipline.ask(JONAS, "/held")
    with tipline.db.session() as s:
        number = s.exec(select(Citizen).where(Citizen.telegram_user_id == 304)).one().id
    assert f"citizen {number}" in held.text and "304" not in held.text.replace(f"citizen {number}", "")
    reply = await tipline.ask(JONAS, f"/unblock {number}")
    assert "can send messages again" in reply.text
    again = await tipline.ask(
        304, "is it true that the post office closes on Saturdays from next month onwards"
    )
    assert "Thanks" in shown(again)


async def test_an_admins_csv_export_is_safe_to_open_in_a_spreadsheet(tipline: Tipline) -> None:
    import csv
    import io

    tipline.seed_published(
        '=HYPERLINK("http://evil.example/x","Click for the truth")',
        summary="@SUM(1+1)*cmd|' /C calc'!A0\rThe second line, after a bare carriage return.",
    )
    tipline.seed_published("Free petrol vouchers at the town hall this Friday", summary="No vouchers.")
    reply = await tipline.ask(JONAS, "/export csv")
    assert reply.document is not None
    rows = list(csv.reader(io.StringIO(reply.document.data.decode("utf-8"), newline="")))
    assert len(rows) == 3  # the header and two claims: the CR stays inside its cell
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    assert '\'=HYPERLINK("http://evil.example/x","Click for the truth")' in cells
    assert any(cell.startswith("'@SUM(1+1)") for cell in cells)
