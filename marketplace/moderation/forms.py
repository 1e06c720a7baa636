"""The admin's decision forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional

from marketplace.core.forms import Form, choices, max_length, required
from marketplace.core.numbers import ascii_int
from marketplace.core.security import MAX_ID
from marketplace.moderation.reports import REPORT_REASONS
from marketplace.moderation.services import REJECTION_REASONS

DECISIONS = ("approve", "reject")


def _reason_choices():
    return choices([("", _l("Choose a reason")), *REJECTION_REASONS.items()])


class DecisionForm(Form):
    """Approve, or reject with a reason; the button pressed says which."""

    decision = StringField()
    reason = SelectField(_l("Reason for refusing"), validators=[Optional()])
    details = TextAreaField(_l("Details for the seller"), validators=[max_length(450)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = _reason_choices()


def _database_id(value: object) -> int:
    number = ascii_int(value)
    if not 0 < number <= MAX_ID:
        raise ValueError("not a database id")
    return number


class BulkDecisionForm(DecisionForm):
    ids = SelectMultipleField(coerce=_database_id, validate_choice=False)


class ReportForm(Form):
    reason = RadioField(_l("What is wrong?"), validators=[required()])
    details = TextAreaField(_l("Tell us more"), validators=[max_length(1000)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = choices(REPORT_REASONS.items())


class ResolveForm(Form):
    resolution = StringField()
    note = TextAreaField(_l("Note (kept with the reports)"), validators=[max_length(500)])


class OcopImportForm(Form):
    file = FileField(
        _l("The province's OCOP list (CSV)"),
        validators=[FileRequired(message=_l("Choose the CSV file."))],
    )
