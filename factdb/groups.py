"""Quiet group mode: the bot answers in family and neighbourhood groups, rarely and only when sure.

What a group costs its members in privacy is the point of these rules: group messages are never
stored or queued for reviewers (the handler matches them in memory and forgets them), the only
rows kept are the group's own settings and, for a day, which claims were answered in it (the
once-a-day rule needs that); after that only a count per claim remains (`ClaimReach`), with no
trace of where. The bot answers at most once per claim per group per day, so a rumour that keeps
circulating in a group gets one reply, not a reply to every copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from factdb import clarifications
from factdb.language import detect_language
from factdb.matching import Matcher
from factdb.merges import current_claim
from factdb.models import Claim, ClaimStatus
from factdb.reach_models import ClaimReach, GroupAnswer, GroupChat


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def join(session: Session, chat_id: int) -> bool:
    """The bot was added to a group: remember it, enabled. True when it is new here (the bot
    introduces itself); False when it was known. Removal (`leave`) forgets the group."""
    stmt = (
        _insert(session)(GroupChat)
        .values(chat_id=chat_id, enabled=True)
        .on_conflict_do_nothing(index_elements=["chat_id"])
        .returning(col(GroupChat.chat_id))
    )
    return session.execute(stmt).first() is not None


def settings(session: Session, chat_id: int) -> GroupChat | None:
    return session.get(GroupChat, chat_id)


def set_enabled(session: Session, chat_id: int, enabled: bool) -> GroupChat:
    group = session.get(GroupChat, chat_id) or GroupChat(chat_id=chat_id)
    group.enabled = enabled
    session.add(group)
    return group


def set_language(session: Session, chat_id: int, lang: str | None) -> GroupChat:
    group = session.get(GroupChat, chat_id) or GroupChat(chat_id=chat_id)
    group.lang = lang
    session.add(group)
    return group


def leave(session: Session, chat_id: int) -> None:
    """The bot was removed: forget the group's settings and its day of answers."""
    session.execute(delete(GroupAnswer).where(col(GroupAnswer.chat_id) == chat_id))
    session.execute(delete(GroupChat).where(col(GroupChat.chat_id) == chat_id))


def take_answer_slot(session: Session, chat_id: int, claim_id: int, today: date) -> bool:
    """True (and counted) when the bot has not yet answered about this claim in this group today.

    An insert that does nothing on conflict, so two workers handling two copies of the same
    rumour at once answer once between them.
    """
    stmt = (
        _insert(session)(GroupAnswer)
        .values(chat_id=chat_id, claim_id=claim_id, day=today)
        .on_conflict_do_nothing(index_elements=["chat_id", "claim_id", "day"])
        .returning(col(GroupAnswer.claim_id))
    )
    if session.execute(stmt).first() is None:
        return False
    count_answer(session, claim_id, groups=1)
    return True


def count_answer(session: Session, claim_id: int, *, groups: int = 0, inline: int = 0) -> None:
    reach = session.get(ClaimReach, claim_id) or ClaimReach(claim_id=claim_id)
    reach.group_answers += groups
    reach.inline_shares += inline
    session.add(reach)


def prune(session: Session, today: date) -> int:
    """Delete answer rows from before yesterday (the counts stay in `ClaimReach`)."""
    cutoff = today - timedelta(days=1)
    old = session.exec(select(func.count()).where(col(GroupAnswer.day) < cutoff)).one()
    session.execute(delete(GroupAnswer).where(col(GroupAnswer.day) < cutoff))
    return int(old)


def reach_of(session: Session, claim_id: int) -> ClaimReach:
    return session.get(ClaimReach, claim_id) or ClaimReach(claim_id=claim_id)


# A group answer needs the private chat's "answer at once" decision and at least this score
# (0..100, factdb/matching/). Measured with `python -m bench.group_threshold` (docs/reach.md):
# the lowest score at which no wrong answer is left on the tuning side but the same claim in
# other words; on the unseen side it answers 84 % of known claims at once, with 0 wrong
# (private chat's 40.5: 90 %, and 25 wrong of 1,698 once the right claim is taken away).
GROUP_CONFIDENT = 80.0


def answers_in_group(decision: str, score: float, claim_published: bool) -> bool:
    """Whether a group message that matched a claim gets a reply: only a published claim, only
    a near-exact hit. When in doubt the bot is silent: a group did not ask it anything."""
    return claim_published and decision == "match" and score >= GROUP_CONFIDENT


@dataclass(frozen=True)
class GroupReply:
    """What the bot says in a group: one published claim's clarification, in the group's language."""

    claim: Claim
    chosen: clarifications.Chosen
    lang: str | None


def reply_for(session: Session, index: Matcher, chat_id: int, text: str, today: date) -> GroupReply | None:
    """The reply a group message earns, or None (silence: the usual case).

    Nothing about the message is written: it is matched in memory and dropped. Only when the
    bot answers is a row kept (this claim, this group, today), for the once-a-day rule.
    """
    group = settings(session, chat_id)
    if group is not None and not group.enabled:
        return None
    if not text.strip():
        return None
    result = index.match(text, session)
    if result.claim_id is None:
        return None
    claim = session.get(Claim, result.claim_id)
    if claim is None:
        return None
    claim = current_claim(session, claim)
    published = claim.status == ClaimStatus.PUBLISHED
    if not answers_in_group(result.decision, result.score, published):
        return None
    lang = (group.lang if group else None) or detect_language(text, fallback=claim.lang)
    chosen = clarifications.for_language(session, claim.id, lang)  # type: ignore[arg-type]
    if chosen is None or not take_answer_slot(session, chat_id, claim.id, today):  # type: ignore[arg-type]
        return None
    return GroupReply(claim, chosen, lang)
