import os
import stat

import pytest
import sqlalchemy as sa

from marketplace import create_app
from marketplace.config import ConfigError
from marketplace.extensions import db
from tests.conftest import make_test_config


def test_secret_key_is_generated_once_and_kept_in_the_instance_folder(
    build_app, tmp_path, database_url
):
    config = make_test_config(tmp_path, database_url, SECRET_KEY=None)

    first = build_app(config)
    second = build_app(config)

    key_file = tmp_path / "instance" / "secret_key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert key_file.read_text().strip() == first.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 48
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"DEBUG": True}, "debug"),
        ({"SECRET_KEY": "changeme"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short-but-random-Zx81"}, "SECRET_KEY"),
        ({"SECRET_KEY": "a" * 64}, "SECRET_KEY"),
        # Mails, reset links included, would be written to the log.
        ({"MAIL_SERVER": None, "SECRET_KEY": "Vq3-9fG_kL2mZp8sT4wX7yB1nC6dE0hJ5rU"}, "MAIL_SERVER"),
    ],
)
def test_production_refuses_debug_weak_secret_key_or_no_mail(
    tmp_path, database_url, overrides, complaint
):
    settings = {"PRODUCTION": True, "MAIL_SERVER": "smtp.example.vn", **overrides}
    config = make_test_config(tmp_path, database_url, **settings)

    with pytest.raises(ConfigError, match=complaint):
        create_app(config)


def test_production_with_strong_key_starts_with_secure_cookies(
    build_app, tmp_path, database_url, monkeypatch
):
    monkeypatch.setenv("MARKETPLACE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "Vq3-9fG_kL2mZp8sT4wX7yB1nC6dE0hJ5rU")
    config = make_test_config(tmp_path, database_url, MAIL_SERVER="smtp.example.vn")
    del config["SECRET_KEY"]

    app = build_app(config)

    assert app.config["PRODUCTION"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.test_client().get("/healthz").headers["Strict-Transport-Security"]


def test_environment_variables_configure_paths_and_services(build_app, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example:5432/shop")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_123")

    app = build_app({"INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "k" * 10})

    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example:5432/shop"
    assert app.config["SEARCH_INDEX_DIR"] == str(tmp_path / "idx")
    assert app.config["MEDIA_DIR"] == str(tmp_path / "media")
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"
    assert app.config["STRIPE_SECRET_KEY"] == "sk_test_123"


def test_defaults_put_the_sqlite_database_and_data_under_instance(build_app, tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "SEARCH_INDEX_DIR", "MEDIA_DIR", "REDIS_URL", "MAIL_SERVER"):
        monkeypatch.delenv(name, raising=False)
    instance = tmp_path / "instance"

    app = build_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "k" * 40})

    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'marketplace.db'}"
    assert app.config["SEARCH_INDEX_DIR"] == str(instance / "search")
    assert app.config["MEDIA_DIR"] == str(instance / "media")
    # Counters every worker process sees, in the app's own database.
    assert app.config["RATELIMIT_STORAGE_URI"] == "marketplace+db://"
    assert app.config["MAX_CONTENT_LENGTH"] > 0
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_sqlite_runs_with_wal_busy_timeout_and_foreign_keys(build_app, tmp_path):
    app = build_app(make_test_config(tmp_path, f"sqlite:///{tmp_path / 'pragma.db'}"))

    with app.app_context():
        with db.engine.connect() as connection:
            journal = connection.execute(sa.text("PRAGMA journal_mode")).scalar()
            timeout = connection.execute(sa.text("PRAGMA busy_timeout")).scalar()
            foreign_keys = connection.execute(sa.text("PRAGMA foreign_keys")).scalar()
        db.engine.dispose()

    assert journal == "wal"
    assert timeout >= 5000
    assert foreign_keys == 1


def test_behind_a_trusted_proxy_the_visitor_address_comes_from_x_forwarded_for(
    build_app, tmp_path, database_url
):
    app = build_app(make_test_config(tmp_path, database_url, TRUSTED_PROXIES=1))

    @app.get("/whoami")
    def whoami() -> str:
        from flask import request

        return request.remote_addr or ""

    response = app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.7"})

    assert response.get_data(as_text=True) == "203.0.113.7"
