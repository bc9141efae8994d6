"""Matching from the shell: `match` (JSON Lines through the bot's own matcher), `explain` (why
the bot decided as it did for citizens' requests) and `tune` (thresholds proposed from what
citizens pressed)."""

from __future__ import annotations

import json

import click

from bot.cli.base import Context, main

# `crowdcheck match` exit statuses (also in its --help).
MATCH_OK = 0
MATCH_BAD_LINES = 3


@main.command(
    epilog="Exit status: 0 every line was matched; 3 some lines were not "
    '{"text": "…"} (each got an error line, the others were matched); 1 nothing could be done '
    "(database, configuration); 2 bad command-line usage."
)
@click.pass_obj
def match(obj: Context) -> None:
    """Match JSON Lines {"text": …} from stdin; one JSON line out per input line.

    \b
    Out: {"claim_id", "score", "decision": "match"|"maybe"|"new",
          "candidates": [{"claim_id", "score"}, …], "reasons": ["…", …]}
    "reasons" says why, in the order the rules ran (docs/matching.md, "Explanations").
    Claims are named by the id exports give them: a partner's id for an imported claim,
    PUBLIC_URL/claims/N (or ORG:claim:N without CROWDCHECK_PUBLIC_URL) for one born in the bot.
    A line that is not a JSON object with a "text" string gets {"line": N, "error": "…"} on
    stdout and a message on stderr; matching goes on. Blank lines are skipped.
    """
    from factdb.interchange.public_ids import PublicIds
    from factdb.language import wait_for_models
    from factdb.matching import Matcher

    database = obj.database()
    index = Matcher()
    bad = 0
    # lingua's models load while the index is built, and are in before the first message: the
    # matcher compares languages as the bot's does, and no message waits behind the loading
    wait_for_models(0)
    with database.session() as session:
        ids = PublicIds(session, org_name=obj.config.org_name, public_url=obj.config.public_url)
        index.refresh(session)
        wait_for_models()
        for n, line in enumerate(click.get_binary_stream("stdin"), start=1):
            if not line.strip():
                continue
            text, problem = _match_text(line)
            if text is None:
                bad += 1
                click.echo(f"line {n}: {problem}", err=True)
                click.echo(json.dumps({"line": n, "error": problem}, ensure_ascii=False))
                continue
            # The bot's own code path: the same index and decision a citizen's message gets.
            result = index.match(text, session)
            top = result.candidates[:5]
            named = ids.of([c.claim_id for c in top] + ([result.claim_id] if result.claim_id else []))
            click.echo(
                json.dumps(
                    {
                        "claim_id": named[result.claim_id] if result.claim_id else None,
                        "score": round(result.score, 2),
                        "decision": result.decision,
                        "candidates": [
                            {"claim_id": named[c.claim_id], "score": round(c.score, 2)} for c in top
                        ],
                        "reasons": list(result.explanation),
                    },
                    ensure_ascii=False,
                )
            )
    if bad:
        click.echo(
            f"{bad} line{'s' if bad != 1 else ''} could not be matched (see the error lines).", err=True
        )
        click.get_current_context().exit(MATCH_BAD_LINES)


def _match_text(line: bytes) -> tuple[str | None, str]:
    """(the text to match, or None and what is wrong with the line)."""
    try:
        record = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except ValueError:
        return None, 'not JSON: expected an object like {"text": "…"}'
    text = record.get("text") if isinstance(record, dict) else None
    if not isinstance(text, str):
        return None, 'expected a JSON object like {"text": "…"} with a string text'
    return text, ""


@main.command(epilog="Prints ids, figures and rule names only, never what a citizen wrote.")
@click.argument("request_ids", nargs=-1, type=click.IntRange(min=1), metavar="[REQUEST_ID]...")
@click.option(
    "--last", type=click.IntRange(min=1), default=20, show_default=True, help="How many recent decisions."
)
@click.option("--claim", "claim_id", type=click.IntRange(min=1), help="Only decisions about claim #N.")
@click.option(
    "--outcome",
    type=click.Choice(["helpful", "not_helpful", "not_my_message", "picked", "none_of_these"]),
    help="Only decisions the citizen then reacted to so (not_my_message: a wrong answer).",
)
@click.pass_obj
def explain(
    obj: Context, request_ids: tuple[int, ...], last: int, claim_id: int | None, outcome: str | None
) -> None:
    """Why the bot answered, offered or filed citizens' requests, newest first.

    With REQUEST_IDs, those requests; else the last decisions (--last), optionally only those
    about one claim (--claim, as reviewers number claims) or with one reaction (--outcome).
    """
    from factdb import explanations

    with obj.database().session() as session:
        found = explanations.decisions(session, request_ids, last=last, claim_id=claim_id, outcome=outcome)
    click.echo(explanations.format_text(found))


@main.command()
@click.option(
    "--budget",
    type=click.FloatRange(0.0, 0.2),
    default=0.01,
    show_default=True,
    help="Share of wrong answers at once to allow.",
)
@click.pass_obj
def tune(obj: Context, budget: float) -> None:
    """Propose match thresholds per language from what citizens pressed after each decision.

    Proposals only: to adopt one, edit factdb/matching/thresholds.py (the bench can re-check it).
    """
    from factdb.matching import tuning

    with obj.database().session() as session:
        proposals = tuning.propose(session, budget=budget)
    click.echo(tuning.format_table(proposals))
