"""Harder forwards of known claims, from generators other than bench/_data.py's (issue 15 item 4).

bench/_data.py's forwards were the matcher's tuning data; these are made independently, the way
forwards really look when they reach a tipline:

- truncation: the forward keeps only the first 40-70 % of the claim (cut at a word or inside
  one, with or without an ellipsis or "Read more");
- confusables: Latin letters swapped for Cyrillic and Greek look-alikes from Unicode TR39's
  confusables table (`CONFUSABLES` below, upper and lower case), a few per word or whole words;
- keyboard typos: a letter replaced by a QWERTY neighbour, a neighbour typed beside it, a
  letter dropped or two swapped, in 1-3 words;
- boilerplate and emoji in wordings bench/_data.py does not use ("Forwarded many times",
  "please share!!", "Received as is", emoji lines);
- line breaks: the text re-flowed into short lines and paragraphs;
- quoted replies: the claim quoted ("> " lines, quotation marks) inside a question or a reply.

Each forward applies one to three of them. The set is split by claim (seeded hash of the claim
id): the "tuning" side may be looked at while changing the matcher; the "held-out" side is
measured, never looked into. The negatives are the CLEF negatives (their claim is not in the
database) with the same treatment: train negatives on the tuning side, dev ones held out.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence

from bench._data import Query

__all__ = ["CONFUSABLES", "HARD_KINDS", "hard_forwards", "heldout_claim"]

# Cyrillic and Greek characters that Unicode TR39 (Unicode Security Mechanisms, confusables.txt,
# https://www.unicode.org/Public/security/latest/confusables.txt) lists as confusable with a
# Latin letter (prototype on the left). Only Cyrillic and Greek sources, the common ones.
CONFUSABLES: dict[str, str] = {
    "a": "аα",  # U+0430 CYRILLIC SMALL A, U+03B1 GREEK SMALL ALPHA
    "c": "сϲ",  # U+0441, U+03F2 GREEK LUNATE SIGMA
    "d": "ԁ",  # U+0501 CYRILLIC SMALL KOMI DE
    "e": "еҽ",  # U+0435, U+04BD CYRILLIC SMALL ABKHASIAN CHE
    "h": "һ",  # U+04BB CYRILLIC SMALL SHHA
    "i": "іι",  # U+0456 CYRILLIC SMALL BYELORUSSIAN-UKRAINIAN I, U+03B9 GREEK IOTA
    "j": "јϳ",  # U+0458 CYRILLIC SMALL JE, U+03F3 GREEK YOT
    "l": "ӏ",  # U+04CF CYRILLIC SMALL PALOCHKA
    "o": "оοσ",  # U+043E, U+03BF GREEK OMICRON, U+03C3 GREEK SIGMA
    "p": "рρ",  # U+0440, U+03C1 GREEK RHO
    "q": "ԛ",  # U+051B CYRILLIC SMALL QA
    "s": "ѕ",  # U+0455 CYRILLIC SMALL DZE
    "u": "υ",  # U+03C5 GREEK UPSILON
    "v": "νѵ",  # U+03BD GREEK NU, U+0475 CYRILLIC SMALL IZHITSA
    "w": "ԝѡ",  # U+051D CYRILLIC SMALL WE, U+0461 CYRILLIC SMALL OMEGA
    "x": "х",  # U+0445
    "y": "уү",  # U+0443, U+04AF CYRILLIC SMALL STRAIGHT U
    "A": "АΑ",  # U+0410, U+0391
    "B": "ВΒ",  # U+0412, U+0392
    "C": "СϹ",  # U+0421, U+03F9
    "E": "ЕΕ",  # U+0415, U+0395
    "H": "НΗ",  # U+041D, U+0397
    "I": "ІΙӀ",  # U+0406, U+0399, U+04C0
    "J": "Ј",  # U+0408
    "K": "КΚ",  # U+041A, U+039A
    "M": "МΜ",  # U+041C, U+039C
    "N": "Ν",  # U+039D
    "O": "ОΟ",  # U+041E, U+039F
    "P": "РΡ",  # U+0420, U+03A1
    "S": "Ѕ",  # U+0405
    "T": "ТΤ",  # U+0422, U+03A4
    "X": "ХΧ",  # U+0425, U+03A7
    "Y": "ҮΥ",  # U+04AE, U+03A5
    "Z": "Ζ",  # U+0396
}

_QWERTY = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _neighbours() -> dict[str, str]:
    pos = {ch: (r, c) for r, row in enumerate(_QWERTY) for c, ch in enumerate(row)}
    out: dict[str, str] = {}
    for ch, (r, c) in pos.items():
        near = []
        for other, (r2, c2) in pos.items():
            # rows are staggered by about half a key: same row +-1, the row above c/c+1,
            # the row below c-1/c
            if other != ch and (
                (r2 == r and abs(c2 - c) == 1)
                or (r2 == r - 1 and c2 in (c, c + 1))
                or (r2 == r + 1 and c2 in (c - 1, c))
            ):
                near.append(other)
        out[ch] = "".join(near)
    return out


KEYBOARD = _neighbours()

_BOILER_HEAD = [
    "Forwarded many times\n",
    "Forwarded as received\n",
    "Received as is 👇\n",
    "⚠️⚠️ IMPORTANT ⚠️⚠️\n",
    "*** URGENT ***\n",
    "My cousin who works at the hospital sent this:\n",
    "Copied from a friend's wall\n",
    "READ TILL THE END!!\n",
    "‼️‼️\n",
]
_BOILER_TAIL = [
    "\n\nplease share!!",
    "\nPlease share 🙏🙏",
    "\n\nShare this with all your groups",
    "\nSend to 10 groups before midnight",
    "\n\nDon't let them delete this",
    "\n👉 share share share",
    "\n\n(copied)",
    "\nForwarded many times",
    " 🙏🏽🙏🏽🙏🏽",
]
_EMOJI_LINE = ["🚨🚨🚨", "😱😱", "❗❗❗", "👇👇👇", "🔴🔴", "💯", "🤔"]
_QUESTIONS = [
    "Is this true?",
    "is this real??",
    "Can someone check this please",
    "My aunt sent this to the family group. Fake?",
    "True or not?",
    "Got this today, what do you think",
]


def _truncate(rng: random.Random, text: str) -> str:
    """The cut only; the app's marker ("… Read more") is added after the other text changes
    (_mutate): it is the app's text, not the sender's, so it has no typos of its own."""
    cut = int(len(text) * rng.uniform(0.40, 0.70))
    cut = max(cut, 1)
    if rng.random() < 0.6:  # at a word boundary, else inside a word
        space = text.rfind(" ", 0, cut)
        if space > len(text) * 0.3:
            cut = space
    return text[:cut].rstrip()


_TRUNCATION_MARKS = ["", "...", "…", " … Read more", " (more)"]


def _confusables(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    rate = rng.uniform(0.15, 0.5)
    out = []
    for w in words:
        if rng.random() < 0.15:  # the whole word where possible
            out.append("".join(rng.choice(CONFUSABLES[ch]) if ch in CONFUSABLES else ch for ch in w))
            continue
        out.append(
            "".join(
                rng.choice(CONFUSABLES[ch]) if ch in CONFUSABLES and rng.random() < rate else ch for ch in w
            )
        )
    return " ".join(out)


def _keyboard_typos(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    spots = [i for i, w in enumerate(words) if sum(ch.isalpha() for ch in w) >= 4]
    for i in rng.sample(spots, k=min(len(spots), rng.randint(1, 3))):
        w = list(words[i])
        letters = [j for j, ch in enumerate(w) if ch.lower() in KEYBOARD]
        if not letters:
            continue
        j = rng.choice(letters)
        near = KEYBOARD[w[j].lower()]
        op = rng.random()
        if op < 0.45:
            w[j] = rng.choice(near)  # fat finger
        elif op < 0.65:
            w.insert(j + rng.randint(0, 1), rng.choice(near))  # two keys at once
        elif op < 0.85:
            del w[j]
        elif j + 1 < len(w):
            w[j], w[j + 1] = w[j + 1], w[j]
        words[i] = "".join(w)
    return " ".join(words)


def _boilerplate(rng: random.Random, text: str) -> str:
    head = rng.choice(_BOILER_HEAD) if rng.random() < 0.7 else ""
    tail = rng.choice(_BOILER_TAIL) if rng.random() < 0.7 or not head else ""
    if rng.random() < 0.4:
        text = rng.choice(_EMOJI_LINE) + "\n" + text
    return head + text + tail


def _line_breaks(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    out = []
    for i, w in enumerate(words):
        out.append(w)
        if i + 1 < len(words):
            r = rng.random()
            out.append("\n\n" if r < 0.05 else "\n" if r < 0.2 else " ")
    return "".join(out)


def _quoted_reply(rng: random.Random, text: str) -> str:
    style = rng.randrange(3)
    question = rng.choice(_QUESTIONS)
    if style == 0:
        quoted = "\n".join("> " + line for line in text.split("\n"))
        return f"{quoted}\n\n{question}"
    if style == 1:
        return f'{question}\n"{text}"'
    return f"On {rng.choice(['Mon', 'Tue', 'Sat'])}, {rng.choice(['Anna', 'Dad', 'J.'])} wrote:\n> {text}\n\n{question}"


_GENERATORS = {
    "truncation": _truncate,
    "confusables": _confusables,
    "keyboard_typos": _keyboard_typos,
    "line_breaks": _line_breaks,
    "boilerplate_emoji": _boilerplate,
    "quoted_reply": _quoted_reply,
}
HARD_KINDS = tuple(_GENERATORS)
# Text-changing generators run before the ones that wrap the text in something else.
_ORDER = {k: i for i, k in enumerate(HARD_KINDS)}


def heldout_claim(claim_id: int | None, salt: str = "issue15") -> bool:
    """The claim's side of the split: about 40 % of claims are held out (seeded hash).

    The split was drawn over the dataset's 0-based line numbers; its ids now start at 1 (as in
    the database), so the hash takes id - 1: the held-out claims stay the ones never tuned on.
    Our own extra claims (ids from 100,000) keep their ids."""
    line = claim_id - 1 if claim_id is not None and 0 < claim_id < 100_000 else claim_id
    digest = hashlib.blake2b(f"{salt}:{line}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % 100 < 40


def _mutate(rng: random.Random, text: str) -> tuple[str, str]:
    n = rng.choices([1, 2, 3], weights=[0.45, 0.4, 0.15])[0]
    kinds = sorted(rng.sample(HARD_KINDS, n), key=_ORDER.__getitem__)
    marked = "truncation" not in kinds
    for kind in kinds:
        if not marked and kind in ("boilerplate_emoji", "quoted_reply"):
            text += rng.choice(_TRUNCATION_MARKS)  # the app cut it before it was wrapped
            marked = True
        text = _GENERATORS[kind](rng, text)
    if not marked:
        text += rng.choice(_TRUNCATION_MARKS)
    return text, "+".join(kinds)


_WORDY = re.compile(r"\w")


def hard_forwards(
    claims: Sequence[tuple[int, str]],
    negatives: Sequence[Query],
    n: int = 2000,
    seed: int = 1515,
) -> dict[str, list[Query]]:
    """{"tuning": [...], "heldout": [...]}: `n` forwards of random claims (split by claim) and
    every negative once, each mutated by one to three generators."""
    rng = random.Random(seed)
    usable = [(cid, t) for cid, t in claims if len(_WORDY.findall(t)) >= 12]
    out: dict[str, list[Query]] = {"tuning": [], "heldout": []}
    for _ in range(n):
        cid, text = rng.choice(usable)
        mutated, kind = _mutate(rng, text)
        side = "heldout" if heldout_claim(cid) else "tuning"
        out[side].append(Query(mutated, cid, "hard", kind))
    for q in negatives:
        mutated, kind = _mutate(rng, q.text)
        side = "heldout" if q.split == "dev" else "tuning"
        out[side].append(Query(mutated, None, "hard", "negative+" + kind))
    return out
