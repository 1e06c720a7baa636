"""Register each domain's flask commands."""

from __future__ import annotations

from flask import Flask

from marketplace.accounts import cli as accounts_cli
from marketplace.catalog import cli as catalog_cli
from marketplace.core import cli as core_cli
from marketplace.demo import cli as demo_cli
from marketplace.media import cli as media_cli
from marketplace.orders import cli as orders_cli
from marketplace.search import cli as search_cli
from marketplace.shops import cli as shops_cli
from marketplace.sync import cli as sync_cli


def register_commands(app: Flask) -> None:
    core_cli.register_commands(app)
    accounts_cli.register_commands(app)
    shops_cli.register_commands(app)
    catalog_cli.register_commands(app)
    search_cli.register_commands(app)
    demo_cli.register_commands(app)
    media_cli.register_commands(app)
    sync_cli.register_commands(app)
    orders_cli.register_commands(app)
