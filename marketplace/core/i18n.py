"""Language choice and the template filters that show money and time as Vietnamese expect."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, has_request_context, request
from flask_babel import format_datetime
from flask_babel import gettext as _

from marketplace.core.markup import plain_text
from marketplace.core.money import format_vnd, format_vnd_number

LANGUAGE_COOKIE = "lang"


def select_locale() -> str:
    """Return the UI language: the visitor's choice if any, else Vietnamese (CLI too)."""
    choice = request.cookies.get(LANGUAGE_COOKIE) if has_request_context() else None
    if choice in current_app.config["LANGUAGES"]:
        return choice
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def local_datetime(value: datetime | None, format: str = "short") -> str:
    """Return ``value`` in Asia/Ho_Chi_Minh, formatted for the UI language."""
    if value is None:
        return ""
    return format_datetime(value, format)


def status_label(status: object) -> str:
    """The word shown for a listing's or a shop's state, or a member's role."""
    labels = {
        "deleted": _("Deleted"),
        "shopper": _("Shopper"),
        "seller": _("Seller"),
        "moderator": _("Moderator"),
        "admin": _("Administrator"),
        "draft": _("Draft"),
        "pending": _("Waiting for review"),
        "published": _("On sale"),
        "rejected": _("Rejected"),
        "hidden": _("Hidden by admins"),
        "approved": _("Approved"),
        "suspended": _("Suspended"),
    }
    return labels.get(str(status), str(status))


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(status_label, "status_label")
    app.add_template_filter(plain_text, "plain_text")
    app.add_template_filter(format_vnd_number, "vnd_number")
    app.add_template_filter(format_vnd, "vnd")
    app.add_template_filter(local_datetime, "datetime")

    @app.context_processor
    def language_context() -> dict[str, object]:
        return {
            "languages": current_app.config["LANGUAGES"],
            "current_locale": select_locale(),
        }
