"""The base form: WTForms' own messages in the UI language, and shared validators."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, PasswordField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, StopValidation
from wtforms.widgets import TextInput

from marketplace.core.numbers import NumberFormatError, parse_optional_number, parse_rate
from marketplace.core.text import has_visible_text, normalise

# WTForms ships no Vietnamese catalog: the messages its fields and validators produce by
# themselves are listed here so extraction puts them in ours.
WTFORMS_MESSAGES = (
    _l("This field is required."),
    _l("Not a valid integer value."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    _l("Invalid URL."),
    _l("Invalid input."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
)


class _BabelTranslations:
    """WTForms' translations protocol, answered from the app's own catalog."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


_TRANSLATIONS = _BabelTranslations()


def _nfc(value: object) -> object:
    return normalise(value) if isinstance(value, str) else value


class Form(FlaskForm):
    """Every form of the app: CSRF from Flask-WTF, messages in Vietnamese or English.

    Text fields are normalised to NFC as they are read, before any length check: a
    Vietnamese name typed in NFD has a quarter more code points than the same name in NFC.
    Passwords are left exactly as typed (their hashes were made from the raw text).
    """

    class Meta:
        def get_translations(self, form: Any) -> _BabelTranslations:
            return _TRANSLATIONS

        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
            field = super().bind_field(form, unbound_field, options)
            if isinstance(field, StringField) and not isinstance(field, PasswordField):
                field.filters = (_nfc, *field.filters)
            return field


class _Required(DataRequired):
    """DataRequired that also treats text showing nothing (zero-width, lone marks) as empty."""

    def __call__(self, form: Any, field: Field) -> None:
        if isinstance(field.data, str) and field.data and not has_visible_text(field.data):
            field.errors[:] = []
            raise StopValidation(self.message)
        super().__call__(form, field)


def form_problem(form: Form) -> str:
    """What to tell someone whose form was refused: the first field's label and error.

    For a button form whose only field is the CSRF token, that is an expired form.
    """
    for field in form:
        if field.errors and field.name != "csrf_token":
            return f"{field.label.text}: {field.errors[0]}"
    return str(_l("Your form expired. Please send it again."))


def required() -> DataRequired:
    return _Required(message=_l("This field is required."))


def input_required() -> InputRequired:
    """Required, where 0 is a real answer (DataRequired treats it as missing)."""
    return InputRequired(message=_l("This field is required."))


def max_length(limit: int) -> Length:
    return Length(max=limit, message=_l("At most %(max)d characters."))


class WholeNumberField(IntegerField):
    """A whole number typed as people write it: ``150000``, ``150.000``, ``150 000``.

    ``money=True`` also takes a trailing ``₫``. Parsed by ``core.numbers`` (commas and
    decimals are refused with a message saying how to write the number). Rendered as a
    text box with a numeric keypad on phones: a number box refuses "150.000".
    """

    widget = TextInput()

    def __init__(self, *args: Any, money: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.money = money

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        try:
            self.data = parse_optional_number(str(valuelist[0]), money=self.money)
        except NumberFormatError as error:
            self.data = None
            raise ValueError(str(error)) from error


class RateField(StringField):
    """A small number with up to two decimals (``2.5`` or ``2,5``), as ``core.numbers``
    reads it: a rate per second, a percentage."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        try:
            self.data = parse_rate(str(valuelist[0]))
        except NumberFormatError as error:
            self.data = None
            raise ValueError(str(error)) from error

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else f"{self.data:g}"


def choices(
    pairs: Iterable[tuple[object, object]], optgroup: str | None = None
) -> list[SelectChoice]:
    """Select options from ``(value, label)`` pairs (WTForms 3.3 deprecates bare tuples)."""
    return [SelectChoice(value, label, optgroup=optgroup) for value, label in pairs]  # type: ignore[arg-type]
