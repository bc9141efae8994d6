"""Citizens forward known hoaxes in every shape; the matcher finds them, and stays humble."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench._data import load_dataset, shared_data_dir
from factdb.matching import Matcher, what_changed

WATER = "明天起全台自來水將停水三天，請大家趕快儲水並轉傳給親友！！"
CLAIMS = {
    1: "The new COVID vaccine contains microchips that track your location via 5G towers",
    2: "Drinking warm salt water kills the coronavirus in your throat",
    3: "The government will ban cash payments from January 2025",
    4: WATER,
    5: "喝溫鹽水可以殺死新冠病毒，每天早上喝一杯就不會被感染",
    6: "ดื่มน้ำมะนาวโซดาทุกเช้าช่วยฆ่าเซลล์มะเร็งได้ภายในหนึ่งเดือน",
    7: "กระทรวงสาธารณสุขประกาศปิดโรงเรียนทั่วประเทศตั้งแต่วันพรุ่งนี้",
    8: "Bill Gates admitted that the vaccine will change your DNA forever",
    9: "A photo shows sharks swimming on a flooded highway after the hurricane",
}


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_items(CLAIMS.items())


def test_a_hoax_with_invisible_characters_look_alikes_and_boilerplate_still_matches(
    matcher: Matcher,
) -> None:
    forward = (
        "Forwarded from Daily Truth\n😱😱 Thе new COVID vac\u200bcine cοntains micro\u200dchips "
        "that track your location via 5G towers!!! Forward this to everyone! "
        "https://news.example.com/x?utm_source=fb&fbclid=abc"
    )
    result = matcher.match(forward)
    assert result.decision == "match"
    assert result.claim_id == 1


def test_a_truncated_forward_with_a_typo_still_matches(matcher: Matcher) -> None:
    result = matcher.match("Drinking warm slat water kills the coronavirus…")
    assert (result.decision, result.claim_id) == ("match", 2)


def test_mei_forwards_the_water_hoax_with_all_relatives_added(matcher: Matcher) -> None:
    result = matcher.match("明天起全台自來水將停水三天，請大家趕快儲水並轉傳給所有親友！！")
    assert (result.decision, result.claim_id) == ("match", 4)
    assert "所有" in what_changed("明天起全台自來水將停水三天，請大家趕快儲水並轉傳給所有親友！！", WATER)


def test_simplified_chinese_spelling_without_punctuation_finds_the_claim(matcher: Matcher) -> None:
    result = matcher.match("喝温盐水可以杀死新冠病毒 每天早上喝一杯就不会被感染")
    assert result.candidates and result.candidates[0].claim_id == 5


def test_thai_forward_with_an_emoji_and_share_request_matches(matcher: Matcher) -> None:
    result = matcher.match("🔥 ดื่มน้ำมะนาวโซดาทุกเช้าช่วยฆ่าเซลล์มะเร็งได้ภายในหนึ่งเดือน ส่งต่อด่วน")
    assert (result.decision, result.claim_id) == ("match", 6)


def test_a_three_word_message_is_never_answered_on_a_weak_match(matcher: Matcher) -> None:
    result = matcher.match("vaccine microchips 5G")
    assert result.decision != "match"


def test_an_unrelated_message_is_not_answered(matcher: Matcher) -> None:
    # Nine claims make "the"/"new" look rare, so a button offer is possible here; with a
    # real-sized database the same message scores far lower. Never an answer, though.
    result = matcher.match("The city council approved a new bicycle lane on Main Street yesterday")
    assert result.decision != "match"


def test_a_4000_character_message_quoting_a_hoax_is_handled(matcher: Matcher) -> None:
    filler = "Some unrelated ramblings about the weather and football. " * 60
    long_message = filler + CLAIMS[9] + " " + filler
    assert len(long_message) > 4000
    result = matcher.match(long_message)
    assert result.candidates and result.candidates[0].claim_id == 9


def test_the_index_stays_consistent_after_remove_and_re_add() -> None:
    index = Matcher.from_items(CLAIMS.items())
    assert len(index) == len(CLAIMS) and 3 in index
    index.remove(3)
    assert 3 not in index and len(index) == len(CLAIMS) - 1
    assert all(c.claim_id != 3 for c in index.search(CLAIMS[3]))
    index.remove(3)  # removing twice is harmless
    index.add(3, "Supermarkets will stop accepting coins next month")
    assert 3 in index and len(index) == len(CLAIMS)
    assert index.search("supermarkets stop accepting coins next month")[0].claim_id == 3
    # The old text is gone: claim 3 may still share "will" with it, but no more than that.
    assert all(c.score < 50 for c in index.search(CLAIMS[3]) if c.claim_id == 3)
    index.add(3, CLAIMS[3])  # re-adding an id replaces its text
    assert index.search(CLAIMS[3])[0].claim_id == 3
    assert len(index) == len(CLAIMS)
    index.compact()
    assert len(index) == len(CLAIMS) and index.search(CLAIMS[3])[0].claim_id == 3


def test_claims_added_one_by_one_match_like_a_bulk_build() -> None:
    index = Matcher()
    for cid, text in CLAIMS.items():
        index.add(cid, text)
    for cid, text in CLAIMS.items():
        assert index.search(text)[0].claim_id == cid


def test_what_changed_points_at_the_changed_number_and_date() -> None:
    changes = what_changed("The government will ban cash payments from March 2026", CLAIMS[3])
    assert any("march 2026" in c and "january 2025" in c for c in changes)


def test_what_changed_lists_an_added_link() -> None:
    changes = what_changed(CLAIMS[2] + " https://bad.example/x?utm_source=tw", CLAIMS[2])
    assert changes == ["https://bad.example/x"]


claim_text = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=40).filter(
    lambda s: any(ch.isalpha() for ch in s)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(claim_text, min_size=1, max_size=8, unique=True), st.data())
def test_a_claim_always_matches_itself(texts: list[str], data: st.DataObject) -> None:
    index = Matcher.from_items(enumerate(texts))
    i = data.draw(st.integers(0, len(texts) - 1))
    if not index.search(texts[i]):
        return  # the text normalises to nothing indexable (e.g. only a share request)
    result = index.match(texts[i])
    assert result.decision == "match"
    assert result.score == 100
    assert i in [c.claim_id for c in result.candidates if c.score == 100]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.integers(-3, 10))
def test_search_and_match_never_raise(text: str, limit: int) -> None:
    index = Matcher.from_items(CLAIMS.items())
    assert len(index.search(text, limit)) <= max(limit, 0)
    result = index.match(text)
    assert result.decision in {"match", "maybe", "new"}


# --- on the real shared data ---------------------------------------------------------------------

needs_data = pytest.mark.skipif(
    shared_data_dir() is None,
    reason="../shared/data (research-use CLEF/LIAR data) not present; set CROWDCHECK_SHARED_DATA",
)


@needs_data
def test_dev_paraphrases_are_found_better_than_bm25_and_without_wrong_auto_answers() -> None:
    ds = load_dataset()
    matcher = Matcher.from_items(ds.claims)
    dev = ds.split("dev")
    hits = wrong_auto = positives = 0
    for q in dev:
        result = matcher.match(q.text)
        ids = [c.claim_id for c in result.candidates]
        if q.claim_id is not None:
            positives += 1
            hits += q.claim_id in ids
        if result.decision == "match" and result.claim_id != q.claim_id:
            wrong_auto += 1
    assert hits / positives >= 0.78  # BM25 (rank_bm25) baseline here: 0.77; we measure 0.80
    assert wrong_auto / len(dev) <= 0.01


def test_same_frame_other_words_is_asked_about_not_answered() -> None:
    bridge = "They are closing the bridge forever because of a secret deal, tell everyone you know"
    matcher = Matcher.from_items([(1, bridge), (2, "The harbour ferry is cancelled until spring")])
    swapped = matcher.match(
        "They are closing the library forever because of foreign spies, tell everyone you know"
    )
    assert swapped.decision == "maybe" and [c.claim_id for c in swapped.offered] == [1]
    forwarded = matcher.match(
        "FWD: They are closing the brigde forever because of a secret deal!! tell everyone you know 🙏"
    )
    assert (forwarded.decision, forwarded.claim_id) == ("match", 1)


def test_a_young_database_does_not_offer_claims_that_only_share_little_words() -> None:
    matcher = Matcher.from_items([(1, "A lion escaped from the zoo and is hiding in the central station")])
    result = matcher.match("Tap water in the east district is contaminated with lead, says a nurse")
    assert result.decision == "new" and result.offered == []


def test_a_truncated_claim_quoted_in_a_reply_with_a_question_is_answered(matcher: Matcher) -> None:
    reply = (
        "On Mon, Dad wrote:\n> Bill Gates admitted that the vaccine will chnage your … Read more\n\n"
        "Is this real?? my neighbour believes it"
    )
    assert (matcher.match(reply).decision, matcher.match(reply).claim_id) == ("match", 8)


def test_a_swapped_word_on_a_line_of_its_own_is_still_a_swap() -> None:
    bridge = "They are closing the bridge forever because of a secret deal with the mayor"
    matcher = Matcher.from_items([(1, bridge), (2, "The harbour ferry is cancelled until spring")])
    # a sentence re-flowed on a phone: the break is no boundary, the swap still counts
    result = matcher.match("They are closing the library forever because of\nforeign spies with the mayor")
    assert result.decision != "match"


def test_a_keyboard_slip_in_a_rare_word_still_finds_the_claim() -> None:
    matcher = Matcher.from_items(
        [(1, "Chlorine tablets cure malaria within hours"), (2, "Sharks in the river")]
    )
    # "chlorine" with x for c, "malaria" with a neighbour key: neither term is in the index as typed
    result = matcher.match("Xhlorine tablets cure malsria within hours")
    assert (result.decision, result.claim_id) == ("match", 1)


def test_a_young_tipline_grown_claim_by_claim_decides_as_it_will_after_a_restart() -> None:
    # A claim added late keeps the term weights of the moment it was added; in a young index
    # those move with every claim, so the index folds its late claims in while it is small.
    claims = [
        (1, "Banks will close all accounts with less than 100 euros on Monday, withdraw your money now"),
        (2, "Tap water across the whole country will be poisoned tonight by the government"),
        (3, "The national football team was banned from the next world cup"),
    ]
    grown = Matcher.from_items([])
    for claim_id, text in claims:
        grown.add(claim_id, text)
    restarted = Matcher.from_items(claims)
    for message in (
        "The government poisoned water supplies last year in another country far away",
        "heard that banks might close some accounts soon, anyone know more about this",
        "my uncle says the football team is out of the cup because of a ban",
    ):
        now, later = grown.match(message), restarted.match(message)
        assert (now.decision, now.claim_id, now.score) == (later.decision, later.claim_id, later.score)
