"""Fixtures: the real app on a real database (a temp SQLite file, or TEST_DATABASE_URL).

On PostgreSQL the run creates its own database, named after the process, and drops it at
the end, so runs can repeat and nothing is left behind.
"""

from __future__ import annotations

import contextvars
import os
import re
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from marketplace import create_app
from marketplace.extensions import db
from marketplace.sync.simulator import Faults, create_simulator

TEST_SECRET_KEY = "test-secret-key-" + "x" * 40
# argon2id at its cheapest: tests check behaviour, not hashing cost.
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}


def _admin_url(url: sa.URL) -> sa.URL:
    return url.set(database="postgres")


def create_postgres_database(base_url: str, suffix: str) -> str:
    """Create an empty database beside ``base_url``'s and return its URL."""
    url = make_url(base_url)
    name = f"{url.database}_{suffix}"
    engine = sa.create_engine(_admin_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(
            sa.text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
        )
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url_string: str) -> None:
    url = make_url(url_string)
    engine = sa.create_engine(_admin_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """This run's own PostgreSQL database, or None when the run is on SQLite."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield None
        return
    url = create_postgres_database(base, f"run_{os.getpid()}_{uuid.uuid4().hex[:6]}")
    yield url
    drop_postgres_database(url)


@pytest.fixture
def database_url(postgres_url: str | None, tmp_path: Path) -> str:
    return postgres_url or f"sqlite:///{tmp_path / 'test.db'}"


def make_test_config(tmp_path: Path, database_url: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SEARCH_INDEX_DIR": str(tmp_path / "search"),
        "MEDIA_DIR": str(tmp_path / "media"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_SERVER": None,
        **FAST_ARGON2,
    }
    config.update(overrides)
    return config


def _empty_all_tables() -> None:
    tables = [table.name for table in db.metadata.sorted_tables]
    if not tables:
        return
    if db.engine.dialect.name != "postgresql":
        return  # each test's SQLite file is its own, and goes with its temporary folder
    # TRUNCATE fires no row triggers, so the append-only audit log empties too.
    names = ", ".join(f'"{name}"' for name in tables)
    db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.session.commit()


def process_config(database_url: str, instance: str, **overrides: Any) -> dict[str, Any]:
    """Settings of an app run in a process of its own by a test (a second worker…)."""
    return {
        "SECRET_KEY": TEST_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": instance,
        "SEARCH_INDEX_DIR": f"{instance}/search",
        "MEDIA_DIR": f"{instance}/media",
        "MAIL_SERVER": None,
        **FAST_ARGON2,
        **overrides,
    }


@pytest.fixture
def app_config(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> dict[str, Any]:
    """Settings for the ``app`` fixture.

    A test changes them before asking for ``app``, or with
    ``@pytest.mark.parametrize("app_config", [{...}], indirect=True)``.
    """
    return make_test_config(tmp_path, database_url, **getattr(request, "param", {}))


@pytest.fixture
def build_app() -> Iterator[Callable[[dict[str, Any]], Flask]]:
    """Build apps with ``create_app`` and close their database connections afterwards."""
    apps: list[Flask] = []

    def build(config: dict[str, Any]) -> Flask:
        app = create_app(config)
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


class IsolatedClient(FlaskClient):
    """A test client whose requests never share the test's app context.

    The fixture keeps an app context open so tests can use ``db.session``; Flask would
    reuse it for requests, sharing ``g`` (Flask-Login's cached user) and the session's
    uncommitted state, which hides real bugs. Each request runs in a fresh context instead,
    as it does in production.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        parent_open = super().open
        response = contextvars.Context().run(parent_open, *args, **kwargs)
        if has_app_context():
            # End the test's own transaction: on SQLite it holds a snapshot from before the
            # request, and the test must see what the request committed.
            db.session.commit()
        return response


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
        try:
            yield app
        finally:
            db.session.rollback()
            _empty_all_tables()
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def submit_form(client: FlaskClient, url: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """GET ``url``, then POST ``data`` to it with the page's CSRF token, as a browser does."""
    page = client.get(url)
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def simulator() -> Iterator[Callable[..., str]]:
    """Start a channel simulator (``marketplace.sync.simulator``) on 127.0.0.1; return its
    base URL."""
    servers = []

    def start(kind: str, **faults: float) -> str:
        port = free_port()
        server = make_server("127.0.0.1", port, create_simulator(kind, Faults(**faults)),
                             threaded=True)  # fmt: skip
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.shutdown()
