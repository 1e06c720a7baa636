"""Response hardening and safe redirects."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    has_request_context,
    request,
    session,
    url_for,
)
from flask_login import current_user, user_logged_in, user_logged_out
from werkzeug.routing import BaseConverter, ValidationError

# No inline script anywhere: pages load /static/js files only. Stripe Checkout is the one
# outside place a form may lead to (Chrome applies form-action to the POST's redirect).
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"


def content_security_policy(checkout_origin: str = STRIPE_CHECKOUT_ORIGIN) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action 'self' {checkout_origin}",
            "frame-ancestors 'none'",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class IdConverter(BaseConverter):
    """``<id:name>``: a database id; anything beyond a 32-bit key is simply not found.

    Werkzeug's ``int`` accepts any length, and SQLite and PostgreSQL then fail on the
    overflow with an error instead of "no such row".
    """

    regex = r"[1-9][0-9]{0,9}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value: object) -> str:
        return str(value)


MAX_ID = 2**31 - 1


def refuse_nul_bytes() -> None:
    """Answer 400 to a request carrying NUL characters: no database text can store them."""
    values = [request.path, *request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += request.form.values()
    if any("\x00" in value for value in values):
        abort(400)


def register_request_limits(app: Flask) -> None:
    """Cap bodies that are read whole into memory (urlencoded forms, JSON).

    ``MAX_CONTENT_LENGTH`` leaves room for image uploads; Werkzeug does not apply
    ``MAX_FORM_MEMORY_SIZE`` to urlencoded forms, so every body that is not multipart gets
    that smaller cap. Registered before CSRF so an oversized form is a 413, not a 400.
    """

    @app.before_request
    def cap_in_memory_bodies() -> None:
        if request.mimetype != "multipart/form-data":
            request.max_content_length = app.config["MAX_FORM_MEMORY_SIZE"]
        refuse_nul_bytes()

    app.url_map.converters["id"] = IdConverter


def register_security_headers(app: Flask) -> None:
    """Add the security headers to every response."""

    headers = dict(SECURITY_HEADERS)
    stripe_base = app.config.get("STRIPE_API_BASE")
    if stripe_base:
        # A local fake of Stripe (tests, demos) serves its payment page from its own origin.
        parts = urlsplit(stripe_base)
        headers["Content-Security-Policy"] = content_security_policy(
            f"{parts.scheme}://{parts.netloc}"
        )

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if app.config.get("PRODUCTION"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response


# Every page under these shows a member's own data, whoever asks (log-in pages included).
_PRIVATE_PATH = re.compile(r"/(?:account|seller|admin|cart|checkout|payments)(?:[/.]|$)")
PRIVATE_CACHE_CONTROL = "private, no-store"


def _shows_member_data() -> bool:
    """True when this request looked at a logged-in member (the layout shows their name)."""
    user = g.get("_login_user")
    return bool(user is not None and user.is_authenticated)


def register_private_pages(app: Flask) -> None:
    """Keep personal pages out of every shared and browser cache.

    A page is personal when it lives under /account, /seller or /admin, or when it was made for a
    logged-in member: it could not show their data without loading them. Public media and
    static files never load the member, so they stay cacheable.
    """

    @app.after_request
    def no_store_personal_pages(response: Response) -> Response:
        if _PRIVATE_PATH.match(request.path) or _shows_member_data():
            response.headers["Cache-Control"] = PRIVATE_CACHE_CONTROL
            response.headers.pop("Expires", None)
        return response


def renew_csrf_secret(*_args: object, **_kwargs: object) -> None:
    """Start a new CSRF secret: at log-in and log-out the session changes hands."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(field, None)
    g.pop(field, None)


user_logged_in.connect(renew_csrf_secret)
user_logged_out.connect(renew_csrf_secret)


def is_safe_redirect(target: str | None) -> bool:
    """Return True when ``target`` is a path on this site and nowhere else.

    Browsers read ``/\\host``, ``https:\\\\host`` and ``/<TAB>/host`` as other hosts, and
    some proxies decode ``%5C`` and ``%2F`` before they reach us, so anything with a
    backslash, a control character, a scheme, a host or a leading ``//`` is refused, both
    as given and once percent-decoded.
    """
    if not target:
        return False
    for candidate in (target, unquote(target)):
        if "\\" in candidate:
            return False
        if any(unicodedata.category(ch).startswith("C") for ch in candidate):
            return False
        if not candidate.startswith("/") or candidate.startswith("//"):
            return False
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return False
    return True


def external_url(endpoint: str, **values: object) -> str:
    """Return an absolute URL on SITE_URL, for mails: never trust the request's Host."""
    if has_request_context():
        path = url_for(endpoint, **values)
    else:  # a command on the server's shell: no request to take the script root from
        path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["SITE_URL"] + path


def safe_next(target: str | None, default: str) -> str:
    """Return ``target`` when it is a safe local path, otherwise ``default``."""
    return target if is_safe_redirect(target) else default


def require_admin() -> None:
    """Answer 403 unless an admin is logged in (call after ``login_required``)."""
    if not (current_user.is_authenticated and current_user.is_admin):
        abort(403)
