"""The back office's channel forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from marketplace.core.forms import (
    Form,
    RateField,
    WholeNumberField,
    choices,
    input_required,
    max_length,
    required,
)
from marketplace.sync.models import ConnectorType
from marketplace.sync.services import MAX_STOCK

CONNECTOR_LABELS = {
    ConnectorType.POSTMART: "postmart.vn (VNPost)",
    ConnectorType.VOSO: "voso.vn (Viettel Post)",
    ConnectorType.FEED: _l("Feed the channel fetches (Google Merchant XML, CSV)"),
}


def _limit(top: int) -> NumberRange:
    return NumberRange(min=0, max=top, message=_l("Between %(min)s and %(max)s."))


class NewChannelForm(Form):
    """What a channel needs to be added; the code is set once, here."""

    code = StringField(_l("Code"), validators=[required(), max_length(40)])
    name = StringField(_l("Name"), validators=[required(), max_length(120)])
    connector = SelectField(_l("Type"))
    base_url = StringField(_l("API address"), validators=[max_length(500)])
    credentials = PasswordField(_l("Credentials"), validators=[max_length(2000)])
    # InputRequired, not DataRequired: the latter calls 0 missing and would hide the
    # parser's own message behind "required".
    requests_per_second = RateField(_l("Requests per second"), validators=[input_required()])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = CONNECTOR_LABELS.items()
        self.connector.choices = choices((str(kind), label) for kind, label in labels)


class ChannelForm(NewChannelForm):
    """A channel's settings, with its price and stock rules."""

    markup_percent = RateField(_l("Mark-up (%)"), validators=[Optional(), _limit(100)])
    markup_vnd = WholeNumberField(
        _l("Mark-up (₫)"), money=True, validators=[Optional(), _limit(10_000_000)]
    )
    stock_held_back = WholeNumberField(
        _l("Units held back"), validators=[Optional(), _limit(MAX_STOCK)]
    )
    stock_max_shown = WholeNumberField(
        _l("Most units shown"), validators=[Optional(), _limit(MAX_STOCK)]
    )
