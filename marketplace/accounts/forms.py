"""Account forms. Field checks call the same service rules the API and CLI use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Field, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from marketplace.accounts import services
from marketplace.core.errors import DomainError


def _service_check(rule: Callable[[str], Any]) -> Callable[[FlaskForm, Field], None]:
    """Turn a service rule that raises a ``DomainError`` into a WTForms validator."""

    def validator(form: FlaskForm, field: Field) -> None:
        if not field.data:
            return
        try:
            rule(field.data)
        except DomainError as error:
            raise ValidationError(str(error)) from error

    return validator


def _password_rule(form: FlaskForm, field: Field) -> None:
    email = form.email.data if hasattr(form, "email") else ""
    _service_check(lambda pw: services.check_password_strength(pw, email=email or ""))(form, field)


email_checks = [DataRequired(), Length(max=254), _service_check(services.normalise_email)]
phone_checks = [DataRequired(), Length(max=30), _service_check(services.normalise_phone)]
name_checks = [DataRequired(), Length(max=120)]


class RegisterForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=name_checks)
    email = EmailField(_l("Email"), validators=email_checks)
    phone = TelField(_l("Phone number"), validators=phone_checks)
    password = PasswordField(_l("Password"), validators=[DataRequired(), _password_rule])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ProfileForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=name_checks)
    phone = TelField(_l("Phone number"), validators=phone_checks)


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=256)]
    )
    password = PasswordField(_l("New password"), validators=[DataRequired(), _password_rule])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), _password_rule])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
