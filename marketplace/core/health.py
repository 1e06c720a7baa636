"""Health checks: each domain registers what must answer for the site to be healthy."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import text

from marketplace.extensions import db

HealthCheck = Callable[[], None]
_EXTENSION_KEY = "marketplace.health"


def register_health_check(app: Flask, name: str, check: HealthCheck) -> None:
    """Add ``check`` (raises when unhealthy) to the checks ``/healthz`` runs."""
    app.extensions.setdefault(_EXTENSION_KEY, {})[name] = check


def check_database() -> None:
    db.session.execute(text("SELECT 1"))


def run_health_checks() -> dict[str, str]:
    """Run every registered check; return ``{name: "ok" | error description}``."""
    results: dict[str, str] = {}
    for name, check in current_app.extensions.get(_EXTENSION_KEY, {}).items():
        try:
            check()
        except Exception as error:
            # Whatever a check raises, the answer is "unhealthy", never a 500.
            db.session.rollback()
            results[name] = f"error: {type(error).__name__}"
        else:
            results[name] = "ok"
    return results
