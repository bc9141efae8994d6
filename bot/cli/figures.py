"""`stats`: the admins' figures in plain text (factdb.stats)."""

from __future__ import annotations

import click

from bot.cli.base import Context, main


@main.command()
@click.pass_obj
def stats(obj: Context) -> None:
    """Figures for admins: claims, requests, time to publish, the most viral open claims."""
    from factdb import stats as st

    with obj.database().session() as session:
        figures = st.stats(session, half_life_hours=obj.config.virality_half_life_hours)
    click.echo(st.format_text(figures))
