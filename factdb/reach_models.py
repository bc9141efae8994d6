"""The tables of reach beyond a private chat (docs/reach.md, migration 0006): quiet groups, the
weekly digest and the public channel. Counts and settings only: no group's members are kept."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from factdb.models import utcnow


class GroupChat(SQLModel, table=True):
    """A group the bot answers in quietly (not the moderators' group): its settings, no members."""

    __tablename__ = "group_chat"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    enabled: bool = True
    lang: str | None = Field(default=None, max_length=16)  # None: each claim's own language
    joined_at: datetime = Field(default_factory=utcnow)


class GroupAnswer(SQLModel, table=True):
    """The bot answered about a claim in a group on a day: the once-a-day rule's memory.

    Rows older than a day are folded into `ClaimReach` counts and deleted, so what is kept long
    is only how often a claim was answered in groups, not where.
    """

    __tablename__ = "group_answer"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    claim_id: int = Field(foreign_key="claim.id", primary_key=True)
    day: date = Field(primary_key=True)


class ClaimReach(SQLModel, table=True):
    """How often a published claim was answered outside private chats: counts only."""

    __tablename__ = "claim_reach"

    claim_id: int = Field(foreign_key="claim.id", primary_key=True)
    group_answers: int = 0
    inline_shares: int = 0


class DigestSubscriber(SQLModel, table=True):
    """A citizen who asked for the weekly digest (/subscribe)."""

    __tablename__ = "digest_subscriber"

    citizen_id: int = Field(foreign_key="citizen.id", primary_key=True)
    active: bool = True
    last_week: str | None = Field(default=None, max_length=10)  # ISO week last sent, "2026-W49"
    subscribed_at: datetime = Field(default_factory=utcnow)


class PublicChannel(SQLModel, table=True):
    """The channel publications are posted to (CROWDCHECK_CHANNEL_ID), registered at start."""

    __tablename__ = "public_channel"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    active: bool = True


class ChannelPost(SQLModel, table=True):
    """A claim's post in a public channel, so an edit updates it and a retraction marks it."""

    __tablename__ = "channel_post"

    claim_id: int = Field(foreign_key="claim.id", primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    message_id: int | None = None
    posted_at: datetime = Field(default_factory=utcnow)
