"""``flask search …``: rebuild, check, apply pending updates."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from marketplace.search import services

search_cli = AppGroup("search", help="The product search index.")


@search_cli.command("rebuild")
def rebuild_command() -> None:
    """Build a fresh index beside the live one and swap it in (the site keeps answering)."""
    count = services.rebuild_index()
    click.echo(f"Index rebuilt with {count} listings.")


@search_cli.command("ensure")
def ensure_command() -> None:
    """Rebuild the index only if it is missing or unreadable (run at start-up)."""
    click.echo("Index rebuilt." if services.ensure_index() else "Index is fine.")


@search_cli.command("apply")
def apply_command() -> None:
    """Apply the index updates still waiting in the outbox (what a dead process left)."""
    report = services.apply_pending(wait=30.0)
    click.echo(f"{report.applied} listings indexed, {report.removed} removed.")


@search_cli.command("check")
def check_command() -> None:
    """Compare the index with the database; exit 1 when they differ."""
    result = services.check_index()
    click.echo(f"{len(result.missing)} public listings missing from the index")
    click.echo(f"{len(result.extra)} indexed listings that are not public")
    click.echo(f"{result.pending} updates pending")
    if result.missing:
        click.echo("missing: " + " ".join(map(str, sorted(result.missing)[:50])))
    if result.extra:
        click.echo("extra: " + " ".join(map(str, sorted(result.extra)[:50])))
    if not result.ok:
        raise SystemExit(1)


def register_commands(app: Flask) -> None:
    app.cli.add_command(search_cli)
