"""The web side: Telegram's webhook, public fact-check pages, the ClaimReview feed, /healthz,
/metrics. See docs/web.md for the routes and the decisions behind them.

    app.py        the aiohttp apps (make_web_app, make_metrics_app) and MetricsServer
    server.py     WebServer: `crowdcheck serve` (the bot, when there is one, is passed in)
    pages.py      /claims/{id}, /claims?q=, /stats, the 404 page
    rendering.py  Jinja2, escaping, JSON-LD, the page's language in the response
    language.py   which language a reader gets, and the words and formats templates use
    feed.py       /feed/claimreview.json, built once per change, served from memory
    monitoring.py /healthz and /metrics
    webhook.py    POST /telegram/{path}, its secret and path
    keys.py       what the app holds, read by all of the above

What the pages show comes from `factdb.public` (what the public may see) and `factdb.stats`,
through `Database.run`: no SQL here.
"""

from bot.web.app import SECURITY_HEADERS, MetricsServer, make_metrics_app, make_web_app
from bot.web.feed import FEED
from bot.web.rendering import script_json
from bot.web.server import WebServer
from bot.web.webhook import SECRET_HEADER, webhook_path, webhook_secret

__all__ = [
    "FEED",
    "SECRET_HEADER",
    "SECURITY_HEADERS",
    "MetricsServer",
    "WebServer",
    "make_metrics_app",
    "make_web_app",
    "script_json",
    "webhook_path",
    "webhook_secret",
]
