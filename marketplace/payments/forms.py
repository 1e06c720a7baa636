"""The admins' payout form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Optional

from marketplace.core.forms import Form, WholeNumberField, input_required, max_length


class PayoutForm(Form):
    amount_vnd = WholeNumberField(_l("Amount paid (đ)"), money=True, validators=[input_required()])
    bank_reference = StringField(
        _l("Bank transfer reference"), validators=[Optional(), max_length(100)]
    )
