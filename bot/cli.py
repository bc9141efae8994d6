"""`crowdcheck …`: a thin shell over the library. Every command has --help, fails with one
clear line, and creates an empty database on first use."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click

from bot import config as cfg
from factdb.db import Database, SchemaOutdated


class Context:
    def __init__(self, config: cfg.Config) -> None:
        self.config = config

    def database(self, *, create: bool = True) -> Database:
        db = Database(self.config.database_url)
        if create:
            try:
                db.ensure_schema()
            except SchemaOutdated as exc:
                raise click.ClickException(str(exc)) from None
        return db


class _RedactDatabaseDetails(logging.Filter):
    """PostgreSQL's error DETAIL quotes the values of the row at fault ("Key (telegram_user_id)=
    (…) already exists", "Failing row contains (…)"); SQLAlchemy's hide_parameters cannot hide
    what the server wrote. Rewrites the message and the formatted traceback before any handler
    writes them."""

    _KEY = re.compile(
        r"(Key \([^)\n]*\)=\().*?(\) (?:already exists|is not present|is still referenced|conflicts))"
    )
    _ROW = re.compile(r"(Failing row contains )\(.*")

    def _clean(self, text: str) -> str:
        return self._ROW.sub(r"\1(…)", self._KEY.sub(r"\1…\2", text))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        return True


_REDACT = _RedactDatabaseDetails()


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        if _REDACT not in handler.filters:
            handler.addFilter(_REDACT)
    # httpx logs every request URL at INFO, and the URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # Alembic says "Context impl SQLiteImpl." each time any command checks the schema version:
    # noise on ordinary commands. `db upgrade` shows the steps it actually runs.
    if not verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)


def version() -> str:
    """This checkout's version (pyproject.toml beside the code), else the installed one's."""
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    try:
        import tomllib

        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, ValueError):
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as installed

        try:
            return installed("crowdcheck")
        except PackageNotFoundError:
            return "unknown"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version(), "-V", "--version", prog_name="crowdcheck", message="%(prog)s %(version)s")
@click.option("--database-url", envvar=None, help="Overrides CROWDCHECK_DATABASE_URL.")
@click.option("--api-base-url", help="Overrides TELEGRAM_API_BASE_URL (e.g. an emulator).")
@click.option("--review-chat-id", type=int, help="Overrides CROWDCHECK_REVIEW_CHAT_ID.")
@click.option("--admin-ids", help="Overrides CROWDCHECK_ADMIN_IDS (comma-separated user ids).")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging (may include message text).")
@click.pass_context
def main(
    ctx: click.Context,
    database_url: str | None,
    api_base_url: str | None,
    review_chat_id: int | None,
    admin_ids: str | None,
    verbose: bool,
) -> None:
    """crowdcheck: a Telegram tipline for crowdsourced fact-checking.

    Configuration comes from the environment (TELEGRAM_BOT_TOKEN, CROWDCHECK_DATABASE_URL,
    TELEGRAM_API_BASE_URL, CROWDCHECK_REVIEW_CHAT_ID, CROWDCHECK_ADMIN_IDS, …); the options
    above override it.
    """
    _setup_logging(verbose)
    try:
        config = cfg.load()
        config = config.with_overrides(
            database_url=cfg.normalise_database_url(database_url) if database_url else None,
            api_base_url=api_base_url,
            review_chat_id=review_chat_id,
            admin_ids=cfg.parse_admin_ids(admin_ids) if admin_ids else None,
        )
    except cfg.ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    ctx.obj = Context(config)


@main.command()
@click.option("--token", help="Overrides TELEGRAM_BOT_TOKEN.")
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Also serve /metrics and /healthz (only those) on this port while polling. "
    "Overrides CROWDCHECK_METRICS_PORT; off when neither is set.",
)
@click.option(
    "--metrics-host",
    help="Address for --metrics-port (default 127.0.0.1: loopback, only this machine can scrape).",
)
@click.pass_obj
def run(obj: Context, token: str | None, metrics_port: int | None, metrics_host: str | None) -> None:
    """Run the bot with long polling. Without a token, starts the offline demo instead."""
    from bot.app import BotRuntime, run_until_signal

    config = obj.config.with_overrides(token=token, metrics_port=metrics_port, metrics_host=metrics_host)
    if metrics_host and config.metrics_port is None:
        raise click.UsageError("--metrics-host needs --metrics-port (or CROWDCHECK_METRICS_PORT).")
    if not config.token:
        click.echo("TELEGRAM_BOT_TOKEN is not set, so here is the offline demo (no network needed).")
        from bot.demo import run_demo

        asyncio.run(run_demo(config, script=None))
        return
    try:
        config.require_token()
        obj.database()
        runtime = BotRuntime(config)
        asyncio.run(
            run_until_signal(
                _warn_once_started(runtime.start, config),
                runtime.stop,
                "stopping: finishing sends in flight",
            )
        )
    except cfg.ConfigError as exc:  # also a metrics port that is taken
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option(
    "--script",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Play a scripted conversation and print the transcript.",
)
@click.pass_obj
def demo(obj: Context, script: Path | None) -> None:
    """Offline demo: a Bot API emulator and the bot on loopback, with sample claims.

    You start as Mei, a citizen. What you type (and each line of a --script file):

    \b
      [LABEL]                 press a button, written as shown: [👍 Helpful], [This isn't my message]
      /citizen                be Mei, the citizen
      /reviewer               be Ana, a reviewer, in her private chat with the bot
      /group                  be Ana in the moderators' group
      /forward CHANNEL: TEXT  forward TEXT as from a channel called CHANNEL
      /quit                   end
      /start, /queue, …       commands to the bot
      # …                     a comment
      anything else           a message to the bot, exactly as written

    docs/demo/tour.txt is an example script. Older scripts' `press WHO LABEL` and
    `citizen:` / `reviewer:` / `group:` lines still work.
    """
    from bot.demo import run_demo

    asyncio.run(run_demo(obj.config, script=script))


@main.command(
    epilog="Exit status: 0 everything is fine; 1 at least one ✗ line (or a setting that cannot be read)."
)
@click.option("--token", help="Overrides TELEGRAM_BOT_TOKEN.")
@click.pass_obj
def doctor(obj: Context, token: str | None) -> None:
    """Check the setup and say, one line each (✓ or ✗), what to fix.

    \b
    Checks: TELEGRAM_BOT_TOKEN is set and Telegram accepts it (getMe); the Bot API answers
    at TELEGRAM_API_BASE_URL; the webhook (none for `crowdcheck run`, ours for `crowdcheck
    serve`) and Telegram's last error delivering to it; the moderators' group
    (CROWDCHECK_REVIEW_CHAT_ID): the bot is in it and may post; CROWDCHECK_ADMIN_IDS; the
    database answers and its schema is up to date; CROWDCHECK_PUBLIC_URL.
    Read-only: it sends no message, registers nothing and creates no database.
    """
    from bot import doctor as dr

    text, healthy = dr.run(obj.config.with_overrides(token=token))
    click.echo(text)
    if not healthy:
        click.get_current_context().exit(1)


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Context) -> None:
    """Create or migrate the schema to the latest version (running it twice is harmless)."""
    database = obj.database(create=False)
    # Only the steps Alembic runs ("Running upgrade 0002 -> 0003, …"), so an up-to-date schema
    # prints one line and nothing else.
    steps = logging.getLogger("alembic.runtime.migration")
    only_steps = _MessageStartsWith("Running upgrade")
    level = steps.level
    steps.setLevel(logging.INFO)
    steps.addFilter(only_steps)
    try:
        before, after = database.upgrade()
    finally:
        steps.removeFilter(only_steps)
        steps.setLevel(level)
    if before == after:
        click.echo(f"The schema is up to date ({after}).")
    else:
        click.echo(f"Schema upgraded from {before or 'empty'} to {after}.")


def _warn_once_started(
    start: Callable[[], Awaitable[None]], config: cfg.Config
) -> Callable[[], Awaitable[None]]:
    """`start`, then the set-up warnings an operator should read once (after start-up errors,
    which stop us with one line of their own)."""

    async def started() -> None:
        await start()
        from factdb.interchange.claimreview import missing_public_url_warning

        if warning := missing_public_url_warning(config.public_url):
            logging.getLogger("crowdcheck").warning(warning)

    return started


class _MessageStartsWith(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage().startswith(self.prefix)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "jsonl", "csv", "claimreview"]),
    default="auto",
    show_default=True,
    help="File format; auto looks at the name and the content.",
)
@click.pass_obj
def import_(obj: Context, file: Path, fmt: str) -> None:
    """Load claims and their clarifications (idempotent; bad rows reported and skipped)."""
    from factdb.interchange import importer

    database = obj.database()
    try:
        report = importer.import_file(database, file, fmt=fmt, progress=_progress())
    except importer.ImportFailed as exc:
        raise click.ClickException(str(exc)) from None
    for problem in report.problems[:50]:
        click.echo(f"skipped {problem.where}: {problem.reason}", err=True)
    if len(report.problems) > 50:
        click.echo(f"… and {len(report.problems) - 50} more skipped rows", err=True)
    click.echo(f"{report.added} added, {report.updated} updated, {len(report.problems)} skipped.")


def _progress() -> Any:
    from bot.progress import Progress

    return Progress(enabled=sys.stderr.isatty())


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
          "candidates": [{"claim_id", "score"}, …]}
    Claims are named by the id exports give them: a partner's id for an imported claim,
    PUBLIC_URL/claims/N (or ORG:claim:N without CROWDCHECK_PUBLIC_URL) for one born in the bot.
    A line that is not a JSON object with a "text" string gets {"line": N, "error": "…"} on
    stdout and a message on stderr; matching goes on. Blank lines are skipped.
    """
    from factdb.interchange.public_ids import PublicIds
    from factdb.matching import Matcher

    database = obj.database()
    index = Matcher()
    bad = 0
    with database.session() as session:
        ids = PublicIds(session, org_name=obj.config.org_name, public_url=obj.config.public_url)
        index.refresh(session)
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


@main.group()
def reviewers() -> None:
    """Manage reviewers from the shell."""


@reviewers.command("list")
@click.pass_obj
def reviewers_list(obj: Context) -> None:
    """List active reviewers (admins from CROWDCHECK_ADMIN_IDS are reviewers too)."""
    from factdb import reviewers as rv

    with obj.database().session() as session:
        rows = rv.list_active(session)
    for admin in sorted(obj.config.admin_ids):
        click.echo(f"{admin}\tadmin (configuration)")
    for r in rows:
        name = r.name or (f"@{r.username}" if r.username else "")
        click.echo(f"{r.telegram_user_id}\t{r.role}\t{name}")
    if not rows and not obj.config.admin_ids:
        click.echo("No reviewers yet: add one with `crowdcheck reviewers add USER_ID`.")


@reviewers.command("add")
@click.argument("user_id", type=int)
@click.option("--name", help="How the bot shows them to other reviewers.")
@click.option("--admin", is_flag=True, help="Also allow admin commands.")
@click.pass_obj
def reviewers_add(obj: Context, user_id: int, name: str | None, admin: bool) -> None:
    """Make a Telegram user a reviewer."""
    from factdb import reviewers as rv

    obj.database().transaction(lambda s: rv.add(s, user_id, name=name, role="admin" if admin else "reviewer"))
    click.echo(f"{user_id} is now {'an admin' if admin else 'a reviewer'}.")


@reviewers.command("remove")
@click.argument("user_id", type=int)
@click.pass_obj
def reviewers_remove(obj: Context, user_id: int) -> None:
    """Stop a user from acting as a reviewer (their past work stays)."""
    from factdb import reviewers as rv

    if not obj.database().transaction(lambda s: rv.remove(s, user_id)):
        raise click.ClickException(f"{user_id} is not an active reviewer.")
    click.echo(f"{user_id} is no longer a reviewer.")


@main.group()
def citizens() -> None:
    """What we hold about citizens (people who send messages to check)."""


@citizens.command("erase")
@click.argument("user_id", type=click.IntRange(min=1), metavar="TELEGRAM_USER_ID")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def citizens_erase(obj: Context, user_id: int, yes: bool) -> None:
    """Delete everything about one person, as their /forget would (for a request that
    reaches you another way). Safe beside a running bot.

    \b
    Goes: their citizen record, requests' texts and forwards, subscriptions, feedback links,
    messages owed to them, their updates waiting in the inbox, and every claim only they asked
    about that no reviewer touched and no partner supplied. Claims others asked about or
    reviewers worked on stay, without a link to them. On SQLite the write-ahead logs are
    emptied and deleted rows are zeroed; on PostgreSQL run VACUUM afterwards (SECURITY.md).
    An audit line records that someone was erased from the shell, never whom.
    """
    from bot.erase import erase_offline

    if not yes:
        click.confirm("Erase everything about this Telegram user? This cannot be undone", abort=True)
    result = erase_offline(obj.database(), user_id)
    if result is None:
        click.echo("Nothing held about that user (their waiting updates, if any, are gone too).")
        return
    deleted, kept = result.claims_deleted, result.claims_kept
    click.echo(
        f"Erased: {deleted} claim{'s' if deleted != 1 else ''} deleted, {kept} kept without a link to them."
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on."
)
@click.option("--token", help="Overrides TELEGRAM_BOT_TOKEN.")
@click.option("--pages-only", is_flag=True, help="Only the public pages, /healthz and /metrics: no webhook.")
@click.pass_obj
def serve(obj: Context, host: str, port: int, token: str | None, pages_only: bool) -> None:
    """Webhook receiver + public pages + /healthz + /metrics (CROWDCHECK_PUBLIC_URL registers the webhook)."""
    from bot.app import BotRuntime, run_until_signal
    from bot.web import WebServer

    config = obj.config.with_overrides(token=token)
    try:
        if config.token and not pages_only:
            config.require_token()
        obj.database()
        # With a token the bot runs here in webhook mode; without one (or --pages-only) only
        # the pages, e.g. beside a `crowdcheck run` that polls.
        runtime = BotRuntime(config) if config.token and not pages_only else None
        server = WebServer(config, host=host, port=port, runtime=runtime)
    except cfg.ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        asyncio.run(
            run_until_signal(_warn_once_started(server.start, config), server.stop, "stopping the web server")
        )
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@main.command()
@click.pass_obj
def stats(obj: Context) -> None:
    """Figures for admins: claims, requests, time to publish, the most viral open claims."""
    from factdb import stats as st

    with obj.database().session() as session:
        figures = st.stats(session, half_life_hours=obj.config.virality_half_life_hours)
    click.echo(st.format_text(figures))


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "claimreview"]),
    required=True,
    help="csv and jsonl use the claims-file fields; claimreview is a schema.org DataFeed.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of standard output.",
)
@click.pass_obj
def export(obj: Context, fmt: str, output: Path | None) -> None:
    """Export published claims and clarifications (streamed; never a requester's identity).

    Claims carry their public wording (a reviewer's rewording when there is one). CSV cells
    that a spreadsheet would run as a formula start with an apostrophe (docs/interchange.md).
    """
    from factdb.interchange import claimreview, exporter

    database = obj.database()
    warning = claimreview.missing_public_url_warning(obj.config.public_url)
    if fmt == "claimreview" and warning:
        click.echo(f"Warning: {warning}", err=True)
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        n = exporter.export(
            database,
            fmt,
            out,
            org_name=obj.config.org_name,  # type: ignore[arg-type]
            org_url=obj.config.org_url,
            public_url=obj.config.public_url,
            progress=_progress(),
        )
    finally:
        if output:
            out.close()
    if output:
        click.echo(f"{n} claims written to {output}.", err=True)


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


if __name__ == "__main__":  # pragma: no cover
    main()
