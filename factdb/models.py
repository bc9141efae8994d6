"""The tipline's tables. Everything a person would be upset to lose lives here, not in memory."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint, and_, event, func
from sqlmodel import Field, SQLModel, col

from factdb.normalize import normalize


def utcnow() -> datetime:
    # Aware UTC everywhere: SQLModel stores UTC and hands back aware values on both databases.
    return datetime.now(UTC)


class ClaimStatus(StrEnum):
    NEW = "new"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    RETRACTED = "retracted"
    SPAM = "spam"
    MERGED = "merged"


# Claims a citizen's message may be matched against. A retracted claim stays matchable so that
# the next citizen is told "under review" again rather than starting a duplicate.
MATCHABLE_STATUSES = (
    ClaimStatus.NEW,
    ClaimStatus.IN_REVIEW,
    ClaimStatus.PUBLISHED,
    ClaimStatus.RETRACTED,
)
OPEN_STATUSES = (ClaimStatus.NEW, ClaimStatus.IN_REVIEW)


class Verdict(StrEnum):
    FALSE = "false"
    MISLEADING = "misleading"
    MISSING_CONTEXT = "missing_context"
    MIXED = "mixed"
    TRUE = "true"
    UNPROVEN = "unproven"
    SATIRE = "satire"
    NOT_A_CLAIM = "not_a_claim"


# A clarification with one of these verdicts makes a factual statement, so it must cite a source.
VERDICTS_NEEDING_SOURCES = (Verdict.FALSE, Verdict.MISLEADING, Verdict.TRUE)


def _bigint(**kw: object) -> Column:  # Telegram ids exceed 2^31.
    return Column(BigInteger, **kw)  # type: ignore[arg-type]


class Claim(SQLModel, table=True):
    __tablename__ = "claim"
    __table_args__ = (Index("ix_claim_status_last_seen", "status", "last_seen"),)

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    normalized: str = Field(sa_column=Column(Text, nullable=False))
    lang: str | None = Field(default=None, max_length=16)
    status: str = Field(default=ClaimStatus.NEW, max_length=16, index=True)
    external_id: str | None = Field(default=None, max_length=512, unique=True)
    source_url: str | None = Field(default=None, sa_column=Column(Text))
    provenance: str | None = Field(default=None, sa_column=Column(Text))
    request_count: int = 0
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    merged_into_id: int | None = Field(default=None, foreign_key="claim.id")
    assignee_id: int | None = Field(default=None, sa_column=_bigint(nullable=True))
    # when the assignee took the claim or last worked on it: an idle lease expires (a reviewer
    # who walks away does not freeze the claim for ever)
    assigned_at: datetime | None = None
    # a reviewer's rewording of the claim for the public (pages, ClaimReview claimReviewed,
    # citizens' notices); `text` stays what citizens sent, seen by reviewers only
    public_text: str | None = Field(default=None, sa_column=Column(Text))
    # the headline of the fact-check a claim was imported with ("Did 122 prisoners released from
    # Guantanamo return to the battlefield?"): written the way people ask about the rumour, so
    # the matcher finds the claim by it too (a second wording when no public_text is set)
    headline: str | None = Field(default=None, sa_column=Column(Text))
    # a reviewer hid it from the public "waiting for review" list
    public_hidden: bool = False
    card_chat_id: int | None = Field(default=None, sa_column=_bigint(nullable=True))
    card_message_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    published_at: datetime | None = None


@event.listens_for(Claim.text, "set", propagate=True)
def _keep_normalized(claim: Claim, value: str, _old: object, _initiator: object) -> None:
    # `normalized` must stay normalize(text): the match index is built from it at start-up
    # (factdb/matching/matcher.py) and the public search reads it, so an edited text updates it.
    if isinstance(value, str):
        claim.normalized = normalize(value)


# The second wording the matcher indexes a claim by (key -id), and whether it is the imported
# headline (a headline finds a claim but does not answer alone): factdb/matching/startup.py and
# factdb/semantic/store.py read them; factdb/changes.py's feed query says the same in SQL.
CLAIM_SECOND_WORDING = func.coalesce(Claim.public_text, Claim.headline)
CLAIM_SECOND_IS_HEADLINE = and_(col(Claim.public_text).is_(None), col(Claim.headline).is_not(None))


class ClaimChange(SQLModel, table=True):
    """The last change of each claim (insert, text/public_text/status update, delete), stamped by
    database triggers (migration 0004) so no write path can skip it; read by factdb/changes.py
    to keep every worker's match index in step at a cost proportional to the changes."""

    __tablename__ = "claim_change"

    # no foreign key: a deleted claim's row stays as its tombstone
    claim_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    seq: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True, index=True))
    # PostgreSQL: the writing transaction (pg_current_xact_id), for the gap-aware reader
    xid: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))


class Citizen(SQLModel, table=True):
    __tablename__ = "citizen"

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=_bigint(nullable=False, unique=True))
    chat_id: int = Field(sa_column=_bigint(nullable=False))
    lang: str | None = Field(default=None, max_length=16)
    # chosen (/language) beats detected beats Telegram's language_code
    lang_source: str | None = Field(default=None, max_length=16)
    telegram_lang: str | None = Field(default=None, max_length=16)
    blocked_bot: bool = False  # 403 from Telegram: we stop sending
    quarantined: bool = False  # over the daily limit, until a reviewer releases them
    blocked_by_reviewer: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Request(SQLModel, table=True):
    """One citizen asking about one claim. Counted once per Telegram update."""

    __tablename__ = "request"

    id: int | None = Field(default=None, primary_key=True)
    # None while the citizen is still choosing among near matches
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    update_id: int | None = Field(default=None, sa_column=_bigint(nullable=True, unique=True))
    text: str | None = Field(default=None, sa_column=Column(Text))
    lang: str | None = Field(default=None, max_length=16)
    score: float | None = None
    decision: str | None = Field(default=None, max_length=16)
    forward_type: str | None = Field(default=None, max_length=16)
    forward_from: str | None = Field(default=None, max_length=256)
    forward_date: datetime | None = None
    # photo, document, animation, video, video_note: the request came with a picture
    media_kind: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Subscription(SQLModel, table=True):
    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("citizen_id", "claim_id"),)

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    active: bool = True
    # when this person was last shown the claim's clarification (an answer or a notice): only
    # they are told about a changed verdict or a retraction
    told_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Clarification(SQLModel, table=True):
    __tablename__ = "clarification"
    __table_args__ = (Index("ix_clarification_claim_current", "claim_id", "is_current"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    lang: str = Field(max_length=16)
    verdict: str = Field(max_length=32)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    sources: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list of URLs
    url: str | None = Field(default=None, sa_column=Column(Text))
    author_id: int | None = Field(default=None, sa_column=_bigint(nullable=True))
    author_name: str | None = Field(default=None, max_length=256)
    version: int = 1
    is_current: bool = True
    # published | superseded | retracted
    status: str = Field(default="published", max_length=16)
    published_at: datetime = Field(default_factory=utcnow)
    retracted_at: datetime | None = None
    retract_reason: str | None = Field(default=None, sa_column=Column(Text))


class DraftKind(StrEnum):
    NEW = "new"  # a claim's first clarification
    EDIT = "edit"  # a published one, corrected
    TRANSLATE = "translate"  # a published one, in another language
    REWORD = "reword"  # the claim's public wording


class DraftStep(StrEnum):
    """Where a draft is; stored as the value, so the names may change but the values may not."""

    VERDICT = "verdict"
    SUMMARY = "summary"
    SOURCES = "sources"
    LANG = "lang"
    PREVIEW = "preview"
    AWAITING_APPROVAL = "awaiting_approval"
    RETRACT_REASON = "retract_reason"
    WORDING = "wording"
    DONE = "done"
    CANCELLED = "cancelled"


class Draft(SQLModel, table=True):
    """A reviewer's half-written clarification, with the step it is at (survives restarts)."""

    __tablename__ = "draft"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    reviewer_id: int = Field(sa_column=_bigint(nullable=False, index=True))
    kind: str = Field(default=DraftKind.NEW, max_length=16)  # a DraftKind
    step: str = Field(default=DraftStep.VERDICT, max_length=24)  # a DraftStep
    verdict: str | None = Field(default=None, max_length=32)
    summary: str | None = Field(default=None, sa_column=Column(Text))
    sources: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    lang: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Reviewer(SQLModel, table=True):
    __tablename__ = "reviewer"

    telegram_user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    name: str | None = Field(default=None, max_length=256)
    username: str | None = Field(default=None, max_length=64, index=True)
    role: str = Field(default="reviewer", max_length=16)  # reviewer | admin
    active: bool = True
    added_by: int | None = Field(default=None, sa_column=_bigint(nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


class SeenUser(SQLModel, table=True):
    """Usernames seen in the moderators' group, so admins can say /addreviewer @name."""

    __tablename__ = "seen_user"

    telegram_user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    username: str | None = Field(default=None, max_length=64, index=True)
    name: str | None = Field(default=None, max_length=256)
    seen_at: datetime = Field(default_factory=utcnow)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # handed to Telegram; if we die now we cannot know whether it arrived
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"  # the citizen blocked us or unsubscribed
    IN_DOUBT = "in_doubt"  # a worker died mid-send: never resent, counted for admins


class OutboxKind(StrEnum):
    """What an outbox row carries; stored as the value (rendered at send time, handlers/views/notices.py)."""

    NOTICE = "notice"  # a citizen's answer
    UPDATE = "update"  # a changed verdict, to those already told
    RETRACTION = "retraction"  # a withdrawn answer, to those already told
    CARD = "card"  # a claim's card in the moderators' group
    CARD_EDIT = "card_edit"  # that card, brought up to date
    CARD_DELETE = "card_delete"  # that card, for a claim erased with /forget
    DIGEST = "digest"  # a card collapsed into the digest of a surge
    TEXT = "text"  # plain text, written when queued
    WEEKLY = "weekly"  # a subscriber's weekly digest (factdb/digest.py)
    CHANNEL = "channel"  # a post in the public channel (factdb/channel.py)
    PICTURE = "picture"  # a claim's picture for reviewers, under its card (factdb/cards.py)


class Outbox(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=128, unique=True)
    kind: str = Field(max_length=16)  # an OutboxKind
    chat_id: int = Field(sa_column=_bigint(nullable=False, index=True))
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    claim_id: int | None = Field(default=None, foreign_key="claim.id")
    clarification_id: int | None = Field(default=None, foreign_key="clarification.id")
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    locked_by: str | None = Field(default=None, max_length=64)
    locked_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    telegram_message_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class Feedback(SQLModel, table=True):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("citizen_id", "claim_id"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    clarification_id: int | None = Field(default=None, foreign_key="clarification.id")
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id")
    value: str = Field(max_length=24)  # helpful | not_helpful | not_my_message
    created_at: datetime = Field(default_factory=utcnow)


class MatchLog(SQLModel, table=True):
    """Every match decision and what the citizen then did: the data `crowdcheck tune` learns from."""

    __tablename__ = "match_log"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int | None = Field(default=None, foreign_key="request.id", index=True)
    claim_id: int | None = None
    lang: str | None = Field(default=None, max_length=16)
    score: float = 0.0
    decision: str = Field(max_length=16)
    confident_threshold: float = 0.0
    maybe_threshold: float = 0.0
    word_count: int = 0
    # helpful | not_helpful | not_my_message | picked | none_of_these | None (no reaction)
    outcome: str | None = Field(default=None, max_length=24)
    # The claim ids shown as choices ("12,40,7"), None when no choice was offered: a pick must
    # name one of these, whatever id a forged button carries.
    offered: str | None = Field(default=None, max_length=64)
    # Why the matcher decided so (MatchResult.explanation): a JSON list of short English lines,
    # figures and rule names only, never the message's words (factdb/explanations.py reads it).
    reasons: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(default=None, sa_column=_bigint(nullable=True, index=True))
    action: str = Field(max_length=32)
    claim_id: int | None = Field(default=None, index=True)
    old: str | None = Field(default=None, sa_column=Column(Text))
    new: str | None = Field(default=None, sa_column=Column(Text))
    at: datetime = Field(default_factory=utcnow)


class ProcessedUpdate(SQLModel, table=True):
    """Update ids already handled: Telegram may deliver an update twice; we act once."""

    __tablename__ = "processed_update"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: datetime = Field(default_factory=utcnow)


class InboxUpdate(SQLModel, table=True):
    """An update we have told Telegram we have, not yet handled: replayed after a crash."""

    __tablename__ = "inbox_update"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    owner: str = Field(max_length=64, index=True)  # the worker that will handle it
    received_at: datetime = Field(default_factory=utcnow)


class InboxWorker(SQLModel, table=True):
    """A worker's heartbeat: its inbox rows are adopted by others once it stops beating."""

    __tablename__ = "inbox_worker"

    owner: str = Field(primary_key=True, max_length=64)
    seen_at: datetime = Field(default_factory=utcnow)


class RateEvent(SQLModel, table=True):
    """Citizen submissions in the last day, for the flood limits (shared by all workers)."""

    __tablename__ = "rate_event"
    __table_args__ = (Index("ix_rate_event_citizen_at", "citizen_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id")
    at: datetime = Field(default_factory=utcnow)
