"""Register each domain's flask commands."""

from __future__ import annotations

from flask import Flask

from marketplace.accounts import cli as accounts_cli
from marketplace.demo import cli as demo_cli


def register_commands(app: Flask) -> None:
    accounts_cli.register_commands(app)
    demo_cli.register_commands(app)
