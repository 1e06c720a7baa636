"""``flask seed-demo``."""

from __future__ import annotations

import click
from flask import Flask, current_app

from marketplace.demo import seed
from marketplace.extensions import db


@click.command("seed-demo")
@click.option("--seed", "seed_value", default=seed.SEED, show_default=True, type=int)
def seed_demo_command(seed_value: int) -> None:
    """Fill an empty database with the Cà Mau demo dataset (does nothing otherwise)."""
    if current_app.config["PRODUCTION"]:
        # The demo admin's password is published in the README.
        raise click.ClickException("Refusing to seed demo data in production.")
    if not seed.database_is_empty():
        click.echo("The database already has data; the demo dataset was not added.")
        return
    summary = seed.seed_demo(seed_value)
    db.session.commit()
    figures = ", ".join(f"{count} {name}" for name, count in summary.counts.items())
    click.echo(f"Demo data added: {figures}.")
    click.echo(f"Admin: {seed.ADMIN_EMAIL} / password: {seed.DEMO_PASSWORD}")


def register_commands(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
