"""Telegram Bot API emulator on loopback, for end-to-end tests and the offline demo.

Typical use::

    async with BotApiEmulator(token=TOKEN) as emu:
        app = Application.builder().token(TOKEN).base_url(emu.base_url).build()
        ...
        emu.send_text(42, "/start")
        reply = await emu.wait_for_bot_message(42)
"""

from bot.emulator.emulator import BotApiEmulator, UploadedFile
from bot.emulator.errors import ApiError, EntityParseError
from bot.emulator.html_entities import ParsedText, parse_html, to_html, utf16_len
from bot.emulator.markdown import parse_markdown, parse_markdown_v2
from bot.emulator.objects import ChatMessage, DocumentView

__all__ = [
    "ApiError",
    "BotApiEmulator",
    "ChatMessage",
    "DocumentView",
    "EntityParseError",
    "ParsedText",
    "UploadedFile",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "to_html",
    "utf16_len",
]
