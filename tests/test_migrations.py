"""Migrating an empty database to head gives exactly the models' schema."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from marketplace import create_app
from marketplace.extensions import db
from tests.conftest import create_postgres_database, drop_postgres_database, make_test_config


@pytest.fixture
def empty_database_url(tmp_path):
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = create_postgres_database(base, f"migrations_{os.getpid()}")
    yield url
    drop_postgres_database(url)


def _schema_differences(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_to_head_matches_the_models(tmp_path, empty_database_url):
    app = create_app(make_test_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade()
        differences = _schema_differences(app)
        db.engine.dispose()

    assert differences == []


def test_downgrade_to_base_and_upgrade_again(tmp_path, empty_database_url):
    app = create_app(make_test_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
        differences = _schema_differences(app)
        db.engine.dispose()

    assert differences == []
