"""The base of every domain's exceptions, and the HTTP error pages."""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, Response, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from marketplace.extensions import limiter

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule refused an operation; the message is safe to show to the user."""


class NotFound(DomainError):
    """The object does not exist, or the actor may not know it exists."""


def _error_titles() -> dict[int, str]:
    return {
        400: _("The request could not be understood"),
        403: _("You do not have access to this page"),
        404: _("Page not found"),
        405: _("This action is not allowed here"),
        413: _("What you sent is too large"),
        429: _("Too many attempts"),
        500: _("Something went wrong on our side"),
        503: _("The service is temporarily unavailable"),
    }


def _error_messages() -> dict[int, str]:
    return {
        400: _("Please go back, check what you entered and try again."),
        403: _("If you think you should have access, log in with the right account."),
        404: _("The page may have been moved or removed. Try the home page."),
        405: _("Please go back and use the buttons on the page."),
        413: _("Files and forms have a size limit. Please send something smaller."),
        429: _("Please wait a few minutes before trying again."),
        500: _("We have been told about it. Please try again in a moment."),
        503: _("Please try again in a moment."),
    }


def _bare_page(status: int, title: str, detail: str) -> str:
    return (
        f"<!doctype html><meta charset=utf-8><title>{status}</title>"
        f"<h1>{status} {escape(title)}</h1><p>{escape(detail)}</p>"
    )


def wants_json() -> bool:
    """Return True when the client should get a JSON error rather than a page."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def error_response(status: int, message: str | None = None, code: str | None = None) -> Response:
    """Render the error for ``status`` as JSON or as a Vietnamese page."""
    title = _error_titles().get(status, _("Error"))
    detail = message or _error_messages().get(status, "")
    if wants_json():
        body = {"error": {"code": code or f"http_{status}", "message": detail or title}}
        response = jsonify(body)
    elif request_ctx.url_adapter is None:
        # A refused Host header leaves no URL adapter: the layout's links cannot be built.
        response = Response(_bare_page(status, title, detail), mimetype="text/html")
    else:
        try:
            page = render_template("errors/error.html", status=status, title=title, message=detail)
        except Exception:
            # The layout reads the session and the database; an error page must never fail.
            log.exception("could not render the error page for %s", status)
            page = _bare_page(status, title, detail)
        response = Response(page, mimetype="text/html")
    response.status_code = status
    return response


def _rate_limit_message(error: RateLimitExceeded) -> str:
    """The limit's own words, then when the next attempt will be allowed."""
    try:
        breached = limiter.current_limit
        seconds = breached.window.reset_time - time.time() if breached is not None else 60
    except Exception:  # the counters' storage failed meanwhile: an error page must not fail
        log.exception("could not read the breached limit's reset time")
        seconds = 60
    minutes = max(1, math.ceil(seconds / 60))
    return " ".join(
        [
            str(error.description),
            ngettext(
                "Please try again in %(num)d minute.",
                "Please try again in %(num)d minutes.",
                minutes,
            ),
        ]
    )


def register_error_handlers(app: Flask) -> None:
    """Turn every HTTP error and unexpected exception into a page without traceback."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Response:
        return error_response(
            400,
            _("Your form expired or was sent from elsewhere. Please reload the page and retry."),
            code="csrf_failed",
        )

    @app.errorhandler(NotFound)
    def domain_not_found(error: NotFound) -> Response:
        return error_response(404, code="not_found")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        # Rate limits carry their own message (Flask-Limiter's error_message); others use ours.
        message = _rate_limit_message(error) if isinstance(error, RateLimitExceeded) else None
        response = error_response(status, message, code=error.name.lower().replace(" ", "_"))
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Response:
        if isinstance(error, HTTPException):  # pragma: no cover - routed above
            return http_error(error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return http_error(InternalServerError())
