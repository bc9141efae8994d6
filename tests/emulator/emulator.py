"""An in-process Telegram Bot API server for tests and the offline demo.

The real bot talks HTTP to it exactly as to Telegram
(``Application.builder().token(TOKEN).base_url(emu.base_url)``), while tests act as users through
plain Python calls and read back what the bot sent.

``BotApiEmulator`` is assembled from one mixin per concern, each in its own module:

=================  =====================================================================
``server``         the HTTP server, its lifecycle, dispatching ``/bot<token>/<method>``
``chats``          users, groups, channels; who the bot may write to; getChat(Member)
``membership``     the bot's standing in chats and the ``my_chat_member`` updates
``messages``       sendMessage, edits, deleteMessage, strict HTML (``html_entities``)
``files``          the file store, getFile (20 MB limit for bots) and downloads
``media``          photos, videos, voice, documents sent by people and by the bot
``buttons``        pressing inline buttons, answerCallbackQuery
``inline``         inline queries, answerInlineQuery, choosing a result (``via_bot``)
``profile``        getMe and the command menus
``updates``        the update queue, getUpdates long polling, webhooks
``limits``         flood limits (429), injected and random faults, held calls
``citizens``       what people do: send, forward, edit, post in a channel
``reading``        what tests read back and wait for
=================  =====================================================================

Rate limits are off unless ``enforce_limits`` is called; see ``docs/emulator.md``.
"""

from __future__ import annotations

from tests.emulator.buttons import Buttons
from tests.emulator.citizens import Citizens
from tests.emulator.inline import Inline
from tests.emulator.limits import LimitsAndFaults
from tests.emulator.membership import Membership
from tests.emulator.profile import Profile
from tests.emulator.reading import Reading
from tests.emulator.server import TOKEN_RE, HttpServer


class BotApiEmulator(Citizens, Inline, Membership, Buttons, Profile, Reading, LimitsAndFaults, HttpServer):
    """Telegram Bot API look-alike on 127.0.0.1; see the module docstring."""

    def __init__(
        self,
        token: str = "123456:TEST-token_emulator",
        *,
        bot_name: str = "CrowdCheck",
        bot_username: str = "crowdcheck_test_bot",
        port: int = 0,
        fault_timeout_delay: float = 6.0,
        webhook_retry_delay: float = 0.05,
        webhook_max_retry_delay: float = 2.0,
        callback_query_ttl: float | None = None,
        inline_query_ttl: float | None = None,
        max_log_entries: int = 200_000,
        latency: float = 0.0,
    ) -> None:
        if not TOKEN_RE.match(token):
            raise ValueError("token must look like a Telegram token: '<digits>:<secret>'")
        self._init_core(token, bot_name, bot_username, max_log_entries)
        # Seconds added to every answer except getUpdates: loopback answers in well under a
        # millisecond, Telegram's servers in tens of milliseconds, and that changes how a bot
        # spends its time.
        self.latency = latency
        self._init_server(port)
        self._init_chats()
        self._init_files()
        self._init_media()
        self._init_buttons(callback_query_ttl)
        self._init_inline(inline_query_ttl)
        self._init_profile()
        self._init_updates(webhook_retry_delay, webhook_max_retry_delay)
        self._init_limits(fault_timeout_delay)
