from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from marketplace.accounts import services
from marketplace.accounts.models import Role, User
from marketplace.extensions import db
from tests.factories import DEFAULT_PASSWORD, make_user


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_register_member_stores_canonical_email_e164_phone_and_argon2_hash(app):
    user = services.register_member(
        email="  Hien.Nguyen@Example.COM ",
        password=DEFAULT_PASSWORD,
        full_name="  Nguyễn   Thị Hiền ",
        phone="0912 345 678",
    )
    db.session.commit()

    assert user.email == "hien.nguyen@example.com"
    assert user.full_name == "Nguyễn Thị Hiền"
    assert user.phone == "+84912345678"
    assert user.role == Role.SHOPPER
    assert user.password_hash.startswith("$argon2id$")
    assert DEFAULT_PASSWORD not in user.password_hash


def test_register_member_refuses_an_email_already_used_in_any_case(app):
    make_user(email="an@example.com")

    with pytest.raises(services.EmailTaken):
        services.register_member(
            email="AN@example.com", password=DEFAULT_PASSWORD, full_name="An", phone="0912345678"
        )

    db.session.rollback()
    assert count_users() == 1


@pytest.mark.parametrize(
    "phone", ["0912 345 678", "+84 912 345 678", "84912345678", "0290.3831.234", "0888-123-456"]
)
def test_vietnamese_phone_numbers_in_the_ways_people_write_them_are_accepted(app, phone):
    assert services.normalise_phone(phone).startswith("+84")


@pytest.mark.parametrize(
    "phone", ["012345", "0123456789", "+1 202 555 0100", "số điện thoại", "", "0912 345 678 999"]
)
def test_invalid_or_foreign_phone_numbers_are_refused(app, phone):
    with pytest.raises(services.InvalidPhone):
        services.normalise_phone(phone)


def test_phone_is_shown_in_the_national_format(app):
    assert services.format_phone("+84912345678") == "0912 345 678"


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "an@@example.com", "an @example.com"])
def test_malformed_emails_are_refused(app, email):
    with pytest.raises(services.InvalidEmail):
        services.normalise_email(email)


@pytest.mark.parametrize("password", ["short", "aaaaaaaaaaaaaaa", "x" * 257])
def test_weak_passwords_are_refused(app, password):
    with pytest.raises(services.WeakPassword):
        services.check_password_strength(password)


def test_password_equal_to_the_email_is_refused(app):
    with pytest.raises(services.WeakPassword):
        services.check_password_strength("hien.nguyen@example.com", email="hien.nguyen@example.com")


def test_authenticate_does_not_reveal_whether_an_email_is_registered(app):
    make_user(email="an@example.com")

    with pytest.raises(services.InvalidCredentials) as unknown:
        services.authenticate("nobody@example.com", DEFAULT_PASSWORD)
    with pytest.raises(services.InvalidCredentials) as wrong:
        services.authenticate("an@example.com", "wrong-password-123")

    assert str(unknown.value) == str(wrong.value)


def test_authenticate_records_the_login_time(app):
    user = make_user(email="an@example.com")

    found = services.authenticate("AN@example.com", DEFAULT_PASSWORD)

    assert found.id == user.id
    assert found.last_login_at is not None


def test_a_werkzeug_hash_from_before_argon2_is_upgraded_at_login(app):
    user = make_user(email="old@example.com")
    user.password_hash = generate_password_hash(DEFAULT_PASSWORD, method="pbkdf2:sha256")
    db.session.commit()

    services.authenticate("old@example.com", DEFAULT_PASSWORD)
    db.session.commit()

    assert user.password_hash.startswith("$argon2id$")
    assert services.authenticate("old@example.com", DEFAULT_PASSWORD).id == user.id


def test_an_argon2_hash_with_old_parameters_is_rehashed_at_login(app):
    user = make_user(email="an@example.com")
    app.config["ARGON2_TIME_COST"] = 2
    from marketplace.accounts.passwords import init_passwords

    init_passwords(app)
    before = user.password_hash

    services.authenticate("an@example.com", DEFAULT_PASSWORD)

    assert user.password_hash != before
    assert "t=2" in user.password_hash


def test_a_banned_member_cannot_log_in(app):
    user = make_user(email="an@example.com")
    services.ban_member(user, reason="Bán hàng giả")
    db.session.commit()

    with pytest.raises(services.AccountBanned):
        services.authenticate("an@example.com", DEFAULT_PASSWORD)


def test_banning_ends_every_session_and_the_loader_refuses_it(app):
    user = make_user(email="an@example.com")
    session_id = user.get_id()
    assert services.load_user(session_id) is user

    services.ban_member(user, reason="Bán hàng giả")
    db.session.commit()

    assert services.load_user(session_id) is None
    assert services.load_user(user.get_id()) is None  # banned, even with the new token


def test_a_full_name_that_shows_nothing_is_refused(app):
    with pytest.raises(services.AccountError):
        services.register_member(
            email="an@example.com", password=DEFAULT_PASSWORD, full_name="\ufeff\u200b",
            phone="0912 345 678",
        )  # fmt: skip


def test_ban_needs_a_reason(app):
    user = make_user()

    with pytest.raises(services.AccountError):
        services.ban_member(user, reason="  ")


def test_unban_lets_the_member_log_in_again(app):
    user = make_user(email="an@example.com")
    services.ban_member(user, reason="Nhầm lẫn")
    services.unban_member(user)
    db.session.commit()

    assert services.authenticate("an@example.com", DEFAULT_PASSWORD).id == user.id


def test_change_password_checks_the_current_one_and_logs_out_other_sessions(app):
    user = make_user(email="an@example.com")
    old_session = user.get_id()

    with pytest.raises(services.WrongPassword):
        services.change_password(user, current_password="nope-nope-nope", new_password="x" * 12)
    services.change_password(
        user, current_password=DEFAULT_PASSWORD, new_password="mat-khau-moi-2027"
    )
    db.session.commit()

    assert services.load_user(old_session) is None
    assert services.authenticate("an@example.com", "mat-khau-moi-2027").id == user.id


@pytest.mark.parametrize("session_id", ["", "abc", "1", "1:", ":token", "999:token", "x:y"])
def test_load_user_refuses_malformed_or_unknown_ids(app, session_id):
    make_user()

    assert services.load_user(session_id) is None


def test_reset_token_sets_a_new_password_and_then_stops_working(app):
    user = make_user(email="an@example.com")
    token = services.make_reset_token(user)

    services.reset_password(services.user_for_reset_token(token), "mat-khau-moi-2027")
    db.session.commit()

    assert services.authenticate("an@example.com", "mat-khau-moi-2027").id == user.id
    with pytest.raises(services.InvalidResetToken, match="đã được dùng"):
        services.user_for_reset_token(token)


def test_reset_token_expires(app):
    user = make_user(email="an@example.com")
    app.config["PASSWORD_RESET_MAX_AGE"] = -1  # every token is already too old
    token = services.make_reset_token(user)

    with pytest.raises(services.InvalidResetToken, match="hết hạn"):
        services.user_for_reset_token(token)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_tampered_reset_tokens_are_refused(app, token):
    make_user()

    with pytest.raises(services.InvalidResetToken):
        services.user_for_reset_token(token)


def test_reset_token_signed_with_another_key_is_refused(app):
    user = make_user()
    forged = URLSafeTimedSerializer("another-key", salt="marketplace.password-reset").dumps(
        {"u": user.id, "f": "0" * 32}
    )

    with pytest.raises(services.InvalidResetToken):
        services.user_for_reset_token(forged)


def test_create_admin_promotes_an_existing_member(app):
    user = make_user(email="staff@example.com")

    services.create_admin(email="staff@example.com", password=None, full_name="x", phone="x")

    assert user.role == Role.ADMIN


def test_grant_seller_turns_a_shopper_into_a_seller_but_keeps_admins(app):
    shopper = make_user()
    admin = make_user(role=Role.ADMIN)

    services.grant_seller(shopper)
    services.grant_seller(admin)

    assert shopper.role == Role.SELLER
    assert admin.role == Role.ADMIN


def test_timestamps_are_aware_utc(app):
    user = make_user()
    db.session.expire_all()

    assert user.created_at.utcoffset() == timedelta(0)


def test_profile_update_with_a_bad_phone_changes_nothing(app):
    user = make_user(full_name="Lê Thị Mai")

    with pytest.raises(services.InvalidPhone):
        services.update_profile(user, full_name="Tên Mới", phone="123")

    assert user.full_name == "Lê Thị Mai"
