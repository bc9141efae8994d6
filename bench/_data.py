"""Shared helpers for the matching benchmarks and data-driven tests.

The real data in ../shared/data is research-use only: it is read from there at run time and
never copied into this repository.
"""

from __future__ import annotations

import json
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Dataset",
    "Query",
    "load_dataset",
    "make_forwards",
    "shared_data_dir",
]


def shared_data_dir() -> Path | None:
    """The shared data folder, or None when this checkout has none beside it."""
    env = os.environ.get("CROWDCHECK_SHARED_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    return path.resolve() if (path / "claims.jsonl").is_file() else None


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    claim_id: int | None  # the right answer; None for "new claim"
    split: str  # "train" / "dev" (CLEF), "forward" (synthetic)
    kind: str  # "pair", "negative", or the mutation applied to a forward


@dataclass(frozen=True)
class Dataset:
    claims: list[tuple[int, str]]  # (integer id, text); the integer is the line number, from 1
    claim_keys: dict[int, str]  # the dataset's own ids, by integer id
    queries: list[Query]
    # claim id -> the fact-check's headline (CLEF's Snopes article titles), as `crowdcheck import`
    # stores a `title` field; the matcher indexes it as the claim's second wording (key -id)
    headlines: dict[int, str] = field(default_factory=dict)

    def split(self, name: str) -> list[Query]:
        return [q for q in self.queries if q.split == name]


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_dataset(folder: Path | None = None) -> Dataset:
    """Claims, CLEF pairs (positives) and negatives, with claim ids mapped to integers.

    Queries are the verbatim tweets (`query_text`, attribution included): that is what a
    citizen forwarding a tweet would send.
    """
    folder = folder or shared_data_dir()
    if folder is None:
        raise FileNotFoundError("shared data folder not found (set CROWDCHECK_SHARED_DATA)")
    rows = _read_jsonl(folder / "claims.jsonl")
    # ids from 1, as in the database: -id is a claim's second wording, and -0 would be claim 0
    keys = {i: str(r["id"]) for i, r in enumerate(rows, start=1)}
    index = {k: i for i, k in keys.items()}
    claims = [(i, str(r["text"])) for i, r in enumerate(rows, start=1)]
    headlines = {i: str(r["title"]) for i, r in enumerate(rows, start=1) if r.get("title")}
    queries = [
        Query(str(p["query_text"]), index[str(p["claim_id"])], str(p["split"]), "pair")
        for p in _read_jsonl(folder / "pairs.jsonl")
    ]
    queries += [
        Query(str(n["query_text"]), None, str(n["split"]), "negative")
        for n in _read_jsonl(folder / "negatives.jsonl")
    ]
    return Dataset(claims, keys, queries, headlines)


# --- synthetic tipline forwards ----------------------------------------------------------------

_HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і", "y": "у"}
_ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e"]
_EMOJI = ["😱", "‼️", "🔥", "⚠️", "👇👇", "🙏", "😡", "🇺🇸", "💉", "✅"]
_HEADERS = [
    "Forwarded from Daily Truth\n",
    "Forwarded from Патриот ✔️\n",
    "Fwd: ",
    "---------- Forwarded message ---------\n",
    "轉發自 真相頻道\n",
]
_TAILS = [
    " Forward this to everyone!",
    " PLEASE SHARE!!!",
    " Share before it's deleted!",
    " Copy and paste, don't just share.",
    " Pass it on 🙏",
    " 請轉傳！",
    " 转发",
    " Compártelo con todos",
]
_LINKS = [
    " https://www.example-news.com/story/123?utm_source=facebook&utm_medium=social&fbclid=IwAR0x",
    " https://youtu.be/dQw4w9WgXcQ?si=Xy12abc",
    " https://www.instagram.com/p/Cabc123/?igshid=MzRlODBiNWFlZA==",
]
# Additions that people make while retelling, by script.
_INSERTS_LATIN = ["really", "all", "now", "URGENT:", "BREAKING:", "confirmed", "officially"]
_INSERTS_HAN = ["所有", "全部", "緊急", "真的"]


def _typos(rng: random.Random, text: str, n: int) -> str:
    chars = list(text)
    letters = [i for i, ch in enumerate(chars) if ch.isalpha()]
    for _ in range(min(n, len(letters))):
        i = rng.choice(letters)
        op = rng.random()
        if op < 0.4 and i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        elif op < 0.7:
            chars[i] = ""
        else:
            chars[i] = chars[i] + chars[i]
    return "".join(chars)


def _insert_word(rng: random.Random, text: str) -> str:
    if re.search(r"[\u4e00-\u9fff]", text):
        pos = rng.randrange(len(text) + 1)
        return text[:pos] + rng.choice(_INSERTS_HAN) + text[pos:]
    words = text.split(" ")
    words.insert(rng.randrange(len(words) + 1), rng.choice(_INSERTS_LATIN))
    return " ".join(words)


def _mutate(rng: random.Random, text: str, kind: str) -> str:
    if kind == "boilerplate":
        return rng.choice(_HEADERS) + text + rng.choice(_TAILS)
    if kind == "emoji":
        return rng.choice(_EMOJI) + rng.choice(_EMOJI) + " " + text + " " + rng.choice(_EMOJI) * 3
    if kind == "typos":
        return _typos(rng, text, max(1, len(text) // 60))
    if kind == "zero_width":
        chars = list(text)
        for _ in range(max(2, len(text) // 25)):
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(_ZERO_WIDTH))
        return "".join(chars)
    if kind == "homoglyphs":
        positions = [i for i, ch in enumerate(text) if ch in _HOMOGLYPHS]
        chars = list(text)
        for i in rng.sample(positions, k=min(len(positions), max(2, len(positions) // 5))):
            chars[i] = _HOMOGLYPHS[chars[i]]
        return "".join(chars)
    if kind == "truncation":
        keep = max(20, int(len(text) * rng.uniform(0.6, 0.85)))
        return text[:keep].rstrip() + "…"
    if kind == "tracking_link":
        return text + rng.choice(_LINKS)
    if kind == "added_word":
        return _insert_word(rng, text)
    if kind == "case_spacing":
        return "  ".join(text.upper().split(" ")) + "!!!"
    raise ValueError(kind)


FORWARD_KINDS = (
    "boilerplate",
    "emoji",
    "typos",
    "zero_width",
    "homoglyphs",
    "truncation",
    "tracking_link",
    "added_word",
    "case_spacing",
)

# Claims of our own in scripts without spaces, so the forward benchmark covers them too.
CJK_THAI_CLAIMS = [
    "明天起全台自來水將停水三天，請大家趕快儲水並轉傳給親友！！",
    "喝溫鹽水可以殺死新冠病毒，每天早上喝一杯就不會被感染",
    "衛福部宣布下個月起所有健保卡將停用，必須重新申請新卡",
    "吃香蕉和優酪乳一起會產生毒素，已經有人因此住院",
    "5G基地台會散播病毒，政府刻意隱瞞真相",
    "台電公告本週六全台大停電十二小時，請提前準備手電筒",
    "喝醋可以軟化血管，連續喝一個月就能治好高血壓",
    "新冠疫苗含有追蹤晶片，打完之後手機會自動連線",
    "ดื่มน้ำมะนาวโซดาทุกเช้าช่วยฆ่าเซลล์มะเร็งได้ภายในหนึ่งเดือน",
    "กระทรวงสาธารณสุขประกาศปิดโรงเรียนทั่วประเทศตั้งแต่วันพรุ่งนี้",
    "ธนาคารแห่งประเทศไทยจะยกเลิกธนบัตรใบละพันบาทภายในสิ้นปีนี้",
    "明日から全国で水道水が三日間止まるので水を備蓄してください",
]


def make_forwards(claims: list[tuple[int, str]], n: int, seed: int = 20240611) -> list[Query]:
    """`n` tipline-style forwards of randomly chosen claims, each with one or two mutations."""
    rng = random.Random(seed)
    out: list[Query] = []
    for _ in range(n):
        claim_id, text = rng.choice(claims)
        kinds = [rng.choice(FORWARD_KINDS)]
        if rng.random() < 0.35:
            kinds.append(rng.choice([k for k in FORWARD_KINDS if k != kinds[0]]))
        for kind in kinds:
            text = _mutate(rng, text, kind)
        out.append(Query(text, claim_id, "forward", "+".join(kinds)))
    return out
