"""Rumour texts of our own in the four languages, for generated screenshots and memes.

English screenshots use the shared real claims (bench/_data.py) when the data folder is there;
Spanish, Lithuanian and Traditional Chinese have no public claim set here, so these are written
for the project: the kind of message that travels (a warning, a miracle cure, a fake notice),
combined from parts so that the benchmark has many different texts per language.
"""

from __future__ import annotations

import random

__all__ = ["CAPTIONS", "FORWARDED", "texts"]

_PARTS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "en": (
        [
            "URGENT: the city council confirmed",
            "My cousin who works at the hospital says",
            "The electricity company announced",
            "Breaking news from the ministry:",
            "A doctor on TV explained",
            "Teachers were told this morning",
        ],
        [
            "that tap water will be cut for three days starting tomorrow",
            "that drinking hot lemon water every morning kills the virus",
            "that all bank cards will be blocked on Monday",
            "that the new vaccine changes your blood type",
            "that schools will stay closed until next year",
            "that phone towers are spreading the flu",
        ],
        [
            "share with your family before they delete it!",
            "please forward to everyone you know.",
            "the news will not tell you this.",
            "store water and food now.",
            "",
        ],
    ),
    "es": (
        [
            "URGENTE: el ayuntamiento confirmó",
            "Mi prima que trabaja en el hospital dice",
            "La compañía eléctrica anunció",
            "Última hora del ministerio:",
            "Un médico explicó en la televisión",
            "A los maestros les avisaron esta mañana",
        ],
        [
            "que cortarán el agua durante tres días a partir de mañana",
            "que tomar agua caliente con limón cada mañana mata el virus",
            "que todas las tarjetas bancarias se bloquearán el lunes",
            "que la nueva vacuna cambia el grupo sanguíneo",
            "que las escuelas seguirán cerradas hasta el próximo año",
            "que las antenas de telefonía contagian la gripe",
        ],
        [
            "¡compártelo con tu familia antes de que lo borren!",
            "por favor reenvíalo a todos tus contactos.",
            "las noticias no te lo van a decir.",
            "guarden agua y comida ya.",
            "",
        ],
    ),
    "lt": (
        [
            "SKUBU: savivaldybė patvirtino,",
            "Mano pusseserė, dirbanti ligoninėje, sako,",
            "Elektros bendrovė paskelbė,",
            "Naujausia žinia iš ministerijos:",
            "Gydytojas per televiziją paaiškino,",
            "Mokytojams šį rytą pranešė,",
        ],
        [
            "kad nuo rytojaus trims dienoms bus išjungtas vanduo",
            "kad šiltas vanduo su citrina kiekvieną rytą nužudo virusą",
            "kad pirmadienį bus užblokuotos visos banko kortelės",
            "kad nauja vakcina pakeičia kraujo grupę",
            "kad mokyklos liks uždarytos iki kitų metų",
            "kad mobiliojo ryšio bokštai platina gripą",
        ],
        [
            "pasidalinkite su šeima, kol neištrynė!",
            "prašau persiųsti visiems pažįstamiems.",
            "žinios jums to nepasakys.",
            "susikaupkite vandens ir maisto.",
            "",
        ],
    ),
    "zh-TW": (
        [
            "緊急通知：市政府證實",
            "我表姐在醫院工作，她說",
            "台電公司宣布",
            "衛福部最新消息：",
            "一位醫生在電視上說",
            "學校老師今天早上接到通知",
        ],
        [
            "明天起全市自來水將停水三天",
            "每天早上喝溫檸檬水可以殺死病毒",
            "下週一所有銀行卡都會被凍結",
            "新的疫苗會改變你的血型",
            "學校將停課到明年",
            "手機基地台會散播流感",
        ],
        [
            "趕快轉傳給家人，以免被刪除！",
            "請轉發給所有親朋好友。",
            "新聞不會告訴你這些。",
            "請大家趕快儲水儲糧。",
            "",
        ],
    ),
}

# What chat apps print above a forwarded message, by language (also what OCR must drop).
FORWARDED = {
    "en": ("Forwarded", "Forwarded many times"),
    "es": ("Reenviado", "Reenviado muchas veces"),
    "lt": ("Persiųsta", "Persiųsta daug kartų"),
    "zh-TW": ("已轉寄", "已多次轉寄"),
}

# Captions a repost adds above a picture (the "caption bar" variant) and meme captions.
CAPTIONS = {
    "en": ["Is this true?!", "SHARE BEFORE THEY DELETE IT", "Look what they found", "Wake up people"],
    "es": ["¿Es verdad?", "COMPARTE ANTES DE QUE LO BORREN", "Miren lo que encontraron"],
    "lt": ["Ar tai tiesa?!", "DALINKIS KOL NEIŠTRYNĖ", "Žiūrėkit, ką rado"],
    "zh-TW": ["這是真的嗎？", "趕快轉傳", "你看他們發現了什麼"],
}


def texts(lang: str, n: int, seed: int) -> list[str]:
    """`n` different rumour texts in `lang` (at most 6 x 6 x 5 = 180)."""
    who, what, tail = _PARTS[lang]
    joiner = "" if lang == "zh-TW" else " "
    combos = [(a, b, c) for a in who for b in what for c in tail]
    random.Random(seed).shuffle(combos)
    out = []
    for a, b, c in combos[:n]:
        body = joiner.join([a, b]) + ("，" if lang == "zh-TW" else ", ")
        out.append(
            (body + c).rstrip(", ，") if c else body.rstrip(", ，") + ("。" if lang == "zh-TW" else ".")
        )
    return out
