"""``flask shops …``: decide on shops from the server's shell."""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from marketplace.core.errors import DomainError
from marketplace.extensions import db
from marketplace.moderation import services as moderation
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
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()


@shops_cli.command("approve")
@click.argument("slug")
@click.option("--trusted", is_flag=True, help="Also publish its listings without review.")
def approve_command(slug: str, trusted: bool) -> None:
    """Approve the pending shop SLUG."""
    shop = _shop(slug)
    # Through moderation, so the decision is in the audit log (by "server") and mailed.
    _run(moderation.decide_shop, None, shop.id, approve=True)
    if trusted:
        _run(moderation.set_trusted, None, shop.id, trusted=True)
    click.echo(f"Shop {slug} approved{' and trusted' if trusted else ''}.")


@shops_cli.command("reject")
@click.argument("slug")
@click.option("--reason", required=True, help="Shown to the seller.")
def reject_command(slug: str, reason: str) -> None:
    """Reject the pending shop SLUG."""
    _run(moderation.decide_shop, None, _shop(slug).id, approve=False, reason=reason)
    click.echo(f"Shop {slug} rejected.")


@shops_cli.command("trust")
@click.argument("slug")
@click.option("--off", is_flag=True, help="Take the trust back.")
def trust_command(slug: str, off: bool) -> None:
    """Publish SLUG's new listings without review (or, with --off, review them again)."""
    _run(moderation.set_trusted, None, _shop(slug).id, trusted=not off)
    click.echo(f"Shop {slug} is {'no longer ' if off else ''}trusted.")


def register_commands(app: Flask) -> None:
    app.cli.add_command(shops_cli)
