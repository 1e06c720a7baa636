"""The back office's channel forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import Optional

from marketplace.core.forms import Form, RateField, WholeNumberField, choices, max_length, required
from marketplace.sync.models import ConnectorType

CONNECTOR_LABELS = {
    ConnectorType.POSTMART: "postmart.vn (VNPost)",
    ConnectorType.VOSO: "voso.vn (Viettel Post)",
    ConnectorType.FEED: _l("Feed the channel fetches (Google Merchant XML, CSV)"),
}


class ChannelForm(Form):
    """A channel's settings; the code is set once, when the channel is added."""

    code = StringField(_l("Code"), validators=[required(), max_length(40)])
    name = StringField(_l("Name"), validators=[required(), max_length(120)])
    connector = SelectField(_l("Type"))
    base_url = StringField(_l("API address"), validators=[max_length(500)])
    credentials = PasswordField(_l("Credentials"), validators=[max_length(2000)])
    requests_per_second = RateField(_l("Requests per second"), validators=[required()])
    markup_percent = RateField(_l("Mark-up (%)"), validators=[Optional()])
    markup_vnd = WholeNumberField(_l("Mark-up (₫)"), money=True, validators=[Optional()])
    stock_held_back = WholeNumberField(_l("Units held back"), validators=[Optional()])
    stock_max_shown = WholeNumberField(_l("Most units shown"), validators=[Optional()])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.connector.choices = choices(
            (str(kind), label) for kind, label in CONNECTOR_LABELS.items()
        )


class ActionForm(Form):
    """A button: only the CSRF token."""
