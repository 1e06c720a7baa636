"""The checkout form and the seller's order forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectField, StringField, TelField, TextAreaField
from wtforms.validators import Optional

from marketplace.core.forms import Form, choices, max_length, required
from marketplace.core.numbers import ascii_int
from marketplace.orders.models import PaymentMethod
from marketplace.orders.services import METHOD_LABELS
from marketplace.shops.forms import fill_place_choices


class CheckoutForm(Form):
    token = HiddenField()
    name = StringField(_l("Receiver's name"), validators=[required(), max_length(120)])
    phone = TelField(_l("Phone number"), validators=[required(), max_length(30)])
    street = StringField(
        _l("House number, street, hamlet"), validators=[required(), max_length(200)]
    )
    province_code = SelectField(_l("Province / city"), coerce=ascii_int)
    commune_code = SelectField(_l("Commune / ward"), coerce=ascii_int)
    note = TextAreaField(
        _l("Note for the shop (optional)"), validators=[Optional(), max_length(500)]
    )
    payment_method = RadioField(_l("Payment"), validators=[required()])

    def fill_choices(self, methods: list[PaymentMethod]) -> None:
        fill_place_choices(self.province_code, self.commune_code)
        self.payment_method.choices = choices((m.value, METHOD_LABELS[m]) for m in methods)


class CancelForm(Form):
    reason = StringField(
        _l("Reason (the other side will read it)"), validators=[required(), max_length(500)]
    )


class BuyerCancelForm(Form):
    reason = StringField(_l("Why? (optional)"), validators=[Optional(), max_length(500)])


class ShipForm(Form):
    carrier = StringField(_l("Carrier"), validators=[required(), max_length(60)])
    tracking_number = StringField(_l("Tracking number"), validators=[required(), max_length(60)])


class ActionForm(Form):
    """A button with only its CSRF token."""
