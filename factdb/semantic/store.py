"""Claim vectors in the database (table claim_vector, migration 0008): computed once, in
batches, when claims are imported or published, and read back at start.

One row per claim wording: the claim's text under its id, its second wording (the reviewers'
public wording, else the imported fact-check's headline) under -id, as in the lexical index.
Each row holds the model that made it, a hash of the text it was made from (an edited or
re-normalised claim is re-embedded, an unchanged one never is) and the vector as float16
(768 bytes; cosine similarities move by < 0.001). Claims that are not matchable (merged,
retracted, deleted) have no vector.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from factdb.matching.text import claim_wordings
from factdb.models import CLAIM_SECOND_WORDING, MATCHABLE_STATUSES, Claim
from factdb.semantic.embedder import DIM, Embedder

__all__ = [
    "claim_vector",
    "has_vectors",
    "load_vectors",
    "other_model_vectors",
    "stale_claims",
    "store_vectors",
    "sync_vectors",
    "text_hash",
    "vector_models",
]

# Its own metadata: the table is created by its migration, and the ORM models stay as they are.
claim_vector = Table(
    "claim_vector",
    MetaData(),
    Column("claim_id", Integer, primary_key=True),
    Column("model", String(64), nullable=False),
    Column("text_hash", String(16), nullable=False),
    Column("vector", LargeBinary, nullable=False),
)

BATCH = 64  # texts embedded and committed together: an interrupted run keeps what it did


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def _matchable(engine: Engine) -> dict[int, str]:
    statuses = [str(s) for s in MATCHABLE_STATUSES]
    with engine.connect() as conn:
        rows = conn.execute(
            select(Claim.id, Claim.normalized, CLAIM_SECOND_WORDING).where(Claim.status.in_(statuses))  # type: ignore[attr-defined]
        )
        texts: dict[int, str] = {}
        for claim_id, normalized, wording in rows:
            texts.update(claim_wordings(int(claim_id), normalized, wording))
        return texts


def stale_claims(engine: Engine, model: str) -> tuple[dict[int, str], list[int]]:
    """(claims to embed: id -> text, vectors to drop): what is missing, edited or made by
    another model, and what belongs to claims no longer matchable."""
    claims = _matchable(engine)
    with engine.connect() as conn:
        stored = {
            int(cid): (m, h)
            for cid, m, h in conn.execute(
                select(claim_vector.c.claim_id, claim_vector.c.model, claim_vector.c.text_hash)
            )
        }
    todo = {cid: text for cid, text in claims.items() if stored.get(cid) != (model, text_hash(text))}
    gone = [cid for cid in stored if cid not in claims]
    return todo, gone


def sync_vectors(
    engine: Engine,
    embedder: Embedder,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Embed every matchable claim that lacks a current vector; drop vectors of claims gone.
    `progress(done, total)` after each batch. Returns the number of claims embedded."""
    todo, gone = stale_claims(engine, embedder.model_id)
    with engine.begin() as conn:
        for start in range(0, len(gone), 500):
            conn.execute(delete(claim_vector).where(claim_vector.c.claim_id.in_(gone[start : start + 500])))
    ids = sorted(todo)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        texts = [todo[cid] for cid in chunk]
        vectors = embedder.passages(texts, batch_size=len(chunk))
        with engine.begin() as conn:
            store_vectors(conn, embedder.model_id, chunk, texts, vectors)
        if progress is not None:
            progress(start + len(chunk), len(ids))
    return len(ids)


def store_vectors(
    conn: Connection | Session, model: str, ids: Sequence[int], texts: Sequence[str], vectors: np.ndarray
) -> None:
    """Write (or replace) the vectors of `ids`, made by `model` from `texts`, in the caller's
    transaction. An upsert: two workers that embed the same new claim at once both succeed
    (the second write wins; both made it from the text they read)."""
    if not ids:
        return
    rows = [
        {"claim_id": cid, "model": model, "text_hash": text_hash(t), "vector": v.tobytes()}
        for cid, t, v in zip(ids, texts, vectors.astype(np.float16), strict=True)
    ]
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    upsert = (postgresql_insert if bind.dialect.name == "postgresql" else sqlite_insert)(claim_vector)
    conn.execute(
        upsert.on_conflict_do_update(
            index_elements=[claim_vector.c.claim_id],
            set_={c: upsert.excluded[c] for c in ("model", "text_hash", "vector")},
        ),
        rows,
    )


def load_vectors(
    engine: Engine, model: str, texts: dict[int, str] | None = None
) -> tuple[list[int], np.ndarray]:
    """Every stored vector made by `model`: (claim ids, (n, DIM) float32); with `texts`
    (claim id -> normalised text), only those claims' vectors, and only if made from that text."""
    query = select(claim_vector.c.claim_id, claim_vector.c.vector).where(claim_vector.c.model == model)
    rows = []
    with engine.connect() as conn:
        if texts is None:
            rows = conn.execute(query).all()
        else:
            ids = sorted(texts)
            hashes = {cid: text_hash(t) for cid, t in texts.items()}
            query = query.add_columns(claim_vector.c.text_hash)
            # many claims (start-up): one pass over the table; a few: by id, 500 at a time
            chunks = [None] if len(ids) > 5000 else [ids[i : i + 500] for i in range(0, len(ids), 500)]
            for chunk in chunks:
                found = conn.execute(
                    query if chunk is None else query.where(claim_vector.c.claim_id.in_(chunk))
                ).all()
                rows += [(cid, vec) for cid, vec, h in found if hashes.get(int(cid)) == h]
    ids = [int(r[0]) for r in rows]
    if not rows:
        return ids, np.zeros((0, DIM), dtype=np.float32)
    blob = b"".join(bytes(r[1]) for r in rows)
    return ids, np.frombuffer(blob, dtype=np.float16).reshape(len(rows), DIM).astype(np.float32)


def has_vectors(engine: Engine, model: str) -> bool:
    """Whether any vector made by `model` is stored (the matcher's switch: no vectors, no
    semantic stage), without reading them."""
    try:
        with engine.connect() as conn:
            return (
                conn.execute(
                    select(claim_vector.c.claim_id).where(claim_vector.c.model == model).limit(1)
                ).first()
                is not None
            )
    except Exception:  # no table (a database before migration 0008): the stage stays off
        return False


def vector_models(engine: Engine) -> dict[str, int]:
    """How many vectors each model made (empty without the table): after an upgrade of the
    model or of how claims are read, the old vectors stay until `crowdcheck db upgrade`
    recomputes them, and the doctor and the matcher say so."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(claim_vector.c.model, func.count()).group_by(claim_vector.c.model)
            ).all()
    except Exception:  # no table (a database before migration 0008)
        return {}
    return {str(model): int(n) for model, n in rows}


def other_model_vectors(engine: Engine, model: str) -> int:
    """How many stored vectors were made by another model or recipe than `model` (0 without
    the table): what `crowdcheck db upgrade` recomputes."""
    return sum(n for made_by, n in vector_models(engine).items() if made_by != model)
