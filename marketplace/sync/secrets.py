"""Channel credentials, encrypted at rest with Fernet (the ``cryptography`` library).

The key is derived from SECRET_KEY with HKDF, under a purpose of its own, so no second
secret has to be kept; changing SECRET_KEY therefore means entering the channels'
credentials again (``flask sync channel add`` with the same code updates them).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_PURPOSE = b"marketplace channel credentials v1"


class UnreadableCredentials(RuntimeError):
    """The stored credentials were sealed under another SECRET_KEY (or were tampered with)."""


def _fernet() -> Fernet:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(credentials: str) -> str:
    """Return ``credentials`` encrypted and authenticated, as text for the database."""
    return _fernet().encrypt(credentials.encode()).decode("ascii")


def unseal(token: str) -> str:
    """Return the credentials a ``seal`` token holds."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise UnreadableCredentials(
            "the channel's credentials cannot be read (was SECRET_KEY changed?)"
        ) from None
