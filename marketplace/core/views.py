"""Site-wide pages: health and the language switch."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue

from marketplace.core.health import run_health_checks
from marketplace.core.i18n import LANGUAGE_COOKIE
from marketplace.core.security import safe_next
from marketplace.extensions import limiter

bp = Blueprint("core", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz() -> ResponseReturnValue:
    checks = run_health_checks()
    healthy = all(result == "ok" for result in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return jsonify(body), 200 if healthy else 503


@bp.get("/lang/<code>")
def set_language(code: str) -> ResponseReturnValue:
    target = safe_next(request.args.get("next"), url_for("catalog.home"))
    response = redirect(target)
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE,
            code,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
        )
    return response
