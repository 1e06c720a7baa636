import email
import email.policy
import os
import re
import time
import uuid

import pytest
import redis
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from sqlalchemy import func, select

from marketplace.accounts import services
from marketplace.accounts.models import Role, User
from marketplace.extensions import db
from tests.conftest import csrf_token_from, free_port, submit_form
from tests.factories import DEFAULT_PASSWORD, make_user

GOOD_SIGNUP = {
    "full_name": "Trần Văn Út",
    "email": "ut.tran@example.com",
    "phone": "0912 345 678",
    "password": DEFAULT_PASSWORD,
    "confirm": DEFAULT_PASSWORD,
}


def count_users() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(User))


def log_in(client, email, password=DEFAULT_PASSWORD, **extra):
    return submit_form(client, "/account/login", {"email": email, "password": password, **extra})


def test_register_creates_a_shopper_and_logs_them_in(client):
    response = submit_form(client, "/account/register", GOOD_SIGNUP)

    assert response.status_code == 302
    user = db.session.scalar(select(User))
    assert user.email == "ut.tran@example.com"
    assert user.role == Role.SHOPPER
    assert user.phone == "+84912345678"
    assert "Trần Văn Út" in client.get("/account").get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Địa chỉ email không hợp lệ"),
        ("phone", "12345", "Nhập số điện thoại Việt Nam"),
        ("password", "ngan", "ít nhất 10 ký tự"),
        ("confirm", "khac-han-mat-khau", "Hai mật khẩu không khớp"),
        ("full_name", "", "Trường này là bắt buộc."),
        ("full_name", "Út" * 61, "Tối đa 120 ký tự."),
    ],
)
def test_register_with_bad_input_explains_and_writes_nothing(client, field, value, message):
    response = submit_form(client, "/account/register", {**GOOD_SIGNUP, field: value})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count_users() == 0


def test_register_with_a_taken_email_says_so_on_the_email_field(client):
    make_user(email="ut.tran@example.com")

    response = submit_form(
        client, "/account/register", {**GOOD_SIGNUP, "email": "UT.Tran@example.com"}
    )

    assert response.status_code == 400
    assert "Email này đã được dùng" in response.get_data(as_text=True)
    assert count_users() == 1


def test_register_without_csrf_token_is_refused_and_writes_nothing(client):
    response = client.post("/account/register", data=GOOD_SIGNUP)

    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    assert count_users() == 0


def test_oversized_registration_form_is_refused_and_writes_nothing(client, app):
    token = csrf_token_from(client.get("/account/register").get_data(as_text=True))
    huge = "Út " * (app.config["MAX_FORM_MEMORY_SIZE"] // 2)

    response = client.post(
        "/account/register", data={**GOOD_SIGNUP, "csrf_token": token, "full_name": huge}
    )

    assert response.status_code == 413
    assert count_users() == 0


def test_login_with_wrong_password_or_unknown_email_gives_the_same_answer(client):
    make_user(email="an@example.com")

    wrong = log_in(client, "an@example.com", "sai-mat-khau-roi")
    unknown = log_in(client, "ai-do@example.com", "sai-mat-khau-roi")

    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "Email hoặc mật khẩu không đúng." in response.get_data(as_text=True)


def test_session_and_remember_cookies_are_httponly_and_samesite(client):
    make_user(email="an@example.com")

    response = log_in(client, "an@example.com", remember="y")

    cookies = response.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("session="))
    remember = next(c for c in cookies if c.startswith("remember_token="))
    for cookie in (session, remember):
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie


def test_remember_me_keeps_the_member_logged_in_after_the_session_ends(client):
    make_user(email="an@example.com")
    log_in(client, "an@example.com", remember="y")

    client.delete_cookie("session")

    assert client.get("/account").status_code == 200


def test_without_remember_me_no_remember_cookie_is_set(client):
    make_user(email="an@example.com")

    response = log_in(client, "an@example.com")

    assert not any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))


def test_login_follows_a_local_next(client):
    make_user(email="an@example.com")

    response = submit_form(
        client,
        "/account/login?next=/account/password",
        {"email": "an@example.com", "password": DEFAULT_PASSWORD},
    )

    assert response.headers["Location"] == "/account/password"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "https:\\\\evil.example",
        "/%5Cevil.example",
        "https://evil.example",
        "%2F%2Fevil.example",
    ],
)
def test_login_never_redirects_to_another_host(client, target):
    make_user(email="an@example.com")

    page = client.get("/account/login", query_string={"next": target})
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post(
        "/account/login",
        query_string={"next": target},
        data={"csrf_token": token, "email": "an@example.com", "password": DEFAULT_PASSWORD},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_anonymous_visitor_is_sent_to_login_and_back(client):
    response = client.get("/account/password")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")


def test_logout_needs_a_post_with_csrf(client):
    make_user(email="an@example.com")
    log_in(client, "an@example.com")

    assert client.get("/account/logout").status_code == 405
    assert client.post("/account/logout").status_code == 400
    assert client.get("/account").status_code == 200

    home = client.get("/").get_data(as_text=True)
    client.post("/account/logout", data={"csrf_token": csrf_token_from(home)})
    assert client.get("/account").status_code == 302


def test_repeated_failed_logins_are_rate_limited_with_a_clear_message(client, app):
    make_user(email="an@example.com")
    attempts = int(app.config["LOGIN_RATE_LIMIT"].split()[0])

    for _ in range(attempts):
        assert log_in(client, "an@example.com", "sai-mat-khau-roi").status_code == 400
    blocked = log_in(client, "an@example.com", DEFAULT_PASSWORD)

    assert blocked.status_code == 429
    assert "đăng nhập sai quá nhiều lần" in blocked.get_data(as_text=True)
    assert int(blocked.headers["Retry-After"]) > 0
    assert client.get("/account").status_code == 302  # not logged in


def test_successful_logins_do_not_count_towards_the_limit(client, app):
    make_user(email="an@example.com")
    attempts = int(app.config["LOGIN_RATE_LIMIT"].split()[0])

    for _ in range(attempts + 2):
        assert log_in(client, "an@example.com").status_code == 302
        client.post(
            "/account/logout",
            data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))},
        )


def _redis_available(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_app_config(app_config):
    if not _redis_available(REDIS_URL):
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the Redis-backed rate limit test (Redis at 127.0.0.1:6379)")
        pytest.skip("no Redis at 127.0.0.1:6379")
    app_config.update(REDIS_URL=REDIS_URL, RATELIMIT_STORAGE_URI=None)
    yield app_config
    # Database 15 is the tests' own; leave no counters behind for the next run.
    redis.Redis.from_url(REDIS_URL).flushdb()


def test_with_redis_url_the_login_limit_is_kept_in_redis(redis_app_config, app, client):
    email = f"an-{uuid.uuid4().hex[:8]}@example.com"
    make_user(email=email)

    log_in(client, email, "sai-mat-khau-roi")

    assert app.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    assert list(redis.Redis.from_url(REDIS_URL).scan_iter(f"*login:{email}*"))


def test_a_banned_member_is_logged_out_at_the_next_request(client):
    user = make_user(email="an@example.com")
    log_in(client, "an@example.com", remember="y")
    assert client.get("/account").status_code == 200

    services.ban_member(user, reason="Bán hàng cấm")
    db.session.commit()

    assert client.get("/account").status_code == 302


def test_a_banned_member_is_told_the_account_is_locked(client):
    user = make_user(email="an@example.com")
    services.ban_member(user, reason="Bán hàng cấm")
    db.session.commit()

    response = log_in(client, "an@example.com")

    assert response.status_code == 400
    assert "Tài khoản này đã bị khóa" in response.get_data(as_text=True)


def test_profile_edit_saves_name_and_phone(client):
    user = make_user(email="an@example.com")
    log_in(client, "an@example.com")

    response = submit_form(
        client, "/account", {"full_name": "Lê Thị Mai", "phone": "+84 888 123 456"}
    )

    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.full_name, user.phone) == ("Lê Thị Mai", "+84888123456")
    assert "0888 123 456" in client.get("/account").get_data(as_text=True)


def test_profile_edit_with_a_bad_phone_keeps_the_old_one(client):
    user = make_user(email="an@example.com")
    log_in(client, "an@example.com")

    response = submit_form(client, "/account", {"full_name": "Lê Thị Mai", "phone": "123"})

    assert response.status_code == 400
    db.session.refresh(user)
    assert user.phone == "+84912345678"


def test_change_password_keeps_this_device_and_logs_out_the_others(app, client):
    make_user(email="an@example.com")
    other_device = app.test_client()
    log_in(client, "an@example.com")
    log_in(other_device, "an@example.com", remember="y")

    response = submit_form(
        client,
        "/account/password",
        {
            "current_password": DEFAULT_PASSWORD,
            "password": "mat-khau-moi-2027",
            "confirm": "mat-khau-moi-2027",
        },
    )

    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert other_device.get("/account").status_code == 302


def test_change_password_with_a_wrong_current_password_changes_nothing(client):
    user = make_user(email="an@example.com")
    before = user.password_hash
    log_in(client, "an@example.com")

    response = submit_form(
        client,
        "/account/password",
        {
            "current_password": "khong-phai-dau",
            "password": "mat-khau-moi-2027",
            "confirm": "mat-khau-moi-2027",
        },
    )

    assert response.status_code == 400
    assert "Mật khẩu hiện tại không đúng." in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == before


class RecordingHandler(Sink):
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_sink(app_config):
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app_config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=controller.port,
        MAIL_USE_TLS=False,
        MAIL_USE_SSL=False,
        MAIL_SEND_ASYNC=False,
        SITE_URL="https://cho.example.vn",
    )
    yield handler
    controller.stop()


def _mail_body(message: bytes) -> str:
    mail = email.message_from_bytes(message, policy=email.policy.default)
    return mail.get_body(("plain",)).get_content()


def _reset_link(message: bytes) -> str:
    body = _mail_body(message)
    match = re.search(r"https://cho\.example\.vn(/account/reset/\S+)", body)
    assert match, body
    return match.group(1)


def test_forgotten_password_is_reset_through_an_emailed_single_use_link(smtp_sink, client):
    make_user(email="an@example.com")

    response = submit_form(client, "/account/forgot", {"email": "AN@example.com"})

    assert response.status_code == 302
    assert len(smtp_sink.messages) == 1
    assert smtp_sink.messages[0].rcpt_tos == ["an@example.com"]
    link = _reset_link(smtp_sink.messages[0].content)
    reset = submit_form(
        client, link, {"password": "mat-khau-moi-2027", "confirm": "mat-khau-moi-2027"}
    )
    assert reset.status_code == 302
    assert log_in(client, "an@example.com", "mat-khau-moi-2027").status_code == 302
    client.post(
        "/account/logout",
        data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))},
    )
    again = client.get(link)
    assert again.status_code == 302
    assert "đã được dùng" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_reset_request_for_an_unknown_email_looks_the_same_and_sends_nothing(smtp_sink, client):
    response = submit_form(client, "/account/forgot", {"email": "ai-do@example.com"})

    assert response.status_code == 302
    assert "đang được gửi đến" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert smtp_sink.messages == []


def test_without_mail_settings_the_reset_mail_goes_to_the_log(client, caplog):
    make_user(email="an@example.com")

    with caplog.at_level("INFO", logger="marketplace.core.mail"):
        submit_form(client, "/account/forgot", {"email": "an@example.com"})

    assert "/account/reset/" in caplog.text
    assert "an@example.com" in caplog.text


def test_an_unreachable_mail_server_does_not_break_the_reset_page(client, caplog):
    make_user(email="an@example.com")
    client.application.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=9, MAIL_USE_TLS=False, MAIL_SEND_ASYNC=False
    )

    response = submit_form(client, "/account/forgot", {"email": "an@example.com"})

    assert response.status_code == 302
    assert "could not send mail" in caplog.text


def test_create_admin_command_creates_an_admin_account(app):
    runner = app.test_cli_runner()

    result = runner.invoke(
        args=["create-admin", "boss@example.com", "--password", "mat-khau-quan-tri-1"]
    )

    assert result.exit_code == 0, result.output
    user = services.find_by_email("boss@example.com")
    assert user.role == Role.ADMIN


def test_create_admin_command_reports_a_weak_password_and_writes_nothing(app):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "boss@example.com", "--password", "123"]
    )

    assert result.exit_code != 0
    assert "Mật khẩu cần ít nhất 10 ký tự." in result.output
    assert count_users() == 0


def test_login_page_says_why_the_visitor_was_sent_there(client):
    response = client.get("/account/password", follow_redirects=True)

    assert "Vui lòng đăng nhập để xem trang này." in response.get_data(as_text=True)


def test_reset_links_use_the_site_url_whatever_host_the_request_names(smtp_sink, client):
    client.application.config["TRUSTED_HOSTS"] = None  # as with TRUSTED_HOSTS=*
    make_user(email="an@example.com")
    page = client.get("/account/forgot", headers={"Host": "evil.example"})
    token = csrf_token_from(page.get_data(as_text=True))

    client.post(
        "/account/forgot",
        data={"csrf_token": token, "email": "an@example.com"},
        headers={"Host": "evil.example"},
    )

    body = _mail_body(smtp_sink.messages[0].content)
    assert "evil.example" not in body
    assert "https://cho.example.vn/account/reset/" in body


def test_reset_mail_is_sent_in_the_background_when_async(smtp_sink, client):
    client.application.config["MAIL_SEND_ASYNC"] = True
    make_user(email="an@example.com")

    submit_form(client, "/account/forgot", {"email": "an@example.com"})

    deadline = time.monotonic() + 10
    while not smtp_sink.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m.rcpt_tos for m in smtp_sink.messages] == [["an@example.com"]]


def test_strangers_cannot_lock_a_member_out_from_another_address(client, app):
    make_user(email="an@example.com")
    attacker = {"REMOTE_ADDR": "198.51.100.9"}
    attempts = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(attempts):
        submit_form(
            client,
            "/account/login",
            {"email": "an@example.com", "password": "sai-mat-khau-roi"},
            environ_base=attacker,
        )
    blocked = submit_form(
        client,
        "/account/login",
        {"email": "an@example.com", "password": "sai-mat-khau-roi"},
        environ_base=attacker,
    )

    owner = app.test_client()
    response = log_in(owner, "an@example.com")

    assert blocked.status_code == 429
    assert response.status_code == 302


@pytest.mark.parametrize(
    "app_config", [{"LOGIN_RATE_LIMIT_PER_IP": "3 per 15 minutes"}], indirect=True
)
def test_one_address_trying_many_accounts_is_rate_limited(client):
    for number in range(3):
        log_in(client, f"member{number}@example.com", "sai-mat-khau-roi")

    response = log_in(client, "member9@example.com", "sai-mat-khau-roi")

    assert response.status_code == 429


@pytest.mark.parametrize("app_config", [{"REGISTER_RATE_LIMIT": "2 per hour"}], indirect=True)
def test_registrations_are_rate_limited_per_address(client):
    for number in range(2):
        submit_form(client, "/account/register", {**GOOD_SIGNUP, "email": f"m{number}@example.com"})
        client.post(
            "/account/logout",
            data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))},
        )

    response = submit_form(client, "/account/register", {**GOOD_SIGNUP, "email": "m9@example.com"})

    assert response.status_code == 429
    assert count_users() == 2


@pytest.mark.parametrize(
    "app_config", [{"PASSWORD_CHANGE_RATE_LIMIT": "2 per 15 minutes"}], indirect=True
)
def test_guessing_the_current_password_is_rate_limited(client):
    make_user(email="an@example.com")
    log_in(client, "an@example.com")
    wrong = {
        "current_password": "doan-mo-1234",
        "password": "mat-khau-moi-2027",
        "confirm": "mat-khau-moi-2027",
    }
    for _ in range(2):
        assert submit_form(client, "/account/password", wrong).status_code == 400

    response = submit_form(
        client, "/account/password", {**wrong, "current_password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 429


@pytest.mark.parametrize(
    "app_config",
    [{"REDIS_URL": "redis://127.0.0.1:9/0", "RATELIMIT_STORAGE_URI": None}],
    indirect=True,
)
def test_with_redis_down_logging_in_still_works(client):
    make_user(email="an@example.com")

    wrong = log_in(client, "an@example.com", "sai-mat-khau-roi")
    right = log_in(client, "an@example.com")

    assert wrong.status_code == 400
    assert right.status_code == 302


def test_changing_the_password_keeps_remember_me_on_this_device(client):
    make_user(email="an@example.com")
    log_in(client, "an@example.com", remember="y")

    submit_form(
        client,
        "/account/password",
        {
            "current_password": DEFAULT_PASSWORD,
            "password": "mat-khau-moi-2027",
            "confirm": "mat-khau-moi-2027",
        },
    )
    client.delete_cookie("session")

    assert client.get("/account").status_code == 200


def test_wtforms_own_messages_are_in_vietnamese(client):
    response = submit_form(client, "/account/login", {"email": "", "password": ""})

    assert "Trường này là bắt buộc." in response.get_data(as_text=True)
    assert "This field is required." not in response.get_data(as_text=True)


def test_seed_demo_refuses_to_run_in_production(app):
    app.config["PRODUCTION"] = True

    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code != 0
    assert "production" in result.output
    assert count_users() == 0


def _copy_cookies(source, target):
    for name in ("session", "remember_token"):
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def test_a_session_cookie_copied_before_log_out_is_worthless_after_it(app, client):
    user = make_user(email="an@example.com")
    assert log_in(client, "an@example.com", remember="y").status_code == 302
    thief = app.test_client()
    _copy_cookies(client, thief)
    assert thief.get("/account").status_code == 200  # the copy works while logged in

    home = client.get("/").get_data(as_text=True)
    client.post("/account/logout", data={"csrf_token": csrf_token_from(home)})

    assert thief.get("/account").status_code == 302
    assert client.get("/account").status_code == 302
    db.session.refresh(user)
    assert services.load_user(f"{user.id}:{user.session_token}") is user  # can log in again
    assert log_in(client, "an@example.com").status_code == 302


def test_the_csrf_secret_is_renewed_at_log_in_and_log_out(client):
    make_user(email="an@example.com")
    client.get("/account/login")
    with client.session_transaction() as session:
        anonymous = session["csrf_token"]

    log_in(client, "an@example.com")
    client.get("/")
    with client.session_transaction() as session:
        member = session["csrf_token"]
    home = client.get("/").get_data(as_text=True)
    client.post("/account/logout", data={"csrf_token": csrf_token_from(home)})
    client.get("/account/login")
    with client.session_transaction() as session:
        after = session["csrf_token"]

    assert len({anonymous, member, after}) == 3


def test_a_reset_request_without_a_mail_server_writes_the_mail_to_stderr(app, client, capsys):
    make_user(email="an@example.com", full_name="Lê Thị Hoa")
    app.config.update(MAIL_SERVER=None, SITE_URL="https://cho.example.vn")

    submit_form(client, "/account/forgot", {"email": "an@example.com"})

    logged = capsys.readouterr().err
    assert "an@example.com" in logged
    assert "Lê Thị Hoa" in logged
    assert re.search(r"https://cho\.example\.vn/account/reset/\S+", logged)
