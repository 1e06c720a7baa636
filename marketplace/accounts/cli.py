"""``flask create-admin``."""

from __future__ import annotations

import click
from flask import Flask

from marketplace.accounts import services
from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.moderation import services as moderation


@click.command("create-admin")
@click.argument("email")
@click.option("--full-name", default="Quản trị viên", show_default=True)
@click.option("--phone", default="0290 3831 234", show_default=True, help="Vietnamese phone.")
@click.option(
    "--password",
    envvar="ADMIN_PASSWORD",
    help="For a new account; asked for when missing (or set ADMIN_PASSWORD).",
)
@click.option(
    "--moderator", is_flag=True, help="Moderation rights only, no account administration."
)
def create_admin_command(
    email: str, full_name: str, phone: str, password: str | None, moderator: bool
) -> None:
    """Make EMAIL an admin (or a moderator), creating the account if needed."""
    if services.find_by_email(email) is None and password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    existing = services.find_by_email(email)
    before = {"role": str(existing.role)} if existing else None
    try:
        user = services.create_admin(
            email=email,
            password=password,
            full_name=full_name,
            phone=phone,
            role=Role.MODERATOR if moderator else Role.ADMIN,
        )
    except services.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.flush()
    # Granting staff rights is an administration action like any other: it is audited.
    moderation.record(None, "user.role", user, before=before, after={"role": str(user.role)})
    db.session.commit()
    click.echo(f"{user.email} is now {'a moderator' if moderator else 'an admin'}.")


def register_commands(app: Flask) -> None:
    app.cli.add_command(create_admin_command)
