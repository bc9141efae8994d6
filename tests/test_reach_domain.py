"""Reach beyond the private chat, as the domain keeps it: quiet groups, the weekly digest, the
public channel. (The conversations around them are tested through the bot.)"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import col, select

from bench._seed import claim_with_subscribers, publish_ready
from factdb import channel, digest, forgetting, groups, publishing
from factdb.db import Database
from factdb.models import Citizen, Claim, Outbox, Request, utcnow
from factdb.reach_models import ChannelPost, GroupAnswer

REVIEWER = 77
GROUP = -100555


def _published(db: Database, text: str, first_user: int, askers: int = 1) -> int:
    def work(s):  # type: ignore[no-untyped-def]
        claim_id = claim_with_subscribers(s, text, first_user, askers)
        for citizen in s.exec(select(Citizen).where(col(Citizen.telegram_user_id) >= first_user)).all():
            if first_user <= citizen.telegram_user_id < first_user + askers:
                s.add(Request(claim_id=claim_id, citizen_id=citizen.id, text=text, lang="en"))
        publish_ready(s, claim_id, REVIEWER, summary=f"Not true: {text[:20]}", source="https://ex.org/a")
        return claim_id

    return db.transaction(work)


def _outbox(db: Database, kind: str) -> list[Outbox]:
    with db.session() as s:
        return list(s.exec(select(Outbox).where(Outbox.kind == kind).order_by(col(Outbox.id))).all())


def test_a_group_hears_about_a_claim_once_a_day_and_only_counts_are_kept(db: Database) -> None:
    claim_id = _published(db, "The bridge on the river road collapsed last night", 5000)
    today = date(2026, 12, 7)

    assert db.transaction(lambda s: groups.join(s, GROUP)) is True
    assert db.transaction(lambda s: groups.join(s, GROUP)) is False, "introduced once"
    slots = [db.transaction(lambda s: groups.take_answer_slot(s, GROUP, claim_id, today)) for _ in range(3)]
    assert slots == [True, False, False]
    assert db.transaction(lambda s: groups.take_answer_slot(s, GROUP, claim_id, today + timedelta(1)))

    pruned = db.transaction(lambda s: groups.prune(s, today + timedelta(days=2)))
    with db.session() as s:
        assert pruned == 1
        assert len(s.exec(select(GroupAnswer)).all()) == 1  # yesterday's stays for the rule
        assert groups.reach_of(s, claim_id).group_answers == 2


def test_group_admins_turn_the_bot_off_and_choose_its_language_and_removal_forgets_the_group(
    db: Database,
) -> None:
    db.transaction(lambda s: groups.join(s, GROUP))
    db.transaction(lambda s: groups.set_enabled(s, GROUP, False))
    db.transaction(lambda s: groups.set_language(s, GROUP, "lt"))
    with db.session() as s:
        settings = groups.settings(s, GROUP)
        assert settings is not None and not settings.enabled and settings.lang == "lt"
    db.transaction(lambda s: groups.leave(s, GROUP))
    with db.session() as s:
        assert groups.settings(s, GROUP) is None


def test_the_weekly_digest_goes_once_a_week_to_each_subscriber_in_their_language(db: Database) -> None:
    asked = _published(db, "Tap water in the north district is radioactive", 6000, askers=3)
    quiet = _published(db, "Schools close for a month from Monday", 6100, askers=1)

    def people(s):  # type: ignore[no-untyped-def]
        reader = Citizen(telegram_user_id=7001, chat_id=7001, lang="en")
        blocked = Citizen(telegram_user_id=7002, chat_id=7002, lang="en", blocked_bot=True)
        s.add_all([reader, blocked])
        s.flush()
        assert digest.subscribe(s, reader) and not digest.subscribe(s, reader)
        digest.subscribe(s, blocked)
        return reader.id

    reader_id = db.transaction(people)
    now = utcnow()
    assert db.transaction(lambda s: digest.queue_round(s, now)) == 1
    assert db.transaction(lambda s: digest.queue_round(s, now)) == 0, "a second run is a no-op"
    rows = _outbox(db, digest.KIND)
    assert [r.citizen_id for r in rows] == [reader_id]
    assert f'"claims": [{asked}, {quiet}]' in rows[0].payload, "most asked first"

    next_week = now + timedelta(days=7)
    db.transaction(lambda s: digest.unsubscribe(s, reader_id))
    assert db.transaction(lambda s: digest.queue_round(s, next_week)) == 0


def test_a_forgotten_citizen_leaves_the_digest(db: Database) -> None:
    def work(s):  # type: ignore[no-untyped-def]
        c = Citizen(telegram_user_id=7100, chat_id=7100, lang="es")
        s.add(c)
        s.flush()
        digest.subscribe(s, c)
        return c.id

    cid = db.transaction(work)
    db.transaction(lambda s: forgetting.forget(s, 7100))
    with db.session() as s:
        assert not digest.is_subscribed(s, cid)


def test_the_channel_gets_one_post_per_publication_then_edits_and_a_retraction(db: Database) -> None:
    CHANNEL = -100777
    db.transaction(lambda s: channel.configure(s, CHANNEL))

    def open_claim(s):  # type: ignore[no-untyped-def]
        return claim_with_subscribers(s, "Vaccines contain tracking chips", 8000, 1)

    claim_id = db.transaction(open_claim)
    assert _outbox(db, channel.KIND) == [], "nothing posted before publication"
    db.transaction(
        lambda s: publish_ready(s, claim_id, REVIEWER, summary="They do not.", source="https://ex.org/v")
    )
    rows = _outbox(db, channel.KIND)
    assert [(r.chat_id, r.claim_id) for r in rows] == [(CHANNEL, claim_id)]

    # The post went out (as delivery records it); a retraction asks for one edit.
    def sent(s):  # type: ignore[no-untyped-def]
        row = s.get(Outbox, rows[0].id)
        row.status = "sent"
        s.add(row)
        channel.record_post(s, claim_id, CHANNEL, message_id=42)

    db.transaction(sent)
    db.transaction(lambda s: publishing.retract(s, claim_id, REVIEWER, "Wrong source"))
    with db.session() as s:
        assert s.get(Claim, claim_id).status == "retracted"
        assert s.get(ChannelPost, (claim_id, CHANNEL)).message_id == 42
    assert len(_outbox(db, channel.KIND)) == 2

    db.transaction(lambda s: channel.configure(s, None))
    with db.session() as s:
        assert channel.active(s) is None


def test_in_a_group_only_a_near_exact_hit_on_a_published_claim_is_answered() -> None:
    assert groups.answers_in_group("match", groups.GROUP_CONFIDENT, claim_published=True)
    assert not groups.answers_in_group("match", groups.GROUP_CONFIDENT - 1, claim_published=True)
    assert not groups.answers_in_group("match", 100.0, claim_published=False), "under review: silent"
    assert not groups.answers_in_group("maybe", 100.0, claim_published=True), "a choice: silent"
