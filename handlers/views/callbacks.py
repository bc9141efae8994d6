"""Callback data: what a button says it does, parsed in one place and never trusted.

Telegram gives back whatever bytes we put on a button, and a client can forge any of them. The
parser accepts only the shapes below (≤ 64 bytes, known action, integer ids); the handlers then
re-check the claim's state and the presser's rights before acting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_BYTES = 64


class Code(StrEnum):
    """What a button does: the code on the button, and the arguments that follow it ("i" an
    integer id, "w" a short word). The one table of buttons; the codes are on buttons already in
    people's chats, so a code's value never changes (its name may)."""

    args: str

    def __new__(cls, value: str, args: str) -> Code:
        member = str.__new__(cls, value)
        member._value_ = value
        member.args = args
        return member

    # a citizen's
    FEEDBACK = "fb", "wi"  # helpful (h) / not helpful (n), request id
    NOT_MINE = "nm", "i"  # not my message, request id
    PICK = "pk", "ii"  # pick a candidate: request id, claim id
    NONE_OF_THESE = "no", "i"  # none of the candidates, request id
    WAIT = "wt", "i"  # how long will it take, claim id
    LANGUAGE = "ln", "w"  # the citizen's language
    # a reviewer's
    TAKE = "tk", "i"  # take claim
    SPAM = "sp", "i"  # spam claim
    MERGE_MENU = "mg", "i"  # merge: choose a target for claim
    MERGE_INTO = "mi", "ii"  # merge claim into target
    VERDICT = "vd", "iw"  # draft verdict: draft id, verdict
    DRAFT_LANG = "dl", "iw"  # draft language
    PUBLISH = "pb", "i"  # publish draft
    EDIT = "ed", "i"  # edit draft (back to verdict)
    CANCEL = "cx", "i"  # cancel draft
    APPROVE = "ap", "i"  # approve draft (four eyes)
    SEND_BACK = "sb", "i"  # send back draft
    QUEUE_PAGE = "qp", "i"  # queue page
    # public waiting list: claim id, 1 hide / 0 show (a state, not a toggle: a stale card pressed
    # twice must not flip it back)
    PUBLIC_HIDDEN = "ph", "ii"
    # a citizen's picture on its claim's public page: picture id, 1 public / 0 private (a state,
    # for the same reason)
    PICTURE_PUBLIC = "pp", "ii"


_CODES = {code.value: code for code in Code}
_WORD = re.compile(r"^[A-Za-z_-]{1,24}$")


@dataclass(frozen=True)
class Callback:
    action: Code
    args: tuple[int | str, ...]

    def int(self, i: int) -> int:
        value = self.args[i]
        assert isinstance(value, int)
        return value

    def word(self, i: int) -> str:
        return str(self.args[i])


def make(action: Code | str, *args: int | str) -> str:
    data = ":".join([str(action), *map(str, args)])
    ints_ok = all(0 <= a <= 2_147_483_647 for a in args if isinstance(a, int))
    if action not in _CODES or len(data.encode()) > MAX_BYTES or not ints_ok:
        raise ValueError(f"bad callback data {data!r}")
    return data


def parse(data: str | None) -> Callback | None:
    """The button's meaning, or None for anything we did not make."""
    if not data or len(data.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return None
    word, *raw = data.split(":")
    action = _CODES.get(word)
    if action is None or len(raw) != len(action.args):
        return None
    kinds = action.args
    args: list[int | str] = []
    for kind, value in zip(kinds, raw, strict=True):
        if kind == "i":
            # Ids are database integers: anything past 2^31 is forged (and PostgreSQL would refuse it).
            if not value.isascii() or not value.isdigit() or len(value) > 10 or int(value) > 2_147_483_647:
                return None
            args.append(int(value))
        elif _WORD.match(value):
            args.append(value)
        else:
            return None
    return Callback(action, tuple(args))
