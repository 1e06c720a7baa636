import pytest
from flask import Flask

from tests.conftest import make_test_config


def test_unknown_page_shows_a_vietnamese_404(client):
    response = client.get("/khong-co-trang-nay")

    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Không tìm thấy trang" in html
    assert '<html lang="vi">' in html


def test_unexpected_error_shows_a_page_without_traceback(build_app, tmp_path, database_url, caplog):
    app = build_app(make_test_config(tmp_path, database_url, TESTING=False))

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals: password=hunter2")

    response = app.test_client().get("/boom")

    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Hệ thống gặp sự cố" in html
    assert "Traceback" not in html
    assert "hunter2" not in html
    assert "secret internals" in caplog.text  # the log keeps what the page hides


def test_wrong_method_is_a_405_page(client):
    response = client.get("/account/logout")

    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_api_paths_get_json_errors(client):
    response = client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.is_json
    assert response.json["error"]["code"] == "not_found"
    assert response.json["error"]["message"]


def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "search": "ok"}}


def test_healthz_answers_503_when_the_database_does_not(build_app, tmp_path):
    # A port nobody listens on: the connection is refused at once.
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=2"
    app = build_app(make_test_config(tmp_path, unreachable))

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["checks"]["database"].startswith("error")


@pytest.fixture
def english(client):
    client.get("/lang/en")
    return client


def test_ui_is_vietnamese_by_default(client):
    html = client.get("/account/login").get_data(as_text=True)

    assert "Đăng nhập" in html
    assert "Quên mật khẩu?" in html


def test_english_switch_changes_the_language_and_returns_to_the_page(client):
    response = client.get("/lang/en?next=/account/login")

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login"
    html = client.get("/account/login").get_data(as_text=True)
    assert "Forgot your password?" in html
    assert '<html lang="en">' in html


def test_language_switch_never_redirects_off_site(client):
    response = client.get("/lang/en?next=//evil.example")

    assert response.headers["Location"] == "/"


def test_dates_show_in_ho_chi_minh_time(app: Flask):
    from datetime import UTC, datetime

    from marketplace.core.i18n import local_datetime

    with app.test_request_context("/"):
        shown = local_datetime(datetime(2026, 1, 31, 20, 30, tzinfo=UTC), "yyyy-MM-dd HH:mm")

    assert shown == "2026-02-01 03:30"
