"""Telegram Bot API emulator on loopback, for end-to-end tests and the offline demo.

Typical use::

    async with BotApiEmulator(token=TOKEN) as emu:
        app = Application.builder().token(TOKEN).base_url(emu.base_url).build()
        ...
        emu.send_text(42, "/start")
        reply = await emu.wait_for_bot_message(42)

It lives beside the tests, not in the product package: the bot's wheel does not ship it.
"""

from tests.emulator.emulator import BotApiEmulator
from tests.emulator.entities import ParsedText, utf16_len
from tests.emulator.errors import ApiError, EntityParseError
from tests.emulator.html_entities import parse_html
from tests.emulator.html_render import to_html
from tests.emulator.objects import ChatMessage, DocumentView
from tests.emulator.state import UploadedFile

__all__ = [
    "ApiError",
    "BotApiEmulator",
    "ChatMessage",
    "DocumentView",
    "EntityParseError",
    "ParsedText",
    "UploadedFile",
    "parse_html",
    "to_html",
    "utf16_len",
]
