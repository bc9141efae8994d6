"""Telegram Bot API emulator on loopback (see ``bot.emulator.emulator``)."""
