"""``flask sync …``: channels, and which shops show their listings on them."""

from __future__ import annotations

import json
import os
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from marketplace.catalog.models import Category
from marketplace.core import outbox
from marketplace.core.errors import DomainError
from marketplace.core.worker import run_until_stopped
from marketplace.extensions import db
from marketplace.shops.models import Shop
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
    state = "enabled" if channel.enabled else "disabled"
    click.echo(f"Channel {channel.code} ({channel.connector}) saved, {state}.")


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
    if result.unmapped_categories:
        click.echo(
            f"Map the categories (flask sync channel map {code} CATEGORY_SLUG ID), or enable "
            f"with --map-rest CHANNEL_CATEGORY_ID to send every unmapped one there."
        )


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


@channel_cli.command("export")
@click.argument("code")
@click.option("--output", type=click.File("w", encoding="utf-8"), default="-",
              help="The file to write (default: the terminal).")  # fmt: skip
def export_command(code: str, output: click.utils.LazyFile) -> None:
    """Write the channel's bulk-upload sheet (CSV), for uploading by hand without its API."""
    try:
        channel = services.channel_by_code(code)
    except DomainError as error:
        _fail(error)
    for chunk in services.bulk_sheet(channel):
        output.write(chunk)


@sync_cli.command("optin")
@click.argument("code")
@click.option("--shop", "shop_slug", default=None, help="The shop's slug.")
@click.option("--all-shops", is_flag=True, help="Every approved shop.")
def optin_command(code: str, shop_slug: str | None, all_shops: bool) -> None:
    """Show a shop's listings (or every approved shop's) on the channel."""
    if bool(shop_slug) == all_shops:
        raise click.UsageError("give either --shop SLUG or --all-shops")
    try:
        channel = services.channel_by_code(code)
        if all_shops:
            added, already = services.opt_in_approved_shops(channel)
        else:
            shop = db.session.scalar(select(Shop).where(Shop.slug == shop_slug))
            if shop is None:
                raise click.ClickException(f"no shop {shop_slug!r}")
            added = int(services.opt_in(shop, channel))
            already = 1 - added
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"{added} shops opted into {code} ({already} already were).")


@sync_cli.command("run")
@click.option("--once", is_flag=True, help="Work until only dead letters are left, then exit.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between idle looks.")
def run_command(once: bool, interval: float) -> None:
    """Push waiting listing changes to the channels (SIGTERM stops it after the listing in hand).

    Run several at once, on one machine or many: they never push the same listing to the
    same channel at the same time, and a dead worker's listings are taken over.
    """
    from marketplace.sync import worker

    worker.commit_without_waiting_for_disk()
    if not once:
        total = run_until_stopped("sync worker", worker.drain_sync, interval=interval)
        click.echo(f"{total} sync messages handled.")
        return
    total = 0
    while True:  # --once: wait for retries that fall due, stop when only dead ones are left
        taken = worker.drain_sync()
        total += taken
        depth = outbox.depth(services.TOPIC)
        if depth.waiting == 0:
            break
        if not taken:  # a busy queue goes on at once
            time.sleep(min(interval, max(0.05, outbox.seconds_until_due(services.TOPIC))))
    click.echo(f"{total} sync messages handled; {depth.dead} dead letters.")


@sync_cli.command("reconcile")
@click.argument("code")
def reconcile_command(code: str) -> None:
    """Compare what the channel holds with what it should, repair it, print what was done."""
    from marketplace.sync import worker

    try:
        channel = services.channel_by_code(code)
        if channel.connector == "feed":
            raise click.ClickException("a feed channel is pulled: nothing to reconcile")
        done = worker.reconcile(channel)
    except DomainError as error:
        _fail(error)
    except worker.SyncError as error:
        raise click.ClickException(f"the channel did not answer as expected: {error}") from None
    for line in done:
        click.echo(line)
    click.echo(f"{len(done)} repairs on {code}.")


@sync_cli.command("status")
@click.argument("code", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable.")
def status_command(code: str | None, as_json: bool) -> None:
    """Listings live, pending, failed, delisted and excluded, and the queue, per channel."""
    try:
        figures = services.status(services.channel_by_code(code) if code else None)
    except DomainError as error:
        _fail(error)
    if as_json:
        click.echo(json.dumps(figures))
        return
    for name, value in figures.items():
        click.echo(f"{name}: {value}")


@sync_cli.command("simulate")
@click.argument("kind", type=click.Choice(["postmart", "voso"]))
@click.option("--port", default=8081, show_default=True)
@click.option("--latency-ms", default=0, show_default=True)
@click.option("--error-rate", default=0.0, show_default=True, help="Share of writes answered 503.")
@click.option("--rate-429", default=0.0, show_default=True, help="Share of writes answered 429.")
@click.option("--rate-limit", default=0, show_default=True, help="Requests a second (0: none).")
@click.option("--applied-then-timeout", default=0.0, show_default=True,
              help="Share of writes applied, then answered too late.")  # fmt: skip
@click.option("--hang-seconds", default=15.0, show_default=True)
@click.option("--seed", default=1, show_default=True)
def simulate_command(kind: str, port: int, **faults: float) -> None:
    """Serve KIND's assumed contract on 127.0.0.1:PORT, with faults to order."""
    from werkzeug.serving import run_simple

    from marketplace.sync.simulator import Faults, create_simulator

    app = create_simulator(kind, Faults(**faults))  # type: ignore[arg-type]
    click.echo(f"{kind} simulator on http://127.0.0.1:{port}/ (state: /_sim/state)")
    run_simple("127.0.0.1", port, app, threaded=True)


def register_commands(app: Flask) -> None:
    app.cli.add_command(sync_cli)
