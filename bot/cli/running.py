"""Running the bot: `run` (long polling), `serve` (webhook and public pages), `demo` (offline)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot import config as cfg
from bot.cli.base import Context, main, warn_once_started

if TYPE_CHECKING:
    from bot.web import WebServer


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
                warn_once_started(runtime.start, config),
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
    from bot.app import run_until_signal

    config = obj.config.with_overrides(token=token)
    try:
        if config.token and not pages_only:
            config.require_token()
        obj.database()
        server = web_server(config, host=host, port=port, pages_only=pages_only)
    except cfg.ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        asyncio.run(
            run_until_signal(warn_once_started(server.start, config), server.stop, "stopping the web server")
        )
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def web_server(config: cfg.Config, *, host: str, port: int, pages_only: bool) -> WebServer:
    """`serve`'s server: with a token the bot runs in it in webhook mode; without one, or with
    --pages-only, only the pages (e.g. beside a `crowdcheck run` that polls: the two must not
    both receive updates). The web side never builds the bot itself (it does not import
    bot.app): it is built here and passed in."""
    from bot.app import BotRuntime
    from bot.web import WebServer

    runtime = BotRuntime(config) if config.token and not pages_only else None
    return WebServer(config, host=host, port=port, runtime=runtime)
