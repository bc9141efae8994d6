"""`@bot words` in any chat: published clarifications as articles (factdb/inline.py).

Rate-limited per person (a typing person sends a query per keystroke; past the limit they get
an empty answer for a moment) and cached briefly, per language and words, in this process; the
answer also asks Telegram to cache it per person for CACHE_SECONDS.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque

from telegram import Update
from telegram.ext import ContextTypes

from factdb import inline, public
from factdb.models import utcnow
from handlers.common import services
from handlers.views import inline_texts

CACHE_SECONDS = 30
PER_MINUTE = 40  # queries a person may send a minute
_CACHE_SIZE = 1000
_reworded = public.RewordedIndex()
_cache: OrderedDict[tuple[str, str], tuple[float, list]] = OrderedDict()  # type: ignore[type-arg]
_recent: dict[int, deque[float]] = {}


def _allowed(user_id: int, now: float) -> bool:
    stamps = _recent.setdefault(user_id, deque())
    while stamps and now - stamps[0] > 60:
        stamps.popleft()
    if len(stamps) >= PER_MINUTE:
        return False
    stamps.append(now)
    if len(_recent) > 10 * _CACHE_SIZE:  # forget idle people
        for uid in [u for u, s in _recent.items() if not s or now - s[-1] > 60]:
            del _recent[uid]
    return True


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    if query is None:
        return
    svc = services(context)
    now = time.monotonic()
    if not _allowed(query.from_user.id, now):
        await query.answer([], cache_time=5, is_personal=True)
        return
    t = svc.t(query.from_user.language_code)
    key = (t.lang, " ".join(query.query.split())[:100])
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        items = hit[1]
    else:
        items = await svc.db.run(lambda s: inline.answers(s, _reworded, key[1], t.lang, utcnow()))
        _cache[key] = (now, items)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    username = context.bot.username
    results = [inline_texts.article(t, item, svc.config.public_url, username) for item in items]
    await query.answer(results, cache_time=CACHE_SECONDS, is_personal=True)
