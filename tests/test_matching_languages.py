"""Across languages, ask, don't answer (issue 15 item 3): a message the lexical rules would
answer at once with a claim stored in another language is offered instead, the claim first.
Lexical only first (the rule must hold without the semantic package), then with a stage."""

from __future__ import annotations

import pytest

from factdb.language import wait_for_models
from factdb.matching import Matcher

CLAIM = "Bill Gates patented a COVID-19 vaccine microchip with Moderna and Pfizer in 2019"
# Names, numbers and a loan word carry the lexical score; the rest is plainly Spanish.
SPANISH = (
    "Bill Gates patentó el microchip COVID-19 de Moderna y Pfizer en 2019. ¿Es verdad esto que me llegó?"
)
OTHERS = {
    2: "Drinking hot water with lemon cures the flu",
    3: "The mayor resigned after the floods in March",
    4: "Moderna and Pfizer vaccines were tested on 40,000 volunteers in 2020",
}


@pytest.fixture(scope="module", autouse=True)
def _models() -> None:
    # decide with the final detector, not its stand-in while lingua's models load
    assert wait_for_models(120)


def _matcher(claim_lang: str | None = "en") -> Matcher:
    matcher = Matcher.from_items([(1, CLAIM), *OTHERS.items()])
    matcher._langs = {1: claim_lang, 2: "en", 3: "en", 4: "en"}
    return matcher


def test_a_spanish_message_matching_an_english_claim_by_its_names_is_offered_not_answered() -> None:
    result = _matcher().match(SPANISH)
    assert result.decision == "maybe"
    assert result.offered[0].claim_id == 1 and result.claim_id == 1  # the claim first
    assert result.score >= Matcher().thresholds.confident  # it would have been answered
    assert result.reasons == ("message in es, claim in en: offered, not answered",)


def test_the_same_message_is_answered_when_the_claim_is_in_its_language() -> None:
    result = _matcher("es").match(SPANISH)
    assert (result.decision, result.claim_id, result.reasons) == ("match", 1, ())


def test_zh_tw_and_zh_cn_count_as_one_language() -> None:
    claim = "自來水公司將停水三天，全市受影響，請大家趕快儲水"
    matcher = Matcher.from_items([(1, claim)])
    matcher._langs = {1: "zh-CN"}  # stored as Simplified; the message reads as zh-TW
    result = matcher.match(claim)
    assert (result.decision, result.claim_id, result.reasons) == ("match", 1, ())


def test_an_unknown_language_on_either_side_keeps_the_answer() -> None:
    assert _matcher(None).match(SPANISH).decision == "match"  # no stored language
    # a message of names and numbers reads as no language: decided as before
    names = _matcher().match("Bill Gates patented COVID-19 microchip Moderna Pfizer 2019")
    assert names.reasons == ()


def test_an_english_forward_with_look_alike_letters_and_typos_is_still_answered() -> None:
    # Cyrillic а, е, о, р and Greek ο: folded back to Latin before the language is detected
    mangled = "Bіll Gаtеs pаtеntеd а CОVID-19 vаccinе microchіp wіth Mοdеrnа аnd Pfizer in 2019!!"
    result = _matcher().match(mangled)
    assert (result.decision, result.claim_id, result.reasons) == ("match", 1, ())


def test_the_language_stored_with_a_claim_comes_from_intake_and_edits() -> None:
    matcher = _matcher()
    matcher.add(5, "El alcalde dimitió después de las inundaciones de marzo en Valencia", "es")
    assert matcher._langs[5] == "es"
    matcher.add(1, CLAIM)  # re-added without a language: not known any more
    assert matcher.match(SPANISH).decision == "match"


def test_with_the_semantic_stage_the_held_claim_stays_first_and_is_never_answered() -> None:
    from factdb.semantic import embedder as emb
    from factdb.semantic.index import ExactIndex
    from factdb.semantic.stage import SemanticStage
    from tests.test_semantic_matcher import SAFE, FakeEmbedder

    claims = {1: CLAIM, **OTHERS}
    fake = FakeEmbedder()
    index = ExactIndex(emb.DIM)
    index.add(list(claims), fake.passages(list(claims.values())))
    matcher = Matcher.from_items(claims.items(), semantic=SemanticStage(embedder=fake, index=index))  # type: ignore[arg-type]
    matcher._semantic_thresholds = SAFE
    matcher._langs = {1: "en", 2: "en", 3: "en", 4: "en"}
    result = matcher.match(SPANISH)
    assert result.decision == "maybe" and result.offered[0].claim_id == 1
    assert fake.queries == 1  # not answered lexically: the semantic candidates were asked too
    assert result.reasons[0] == "message in es, claim in en: offered, not answered"
    assert not any("swaps words" in r for r in result.reasons)


def test_a_near_verbatim_copy_of_the_claim_is_answered_whatever_language_is_stored() -> None:
    # an import may store the clarification's language (en) with a claim written in Spanish
    matcher = _matcher()
    matcher.add(6, SPANISH, "en")
    result = matcher.match("FWD: " + SPANISH)
    assert (result.decision, result.claim_id, result.reasons) == ("match", 6, ())


def test_while_linguas_models_load_nothing_is_held(monkeypatch: pytest.MonkeyPatch) -> None:
    from factdb import language

    capitals = "VACCINES CONTAIN MICROCHIPS THAT TRACK YOU THROUGH 5G TOWERS"
    assert language.detect_with_langdetect(capitals) == "vi"  # the stand-in's guess
    monkeypatch.setattr(language, "wait_for_models", lambda timeout=None: False)
    matcher = _matcher()
    matcher.add(
        7, "Vaccines contain microchips that track you through 5G towers, says a nurse in Ohio who quit", "en"
    )
    result = matcher.match(capitals)
    assert (result.decision, result.claim_id, result.reasons) == ("match", 7, ())
    assert result.score < 95  # not a near-verbatim copy: the language rule would apply
    assert matcher.match(SPANISH).decision == "match"


def test_a_brief_message_sharing_only_common_words_with_a_claim_is_not_answered() -> None:
    """Seen on the held-out cross-lingual set: "can only be used in a function" was answered
    with "A coloring crayon can be used as a candle…" (score just over the threshold, the
    shared words "can be used"). A message of at most eight words is answered at once only
    when it shares two real words with the claim."""
    claims = [
        "A coloring crayon can be used as a candle for a short time in an emergency.",
        "Banks will close every account with less than 100 euros on Monday",
        "The army will take over all petrol stations tonight",
        "Drinking hot water every 15 minutes kills the virus in your throat",
        "The mayor resigned this morning after a secret scandal at city hall",
        "Schools will stay closed until March because of a new virus",
        "5G towers spread the coronavirus through radio waves",
        "A new law will ban cash payments over 50 euros next year",
    ]
    matcher = Matcher.from_items(list(enumerate(claims, 1)))
    for brief in ("can only be used in a function", "it can be used as a function"):
        assert matcher.match(brief).decision != "match", brief
    assert matcher.match("crayon can be used as candle").decision == "match"  # real words shared


# -- found by meaning alone, across languages --------------------------------------------------

WATER = "The water company will cut the water in the whole city for three days"
# The same rumour in Lithuanian: no word in common with the claim for the lexical stage.
LITHUANIAN = "Vandens tiekimo bendrovė tris dienas išjungs vandenį visame mieste, sako kaimynai"
ENGLISH_OTHER_WORDS = "Neighbours say taps across town go dry from Monday until Thursday"


class CosineEmbedder:
    """A model whose cosines the test sets: a claim is its own direction; a message marked
    `marker` lies at `cosine` from claim `target` (the rest of it in a direction of its own)."""

    model_id = "fake-cosines"

    def __init__(self, claims: dict[int, str], messages: dict[str, tuple[int, float]]) -> None:
        from factdb.semantic import embedder as emb

        self._dim = emb.DIM
        self._claims = {text.lower(): cid for cid, text in claims.items()}
        self._messages = messages

    def _unit(self, axis: int):  # type: ignore[no-untyped-def]
        import numpy as np

        v = np.zeros(self._dim, dtype=np.float32)
        v[axis] = 1.0
        return v

    def query(self, text: str):  # type: ignore[no-untyped-def]
        for marker, (target, cosine) in self._messages.items():
            if marker in text.lower():
                return cosine * self._unit(target) + (1 - cosine**2) ** 0.5 * self._unit(self._dim - 1)
        return self._unit(self._dim - 2)

    def passages(self, texts, batch_size=32, progress=None):  # type: ignore[no-untyped-def]
        import numpy as np

        return np.stack([self._unit(self._claims.get(t.lower(), self._dim - 3)) for t in texts])


def _by_meaning(cosine: float) -> Matcher:
    """Claims 1 (the water rumour) and 2..4 in English; both messages at `cosine` from claim 1."""
    from factdb.normalize import normalize
    from factdb.semantic import embedder as emb
    from factdb.semantic.index import ExactIndex
    from factdb.semantic.stage import SemanticStage

    claims = {1: WATER, **OTHERS}
    model = CosineEmbedder(
        {cid: normalize(t) for cid, t in claims.items()},
        {"vandens tiekimo": (1, cosine), "taps across town": (1, cosine)},
    )
    index = ExactIndex(emb.DIM)
    index.add(list(claims), model.passages([normalize(t) for t in claims.values()]))
    matcher = Matcher.from_items(claims.items(), semantic=SemanticStage(embedder=model, index=index))  # type: ignore[arg-type]
    matcher._langs = {1: "en", 2: "en", 3: "en", 4: "en"}
    return matcher


def test_a_rumour_found_only_by_meaning_in_another_language_is_offered_at_a_lower_cosine() -> None:
    """Across languages e5's cosines run lower (a Lithuanian message and its English claim:
    ~0.85) and the lexical stage has no words to find the claim by: such a claim is offered
    from `offer_alone_cross_lingual`, below the same-language `offer_alone` (issue 15's
    cross-lingual target; calibrated on the dev catalogs, bench/_cross_offers.py)."""
    from factdb.semantic.fusion import SemanticThresholds

    th = SemanticThresholds()
    between = (th.offer_alone_cross_lingual + th.offer_alone) / 2
    assert Matcher.from_items([(1, WATER), *OTHERS.items()]).match(LITHUANIAN).decision == "new"
    result = _by_meaning(between).match(LITHUANIAN)
    assert (result.decision, [c.claim_id for c in result.offered]) == ("maybe", [1])
    assert "cross-lingual" in result.reasons  # offered, never answered
    # the same cosine from a message in the claim's language is not enough: there the lexical
    # stage had its chance, and unrelated texts reach such cosines
    assert _by_meaning(between).match(ENGLISH_OTHER_WORDS).decision == "new"


def test_below_the_cross_language_offer_cosine_nothing_is_offered() -> None:
    from factdb.semantic.fusion import SemanticThresholds

    below = SemanticThresholds().offer_alone_cross_lingual - 0.01
    assert _by_meaning(below).match(LITHUANIAN).decision == "new"
