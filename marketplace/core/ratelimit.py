"""Rate-limit counters in the app's own database, seen alike by every worker process.

Flask-Limiter's in-memory storage counts per process, so ``make run``'s two gunicorn
workers let twice the documented number of failed log-ins through (FACTS.md). Without
``REDIS_URL`` the limits are therefore counted here, in a table of the database the
workers already share: ``marketplace+db://`` names this storage (``limits`` registers it
by its ``STORAGE_SCHEME``). Counting happens on connections of its own, so an attempt is
counted even when the request that made it rolls back.

On SQLite the table lives in a file of its own beside the database
(``rate_limits.sqlite``): a POST holds the main file's write lock from its start, and a
route's limit is counted inside the view, so counting in the same file would wait for
the very request that counts.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import (
    BigInteger,
    Connection,
    Double,
    Engine,
    Index,
    Integer,
    String,
    create_engine,
    delete,
    event,
    func,
    select,
)
from sqlalchemy import insert as sql_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import NullPool

from marketplace.core.database import SQLITE_BUSY_TIMEOUT_MS, begin_sqlite, configure_sqlite
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


def _engine() -> Engine:
    """The engine counters are kept with: the app's, or on SQLite a file of their own."""
    if db.engine.dialect.name != "sqlite":
        return db.engine
    engine = current_app.extensions.get(_SQLITE_ENGINE_KEY)
    if engine is None:
        path = Path(current_app.instance_path) / "rate_limits.sqlite"
        # No pool: the file is opened per count (cheap), and no connection outlives an app.
        engine = create_engine(
            f"sqlite:///{path}",
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            poolclass=NullPool,
        )
        event.listen(engine, "connect", configure_sqlite)
        event.listen(engine, "begin", begin_sqlite)
        RateLimitEntry.__table__.create(engine, checkfirst=True)
        current_app.extensions[_SQLITE_ENGINE_KEY] = engine
    return engine


_SQLITE_ENGINE_KEY = "marketplace.ratelimit.sqlite_engine"
_MOVING_ONLY = "marketplace+db:// counts in moving windows: RATELIMIT_STRATEGY = moving-window"


class DatabaseStorage(Storage, MovingWindowSupport):
    """A ``limits`` storage over the ``rate_limit_entries`` table, for moving windows.

    Each key's check-and-count runs in one transaction under a per-key lock (an advisory
    lock on PostgreSQL, the write lock of ``BEGIN IMMEDIATE`` on SQLite), so two workers
    never both take the last attempt.
    """

    STORAGE_SCHEME = ["marketplace+db"]  # noqa: RUF012 - read by limits' registry

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
        with _engine().connect() as connection:
            times = connection.scalars(
                select(_T.c.at)
                .where(_T.c.key == key, _T.c.at >= now - expiry)
                .order_by(_T.c.at.desc())
                .limit(limit)
            ).all()
        return (times[-1], len(times)) if times else (now, 0)

    # -- fixed windows: not offered (the app counts in moving windows only) ----------------

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError(_MOVING_ONLY)

    def get(self, key: str) -> int:
        raise NotImplementedError(_MOVING_ONLY)

    def get_expiry(self, key: str) -> float:
        raise NotImplementedError(_MOVING_ONLY)

    # -- housekeeping ------------------------------------------------------------------------

    def check(self) -> bool:
        try:
            with _engine().connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with _engine().begin() as connection:
            return connection.execute(delete(_T)).rowcount

    def clear(self, key: str) -> None:
        with _engine().begin() as connection:
            connection.execute(delete(_T).where(_T.c.key == key))

    @staticmethod
    def _count(connection: Connection, key: str) -> int:
        return connection.scalar(select(func.count()).where(_T.c.key == key)) or 0

    @contextmanager
    def _locked(self, key: str) -> Iterator[Connection]:
        """A transaction holding the lock on ``key`` until it ends."""
        engine = _engine()
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
