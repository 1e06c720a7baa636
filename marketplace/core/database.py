"""Database binding, with SQLite set up for a web server's concurrent use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from marketplace.extensions import db

# Writers queue on SQLite's one write lock. A picture upload holds it while its pictures
# decode (up to about 3 s, bench/uploads.py), so a writer behind two of them would fail
# with a 5 s wait; 20 s stays under gunicorn's 30 s worker timeout.
SQLITE_BUSY_TIMEOUT_MS = 20_000


def init_database(app: Flask) -> None:
    # Import every model so metadata (and Alembic autogenerate) sees the whole schema.
    import marketplace.models  # noqa: F401

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, **options.get("connect_args", {})}
        # A file never drops the connection: pinging it before each use is a wasted query.
        options["pool_pre_ping"] = False
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": connect_args}
    db.init_app(app)
    if uri.startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", configure_sqlite)
            event.listen(db.engine, "begin", begin_sqlite)


def configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    # pysqlite starts transactions late and on its own, which breaks SAVEPOINT; let
    # SQLAlchemy say BEGIN itself (the documented recipe), so nested transactions work.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def begin_sqlite(connection: Any) -> None:
    # "IMMEDIATE" takes the write lock at once (waiting up to the busy timeout): a deferred
    # transaction that reads and then writes fails at once if another writer committed
    # in between, which concurrent edits would turn into errors (FACTS.md).
    mode = connection.get_execution_options().get("sqlite_begin", "")
    connection.exec_driver_sql(f"BEGIN {mode}".rstrip())


def dialect_insert(session: Session) -> Callable[..., Any]:
    """The INSERT of the session's dialect, which offers ON CONFLICT (an upsert)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert
    return sqlite_insert


M = TypeVar("M")


def lock_row(session: Session, obj: M) -> M:
    """Re-read ``obj`` under its row lock (PostgreSQL; SQLite's writers are serialised).

    Check a state after this, not before: the row may have changed while we waited.
    """
    locked = session.get(type(obj), obj.id, with_for_update=True, populate_existing=True)  # type: ignore[attr-defined]
    assert locked is not None
    return locked


def begin_write_transaction() -> None:
    """Start the session's transaction as a writer (SQLite: BEGIN IMMEDIATE).

    Call before the first query of work that will write; elsewhere a no-op.
    """
    session = db.session()
    if session.get_bind().dialect.name == "sqlite" and not session.in_transaction():
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def register_write_transactions(app: Flask) -> None:
    """Requests that change things start as writers, so concurrent edits wait their turn.

    Registered last among the before-request hooks: hooks that write on sessions of their
    own (the search index check) must run before this request holds the write lock.
    """

    @app.before_request
    def writers_begin_immediately() -> None:
        if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
            begin_write_transaction()
