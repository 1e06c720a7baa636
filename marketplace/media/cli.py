"""``flask media …``: housekeeping of stored files."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from marketplace.media import services

media_cli = AppGroup("media", help="Stored pictures and documents.")


@media_cli.command("prune")
@click.option("--older-than-hours", default=24.0, show_default=True, type=click.FloatRange(1))
@click.option("--dry-run", is_flag=True, help="List what would go, delete nothing.")
def prune_command(older_than_hours: float, dry_run: bool) -> None:
    """Delete stored files that no picture or document row points at."""
    keys = services.prune_orphans(older_than_hours=older_than_hours, dry_run=dry_run)
    for key in keys:
        click.echo(key)
    verb = "would be deleted" if dry_run else "deleted"
    click.echo(f"{len(keys)} files {verb}.")


def register_commands(app: Flask) -> None:
    app.cli.add_command(media_cli)
