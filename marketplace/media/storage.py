"""Where media bytes live: a small storage interface, a local-disk backend and a registry.

Keys are relative, slash-separated names such as ``images/ab/abcdef…-600.webp``. Keys
under ``PUBLIC_PREFIX`` may be served to anyone; keys under ``PRIVATE_PREFIX`` never are.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

PUBLIC_PREFIX = "images/"
PRIVATE_PREFIX = "private/"
EXTENSION_KEY = "marketplace.media"

# One or more segments of safe characters, none starting with a dot: this refuses "..",
# ".", empty segments, absolute paths, backslashes, control characters and hidden files.
_KEY_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")
MAX_KEY_LENGTH = 200


class InvalidKey(ValueError):
    """The key could name a file outside the storage; it is refused, never resolved."""


class KeyNotFound(LookupError):
    """Nothing is stored under the key."""


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe storage key, else raise ``InvalidKey``."""
    if (
        not isinstance(key, str)
        or len(key) > MAX_KEY_LENGTH
        or ".." in key
        or not _KEY_RE.fullmatch(key)
    ):
        raise InvalidKey(f"unsafe storage key: {key!r}")
    return key


def is_public_key(key: str) -> bool:
    """Return True when ``key`` is safe and may be served to anyone."""
    try:
        check_key(key)
    except InvalidKey:
        return False
    return key.startswith(PUBLIC_PREFIX)


class Storage(Protocol):
    """Bytes by key; every backend refuses unsafe keys with ``InvalidKey``."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` atomically: readers see the old or the new bytes."""

    def open(self, key: str) -> bytes:
        """Return the bytes under ``key``; raise ``KeyNotFound`` when there are none."""

    def exists(self, key: str) -> bool:
        """Return True when something is stored under ``key``."""

    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""

    def keys_stored_before(self, moment: float) -> Iterator[str]:
        """Every key last written before ``moment`` (seconds since the epoch)."""


class LocalStorage:
    """Files under ``root``, written through a temp file and ``os.replace``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        """Return the file for ``key``, refusing any key that could leave ``root``."""
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            # A symlink inside the media directory pointing elsewhere.
            raise InvalidKey(f"storage key leaves the media directory: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            # mkstemp makes 0600 files; public files must be readable by a front web server.
            os.chmod(tmp_name, 0o600 if key.startswith(PRIVATE_PREFIX) else 0o644)
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> bytes:
        path = self.path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise KeyNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def keys_stored_before(self, moment: float) -> Iterator[str]:
        for path in self.root.rglob("*"):
            # Temp files of writes in progress start with a dot and are never keys.
            if path.is_file() and not path.name.startswith(".") and path.stat().st_mtime < moment:
                yield path.relative_to(self.root).as_posix()


StorageFactory = Callable[[Flask], Storage]

_BACKENDS: dict[str, StorageFactory] = {}


def register_storage(name: str, factory: StorageFactory) -> None:
    """Make ``factory`` the backend chosen by ``MEDIA_STORAGE = name``."""
    _BACKENDS[name] = factory


register_storage("local", lambda app: LocalStorage(app.config["MEDIA_DIR"]))


@dataclass(frozen=True)
class MediaState:
    storage: Storage


def init_media(app: Flask) -> None:
    """Choose the storage backend named by ``MEDIA_STORAGE`` and keep it on ``app``."""
    app.config.setdefault("MEDIA_STORAGE", "local")
    name = app.config["MEDIA_STORAGE"]
    try:
        factory = _BACKENDS[name]
    except KeyError:
        known = ", ".join(sorted(_BACKENDS))
        raise RuntimeError(f"MEDIA_STORAGE={name!r} is not one of: {known}") from None
    app.extensions[EXTENSION_KEY] = MediaState(storage=factory(app))


def get_storage() -> Storage:
    """Return the current app's storage backend."""
    state = current_app.extensions.get(EXTENSION_KEY)
    if state is None:
        raise RuntimeError("media is not set up: call init_media(app) in create_app")
    return state.storage
