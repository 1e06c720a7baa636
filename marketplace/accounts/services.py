"""Business rules of member accounts. The caller owns the transaction (commits)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import Role, User, new_session_token
from marketplace.accounts.passwords import burn_verification_time, hash_password, verify_password
from marketplace.core.errors import DomainError
from marketplace.core.mail import send_mail
from marketplace.core.models import utcnow
from marketplace.core.text import clean_line, has_visible_text
from marketplace.extensions import db

MAX_PASSWORD_LENGTH = 256
_RESET_SALT = "marketplace.password-reset"


class AccountError(DomainError):
    """A rule about accounts refused the operation."""


class InvalidEmail(AccountError):
    pass


class EmailTaken(AccountError):
    pass


class InvalidPhone(AccountError):
    pass


class WeakPassword(AccountError):
    pass


class InvalidCredentials(AccountError):
    """Wrong email or password; deliberately does not say which."""


class AccountBanned(AccountError):
    pass


class WrongPassword(AccountError):
    pass


class InvalidResetToken(AccountError):
    pass


def normalise_email(raw: str) -> str:
    """Return the canonical form of an email address, or raise ``InvalidEmail``."""
    try:
        # Deliverability needs DNS; sign-up must work offline and not leak look-ups.
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidEmail(_("This email address is not valid.")) from error
    return result.normalized.lower()


def normalise_phone(raw: str) -> str:
    """Return a Vietnamese phone number in E.164 (``+84…``), or raise ``InvalidPhone``.

    Accepts the ways people write them: ``0912 345 678``, ``+84 912345678``, ``0290.3831.234``.
    """
    message = _("Enter a Vietnamese phone number, e.g. 0912 345 678.")
    try:
        number = phonenumbers.parse(raw.strip(), "VN")
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone(message) from error
    if number.country_code != 84 or not phonenumbers.is_valid_number(number):
        raise InvalidPhone(message)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """Return a stored phone number as Vietnamese write it: ``0912 345 678``."""
    try:
        number = phonenumbers.parse(e164, "VN")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def check_password_strength(password: str, *, email: str = "") -> None:
    """Raise ``WeakPassword`` unless ``password`` is long enough and not trivially guessable."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise WeakPassword(_("Use at least %(n)d characters.", n=minimum))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(_("Use at most %(n)d characters.", n=MAX_PASSWORD_LENGTH))
    if len(set(password)) < 4:
        raise WeakPassword(_("This password is too easy to guess."))
    if email and password.lower() in {email.lower(), email.split("@")[0].lower()}:
        raise WeakPassword(_("Do not use your email address as your password."))


def _clean_name(full_name: str) -> str:
    name = clean_line(full_name)
    if not has_visible_text(name):
        raise AccountError(_("Enter your full name."))
    if len(name) > 120:
        raise AccountError(_("The name is too long (at most 120 characters)."))
    return name


def find_by_email(email: str) -> User | None:
    try:
        canonical = normalise_email(email)
    except InvalidEmail:
        return None
    return db.session.scalar(select(User).where(User.email == canonical))


def register_member(*, email: str, password: str, full_name: str, phone: str) -> User:
    """Create a shopper account; raise an ``AccountError`` naming what is wrong."""
    canonical = normalise_email(email)
    check_password_strength(password, email=canonical)
    user = User(
        email=canonical,
        password_hash=hash_password(password),
        full_name=_clean_name(full_name),
        phone=normalise_phone(phone),
        role=Role.SHOPPER,
    )
    if db.session.scalar(select(User.id).where(User.email == canonical)) is not None:
        raise EmailTaken(_("An account with this email already exists."))
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError as error:
        # Two sign-ups with the same address at the same moment: the unique index decides.
        raise EmailTaken(_("An account with this email already exists.")) from error
    return user


def authenticate(email: str, password: str) -> User:
    """Return the member with these credentials, upgrading an old password hash.

    Raises ``InvalidCredentials`` without saying whether the email exists, and
    ``AccountBanned`` only to someone who knows the password.
    """
    user = find_by_email(email)
    if user is None:
        burn_verification_time(password)
        raise InvalidCredentials(_("Wrong email or password."))
    check = verify_password(user.password_hash, password)
    if not check.ok:
        raise InvalidCredentials(_("Wrong email or password."))
    if user.is_banned:
        raise AccountBanned(_("This account has been locked. Contact the site administrators."))
    if check.needs_rehash:
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    """Replace the password after checking the current one; other sessions end."""
    if not verify_password(user.password_hash, current_password).ok:
        raise WrongPassword(_("The current password is not correct."))
    check_password_strength(new_password, email=user.email)
    _set_password(user, new_password)


def _set_password(user: User, new_password: str) -> None:
    user.password_hash = hash_password(new_password)
    end_sessions(user)


def update_profile(user: User, *, full_name: str, phone: str) -> None:
    """Change the member's name and phone number; nothing changes if either is invalid."""
    name, number = _clean_name(full_name), normalise_phone(phone)
    user.full_name, user.phone = name, number


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_RESET_SALT)


def _reset_fingerprint(user: User) -> str:
    # Changes whenever the password does, so a used (or superseded) token stops working.
    material = f"{user.password_hash}|{user.session_token}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


def make_reset_token(user: User) -> str:
    return _reset_serializer().dumps({"u": user.id, "f": _reset_fingerprint(user)})


def user_for_reset_token(token: str) -> User:
    """Return the member a valid, unexpired, unused reset token belongs to."""
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    try:
        payload = _reset_serializer().loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise InvalidResetToken(_("This reset link has expired. Ask for a new one.")) from error
    except BadSignature as error:
        raise InvalidResetToken(_("This reset link is not valid. Ask for a new one.")) from error
    if not isinstance(payload, dict):
        raise InvalidResetToken(_("This reset link is not valid. Ask for a new one."))
    user = db.session.get(User, payload.get("u")) if isinstance(payload.get("u"), int) else None
    if user is None or not hmac.compare_digest(str(payload.get("f", "")), _reset_fingerprint(user)):
        raise InvalidResetToken(_("This reset link has already been used. Ask for a new one."))
    if user.is_banned:
        raise AccountBanned(_("This account has been locked. Contact the site administrators."))
    return user


def request_password_reset(email: str, link_for: Callable[[str], str]) -> None:
    """Mail a reset link when ``email`` belongs to an active member; stay silent otherwise.

    ``link_for(token)`` must build the link from the configured SITE_URL, never from the
    request's Host header, or a forged Host would mail the token to another site.
    """
    user = find_by_email(email)
    if user is None or user.is_banned:
        return
    link = link_for(make_reset_token(user))
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    body = _(
        "Hello %(name)s,\n\nSomeone (hopefully you) asked to reset the password of your "
        "account at %(site)s. Open this link within %(minutes)d minutes to choose a new "
        "password:\n\n%(link)s\n\nIf it was not you, ignore this mail: your password stays "
        "the same.\n",
        name=user.full_name,
        site=current_app.config["SITE_NAME"],
        minutes=minutes,
        link=link,
    )
    send_mail(user.email, _("Reset your password"), body)


def reset_password(user: User, new_password: str) -> None:
    """Set a new password for the owner of a checked reset token (``user_for_reset_token``).

    The new hash changes the token's fingerprint, so the link cannot be used again.
    """
    check_password_strength(new_password, email=user.email)
    _set_password(user, new_password)


def create_admin(
    *, email: str, password: str | None, full_name: str, phone: str, role: Role = Role.ADMIN
) -> User:
    """Make ``email`` an admin (or a moderator), creating the account when it does not exist
    yet."""
    user = find_by_email(email)
    if user is None:
        if password is None:
            raise WeakPassword(_("A password is needed to create a new account."))
        user = register_member(email=email, password=password, full_name=full_name, phone=phone)
    user.role = role
    return user


def grant_seller(user: User) -> None:
    """Make a shopper a seller (opening a shop does); admins keep their role."""
    if user.role == Role.SHOPPER:
        user.role = Role.SELLER


# -- known devices: where a member has logged in before ------------------------------------

_DEVICE_SALT = "known-device"
DEVICE_COOKIE = "known_device"
DEVICE_MAX_AGE = 365 * 24 * 3600
_DEVICE_EMAILS = 5


def _email_mark(email: str) -> str:
    # A keyed digest, not the address: the cookie says nothing of who uses the device.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


def known_device_token(email: str, previous: str | None) -> str:
    """The device cookie's value after ``email`` logged in on it (a few members may share it).

    OWASP's "device cookies": a per-address lock-out, reached by someone guessing
    passwords from a school's or an office's address, must not lock out the members who
    have logged in from that device before.
    """
    marks = [_email_mark(email), *known_device_marks(previous)]
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_DEVICE_SALT)
    return serializer.dumps(list(dict.fromkeys(marks))[:_DEVICE_EMAILS])


def known_device_marks(token: str | None) -> list[str]:
    if not token:
        return []
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_DEVICE_SALT)
    try:
        marks = serializer.loads(token, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return []
    return [mark for mark in marks if isinstance(mark, str)] if isinstance(marks, list) else []


def is_known_device(token: str | None, email: str) -> bool:
    """True when ``email``'s member has logged in on the device that sent ``token``."""
    return bool(email) and _email_mark(email) in known_device_marks(token)


def end_sessions(user: User) -> None:
    """Log the member out on every device: sessions and remember-me cookies stop working.

    Log-out does this, so a copied session cookie is worth nothing once its owner has
    logged out (the session lives in a signed cookie the server cannot take back).
    """
    user.session_token = new_session_token()


def ban_member(user: User, *, reason: str) -> None:
    """Lock the account and end all its sessions."""
    if not reason.strip():
        raise AccountError(_("Give a reason for the ban."))
    user.banned_at = utcnow()
    user.ban_reason = reason.strip()[:500]
    end_sessions(user)


def unban_member(user: User) -> None:
    user.banned_at = None
    user.ban_reason = None


def load_user(session_id: str) -> User | None:
    """Return the member a Flask-Login id (``"<id>:<token>"``) names, if still valid."""
    user_id, _sep, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.is_banned or not hmac.compare_digest(user.session_token, token):
        return None
    return user
