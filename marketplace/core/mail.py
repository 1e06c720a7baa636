"""Outgoing mail: SMTP when MAIL_SERVER is set, otherwise the log (development, demo)."""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from flask import current_app, has_request_context

from marketplace.core import outbox

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


def _message(to: str, subject: str, body: str) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="marketplace.local")
    message.set_content(body)
    return message


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text mail now, from a background thread when MAIL_SEND_ASYNC is on.

    For mails that need no database change (a password-reset link): a failed one is
    logged and the person can ask again. Mails about a change go through ``queue_mail``.
    Without MAIL_SERVER the mail is written to the log.
    """
    config = current_app.config
    message = _message(to, subject, body)
    if not config.get("MAIL_SERVER"):
        _log_mail(message, body)
        return
    settings = SmtpSettings.from_config(config)
    if config.get("MAIL_SEND_ASYNC"):
        # Not a daemon: a worker shutting down gracefully finishes sending first.
        threading.Thread(target=deliver, args=(settings, message), name="mail").start()
    else:
        deliver(settings, message)


def _log_mail(message: EmailMessage, body: str) -> None:
    log.info("mail (no MAIL_SERVER set) to=%s subject=%s\n%s", message["To"],
             message["Subject"], body)  # fmt: skip


class DeliveryFailed(RuntimeError):
    """The SMTP server did not take the mail; the outbox tries again later."""


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


# -- mails about a change: the outbox's "mail" topic -------------------------------------

TOPIC = "mail"
MAX_ATTEMPTS = 8


def queue_mail(to: str, subject: str, body: str) -> None:
    """Send a mail once the current transaction commits; never if it rolls back.

    The mail is a row of the transaction: a mail about a decision goes out only for a
    decision that was saved, and a process that dies right after the commit leaves it
    for the next one to send.
    """
    outbox.enqueue(TOPIC, uuid.uuid4().hex, {"to": to, "subject": subject, "body": body})


def _send_queued(message: outbox.Message) -> None:
    config = current_app.config
    payload = message.payload
    email = _message(payload["to"], payload["subject"], payload["body"])
    if not config.get("MAIL_SERVER"):
        _log_mail(email, payload["body"])
        return
    if not deliver(SmtpSettings.from_config(config), email):
        raise DeliveryFailed(f"the SMTP server {config['MAIL_SERVER']} did not take it")


def _backoff(attempt: int) -> timedelta:
    return timedelta(minutes=min(2**attempt, 240))


def drain_mail() -> int:
    """Send every mail that is due; return how many went out."""
    return outbox.drain_each(TOPIC, _send_queued, max_attempts=MAX_ATTEMPTS, backoff=_backoff)


def _drain_after_commit() -> None:
    # Only an SMTP conversation is worth a thread (the log is instant), and only in a
    # request: from the shell, a thread writing beside the command's own transaction would
    # make SQLite refuse the command's next write.
    config = current_app.config
    if not (config.get("MAIL_SERVER") and config.get("MAIL_SEND_ASYNC") and has_request_context()):
        drain_mail()
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        with app.app_context():
            try:
                drain_mail()
            except Exception:
                log.exception("could not send queued mails")

    # A slow SMTP server must neither delay the page nor tell, by timing, what was mailed.
    threading.Thread(target=run, name="mail").start()


outbox.register(TOPIC, drain_mail, after_commit=_drain_after_commit)
