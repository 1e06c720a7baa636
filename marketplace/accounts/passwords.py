"""Password hashing: argon2id, with older Werkzeug hashes accepted once and upgraded."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app
from werkzeug.security import check_password_hash

_EXTENSION_KEY = "marketplace.passwords"
# Hashes written by Werkzeug's generate_password_hash (the Flask default) before argon2id.
_LEGACY_PREFIXES = ("pbkdf2:", "scrypt:")


@dataclass(frozen=True)
class Verification:
    ok: bool
    needs_rehash: bool = False


def init_passwords(app: Flask) -> None:
    app.extensions[_EXTENSION_KEY] = PasswordHasher(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost=app.config["ARGON2_MEMORY_COST"],
        parallelism=app.config["ARGON2_PARALLELISM"],
    )


def _hasher() -> PasswordHasher:
    return current_app.extensions[_EXTENSION_KEY]


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> Verification:
    """Check ``password`` against ``stored_hash``; say whether the hash should be renewed."""
    if stored_hash.startswith(_LEGACY_PREFIXES):
        return Verification(ok=check_password_hash(stored_hash, password), needs_rehash=True)
    hasher = _hasher()
    try:
        hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return Verification(ok=False)
    return Verification(ok=True, needs_rehash=hasher.check_needs_rehash(stored_hash))


def burn_verification_time(password: str) -> None:
    """Spend the time a real check takes, so timing does not tell unknown emails apart."""
    verify_password(_dummy_hash(), password)


def _dummy_hash() -> str:
    cached = current_app.extensions.get(_EXTENSION_KEY + ".dummy")
    if cached is None:
        cached = hash_password("not-a-real-password-for-timing-only")
        current_app.extensions[_EXTENSION_KEY + ".dummy"] = cached
    return cached
