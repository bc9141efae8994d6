"""Callback data: what a button says it does, parsed in one place and never trusted.

Telegram gives back whatever bytes we put on a button, and a client can forge any of them. The
parser accepts only the shapes below (≤ 64 bytes, known action, integer ids); the handlers then
re-check the claim's state and the presser's rights before acting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64

# action → argument kinds ("i" integer id, "w" short word)
ACTIONS: dict[str, str] = {
    "fb": "wi",  # feedback: helpful (h) / not helpful (n), request id
    "nm": "i",  # not my message, request id
    "pk": "ii",  # pick candidate: request id, claim id
    "no": "i",  # none of these, request id
    "wt": "i",  # expected wait, claim id
    "ln": "w",  # citizen language
    "tk": "i",  # take claim
    "sp": "i",  # spam claim
    "mg": "i",  # merge: choose a target for claim
    "mi": "ii",  # merge claim into target
    "vd": "iw",  # draft verdict: draft id, verdict
    "dl": "iw",  # draft language
    "pb": "i",  # publish draft
    "ed": "i",  # edit draft (back to verdict)
    "cx": "i",  # cancel draft
    "ap": "i",  # approve draft (four eyes)
    "sb": "i",  # send back draft
    "qp": "i",  # queue page
    "ph": "ii",  # public waiting list: claim id, 1 hide / 0 show (a state, not a toggle: a stale
    # card pressed twice must not flip it back)
}
_WORD = re.compile(r"^[A-Za-z_-]{1,24}$")


@dataclass(frozen=True)
class Callback:
    action: str
    args: tuple[int | str, ...]

    def int(self, i: int) -> int:
        value = self.args[i]
        assert isinstance(value, int)
        return value

    def word(self, i: int) -> str:
        return str(self.args[i])


def make(action: str, *args: int | str) -> str:
    data = ":".join([action, *map(str, args)])
    ints_ok = all(0 <= a <= 2_147_483_647 for a in args if isinstance(a, int))
    if action not in ACTIONS or len(data.encode()) > MAX_BYTES or not ints_ok:
        raise ValueError(f"bad callback data {data!r}")
    return data


def parse(data: str | None) -> Callback | None:
    """The button's meaning, or None for anything we did not make."""
    if not data or len(data.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return None
    action, *raw = data.split(":")
    kinds = ACTIONS.get(action)
    if kinds is None or len(raw) != len(kinds):
        return None
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
