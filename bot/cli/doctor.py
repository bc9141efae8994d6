"""`doctor`: is everything in place? The checks themselves are in bot/cli/checks.py."""

from __future__ import annotations

import click

from bot.cli.base import Context, main


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
    from bot.cli.checks import run as run_checks

    text, healthy = run_checks(obj.config.with_overrides(token=token))
    click.echo(text)
    if not healthy:
        click.get_current_context().exit(1)
