"""Settings read from environment variables, with safe defaults.

Every setting can also be overridden by the dict handed to ``create_app`` (tests do).
"""

from __future__ import annotations

import copy
import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

PRODUCTION_ENVS = frozenset({"production", "prod"})
MIN_SECRET_KEY_LENGTH = 32
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(RuntimeError):
    """The settings are unsafe or inconsistent; the app refuses to start."""


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _env_list(name: str) -> list[str] | None:
    value = os.environ.get(name)
    return [item.strip() for item in value.split(",") if item.strip()] if value else None


def settings_from_env(instance_path: Path) -> dict[str, Any]:
    """Return the settings this process's environment asks for."""
    env = os.environ.get("MARKETPLACE_ENV", "development").strip().lower()
    production = env in PRODUCTION_ENVS
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'marketplace.db'}"
    mail_server = os.environ.get("MAIL_SERVER") or None
    return {
        "ENV_NAME": env,
        "PRODUCTION": production,
        "DEBUG": _env_bool("FLASK_DEBUG", False),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": _normalise_database_url(database_url),
        "SEARCH_INDEX_DIR": os.environ.get("SEARCH_INDEX_DIR") or str(instance_path / "search"),
        "MEDIA_DIR": os.environ.get("MEDIA_DIR") or str(instance_path / "media"),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY") or None,
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE") or None,
        # Stripe calls wait this long at most (the library's own default is 80 s).
        "STRIPE_TIMEOUT_SECONDS": float(os.environ.get("STRIPE_TIMEOUT_SECONDS") or 10),
        # A card order not paid within this time is cancelled and its stock released;
        # Stripe's sessions last at least 30 minutes.
        "CARD_PAYMENT_MINUTES": min(max(31, _env_int("CARD_PAYMENT_MINUTES", 60)), 23 * 60),
        # An order the shop has not confirmed within this time is cancelled.
        "ORDER_CONFIRM_HOURS": _env_int("ORDER_CONFIRM_HOURS", 24),
        # Tax a platform that collects payment withholds (Decree 117/2025), on goods.
        "WITHHOLD_VAT_RATE": os.environ.get("WITHHOLD_VAT_RATE") or "0.01",
        "WITHHOLD_PIT_RATE": os.environ.get("WITHHOLD_PIT_RATE") or "0.005",
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "MAIL_SERVER": mail_server,
        "MAIL_PORT": _env_int("MAIL_PORT", 587 if mail_server else 25),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", bool(mail_server)),
        "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL", False),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER")
        or "Chợ Cà Mau <no-reply@localhost>",
        "SITE_NAME": os.environ.get("SITE_NAME") or "Chợ Cà Mau",
        # Links in mails are built from this, never from the request's Host header.
        "SITE_URL": (os.environ.get("SITE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "TRUSTED_HOSTS": _env_list("TRUSTED_HOSTS"),
        # The app's own log lines (mails without MAIL_SERVER among them) go to stderr.
        "LOG_LEVEL": (os.environ.get("LOG_LEVEL") or "INFO").strip().upper(),
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 16 * 1024 * 1024),
        "MAX_FORM_MEMORY_SIZE": _env_int("MAX_FORM_MEMORY_SIZE", 512 * 1024),
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", production),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # Failed log-ins: tight for one address trying one account, looser per account (so
        # strangers cannot lock a member out for long), and per address across accounts.
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT") or "5 per 15 minutes",
        "LOGIN_RATE_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_RATE_LIMIT_PER_ACCOUNT")
        or "20 per hour",
        "LOGIN_RATE_LIMIT_PER_IP": os.environ.get("LOGIN_RATE_LIMIT_PER_IP") or "30 per 15 minutes",
        "REGISTER_RATE_LIMIT": os.environ.get("REGISTER_RATE_LIMIT") or "10 per hour",
        # Reports of listings and shops, per member (or per address for visitors).
        "REPORT_RATE_LIMIT": os.environ.get("REPORT_RATE_LIMIT") or "5 per hour",
        "PASSWORD_CHANGE_RATE_LIMIT": os.environ.get("PASSWORD_CHANGE_RATE_LIMIT")
        or "5 per 15 minutes",
        "RESET_RATE_LIMIT": os.environ.get("RESET_RATE_LIMIT") or "5 per hour",
        # Public pages kept for anonymous visitors; every catalog change invalidates them.
        "PAGE_CACHE_SECONDS": _env_int("PAGE_CACHE_SECONDS", 300),
        # Send mails from a background thread so a slow SMTP server neither delays the
        # page nor tells, by timing, whether an address is registered.
        "MAIL_SEND_ASYNC": _env_bool("MAIL_SEND_ASYNC", True),
        # The sync worker: each request to a channel waits this long at most, and retries
        # back off from this base (2, 4, 8 … times it).
        "SYNC_HTTP_TIMEOUT": float(os.environ.get("SYNC_HTTP_TIMEOUT") or 10),
        "SYNC_RETRY_BASE_SECONDS": float(os.environ.get("SYNC_RETRY_BASE_SECONDS") or 1),
        # Reverse proxies in front of gunicorn (nginx: 1). Without it, behind a proxy every
        # visitor would share the proxy's address and one rate-limit bucket.
        "TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
    }


# Settings that never depend on the environment.
FIXED_SETTINGS: dict[str, Any] = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
    "REMEMBER_COOKIE_NAME": "remember_token",
    "REMEMBER_COOKIE_DURATION": timedelta(days=30),
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    "BABEL_DEFAULT_LOCALE": "vi",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
    "LANGUAGES": {"vi": "Tiếng Việt", "en": "English"},
    "PASSWORD_RESET_MAX_AGE": 3600,
    "PASSWORD_MIN_LENGTH": 10,
    # argon2id parameters: RFC 9106's second recommended option (64 MiB, t=3, p=4).
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 64 * 1024,
    "ARGON2_PARALLELISM": 4,
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_STRATEGY": "moving-window",
    "RATELIMIT_KEY_PREFIX": "marketplace",
    # If Redis is down, count in memory rather than fail every log-in with a 500.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_SWALLOW_ERRORS": True,
}


def _normalise_database_url(url: str) -> str:
    # Heroku-style URLs say postgres://; SQLAlchemy wants a driver name. psycopg 3 is ours.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(app: Flask, overrides: dict[str, Any] | None = None) -> None:
    """Fill ``app.config`` from fixed settings, the environment and ``overrides``."""
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)
    app.config.update(copy.deepcopy(FIXED_SETTINGS))
    app.config.update(settings_from_env(instance_path))
    if overrides:
        app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    # Counters every worker sees: Redis when configured, else the app's own database.
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("RATELIMIT_STORAGE_URI") or (
        app.config["REDIS_URL"] or "marketplace+db://"
    )
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _stored_secret_key(instance_path)
    check_config(app.config)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def trusted_hosts(config: dict[str, Any]) -> list[str] | None:
    """The Host headers the app answers to: SITE_URL's host and loopback unless set.

    Werkzeug builds redirects (``/media//x`` → ``/media/x``) from the Host header, so a
    forged Host must be refused rather than echoed into a Location. ``*`` allows any.
    """
    hosts = config.get("TRUSTED_HOSTS")
    if hosts == ["*"]:
        return None
    if hosts:
        return list(hosts)
    site_host = urlsplit(config["SITE_URL"]).hostname
    return list(dict.fromkeys([h for h in (site_host, *LOOPBACK_HOSTS) if h]))


def _stored_secret_key(instance_path: Path) -> str:
    """Return the key kept in ``instance/secret_key``, creating it on first run."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        # Write a complete file aside, then link it into place: link() fails if another
        # worker won the race, and nobody ever reads a half-written key.
        fd, tmp_name = tempfile.mkstemp(dir=instance_path, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.link(tmp_name, key_file)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp_name)
    return key_file.read_text(encoding="ascii").strip()


def check_config(config: dict[str, Any]) -> None:
    """Raise ``ConfigError`` when settings are unusable, or unsafe in production."""
    if config.get("LOG_LEVEL") not in LOG_LEVELS:
        raise ConfigError(
            f"LOG_LEVEL is {config.get('LOG_LEVEL')!r}; use one of {', '.join(LOG_LEVELS)}."
        )
    if not config.get("PRODUCTION"):
        return
    if config.get("DEBUG"):
        raise ConfigError("Refusing to start: debug mode is on in production (unset FLASK_DEBUG).")
    key = str(config.get("SECRET_KEY") or "")
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"Refusing to start: SECRET_KEY is weak; use at least {MIN_SECRET_KEY_LENGTH} "
            "random characters (python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    if len(set(key)) < 10:
        raise ConfigError("Refusing to start: SECRET_KEY has too few distinct characters.")
    if not config.get("MAIL_SERVER"):
        # Without it mails go to the log, password-reset links included: fine on a
        # developer's machine, a leak of working links in production.
        raise ConfigError("Refusing to start: set MAIL_SERVER in production.")
