"""Provincial marketplace: local shops, OCOP goods, sync to national marketplaces."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides settings (tests pass a dict)."""
    from marketplace.config import load_config
    from marketplace.core.logs import configure_logging

    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path).resolve()) if instance_path else None,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    load_config(app, config)
    configure_logging(app)
    # JSON answers carry Vietnamese as UTF-8 text, readable in curl and logs, not \u escapes.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    trust_proxies(app)
    init_extensions(app)
    register_blueprints(app)
    register_commands(app)
    register_error_handlers(app)
    return app


def trust_proxies(app: Flask) -> None:
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def init_extensions(app: Flask) -> None:
    from flask_babel import lazy_gettext

    from marketplace.accounts.passwords import init_passwords
    from marketplace.accounts.services import load_user
    from marketplace.core.database import init_database, register_write_transactions
    from marketplace.core.health import check_database, register_health_check
    from marketplace.core.i18n import register_template_helpers, select_locale
    from marketplace.core.pagecache import init_page_cache
    from marketplace.core.security import (
        register_private_pages,
        register_request_limits,
        register_security_headers,
    )
    from marketplace.extensions import babel, csrf, db, limiter, login_manager, migrate
    from marketplace.media.storage import init_media
    from marketplace.search.services import init_search

    register_request_limits(app)
    init_database(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="translations"
    )
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = lazy_gettext("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = str  # evaluate the lazy message in the request's language
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    init_passwords(app)
    init_media(app)
    init_page_cache(app)
    init_search(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_private_pages(app)
    register_health_check(app, "database", check_database)
    register_write_transactions(app)


def register_blueprints(app: Flask) -> None:
    from marketplace.accounts.views import bp as accounts_bp
    from marketplace.api.views import bp as api_bp
    from marketplace.cart.views import bp as cart_bp
    from marketplace.catalog.views import bp as catalog_bp
    from marketplace.core.views import bp as core_bp
    from marketplace.media.views import bp as media_bp
    from marketplace.moderation.views import bp as admin_bp
    from marketplace.moderation.views import public_bp as reports_bp
    from marketplace.orders.views import bp as orders_bp
    from marketplace.payments.views import bp as payments_bp
    from marketplace.search.views import bp as search_bp
    from marketplace.shops.views import bp as shops_bp
    from marketplace.sync.admin import bp as channels_bp
    from marketplace.sync.views import bp as sync_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(shops_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(sync_bp)
    app.register_blueprint(channels_bp)
    app.register_blueprint(cart_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(payments_bp)


def register_commands(app: Flask) -> None:
    from marketplace.cli import register_commands as register_all

    register_all(app)


def register_error_handlers(app: Flask) -> None:
    from marketplace.core.errors import register_error_handlers as register_all

    register_all(app)
