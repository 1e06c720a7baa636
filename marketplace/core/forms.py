"""The base form: WTForms' own messages in the UI language, and shared validators."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import TextInput

# WTForms ships no Vietnamese catalog: the messages its fields and validators produce by
# themselves are listed here so extraction puts them in ours.
WTFORMS_MESSAGES = (
    _l("This field is required."),
    _l("Not a valid integer value."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
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


class Form(FlaskForm):
    """Every form of the app: CSRF from Flask-WTF, messages in Vietnamese or English."""

    class Meta:
        def get_translations(self, form: Any) -> _BabelTranslations:
            return _TRANSLATIONS


def required() -> DataRequired:
    return DataRequired(message=_l("This field is required."))


def input_required() -> InputRequired:
    """Required, where 0 is a real answer (DataRequired treats it as missing)."""
    return InputRequired(message=_l("This field is required."))


def max_length(limit: int) -> Length:
    return Length(max=limit, message=_l("At most %(max)d characters."))


_GROUPING = re.compile(r"[\s.,₫đĐ]|vnd|VND")


class WholeNumberField(IntegerField):
    """An integer typed as people write prices: ``150.000``, ``150 000 ₫``, ``1,200,000``.

    Vietnamese group thousands with dots, so a dot is never a decimal point here. Rendered
    as a text box (with a numeric keypad on phones): a number box refuses "150.000".
    """

    widget = TextInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            cleaned = _GROUPING.sub("", str(valuelist[0]))
            valuelist = [cleaned] if cleaned else []
        super().process_formdata(valuelist)


def choices(
    pairs: Iterable[tuple[object, object]], optgroup: str | None = None
) -> list[SelectChoice]:
    """Select options from ``(value, label)`` pairs (WTForms 3.3 deprecates bare tuples)."""
    return [SelectChoice(value, label, optgroup=optgroup) for value, label in pairs]  # type: ignore[arg-type]
