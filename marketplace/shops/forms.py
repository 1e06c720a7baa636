"""The shop form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from marketplace.core.forms import (
    Form,
    WholeNumberField,
    choices,
    input_required,
    max_length,
    required,
)
from marketplace.core.numbers import ascii_int
from marketplace.shops import places
from marketplace.shops.models import BusinessType
from marketplace.shops.rules import RULES_VERSION


def fill_place_choices(province: SelectField, commune: SelectField) -> None:
    """Offer the provinces, and the communes of the province chosen so far."""
    province.choices = choices((p.code, p.name) for p in places.provinces())
    chosen = province.data or places.default_province_code()
    if places.province(chosen) is None:
        chosen = places.default_province_code()
    commune.choices = choices(
        [(0, _l("— choose —")), *((c.code, c.name) for c in places.communes(chosen))]
    )


def business_type_choices() -> list[SelectChoice]:
    return choices(
        [
            (BusinessType.HOUSEHOLD.value, _l("Household business")),
            (BusinessType.INDIVIDUAL.value, _l("Individual")),
            (BusinessType.COOPERATIVE.value, _l("Cooperative")),
            (BusinessType.ENTERPRISE.value, _l("Enterprise")),
        ]
    )


class ShopForm(Form):
    name = StringField(_l("Shop name"), validators=[required(), max_length(120)])
    slug = StringField(_l("Shop address on the site"), validators=[Optional(), max_length(80)])
    description = TextAreaField(_l("About the shop"), validators=[Optional(), max_length(3000)])
    phone = TelField(_l("Shop phone number"), validators=[required(), max_length(30)])
    street = StringField(
        _l("House number, street, hamlet"), validators=[required(), max_length(200)]
    )
    province_code = SelectField(_l("Province / city"), coerce=ascii_int)
    commune_code = SelectField(_l("Commune / ward"), coerce=ascii_int)
    legacy_address = StringField(
        _l("Address before July 2025 (optional)"), validators=[Optional(), max_length(300)]
    )
    business_type = SelectField(_l("Business type"), choices=business_type_choices)
    tax_code = StringField(_l("Tax code"), validators=[Optional(), max_length(14)])
    id_number = StringField(_l("Citizen ID number (CCCD)"), validators=[Optional(), max_length(12)])
    registration_document = FileField(_l("Business registration (PDF or photo)"))
    logo = FileField(_l("Logo"))
    banner = FileField(_l("Banner picture"))
    accept_rules = BooleanField(_l("I have read and accept the platform's rules"))

    def fill_place_choices(self) -> None:
        fill_place_choices(self.province_code, self.commune_code)

    @property
    def accepted_rules_version(self) -> str | None:
        return RULES_VERSION if self.accept_rules.data else None


def bank_choices() -> list[SelectChoice]:
    from marketplace.payments.vietqr import BANKS

    return choices([("", _l("— no transfers —")), *sorted(BANKS.items(), key=lambda kv: kv[1])])


class SellingForm(Form):
    shipping_fee_vnd = WholeNumberField(
        _l("Shipping fee per order (đ)"), money=True, validators=[input_required()]
    )
    free_shipping_from_vnd = WholeNumberField(
        _l("Free shipping for orders from (đ, optional)"), money=True, validators=[Optional()]
    )
    bank_bin = SelectField(_l("Bank"), choices=bank_choices, validators=[Optional()])
    bank_account_number = StringField(_l("Account number"), validators=[Optional(), max_length(30)])
    bank_account_name = StringField(
        _l("Account holder (as the bank writes it)"), validators=[Optional(), max_length(100)]
    )
