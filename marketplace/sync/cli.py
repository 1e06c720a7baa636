"""``flask sync …``: channels, and which shops show their listings on them."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from marketplace.catalog.models import Category
from marketplace.core.errors import DomainError
from marketplace.extensions import db
from marketplace.shops.models import Shop, ShopStatus
from marketplace.sync import services

sync_cli = AppGroup("sync", help="Pushing listings to national marketplaces and feeds.")
channel_cli = AppGroup("channel", help="Configure a channel.")
sync_cli.add_command(channel_cli)


def _fail(error: DomainError) -> None:
    db.session.rollback()
    raise click.ClickException(str(error))


@channel_cli.command("add")
@click.argument("code")
@click.option("--type", "connector", type=click.Choice(["postmart", "voso", "feed"]), required=True)
@click.option("--base-url", default=None, help="The channel's API address (not for feeds).")
@click.option("--name", default=None, help="How admins and sellers see it (default: CODE).")
@click.option("--rate", default=5.0, show_default=True, help="Requests per second, all workers.")
@click.option(
    "--secret-env",
    default=None,
    help="Name of the environment variable holding the credentials (never on the command line).",
)
def add_command(
    code: str,
    connector: str,
    base_url: str | None,
    name: str | None,
    rate: float,
    secret_env: str | None,
) -> None:
    """Add a channel, disabled, or update the one with this CODE."""
    credentials = None
    if secret_env:
        credentials = os.environ.get(secret_env)
        if credentials is None:
            raise click.ClickException(f"the environment variable {secret_env} is not set")
    try:
        channel = services.add_channel(
            code=code, name=name or code, connector=connector, base_url=base_url,
            credentials=credentials, requests_per_second=rate,
            production=bool(current_app.config.get("PRODUCTION")),
        )  # fmt: skip
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Channel {channel.code} ({channel.connector}) saved, disabled.")


@channel_cli.command("map")
@click.argument("code")
@click.argument("category_slug")
@click.argument("channel_category_id")
def map_command(code: str, category_slug: str, channel_category_id: str) -> None:
    """Send the listings of one of our categories to one of the channel's."""
    category = db.session.scalar(select(Category).where(Category.slug == category_slug))
    if category is None:
        raise click.ClickException(f"no category {category_slug!r}")
    try:
        services.map_category(services.channel_by_code(code), category, channel_category_id)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"{category.name_vi} → {channel_category_id}")


@channel_cli.command("preview")
@click.argument("code")
def preview_command(code: str) -> None:
    """List what enabling the channel would push, and every listing it would refuse, why."""
    try:
        result = services.preview(services.channel_by_code(code))
    except DomainError as error:
        _fail(error)
    click.echo(f"{len(result.pushable)} listings would be pushed.")
    click.echo(f"{len(result.refused)} listings would be refused:")
    for product, missing in result.refused:
        reasons = "; ".join(services.refusal_reasons(missing))
        click.echo(f"  {product.id} {product.name}: {reasons}")


@channel_cli.command("enable")
@click.argument("code")
@click.option(
    "--map-rest",
    "map_rest",
    default=None,
    help="The channel category every still unmapped category of ours goes to.",
)
def enable_command(code: str, map_rest: str | None) -> None:
    """Enable the channel and queue its listings; refused while categories are unmapped."""
    try:
        result = services.enable_channel(services.channel_by_code(code), map_rest=map_rest)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(
        f"Channel {code} enabled: {len(result.pushable)} listings queued, "
        f"{len(result.refused)} refused (see `flask sync channel preview {code}`)."
    )


@sync_cli.command("optin")
@click.argument("code")
@click.option("--shop", "shop_slug", default=None, help="The shop's slug.")
@click.option("--all-shops", is_flag=True, help="Every approved shop.")
def optin_command(code: str, shop_slug: str | None, all_shops: bool) -> None:
    """Show a shop's listings (or every approved shop's) on the channel."""
    if bool(shop_slug) == all_shops:
        raise click.UsageError("give either --shop SLUG or --all-shops")
    query = select(Shop).order_by(Shop.id)
    query = (
        query.where(Shop.slug == shop_slug)
        if shop_slug
        else query.where(Shop.status == ShopStatus.APPROVED)
    )
    shops = list(db.session.scalars(query))
    if shop_slug and not shops:
        raise click.ClickException(f"no shop {shop_slug!r}")
    try:
        channel = services.channel_by_code(code)
        added = sum(services.opt_in(shop, channel) for shop in shops)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"{added} shops opted into {code} ({len(shops) - added} already were).")


def register_commands(app: Flask) -> None:
    app.cli.add_command(sync_cli)
