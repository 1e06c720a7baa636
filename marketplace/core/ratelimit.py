"""Rate-limit counters in the app's own database, seen alike by every worker process.

Flask-Limiter's in-memory storage counts per process, so ``make run``'s two gunicorn
workers let twice the documented number of failed log-ins through (FACTS.md). Without
``REDIS_URL`` the limits are therefore counted here, in a table of the database the
workers already share: ``marketplace+db://`` names this storage (``limits`` registers it
by its ``STORAGE_SCHEME``). Counting happens on connections of its own, so an attempt is
counted even when the request that made it rolls back.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import BigInteger, Connection, Double, Index, Integer, String, delete, func, select
from sqlalchemy import insert as sql_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import db

STORAGE_URI = "marketplace+db://"
# Windows are at most an hour long here; rows older than a day belong to nobody.
_STALE_AFTER_SECONDS = 24 * 3600
_SWEEP_PROBABILITY = 0.01


class RateLimitEntry(db.Model):
    """One counted attempt: ``key`` names the limit and who it counts (address, email)."""

    __tablename__ = "rate_limit_entries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    # Seconds since the epoch, as the limits library counts them.
    at: Mapped[float] = mapped_column(Double)

    __table_args__ = (Index("ix_rate_limit_entries_key_at", "key", "at"),)


_T = RateLimitEntry.__table__


class DatabaseStorage(Storage, MovingWindowSupport):
    """A ``limits`` storage over the ``rate_limit_entries`` table (moving and fixed windows).

    Each key's check-and-count runs in one transaction under a per-key lock (an advisory
    lock on PostgreSQL, the write lock of ``BEGIN IMMEDIATE`` on SQLite), so two workers
    never both take the last attempt.
    """

    STORAGE_SCHEME = ["marketplace+db"]  # noqa: RUF012 - read by limits' registry

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    # -- moving window (RATELIMIT_STRATEGY = "moving-window", the app's choice) ------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self._locked(key) as connection:
            connection.execute(delete(_T).where(_T.c.key == key, _T.c.at < now - expiry))
            taken = self._count(connection, key)
            if taken + amount > limit:
                return False
            connection.execute(sql_insert(_T), [{"key": key, "at": now}] * amount)
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        with db.engine.connect() as connection:
            times = connection.scalars(
                select(_T.c.at)
                .where(_T.c.key == key, _T.c.at >= now - expiry)
                .order_by(_T.c.at.desc())
                .limit(limit)
            ).all()
        return (times[-1], len(times)) if times else (now, 0)

    # -- fixed window: the window starts at its first entry --------------------------------

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._locked(key) as connection:
            start = self._first(connection, key)
            if start is not None and start + expiry <= now:
                connection.execute(delete(_T).where(_T.c.key == key))
            connection.execute(sql_insert(_T), [{"key": key, "at": now}] * amount)
            return self._count(connection, key)

    def get(self, key: str) -> int:
        with db.engine.connect() as connection:
            return self._count(connection, key)

    def get_expiry(self, key: str) -> float:
        # The fixed window's length is not stored; limits asks this only for reset times.
        with db.engine.connect() as connection:
            start = self._first(connection, key)
        return start if start is not None else time.time()

    # -- housekeeping ------------------------------------------------------------------------

    def check(self) -> bool:
        try:
            with db.engine.connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with db.engine.begin() as connection:
            return connection.execute(delete(_T)).rowcount

    def clear(self, key: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(_T).where(_T.c.key == key))

    @staticmethod
    def _count(connection: Connection, key: str) -> int:
        return connection.scalar(select(func.count()).where(_T.c.key == key)) or 0

    @staticmethod
    def _first(connection: Connection, key: str) -> float | None:
        return connection.scalar(select(func.min(_T.c.at)).where(_T.c.key == key))

    @contextmanager
    def _locked(self, key: str) -> Iterator[Connection]:
        """A transaction holding the lock on ``key`` until it ends."""
        engine = db.engine
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection = connection.execution_options(sqlite_begin="IMMEDIATE")
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    connection.execute(
                        select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0)))
                    )
                yield connection
                if random.random() < _SWEEP_PROBABILITY:  # noqa: S311 - chance, not secrecy
                    connection.execute(
                        delete(_T).where(_T.c.at < time.time() - _STALE_AFTER_SECONDS)
                    )
