"""``flask shops …``: decide on shops until the admin screens exist."""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.shops import services
from marketplace.shops.models import Shop

shops_cli = AppGroup("shops", help="Approve, reject, suspend and trust shops.")


def _shop(slug: str) -> Shop:
    shop = db.session.scalar(select(Shop).where(Shop.slug == slug))
    if shop is None:
        raise click.ClickException(f"No shop with the address {slug!r}.")
    return shop


def _run(action: Callable[..., object], *args: object, **kwargs: object) -> None:
    try:
        action(*args, **kwargs)
    except services.ShopError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()


@shops_cli.command("approve")
@click.argument("slug")
@click.option("--trusted", is_flag=True, help="Also publish its listings without review.")
def approve_command(slug: str, trusted: bool) -> None:
    """Approve the pending shop SLUG."""
    _run(services.approve_shop, _shop(slug), trusted=trusted or None)
    click.echo(f"Shop {slug} approved{' and trusted' if trusted else ''}.")


@shops_cli.command("reject")
@click.argument("slug")
@click.option("--reason", required=True, help="Shown to the seller.")
def reject_command(slug: str, reason: str) -> None:
    """Reject the pending shop SLUG."""
    _run(services.reject_shop, _shop(slug), reason=reason)
    click.echo(f"Shop {slug} rejected.")


@shops_cli.command("trust")
@click.argument("slug")
@click.option("--off", is_flag=True, help="Take the trust back.")
def trust_command(slug: str, off: bool) -> None:
    """Publish SLUG's new listings without review (or, with --off, review them again)."""
    _run(services.set_trusted, _shop(slug), not off)
    click.echo(f"Shop {slug} is {'no longer ' if off else ''}trusted.")


def register_commands(app: Flask) -> None:
    app.cli.add_command(shops_cli)
