"""The operator's routes: `/healthz` for a load balancer and `/metrics` for Prometheus, on
`serve`'s site and on `run --metrics-port`'s own listener (bot/web/app.py)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import hmac
import ipaddress
import logging

from aiohttp import web

from bot.metrics import CONTENT_TYPE
from bot.web.keys import METRICS, METRICS_PORT, SVC
from factdb.db import Database

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 5.0


class Health:
    """The database ping behind /healthz, in its own thread: a load balancer asks it to decide
    whether this worker lives, so it must not queue behind the public's pages and exports.
    Concurrent checks share one ping, so a hung database costs one thread, not one per probe."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="healthz")
        self._ping: asyncio.Future[None] | None = None

    async def check(self) -> None:
        if self._ping is None or self._ping.done():
            self._ping = asyncio.wrap_future(self.pool.submit(self.db.ping))
        await asyncio.wait_for(asyncio.shield(self._ping), HEALTH_TIMEOUT_SECONDS)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


HEALTH: web.AppKey[Health] = web.AppKey("health", Health)


def add_monitoring(app: web.Application, db: Database) -> None:
    app[HEALTH] = Health(db)

    async def close_pool(app: web.Application) -> None:
        app[HEALTH].close()

    app.on_cleanup.append(close_pool)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)


async def healthz(request: web.Request) -> web.StreamResponse:
    try:
        await request.app[HEALTH].check()
    except Exception as exc:
        log.warning("healthz: database not answering: %s", exc)
        return web.Response(text="database unavailable\n", status=503)
    return web.Response(text="ok\n")


_PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def _loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def metrics_refusal(request: web.Request) -> web.Response | None:
    """Who may read /metrics (the figures describe citizens' traffic: the operator's only).

    With CROWDCHECK_METRICS_TOKEN: whoever sends `Authorization: Bearer <token>`, anyone else
    401. Without it: on `run --metrics-port`'s own listener everyone (the operator chose where
    it listens, loopback by default); on the public site only a direct loopback client, so a
    scraper on the same host works but nothing that comes through a reverse proxy (which adds
    Forwarded / X-Forwarded-For / X-Real-IP) or from another host does: those get 404.
    """
    token = request.app[SVC].config.metrics_token
    if token:
        sent = request.headers.get("Authorization", "")
        scheme, _, value = sent.partition(" ")
        # compare_digest on bytes: it refuses non-ASCII str.
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
            return None
        return web.Response(
            status=401,
            text="a bearer token is required\n",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if request.app.get(METRICS_PORT):
        return None
    if _loopback(request.remote) and not any(h in request.headers for h in _PROXY_HEADERS):
        return None
    return web.Response(status=404, text="not found\n")


async def metrics(request: web.Request) -> web.StreamResponse:
    if (refusal := metrics_refusal(request)) is not None:
        return refusal
    # render() reads the gauges from the database (blocking): through the one door, db.run.
    body = await request.app[SVC].db.run(request.app[METRICS].render)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
