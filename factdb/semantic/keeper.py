"""Vectors for claims made or changed while the bot runs: embedded in the background, stored,
and handed to the matcher, so a restart reads them back instead of embedding them again.

The runtime (bot/app.py) runs `keep_vectors` beside the bot once the matcher's semantic stage
is on. Every path that changes a claim's text reaches the matcher through the claim change feed
(a citizen's new claim, a reviewer's edit or rewording, an import through the bot, a merge):
the matcher lists those claims as wanting a vector (`Matcher.vectors_wanted`), and each round
here

1. catches the matcher up with the change feed (a publication with no citizen message after it),
2. reads the vectors already stored for those claims (by `crowdcheck import`, or by another
   worker on the same database) and hands them over,
3. embeds up to EMBED of the others, off the event loop and outside the matcher's lock, in
   small batches so a citizen's message waits for at most one of them at the model,
4. stores them in one short transaction (`Database.run`), then hands them over.

A round that found work is followed by the next at once; otherwise the keeper sleeps IDLE
seconds. Errors are logged and the round is tried again later: matching never waits on this.
Two workers may embed the same claim at the same moment; one of the two writes fails, and its
next round reads the other's vector.
"""

from __future__ import annotations

import asyncio
import logging

from factdb.db import Database
from factdb.matching.matcher import Matcher
from factdb.semantic.store import load_vectors, store_vectors

__all__ = ["EMBED", "IDLE", "keep_vectors", "keep_vectors_once"]

log = logging.getLogger(__name__)

LOOK_UP = 500  # claims whose stored vectors one round reads (one query)
EMBED = 16  # claims one round embeds (~1-2 s of CPU here: each claim is read twice)
MODEL_BATCH = 4  # texts per call to the model: what a citizen's message may wait behind
IDLE = 5.0  # seconds between rounds with nothing to do


async def keep_vectors_once(db: Database, matcher: Matcher) -> bool:
    """One round; True when it found claims wanting a vector."""
    await db.run(matcher.refresh)
    stage = matcher.semantic
    wanted = matcher.vectors_wanted(LOOK_UP)
    if stage is None or not wanted:
        return False
    model = stage.embedder.model_id
    ids, vectors = await db.run(lambda s: load_vectors(s.get_bind(), model, wanted))  # type: ignore[arg-type]
    matcher.take_vectors(ids, vectors, wanted)
    stored = set(ids)
    todo = [cid for cid in wanted if cid not in stored][:EMBED]
    if todo:
        texts = [wanted[cid] for cid in todo]
        made = await asyncio.to_thread(stage.embedder.passages, texts, MODEL_BATCH)
        await db.run(lambda s: store_vectors(s, model, todo, texts, made), commit=True)
        matcher.take_vectors(todo, made, wanted)
    return True


async def keep_vectors(db: Database, matcher: Matcher, idle: float | None = None) -> None:
    """Rounds until cancelled, `idle` (default IDLE) seconds apart while there is nothing to do."""
    while True:
        try:
            busy = await keep_vectors_once(db, matcher)
        except Exception as exc:
            log.warning("claim vectors: round failed (%s: %s); trying again later", type(exc).__name__, exc)
            busy = False
        await asyncio.sleep(0 if busy else idle or IDLE)
