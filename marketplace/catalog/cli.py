"""``flask catalog …``: categories, and decisions on listings from the server's shell."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from marketplace.catalog import services
from marketplace.core.errors import DomainError
from marketplace.extensions import db
from marketplace.moderation import services as moderation

catalog_cli = AppGroup("catalog", help="Categories and listings.")


@catalog_cli.command("init-categories")
def init_categories_command() -> None:
    """Create the default category tree's missing categories."""
    added = services.ensure_default_categories()
    db.session.commit()
    click.echo(f"{added} categories added.")


def _decide(product_id: int, *, approve: bool, reason: str | None = None) -> None:
    # Through moderation, so the decision is in the audit log (by "server") and mailed.
    try:
        moderation.decide_product(None, product_id, approve=approve, reason=reason)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()


@catalog_cli.command("approve")
@click.argument("product_id", type=int)
def approve_command(product_id: int) -> None:
    """Publish the listing PRODUCT_ID waiting for review."""
    _decide(product_id, approve=True)
    click.echo(f"Listing {product_id} published.")


@catalog_cli.command("reject")
@click.argument("product_id", type=int)
@click.option("--reason", required=True, help="Shown to the seller.")
def reject_command(product_id: int, reason: str) -> None:
    """Reject the listing PRODUCT_ID waiting for review."""
    _decide(product_id, approve=False, reason=reason)
    click.echo(f"Listing {product_id} rejected.")


def register_commands(app: Flask) -> None:
    app.cli.add_command(catalog_cli)
