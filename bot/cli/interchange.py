"""Claims in and out: `import` (files from partners) and `export` (CSV, JSON Lines, ClaimReview)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli.base import Context, main, progress


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
@click.option(
    "--vectors/--no-vectors",
    default=True,
    show_default=True,
    help="Compute the claims' vectors for the semantic stage, when it is installed (~50-80 ms a claim).",
)
@click.pass_obj
def import_(obj: Context, file: Path, fmt: str, vectors: bool) -> None:
    """Load claims and their clarifications (idempotent; bad rows reported and skipped), then
    the vectors of the claims that lack one (with the semantic package installed)."""
    from factdb.interchange import importer

    database = obj.database()
    try:
        report = importer.import_file(database, file, fmt=fmt, progress=progress())
    except importer.ImportFailed as exc:
        raise click.ClickException(str(exc)) from None
    for problem in report.problems[:50]:
        click.echo(f"skipped {problem.where}: {problem.reason}", err=True)
    if len(report.problems) > 50:
        click.echo(f"… and {len(report.problems) - 50} more skipped rows", err=True)
    click.echo(f"{report.added} added, {report.updated} updated, {len(report.problems)} skipped.")
    from factdb import semantic

    if vectors and semantic.wanted():
        from factdb.semantic.stage import sync_with_progress_bar

        embedded = sync_with_progress_bar(database.engine)
        click.echo(f"{embedded} claim vectors computed ({semantic.model_id()}).")


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
            progress=progress(),
        )
    finally:
        if output:
            out.close()
    if output:
        click.echo(f"{n} claims written to {output}.", err=True)
