"""Account pages: thin request/response code around ``accounts.services``."""

from __future__ import annotations

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
from marketplace.core.security import safe_next
from marketplace.extensions import db, limiter

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _after_login_target() -> str:
    return safe_next(request.args.get("next"), url_for("core.home"))


def _login_failed(response: Response) -> bool:
    return bool(g.get("login_failed"))


def _submitted_email() -> str:
    # Keyed by address so one attacker cannot try many passwords on one account from many
    # addresses; the per-IP limit below stops one address trying many accounts.
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_limit_per_ip() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_PER_IP"]


def _too_many_logins() -> str:
    return _("Too many failed log-in attempts. Please wait 15 minutes and try again.")


@bp.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
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
@limiter.limit(
    _login_limit,
    key_func=_submitted_email,
    methods=["POST"],
    deduct_when=_login_failed,
    error_message=_too_many_logins,
)
@limiter.limit(
    _login_limit_per_ip,
    methods=["POST"],
    deduct_when=_login_failed,
    error_message=_too_many_logins,
)
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_after_login_target())
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.AccountError as error:
            g.login_failed = True
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            return redirect(_after_login_target())
    status = 400 if form.errors or form.form_errors else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("core.home"))


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
            form.current_password.errors.append(str(error))
        except services.AccountError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            # The session token changed: log this device in again, the others are out.
            login_user(current_user._get_current_object())
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("accounts.profile"))
    status = 400 if form.errors else 200
    return render_template("accounts/change_password.html", form=form), status


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["RESET_RATE_LIMIT"],
    methods=["POST"],
    error_message=lambda: _("Too many reset requests. Please try again in an hour."),
)
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(
            form.email.data,
            link_for=lambda token: url_for("accounts.reset_password", token=token, _external=True),
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
            services.reset_password(token, form.password.data)
        except services.AccountError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            logout_user()
            flash(_("Your password has been reset. You can log in now."), "success")
            return redirect(url_for("accounts.login"))
    status = 400 if form.errors else 200
    return render_template("accounts/reset_password.html", form=form, user=user), status
