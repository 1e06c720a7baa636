"""Account pages: thin request/response code around ``accounts.services``."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from marketplace.accounts import services
from marketplace.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from marketplace.core.security import external_url, safe_next
from marketplace.extensions import db, limiter

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _after_login_target() -> str:
    return safe_next(request.args.get("next"), url_for("catalog.home"))


def _attempt_failed(response: Response) -> bool:
    return bool(g.get("attempt_failed"))


def _submitted_email() -> str:
    return (request.form.get("email") or "").strip().lower()[:254]


def _email_and_address() -> str:
    return f"login:{_submitted_email()}:{get_remote_address()}"


def _email_only() -> str:
    return f"login:{_submitted_email()}"


def _member_key() -> str:
    return f"member:{current_user.get_id()}"


def _config_limit(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def _too_many_logins() -> str:
    return _("Too many failed log-in attempts.")


def _too_many_attempts() -> str:
    return _("Too many attempts.")


def _known_device() -> bool:
    return services.is_known_device(request.cookies.get(services.DEVICE_COOKIE), _submitted_email())


# Only failed attempts count (deduct_when), so members who type the right password are
# never slowed down; see LOGIN_RATE_LIMIT* in config.py for the three keys. The address's
# limit spares members logging in from a device they have used before (services'
# known_device_token), so a stranger guessing from a shared address locks out nobody.
login_limits = [
    limiter.limit(
        _config_limit(setting),
        key_func=key,
        methods=["POST"],
        deduct_when=_attempt_failed,
        exempt_when=exempt,
        error_message=_too_many_logins,
    )
    for setting, key, exempt in (
        ("LOGIN_RATE_LIMIT", _email_and_address, None),
        ("LOGIN_RATE_LIMIT_PER_ACCOUNT", _email_only, None),
        ("LOGIN_RATE_LIMIT_PER_IP", get_remote_address, _known_device),
    )
]


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(
    _config_limit("REGISTER_RATE_LIMIT"), methods=["POST"], error_message=_too_many_attempts
)
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("catalog.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_member(
                email=form.email.data,
                password=form.password.data,
                full_name=form.full_name.data,
                phone=form.phone.data,
            )
        except services.EmailTaken as error:
            form.email.errors.append(str(error))
        except services.AccountError as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            login_user(user)
            flash(_("Welcome, %(name)s! Your account is ready.", name=user.full_name), "success")
            return redirect(_after_login_target())
    return render_template("accounts/register.html", form=form), 200 if not form.errors else 400


@bp.route("/login", methods=["GET", "POST"])
@login_limits[0]
@login_limits[1]
@login_limits[2]
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_after_login_target())
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.AccountError as error:
            g.attempt_failed = True
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            response = redirect(_after_login_target())
            response.set_cookie(
                services.DEVICE_COOKIE,
                services.known_device_token(
                    user.email, request.cookies.get(services.DEVICE_COOKIE)
                ),
                max_age=services.DEVICE_MAX_AGE,
                secure=current_app.config["SESSION_COOKIE_SECURE"],
                httponly=True,
                samesite="Lax",
                path=url_for("accounts.login"),
            )
            return response
    status = 400 if form.errors or form.form_errors else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if current_user.is_authenticated:
        services.end_sessions(current_user)
        db.session.commit()
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("catalog.home"))


@bp.route("", methods=["GET", "POST"])
@login_required
def profile() -> ResponseReturnValue:
    form = ProfileForm(obj=current_user)
    if request.method == "GET":
        form.phone.data = services.format_phone(current_user.phone)
    if form.validate_on_submit():
        try:
            services.update_profile(
                current_user, full_name=form.full_name.data, phone=form.phone.data
            )
        except services.AccountError as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Your profile has been saved."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=form), 400 if form.errors else 200


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit(
    _config_limit("PASSWORD_CHANGE_RATE_LIMIT"),
    key_func=_member_key,
    methods=["POST"],
    deduct_when=_attempt_failed,
    error_message=_too_many_attempts,
)
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user,
                current_password=form.current_password.data,
                new_password=form.password.data,
            )
        except services.WrongPassword as error:
            g.attempt_failed = True
            form.current_password.errors.append(str(error))
        except services.AccountError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            # The session token changed: log this device in again (keeping its remember-me
            # choice); every other device is logged out.
            remembered = current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies
            login_user(current_user._get_current_object(), remember=remembered)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("accounts.profile"))
    status = 400 if form.errors else 200
    return render_template("accounts/change_password.html", form=form), status


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(
    _config_limit("RESET_RATE_LIMIT"),
    methods=["POST"],
    error_message=lambda: _("Too many reset requests."),
)
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(
            form.email.data,
            link_for=lambda token: external_url("accounts.reset_password", token=token),
        )
        # The same answer whether or not the address is registered.
        flash(
            _("If this email belongs to an account, a reset link is on its way."),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form), 400 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    try:
        user = services.user_for_reset_token(token)
    except services.AccountError as error:
        flash(str(error), "error")
        return redirect(url_for("accounts.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(user, form.password.data)
        except services.AccountError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            logout_user()
            flash(_("Your password has been reset. You can log in now."), "success")
            return redirect(url_for("accounts.login"))
    status = 400 if form.errors else 200
    return render_template("accounts/reset_password.html", form=form, user=user), status


@bp.app_template_filter("phone")
def phone_filter(e164: str) -> str:
    return services.format_phone(e164)
