"""Outgoing mail: SMTP when MAIL_SERVER is set, otherwise the log (development, demo)."""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    server: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    use_ssl: bool

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SmtpSettings:
        return cls(
            server=config["MAIL_SERVER"],
            port=config["MAIL_PORT"],
            username=config.get("MAIL_USERNAME"),
            password=config.get("MAIL_PASSWORD"),
            use_tls=bool(config.get("MAIL_USE_TLS")),
            use_ssl=bool(config.get("MAIL_USE_SSL")),
        )


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text mail, from a background thread when MAIL_SEND_ASYNC is on.

    A failed mail is logged and never fails the request that caused it: the person can
    ask again. Without MAIL_SERVER the mail is written to the log.
    """
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="marketplace.local")
    message.set_content(body)

    if not config.get("MAIL_SERVER"):
        log.info("mail (no MAIL_SERVER set) to=%s subject=%s\n%s", to, subject, body)
        return
    settings = SmtpSettings.from_config(config)
    if config.get("MAIL_SEND_ASYNC"):
        # Not a daemon: a worker shutting down gracefully finishes sending first.
        threading.Thread(target=deliver, args=(settings, message), name="mail").start()
    else:
        deliver(settings, message)


def deliver(settings: SmtpSettings, message: EmailMessage) -> bool:
    """Hand ``message`` to the SMTP server; return False (and log why) on failure."""
    try:
        smtp_class = smtplib.SMTP_SSL if settings.use_ssl else smtplib.SMTP
        with smtp_class(settings.server, settings.port, timeout=15) as smtp:
            if settings.use_tls and not settings.use_ssl:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send mail to %s (subject %r)", message["To"], message["Subject"])
        return False
    return True


def send_after_commit(to: str, subject: str, body: str) -> None:
    """Send a mail once the current transaction commits; never if it rolls back.

    A mail about a decision must not go out for a decision that was not saved.
    """
    db.session.info.setdefault(_OUTBOX, []).append((to, subject, body))


_OUTBOX = "mail_after_commit"


def _send_outbox(session: Session) -> None:
    if session.in_nested_transaction():
        return  # SQLAlchemy fires this for savepoints too: wait for the real commit
    for to, subject, body in session.info.pop(_OUTBOX, []):
        send_mail(to, subject, body)


def _drop_outbox(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_OUTBOX, None)


event.listen(Session, "after_commit", _send_outbox)
event.listen(Session, "after_rollback", _drop_outbox)
