"""The bot itself: getMe, its command menus (set/get/deleteMyCommands), close and logOut."""

from __future__ import annotations

import json
import re

from tests.emulator.core import EmulatorCore
from tests.emulator.errors import bad_request
from tests.emulator.objects import JSON

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class Profile(EmulatorCore):
    _commands: dict[str, list[JSON]]
    _inline_mode: bool  # set_inline_mode (the inline mixin)
    _privacy_mode: bool

    def set_privacy_mode(self, enabled: bool = True) -> None:
        """BotFather's /setprivacy. On (Telegram's default for new bots), a bot that is not an
        admin sees in groups only commands, replies to its messages, messages sent via it and
        service messages. Off (the emulator's default), it sees every message."""
        with self._lock:
            self._privacy_mode = enabled

    def _init_profile(self) -> None:
        self._commands = {}
        self._privacy_mode = False

    async def _m_log_out(self, params: JSON) -> bool:
        return True

    async def _m_close(self, params: JSON) -> bool:
        return True

    async def _m_get_me(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self._privacy_mode,
            "supports_inline_queries": self._inline_mode,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @staticmethod
    def _commands_key(params: JSON) -> str:
        scope = params.get("scope") or {"type": "default"}
        language = params.get("language_code") or ""
        return json.dumps([scope, language], sort_keys=True)

    async def _m_set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.match(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request(
                    "command description is empty"
                    if not command.get("description")
                    else "BOT_COMMAND_DESCRIPTION_INVALID"
                )
        with self._lock:
            self._commands[self._commands_key(params)] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    async def _m_get_my_commands(self, params: JSON) -> list[JSON]:
        with self._lock:
            return list(self._commands.get(self._commands_key(params), []))

    async def _m_delete_my_commands(self, params: JSON) -> bool:
        with self._lock:
            self._commands.pop(self._commands_key(params), None)
        return True
