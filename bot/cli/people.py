"""People: `reviewers list|add|remove` and `citizens erase`."""

from __future__ import annotations

import click

from bot.cli.base import Context, main


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
