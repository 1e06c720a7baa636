"""``flask outbox …``: the side effects waiting in the transactional outbox."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from marketplace.core import outbox
from marketplace.core.models import utcnow
from marketplace.core.worker import run_until_stopped

outbox_cli = AppGroup("outbox", help="Side effects waiting to be carried out (index, mail).")


@outbox_cli.command("run")
@click.option("--once", is_flag=True, help="Handle what is due now, then exit.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between idle looks.")
def run_command(once: bool, interval: float) -> None:
    """Handle waiting index updates and mails, including what a dead process left.

    Each process that commits a change handles its own messages at once; this command
    (run it from systemd or cron) picks up the rest. SIGTERM stops it cleanly.
    """

    def step() -> int:
        return sum(outbox.drain_all().values())

    total = run_until_stopped("outbox worker", step, interval=interval, once=once)
    click.echo(f"{total} messages handled.")


@outbox_cli.command("status")
def status_command() -> None:
    """How many messages wait per topic, the oldest one's age, and the dead letters."""
    now = utcnow()
    for name in sorted(outbox.topics()):
        depth = outbox.depth(name)
        age = f", oldest {int((now - depth.oldest).total_seconds())} s" if depth.oldest else ""
        click.echo(f"{name}: {depth.waiting} waiting{age}, {depth.dead} dead")


def register_commands(app: Flask) -> None:
    app.cli.add_command(outbox_cli)
