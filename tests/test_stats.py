"""factdb.stats on a small hand-seeded database, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session

from factdb import queue
from factdb.db import Database
from factdb.models import Citizen, Claim, ClaimStatus, Feedback, Outbox, Request
from factdb.stats import CHART_DAYS, format_text, stats

NOW = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)


def _claim(session: Session, text: str, status: str, **kw: object) -> int:
    claim = Claim(text=text, normalized=text.lower(), status=status, first_seen=NOW - 40 * D, **kw)  # type: ignore[arg-type]
    session.add(claim)
    session.flush()
    return claim.id  # type: ignore[return-value]


def _requests(session: Session, claim_id: int | None, *ages: timedelta) -> None:
    for age in ages:
        session.add(Request(claim_id=claim_id, text="x", created_at=NOW - age))
    if claim_id is not None:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        claim.request_count += len(ages)
        session.add(claim)


def seed(session: Session) -> dict[str, int]:
    ids: dict[str, int] = {}
    # Published 10 h after its first request (requests 30 h and 25 h ago, published 20 h ago).
    ids["pub_a"] = _claim(
        session, "Drinking bleach cures flu", ClaimStatus.PUBLISHED, published_at=NOW - 20 * H
    )
    _requests(session, ids["pub_a"], 30 * H, 25 * H, 2 * H)
    # Published 4 h after its first request, 3 days ago.
    ids["pub_b"] = _claim(
        session, "5G towers spread viruses", ClaimStatus.PUBLISHED, published_at=NOW - 3 * D
    )
    _requests(session, ids["pub_b"], 3 * D + 4 * H)
    # Published 2 h after, but 40 days ago: outside the 30-day window.
    ids["pub_old"] = _claim(session, "Old claim", ClaimStatus.PUBLISHED, published_at=NOW - 40 * D)
    _requests(session, ids["pub_old"], 40 * D + 2 * H)
    # Imported, asked about only after publishing: nobody waited, not in the median.
    ids["pub_imported"] = _claim(session, "Imported", ClaimStatus.PUBLISHED, published_at=NOW - 5 * D)
    _requests(session, ids["pub_imported"], 1 * D)
    # Open claims: one hot now, one with many old requests, one with none, one in review.
    ids["hot"] = _claim(session, "Call +44 20 7946 0958 or mail a@b.org to win", ClaimStatus.NEW)
    _requests(session, ids["hot"], 0.5 * H, 1 * H, 1.5 * H)
    ids["old_many"] = _claim(session, "Many old requests", ClaimStatus.NEW)
    _requests(session, ids["old_many"], *[4 * D + i * H for i in range(10)])
    ids["quiet"] = _claim(session, "Nobody asks", ClaimStatus.NEW)
    ids["review"] = _claim(session, "Being reviewed", ClaimStatus.IN_REVIEW)
    _requests(session, ids["review"], 6 * H)
    ids["spam"] = _claim(session, "Buy now", ClaimStatus.SPAM)
    ids["retracted"] = _claim(session, "Withdrawn", ClaimStatus.RETRACTED, published_at=NOW - 50 * D)
    # A request still choosing among near matches (no claim yet) and one from the future.
    _requests(session, None, 3 * H)
    session.add(Request(claim_id=None, text="future", created_at=NOW + H))

    citizens = []
    for i in range(4):
        c = Citizen(telegram_user_id=1000 + i, chat_id=1000 + i)
        session.add(c)
        citizens.append(c)
    session.flush()
    for c, value in zip(citizens, ["helpful", "helpful", "helpful", "not_helpful"], strict=True):
        session.add(Feedback(claim_id=ids["pub_a"], citizen_id=c.id, value=value))
    session.add(Feedback(claim_id=ids["pub_b"], citizen_id=citizens[0].id, value="not_my_message"))
    for i, status in enumerate(["pending", "pending", "sending", "sent", "failed"]):
        session.add(Outbox(dedupe_key=f"k{i}", kind="notice", chat_id=1, status=status))
    return ids


@pytest.fixture
def seeded(db: Database) -> dict[str, int]:
    return db.transaction(seed)


def test_counts(db: Database, seeded: dict[str, int]) -> None:
    with db.session() as session:
        s = stats(session, now=NOW)
    assert s.claims_by_status == {"published": 4, "new": 3, "in_review": 1, "spam": 1, "retracted": 1}
    assert s.claims_total == 10 and s.open_claims == 4
    assert s.matchable_claims == 9  # everything but spam
    # today (since 00:00 UTC, 12 h ago): 2 h (pub_a), 0.5/1/1.5 h (hot), 6 h (review), 3 h (no claim)
    assert s.requests_today == 6
    # 7 days: those 6 + 30 h, 25 h, 3 d 4 h, 1 d (imported), 10 × ~4 d
    assert s.requests_7d == 6 + 4 + 10
    assert s.helpful == 3 and s.not_helpful == 1 and s.helpful_share == pytest.approx(0.75)
    assert s.outbox == {"pending": 2, "sending": 1, "sent": 1, "failed": 1}
    assert s.outbox_backlog == 3


def test_median_time_to_publish(db: Database, seeded: dict[str, int]) -> None:
    with db.session() as session:
        s = stats(session, now=NOW)
    assert s.published_measured == 2  # pub_a (10 h) and pub_b (4 h)
    assert s.median_hours_to_publish == pytest.approx(7.0)


def test_median_is_none_without_publishing(db: Database) -> None:
    with db.session() as session:
        s = stats(session, now=NOW)
    assert s.median_hours_to_publish is None and s.helpful_share is None
    assert s.top_viral == [] and s.claims_total == 0
    assert len(s.requests_per_day) == CHART_DAYS and all(n == 0 for _, n in s.requests_per_day)
    assert "the queue is empty" in format_text(s)


def test_top_viral_matches_the_queue(db: Database, seeded: dict[str, int]) -> None:
    with db.session() as session:
        s = stats(session, now=NOW, half_life_hours=6.0)
        expected = queue.ranked(session, 6.0, NOW)[:5]
    assert [v.id for v in s.top_viral] == [i.claim.id for i in expected]
    assert [v.id for v in s.top_viral] == [
        seeded["hot"],
        seeded["review"],
        seeded["old_many"],
        seeded["quiet"],
    ]
    for got, want in zip(s.top_viral, expected, strict=True):
        assert got.virality == pytest.approx(want.virality, rel=1e-6)
        assert got.requests == want.claim.request_count
    hot = s.top_viral[0]
    assert hot.virality == pytest.approx(0.5 ** (0.5 / 6) + 0.5 ** (1 / 6) + 0.5 ** (1.5 / 6))
    # the excerpt is masked: a phone number and an e-mail never reach the stats page
    assert "7946" not in hot.excerpt and "a@b.org" not in hot.excerpt
    assert "[phone]" in hot.excerpt and "[email]" in hot.excerpt


def test_requests_per_day(db: Database, seeded: dict[str, int]) -> None:
    with db.session() as session:
        s = stats(session, now=NOW)
    days = dict(s.requests_per_day)
    assert len(s.requests_per_day) == CHART_DAYS
    assert s.requests_per_day[-1][0] == date(2025, 3, 15)
    assert s.requests_per_day[0][0] == date(2025, 2, 14)
    assert days[date(2025, 3, 15)] == 6
    # 30 h and 25 h ago are yesterday (14th 06:00, 11:00); 1 day ago too (the imported one)
    assert days[date(2025, 3, 14)] == 3
    # 3 d 4 h ago: 12th 08:00
    assert days[date(2025, 3, 12)] == 1
    # 4 d + 0..9 h ago: 11th 12:00 … 11th 03:00
    assert days[date(2025, 3, 11)] == 10
    assert sum(days.values()) == 20  # the 40-day-old one is outside, the future one too


def test_format_text(db: Database, seeded: dict[str, int]) -> None:
    with db.session() as session:
        text = format_text(stats(session, now=NOW))
    assert "claims: 10" in text
    assert "6 today" in text and "20 in 7 days" in text
    assert "7.0 h" in text and "75% of 4" in text
    assert "outbox backlog: 3, failed 1" in text
    assert f"#{seeded['hot']}" in text and "7946" not in text
