"""A forwarded message, however mangled on its way, normalises to what was first written."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from factdb.language import detect_language
from factdb.normalize import extract_urls, normalize

HOAX = "The new vaccine contains microchips that track your location"


def test_zero_width_characters_hidden_in_a_hoax_disappear() -> None:
    sneaky = "The new vac\u200bcine con\u200dtains micro\u2060chips\ufeff that track your location"
    assert normalize(sneaky) == normalize(HOAX)


def test_cyrillic_and_greek_look_alikes_inside_latin_words_become_latin() -> None:
    spoofed = "Thе nеw vаccinе cοntains micrοchips that track yоur locatiоn"
    assert normalize(spoofed) == normalize(HOAX)


def test_real_russian_and_greek_words_are_left_alone() -> None:
    assert normalize("Москва слезам не верит") == "москва слезам не верит"
    assert normalize("Καλημέρα κόσμε") == "καλημερα κοσμε"


def test_forward_headers_calls_to_share_and_emoji_are_boilerplate() -> None:
    forwarded = f"Forwarded from Daily Truth\n😱😱 {HOAX}!!! 🔥🔥 Forward this to everyone!"
    assert normalize(forwarded) == normalize(HOAX + "!")


def test_chinese_share_requests_are_boilerplate_on_both_sides() -> None:
    assert normalize("明天停水三天 請轉傳！") == normalize("明天停水三天")


def test_accents_fold_for_latin_but_thai_and_hindi_keep_their_vowel_signs() -> None:
    assert normalize("Café CRÈME") == "cafe creme"
    assert normalize("ข่าวปลอม") == "ข่าวปลอม"  # Thai tone marks are letters, not decoration
    assert normalize("हिन्दी") == "हिन्दी"


def test_tracking_parameters_are_dropped_from_links() -> None:
    text = "read https://news.example.org/a?id=7&utm_source=fb&fbclid=XyZ&si=abc. now"
    assert normalize(text) == "read https://news.example.org/a?id=7 . now"
    assert extract_urls(text) == ["https://news.example.org/a?id=7"]


def test_the_same_link_shared_twice_is_listed_once() -> None:
    text = "https://youtu.be/x?si=1 and again https://youtu.be/x?si=2"
    assert extract_urls(text) == ["https://youtu.be/x"]


def test_fullwidth_and_styled_letters_are_plain_letters() -> None:
    assert normalize("ＶＡＣＣＩＮＥ 𝐜𝐡𝐢𝐩𝐬") == "vaccine chips"


def test_whitespace_collapses_and_hashtags_split_into_words() -> None:
    assert normalize("  #AustralianFires\n\n\tare   bad ") == "australian fires are bad"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalize_never_raises_and_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert isinstance(once, str)
    assert normalize(once) == once


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(categories=["L", "M", "N", "P", "S", "Z", "C"])))
def test_normalize_is_idempotent_on_symbol_and_mark_heavy_text(text: str) -> None:
    assert normalize(normalize(text)) == normalize(text)


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_extract_urls_and_detect_language_never_raise(text: str) -> None:
    assert isinstance(extract_urls(text), list)
    detect_language(text, fallback="en")


def test_language_is_detected_with_bcp47_tags() -> None:
    assert detect_language("明天起全台自來水將停水三天，請大家趕快儲水並轉傳給親友") == "zh-TW"
    assert detect_language("明天起全国自来水将停水三天，请大家赶快储水") == "zh-CN"
    assert detect_language("El gobierno anunció que mañana no habrá agua en la ciudad") == "es"
    assert detect_language("Vyriausybė paskelbė, kad rytoj nebus vandens") == "lt"


def test_short_or_wordless_texts_fall_back_instead_of_guessing() -> None:
    assert detect_language("hi", fallback="es") == "es"
    assert detect_language("12345 https://x.com/abc", fallback=None) is None


def test_tr39_confusables_fold_in_whole_words_of_a_latin_message_with_their_case() -> None:
    # whole words made of Cyrillic/Greek look-alikes (no Latin letter in them), capitals
    # folded by their shape ("Υ" is Y, "υ" is u; "Н" is H)
    spoofed = "ΤНЕ nеw vассіnе сοntаіns mісrοсһірѕ that trаск уουr lοсаtіοn"
    assert normalize(spoofed) == normalize(HOAX)
    assert normalize("ΥΕS") == "yes"
    assert normalize("Москва: ОК") == "москва: ок"  # a Russian message keeps its letters


def test_a_cut_off_post_loses_the_apps_read_more_but_not_the_words() -> None:
    assert normalize("Vaccines contain micro … Read more") == "vaccines contain micro"
    assert normalize("Vaccines contain micro... See more") == "vaccines contain micro"
    assert normalize("Vaccines contain micro (more)") == "vaccines contain micro"
    assert normalize("you should read more") == "you should read more"
