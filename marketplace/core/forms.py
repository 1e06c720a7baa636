"""The base form: WTForms' own messages in the UI language, and shared validators."""

from __future__ import annotations

from typing import Any

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import DataRequired, Length

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


def max_length(limit: int) -> Length:
    return Length(max=limit, message=_l("At most %(max)d characters."))
