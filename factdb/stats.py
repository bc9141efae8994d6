"""The tipline's figures for admins: `crowdcheck stats`, the bot's /stats and the public /stats page.

Every figure is one SQL aggregate, so the cost does not grow with a Python loop over all claims:
on 10^5 claims the whole set is a handful of indexed queries.

Choices, written down because the numbers mean nothing without them:

- Days are UTC days. "Today" is since 00:00 UTC; the chart has 30 UTC days, today last.
- Time to publish is measured from a claim's *first request* to its `published_at`, over
  claims published in the last 30 days (recent performance is what admins steer by; an
  all-time median would hide a slowdown behind years of history). Claims first asked about only
  after they were published (imported fact-checks) are left out: nobody waited for those.
- Virality is the queue's (`factdb.queue`): Σ 0.5^(age / half-life) over a claim's requests of
  the last 12 half-lives, computed in SQL with the same ordering as `queue.ranked()`.
- Helpful share is helpful / (helpful + not_helpful); "not my message" says the match was
  wrong, not whether the clarification helped, so it is not in the denominator.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Float, cast, func, literal
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from factdb.models import (
    MATCHABLE_STATUSES,
    OPEN_STATUSES,
    AuditLog,
    Claim,
    ClaimStatus,
    Feedback,
    Request,
)
from factdb.outbox import backlog
from factdb.privacy import mask_personal
from factdb.queue import DEFAULT_HALF_LIFE_HOURS, ranked

CHART_DAYS = 30
PUBLISH_WINDOW_DAYS = 30
TOP_VIRAL = 5
EXCERPT_CHARS = 160
# Outbox states that still owe someone a message (sent/failed/dropped/in_doubt are settled).
BACKLOG_STATES = ("pending", "sending")


@dataclass(frozen=True)
class ViralClaim:
    id: int
    excerpt: str  # masked: phone numbers, e-mails and @handles removed
    virality: float
    requests: int


@dataclass(frozen=True)
class Stats:
    generated_at: datetime
    claims_by_status: dict[str, int]
    requests_today: int
    requests_7d: int
    median_hours_to_publish: float | None  # None: nothing published after a request in the window
    published_measured: int  # how many claims the median is over
    top_viral: list[ViralClaim]
    helpful: int
    not_helpful: int
    requests_per_day: list[tuple[date, int]]  # CHART_DAYS entries, oldest first, zero-filled
    outbox: dict[str, int]  # rows by status
    matchable_claims: int
    half_life_hours: float = DEFAULT_HALF_LIFE_HOURS
    # clarifications withdrawn in the last 7 days (acts, from the audit log: a claim withdrawn,
    # answered again and withdrawn again counts twice; the status count shows only the last state)
    retractions_7d: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def claims_total(self) -> int:
        return sum(self.claims_by_status.values())

    @property
    def open_claims(self) -> int:
        return sum(self.claims_by_status.get(s, 0) for s in OPEN_STATUSES)

    @property
    def helpful_share(self) -> float | None:
        rated = self.helpful + self.not_helpful
        return None if rated == 0 else self.helpful / rated

    @property
    def outbox_backlog(self) -> int:
        return sum(self.outbox.get(s, 0) for s in BACKLOG_STATES)


def _count(session: Session, query: Any) -> int:
    return int(session.exec(query).one() or 0)


def _day_expr(session: Session, column: Any) -> Any:
    """The UTC calendar day of a timestamp column, as the database computes it."""
    if session.get_bind().dialect.name == "postgresql":
        # timestamptz: the session's TimeZone setting must not shift the day boundaries.
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite stores UTC text; date() reads its first ten characters


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def requests_per_day(session: Session, now: datetime, days: int = CHART_DAYS) -> list[tuple[date, int]]:
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time(), tzinfo=UTC)
    day = _day_expr(session, col(Request.created_at)).label("day")
    rows = session.exec(
        select(day, func.count())
        .where(col(Request.created_at) >= start, col(Request.created_at) <= now)
        .group_by(day)
    ).all()
    counts = {_as_date(d): int(n) for d, n in rows}
    return [(first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)]


def _median_hours_to_publish(session: Session, now: datetime) -> tuple[float | None, int]:
    # A correlated min() per recently published claim walks the request.claim_id index: cost
    # follows what was published in the window, not the size of the request table.
    first_at = (
        select(func.min(Request.created_at))
        .where(col(Request.claim_id) == col(Claim.id))
        .correlate(Claim)
        .scalar_subquery()
    )
    if session.get_bind().dialect.name == "postgresql":
        waited = func.extract("epoch", col(Claim.published_at) - first_at) / 3600.0
    else:
        waited = (func.julianday(col(Claim.published_at)) - func.julianday(first_at)) * 24.0
    # The database computes each wait, so only floats cross over (no timestamp parsing); they
    # are bounded by what reviewers published in 30 days, and a median over them here is
    # portable where percentile_cont is PostgreSQL-only.
    hours = [
        float(h)
        for (h,) in session.execute(
            select(waited)
            # status first: it is indexed, published_at is not
            .where(col(Claim.status).in_((ClaimStatus.PUBLISHED, ClaimStatus.RETRACTED)))
            .where(col(Claim.published_at) >= now - timedelta(days=PUBLISH_WINDOW_DAYS))
            .where(col(Claim.published_at) <= now)
        )
        # None: never requested; negative: first asked after publishing (imports), nobody waited
        if h is not None and h >= 0
    ]
    return (statistics.median(hours) if hours else None), len(hours)


def _age_hours(session: Session, column: Any, now: datetime) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        age = func.extract("epoch", literal(now) - column) / 3600.0
        return func.greatest(age, 0.0)
    # SQLite: julianday() reads our stored UTC text; a literal in the same format compares right.
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return func.max((func.julianday(stamp) - func.julianday(column)) * 24.0, 0.0)


def top_viral(
    session: Session, now: datetime, half_life_hours: float, limit: int = TOP_VIRAL
) -> list[ViralClaim]:
    horizon = now - timedelta(hours=half_life_hours * 12)
    weight = func.power(0.5, _age_hours(session, col(Request.created_at), now) / half_life_hours)
    # Grouping by an expression, not the bare column, keeps SQLite from walking the claim_id
    # index (to save a sort) through every request ever made instead of the created_at index
    # through the recent ones: 1.4 s → 0.15 s at 3·10^5 requests. Requests still choosing
    # (claim_id NULL) become group 0, which joins no claim.
    claim_key = func.coalesce(col(Request.claim_id), 0)
    recent = (
        select(claim_key.label("claim_id"), func.sum(cast(weight, Float)).label("v"))
        .where(col(Request.created_at) >= horizon)
        .group_by(claim_key)
        .subquery()
    )
    # Start from the (small) set of claims asked about recently and join claims by primary
    # key; only when fewer than `limit` of those are open, fill up with the quiet open claims,
    # which rank below every claim with a recent request, as in queue.ranked().
    hot = (
        select(Claim.id, Claim.text, Claim.request_count, recent.c.v)
        .join(recent, recent.c.claim_id == Claim.id)
        .where(col(Claim.status).in_(OPEN_STATUSES))
        .order_by(recent.c.v.desc(), col(Claim.request_count).desc(), col(Claim.id))
        .limit(limit)
    )
    try:
        rows = [(cid, text, n, float(v)) for cid, text, n, v in session.exec(hot).all()]
    except OperationalError:
        # An SQLite built without its math functions has no power(): fall back to the queue's
        # own Python ranking, slower on a huge backlog but the same answer.
        session.rollback()
        rows = [
            (i.claim.id, i.claim.text, i.claim.request_count, i.virality)
            for i in ranked(session, half_life_hours, now)[:limit]
        ]
        return [ViralClaim(int(cid), _excerpt(text), v, int(n)) for cid, text, n, v in rows]
    if len(rows) < limit:
        quiet = session.exec(
            select(Claim.id, Claim.text, Claim.request_count)
            .where(col(Claim.status).in_(OPEN_STATUSES))
            .where(col(Claim.id).not_in([r[0] for r in rows] or [-1]))
            .order_by(col(Claim.request_count).desc(), col(Claim.id))
            .limit(limit - len(rows))
        ).all()
        rows += [(cid, text, n, 0.0) for cid, text, n in quiet]
    return [ViralClaim(int(cid), _excerpt(text), v, int(n)) for cid, text, n, v in rows]


def _excerpt(text: str) -> str:
    text = " ".join(mask_personal(text).split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "…"


def stats(
    session: Session,
    *,
    half_life_hours: float = DEFAULT_HALF_LIFE_HOURS,
    now: datetime | None = None,
    open_claims: bool = True,
) -> Stats:
    """The figures. `open_claims=False` is the public page's: `top_viral` (the text of claims
    nobody has checked) is not even read, so no template can show it by mistake; the public
    "waiting for review" list, when an operator opts in, is `factdb.public.waiting_for_review`
    with its own rules. Counts (retracted claims included) stay in both."""
    now = now or datetime.now(UTC)
    midnight = datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)
    by_status = {
        str(s): int(n) for s, n in session.exec(select(Claim.status, func.count()).group_by(Claim.status))
    }
    requests_today = _count(
        session,
        select(func.count())
        .select_from(Request)
        .where(col(Request.created_at) >= midnight, col(Request.created_at) <= now),
    )
    requests_7d = _count(
        session,
        select(func.count())
        .select_from(Request)
        .where(col(Request.created_at) >= now - timedelta(days=7), col(Request.created_at) <= now),
    )
    median, measured = _median_hours_to_publish(session, now)
    feedback = {
        str(v): int(n)
        for v, n in session.exec(
            select(Feedback.value, func.count())
            .where(col(Feedback.value).in_(("helpful", "not_helpful")))
            .group_by(Feedback.value)
        )
    }
    retractions_7d = _count(
        session,
        select(func.count())
        .select_from(AuditLog)
        .where(
            AuditLog.action == "retract", col(AuditLog.at) >= now - timedelta(days=7), col(AuditLog.at) <= now
        ),
    )
    return Stats(
        generated_at=now,
        claims_by_status=by_status,
        requests_today=requests_today,
        requests_7d=requests_7d,
        median_hours_to_publish=median,
        published_measured=measured,
        top_viral=top_viral(session, now, half_life_hours) if open_claims else [],
        helpful=feedback.get("helpful", 0),
        not_helpful=feedback.get("not_helpful", 0),
        requests_per_day=requests_per_day(session, now),
        outbox=backlog(session),
        matchable_claims=sum(by_status.get(str(s), 0) for s in MATCHABLE_STATUSES),
        half_life_hours=half_life_hours,
        retractions_7d=retractions_7d,
    )


def format_duration(hours: float | None) -> str:
    if hours is None:
        return "—"
    if hours < 1:
        return f"{round(hours * 60)} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def format_text(s: Stats) -> str:
    """Plain text for `crowdcheck stats` (the bot's /stats renders its own, translated)."""
    share = "—" if s.helpful_share is None else f"{s.helpful_share:.0%} of {s.helpful + s.not_helpful}"
    statuses = ", ".join(
        f"{status} {s.claims_by_status.get(status, 0)}"
        for status in [str(x) for x in ClaimStatus]
        if s.claims_by_status.get(status, 0)
    )
    peak = max((n for _, n in s.requests_per_day), default=0)
    lines = [
        f"crowdcheck stats at {s.generated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        f"claims: {s.claims_total} ({statuses or 'none'}); matchable {s.matchable_claims}",
        f"requests: {s.requests_today} today (UTC), {s.requests_7d} in 7 days",
        f"median first request → publish: {format_duration(s.median_hours_to_publish)}"
        f" (over {s.published_measured} claims published in {PUBLISH_WINDOW_DAYS} days)",
        f"helpful feedback: {share}",
        f"clarifications withdrawn in 7 days: {s.retractions_7d}",
        f"outbox backlog: {s.outbox_backlog}"
        + "".join(f", {k} {s.outbox[k]}" for k in ("failed", "in_doubt") if s.outbox.get(k)),
        "",
        f"most viral open claims (half-life {s.half_life_hours:g} h):",
    ]
    if not s.top_viral:
        lines.append("  (the queue is empty)")
    for item in s.top_viral:
        lines.append(f"  #{item.id}  virality {item.virality:.2f}  requests {item.requests}  {item.excerpt}")
    lines += ["", f"requests per day, last {len(s.requests_per_day)} days (UTC):"]
    for day, n in s.requests_per_day:
        bar = "#" * (round(n / peak * 40) if peak else 0)
        lines.append(f"  {day:%m-%d} {n:>6} {bar}")
    return "\n".join(lines)
