"""The app's log: its own loggers (``marketplace.*``) to stderr, where gunicorn shows them."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from flask import Flask

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Write to whatever ``sys.stderr`` is when a line is logged (a test may swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass  # StreamHandler's __init__ sets it; the property always answers sys.stderr


def configure_logging(app: Flask) -> None:
    """Send ``marketplace.*`` lines at ``LOG_LEVEL`` and above to stderr, once per process.

    Without this Python drops INFO lines (its last-resort handler shows warnings only), so
    a mail written to the log when no MAIL_SERVER is set would never be seen.
    """
    logger = logging.getLogger("marketplace")
    logger.setLevel(app.config["LOG_LEVEL"])
    if not any(isinstance(handler, _StderrHandler) for handler in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
