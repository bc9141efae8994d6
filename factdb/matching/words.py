"""Word-level checks the decision makes on top of the scores.

- `substitutes`: the citizen's text swaps several of the claim's words for others — same
  frame, other words, likely another claim ("closing the library because of spies" vs the
  claim "closing the bridge because of a deal"). A forward keeps the claim's words in order.
- `shares_content`: two texts share at least two content words (or three CJK/Thai
  characters) — what a candidate needs to be worth offering as a button.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata

from rapidfuzz import fuzz

from factdb.matching.text import HAN_OR_SEA_RE, SEA_RE, display_tokens

# Characters compared: enough to tell frames apart, cheap on a pasted 4 KB text.
MAX_COMPARE = 1000

# Function words of the languages we serve (and a few neighbours): never evidence that two
# messages are about the same thing.
_FUNCTION_WORDS_BY_LANGUAGE = {
    "en": """a an the and or but if of to in on at by for from with without about into over
        under as is are was were be been being it its this that these those there here you
        your we our they their he she his her i me my not no yes do does did have has had
        will would can could should may might must just also than then so very all any some
        more most other such only own same too now new says said say""",
    "es": """el la los las un una unos unas y o pero si de del al a en con sin por para sobre
        que es son fue era ser está están este esta estos estas ese esa eso lo le les se su
        sus mi tu no sí muy más ya""",
    "lt": """ir ar bet jei kad tai yra buvo bus nuo iki su be per apie į ant po už prie kaip ne
        taip labai jau dar tik visi visos šis ši tas ta jo jos jų mes jūs jie savo""",
    "de": "der die das und oder ist sind ein eine nicht mit von zu auf für",
    "fr": "le les des une est sont et ou pas il elle dans pour sur avec",
    "pt": "o os as um uma é são não com para por em da do dos das",
}
FUNCTION_WORDS = frozenset(w for words in _FUNCTION_WORDS_BY_LANGUAGE.values() for w in words.split())


def _swap_tokens(text: str) -> list[str]:
    # Thai-type runs have no spaces: compare them character by character, as CJK already is.
    out: list[str] = []
    for tok in display_tokens(text):
        out.extend(tok if SEA_RE.match(tok) else [tok])
    return out


@functools.lru_cache(maxsize=256)
def content_terms(text: str) -> frozenset[str]:
    # Cached: a message is compared with each offered candidate's wordings in turn.
    terms: set[str] = set()
    for tok in _swap_tokens(text[:MAX_COMPARE]):
        if HAN_OR_SEA_RE.match(tok):
            terms.add(tok)
        elif len(tok) >= 3 and tok not in FUNCTION_WORDS:
            terms.add(tok[:6])  # a light stem: "closing"/"closed", "vaccines"/"vaccine"
    return frozenset(terms)


def shares_content(query: str, claim_text: str | None) -> bool:
    """At least two content words (or three CJK/Thai characters) in common."""
    if claim_text is None:
        return False
    shared = content_terms(query) & content_terms(claim_text)
    script = sum(1 for t in shared if HAN_OR_SEA_RE.match(t))
    return len(shared) - script >= 2 or script >= 3


_QUOTE_MARK_RE = re.compile(r"^[ \t]*>+[ \t]?")
_BLANK_LINE_RE = re.compile(r"\n[ \t]*\n")
# A line that ends a sentence, a call or a truncated text ("…", "(more)", ":" before a quote)
_ENDS_PART = tuple('.!?…:;"”»)*。！？')


def _symbol(ch: str) -> bool:
    return unicodedata.category(ch) in ("So", "Sk", "Sm") or ch in "*#-=~_"


def _part_boundary(before: str, after: str) -> bool:
    """Whether a line break separates two parts of a message, not two halves of a sentence
    re-flowed on a phone: the line before ends a sentence (or with an emoji), or the next
    line starts with an emoji or a symbol."""
    b, a = before.rstrip(), after.lstrip()
    if not b or not a:
        return True
    return b.endswith(_ENDS_PART) or _symbol(b[-1]) or _symbol(a[0])


def blocks(text: str) -> list[str]:
    """The parts a message is made of: paragraphs (split at blank lines), lines that end a
    sentence or are emoji lines, and quoted lines ("> ...", as replies quote) apart from the
    sender's own lines."""
    out: list[str] = []
    for para in _BLANK_LINE_RE.split(text[: MAX_COMPARE * 2]):
        current: list[str] = []
        quoted_run: bool | None = None
        for line in para.split("\n"):
            quoted = bool(_QUOTE_MARK_RE.match(line))
            body = _QUOTE_MARK_RE.sub("", line) if quoted else line
            if current and (quoted != quoted_run or _part_boundary(current[-1], body)):
                out.append("\n".join(current))
                current = []
            current.append(body)
            quoted_run = quoted
        if any(line.strip() for line in current):
            out.append("\n".join(current))
    return [b for b in out if b.strip()]


def quoted_part(query: str, claim_text: str, max_blocks: int = 8) -> str | None:
    """The consecutive blocks of the message that carry the claim without swapping its words,
    when the other blocks share no content word with the claim (a question, a greeting, a
    call to share around a quoted or truncated claim); None when there is no such part."""
    parts = blocks(query)
    if not 1 < len(parts) <= max_blocks:
        return None
    claim_terms = content_terms(claim_text)
    shares = [bool(content_terms(p) & claim_terms) for p in parts]
    lo = shares.index(True) if True in shares else None
    if lo is None:
        return None
    hi = len(shares) - shares[::-1].index(True)
    if lo == 0 and hi == len(parts):
        return None  # every block shares words with the claim: nothing to leave out
    run = "\n".join(parts[lo:hi])
    if not shares_content(run, claim_text) or substitutes(run, claim_text):
        return None
    return run


def _substantive(token: str) -> bool:
    if token.isdigit():
        return False  # a changed number is shown to the citizen (what_changed), not a new claim
    return len(token) >= 3 or bool(HAN_OR_SEA_RE.match(token))


def substitutes(query: str, claim_text: str, *, min_words: int = 2, min_share: float = 0.12) -> bool:
    """True when the citizen's text swaps words of the claim for other words, not just adds
    boilerplate, drops a tail or misspells: the mark of a different claim in the same frame.

    Mutated forwards (typos, zero-width characters, "forward to everyone", truncation) keep the
    claim's words in order; a typo is not a swap (fuzzy ratio ≥ 75 to a word it replaced).
    """
    try:
        q = _swap_tokens(query[:MAX_COMPARE])
        c = _swap_tokens(claim_text[:MAX_COMPARE])
        swapped = 0
        for op, c1, c2, q1, q2 in difflib.SequenceMatcher(None, c, q, autojunk=False).get_opcodes():
            if op != "replace":
                continue
            theirs = c[c1:c2]
            swapped += sum(
                1
                for tok in q[q1:q2]
                if _substantive(tok) and not any(fuzz.ratio(tok, o) >= 75 for o in theirs)
            )
        substantive = sum(1 for tok in q if _substantive(tok)) or 1
        return swapped >= min_words and swapped / substantive >= min_share
    except Exception:
        return False
