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


def test_0004_fills_the_root_category_of_existing_listings(tmp_path, empty_database_url):
    import sqlalchemy as sa

    app = create_app(make_test_config(tmp_path, empty_database_url))
    with app.app_context():
        upgrade(revision="0003")
        now = {"now": "2026-01-01 00:00:00+00:00"}
        statements = [
            "INSERT INTO users (id, email, password_hash, full_name, phone, role, session_token,"
            " created_at, updated_at) VALUES (1, 'a@example.com', 'x', 'A', '+84912345678',"
            " 'seller', 't', :now, :now)",
            "INSERT INTO categories (id, parent_id, slug, name_vi, name_en, position)"
            " VALUES (1, NULL, 'kho', 'Khô', 'Dried', 0), (2, 1, 'kho-ca', 'Khô cá', 'Fish', 0)",
            "INSERT INTO shops (id, owner_id, name, slug, description, phone, street,"
            " province_code, commune_code, business_type, rules_version, rules_accepted_at,"
            " status, trusted, created_at, updated_at) VALUES (1, 1, 'S', 'shop', '', '+849',"
            " 'x', 96, 1, 'household', '2026-01', :now, 'approved', false, :now, :now)",
            "INSERT INTO products (id, shop_id, category_id, name, slug, description_md,"
            " description_html, price_vnd, stock, unit, origin, status, created_at, updated_at)"
            " VALUES (1, 1, 2, 'Khô cá', 'kho-ca', '', '', 1000, 1, 'kg', '', 'draft', :now,"
            " :now), (2, 1, 1, 'Khô', 'kho', '', '', 1000, 1, 'kg', '', 'draft', :now, :now)",
        ]
        with db.engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement), now if ":now" in statement else {})

        upgrade()

        with db.engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT id, root_category_id FROM products ORDER BY id")
            ).all()
        db.engine.dispose()

    assert [tuple(row) for row in rows] == [(1, 1), (2, 1)]
