"""A claim imported with its fact-check's headline is found by it, but the headline alone never
answers at once: it is the partner's title, a few generic words a truncated forward can share
with the wrong claim. The claim comes first among the buttons instead. A reviewer's public
wording takes the headline's place and answers as the claim's own text does."""

from __future__ import annotations

from factdb.db import Database
from factdb.matching import Matcher
from factdb.models import Claim, ClaimStatus

BLAST = "Officials hid that the fuel depot blast at the port killed forty workers in March"
HEADLINE = "Did a Tanker Explode at the Harbour?"
SPILL = "A tanker ran aground near the harbour and spilled oil on the beaches"
OTHER = "Vaccines contain microchips to track people"
TRUNCATED = "A tanker exploded at the harbour this morning … Read more"


def _matcher() -> Matcher:
    return Matcher.from_items([(1, BLAST), (2, OTHER), (3, SPILL)], headlines=[(1, HEADLINE)])


def test_a_forward_found_only_by_the_headline_is_offered_with_the_claim_first() -> None:
    result = _matcher().match(TRUNCATED)
    assert result.decision == "maybe" and result.offered[0].claim_id == 1
    assert "headline" in " ".join(result.reasons)


def test_without_the_rule_the_same_forward_would_have_been_answered() -> None:
    matcher = _matcher()
    matcher._headlined.clear()  # as if the headline were a reviewer's wording
    assert matcher.match(TRUNCATED).decision == "match"


def test_the_headlines_own_question_and_the_claims_text_are_answered_at_once() -> None:
    matcher = _matcher()
    asked = matcher.match("did a tanker explode at the harbour")  # the question the fact-check answers
    assert (asked.decision, asked.claim_id) == ("match", 1)
    forwarded = matcher.match("Officials hid that the fuel depot blast at the port killed forty workers")
    assert (forwarded.decision, forwarded.claim_id) == ("match", 1)


def test_through_the_database_a_public_wording_replaces_the_headline_and_answers(db: Database) -> None:
    def seed(s):  # type: ignore[no-untyped-def]
        claims = [
            Claim(text=BLAST, headline=HEADLINE, status=ClaimStatus.PUBLISHED),
            Claim(text=SPILL, status=ClaimStatus.PUBLISHED),
            Claim(text=OTHER, status=ClaimStatus.PUBLISHED),
        ]
        s.add_all(claims)
        s.flush()
        return claims[0].id

    blast = db.transaction(seed)
    matcher = Matcher(semantic=False)
    with db.session() as s:
        held = matcher.match(TRUNCATED, s)
    assert held.decision == "maybe" and held.offered[0].claim_id == blast

    def reword(s):  # type: ignore[no-untyped-def]
        s.get(
            Claim, blast
        ).public_text = "A tanker exploded at the harbour this morning and forty workers died"

    db.transaction(reword)  # the change feed carries it to the running matcher
    with db.session() as s:
        answered = matcher.match(TRUNCATED, s)
    assert (answered.decision, answered.claim_id) == ("match", blast)


def test_nearest_by_meaning_through_its_headline_is_offered_not_answered() -> None:
    import numpy as np

    from factdb.semantic.index import ExactIndex
    from factdb.semantic.stage import SemanticStage
    from tests.test_semantic_matcher import SAFE, FakeEmbedder

    fake = FakeEmbedder()
    claims = {1: "A celebrity was arrested for smuggling exotic birds", 2: OTHER}
    headline = "Will the water be cut in the city for three days?"
    stage = SemanticStage(embedder=fake, index=ExactIndex(384))  # type: ignore[arg-type]
    stage.add_vectors(
        [1, 2, -1], np.vstack([fake.passages(list(claims.values())), fake.passages([headline])])
    )
    matcher = Matcher.from_items(claims.items(), semantic=stage, headlines=[(1, headline)])  # type: ignore[arg-type]
    matcher._semantic_thresholds = SAFE
    message = "my neighbour says the tap gets shut off across town for three whole days"
    held = matcher.match(message)
    assert held.decision == "maybe" and held.offered[0].claim_id == 1
    assert "headline" in " ".join(held.reasons)
    matcher._headlined.clear()  # the same vectors, were it a reviewer's wording: answered
    assert matcher.match(message).decision == "match"


def test_found_by_the_headline_but_answered_by_its_own_texts_meaning() -> None:
    import numpy as np

    from factdb.semantic.index import ExactIndex
    from factdb.semantic.stage import SemanticStage
    from tests.test_semantic_matcher import CLAIMS, SAFE, FakeEmbedder

    fake = FakeEmbedder()
    headline = "Will the tap be shut off in town for three days?"
    stage = SemanticStage(embedder=fake, index=ExactIndex(384))  # type: ignore[arg-type]
    stage.add_vectors(
        [*CLAIMS, -1], np.vstack([fake.passages(list(CLAIMS.values())), fake.passages([headline])])
    )
    matcher = Matcher.from_items(CLAIMS.items(), semantic=stage, headlines=[(1, headline)])  # type: ignore[arg-type]
    matcher._semantic_thresholds = SAFE
    # Its words are the headline's (the lexical answer is held), its meaning the claim's own text's.
    message = "Tap water shut off in our town, three days, they say, starting from tomorrow morning"
    result = matcher.match(message)
    assert (result.decision, result.claim_id) == ("match", 1)
    assert result.reasons and "headline" not in " ".join(result.reasons)
