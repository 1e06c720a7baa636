"""Account forms. Field checks call the same service rules the API and CLI use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, Field, PasswordField, StringField, TelField
from wtforms.validators import EqualTo, ValidationError

from marketplace.accounts import services
from marketplace.core.errors import DomainError
from marketplace.core.forms import Form, max_length, required


def _service_check(rule: Callable[[str], Any]) -> Callable[[Form, Field], None]:
    """Turn a service rule that raises a ``DomainError`` into a WTForms validator."""

    def validator(form: Form, field: Field) -> None:
        if not field.data:
            return
        try:
            rule(field.data)
        except DomainError as error:
            raise ValidationError(str(error)) from error

    return validator


def _password_rule(form: Form, field: Field) -> None:
    email = form.email.data if hasattr(form, "email") else ""
    _service_check(lambda pw: services.check_password_strength(pw, email=email or ""))(form, field)


email_checks = [required(), max_length(254), _service_check(services.normalise_email)]
phone_checks = [required(), max_length(30), _service_check(services.normalise_phone)]
name_checks = [required(), max_length(120)]


class RegisterForm(Form):
    full_name = StringField(_l("Full name"), validators=name_checks)
    email = EmailField(_l("Email"), validators=email_checks)
    phone = TelField(_l("Phone number"), validators=phone_checks)
    password = PasswordField(_l("Password"), validators=[required(), _password_rule])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[required(), EqualTo("password", message=_l("The passwords differ."))],
    )


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[required(), max_length(254)])
    password = PasswordField(_l("Password"), validators=[required(), max_length(256)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ProfileForm(Form):
    full_name = StringField(_l("Full name"), validators=name_checks)
    phone = TelField(_l("Phone number"), validators=phone_checks)


class ChangePasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"), validators=[required(), max_length(256)]
    )
    password = PasswordField(_l("New password"), validators=[required(), _password_rule])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[required(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ForgotPasswordForm(Form):
    email = EmailField(_l("Email"), validators=[required(), max_length(254)])


class ResetPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[required(), _password_rule])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[required(), EqualTo("password", message=_l("The passwords differ."))],
    )
