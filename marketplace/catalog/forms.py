"""The listing forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import NumberRange, Optional

from marketplace.catalog import queries
from marketplace.catalog.models import OcopLevel
from marketplace.catalog.services import UNITS, ProductInput
from marketplace.core.forms import (
    Form,
    WholeNumberField,
    choices,
    input_required,
    max_length,
    required,
)
from marketplace.core.numbers import ascii_int

OCOP_LEVEL_LABELS = {
    OcopLevel.PROVINCE: _l("Provincial People's Committee"),
    OcopLevel.NATIONAL: _l("Prime Minister (national)"),
    OcopLevel.DISTRICT: _l("District (before 2025)"),
}


def _optional_int(value: object) -> int | None:
    return ascii_int(value) if value not in (None, "", "None") else None


class ProductForm(Form):
    name = StringField(_l("Product name"), validators=[required(), max_length(150)])
    category_id = SelectField(_l("Category"), coerce=ascii_int)
    description_md = TextAreaField(_l("Description"), validators=[Optional(), max_length(5000)])
    price_vnd = WholeNumberField(_l("Price (₫)"), validators=[input_required()], money=True)
    compare_at_price_vnd = WholeNumberField(
        _l("Price before discount (₫)"), validators=[Optional()], money=True
    )
    stock = WholeNumberField(
        _l("In stock"),
        validators=[Optional(), NumberRange(min=0, message=_l("Stock cannot be negative."))],
        default=0,
    )
    unit = SelectField(_l("Sold by"), choices=choices((unit, unit) for unit in UNITS))
    weight_grams = WholeNumberField(_l("Weight with packaging (g)"), validators=[Optional()])
    ocop_stars = SelectField(
        _l("OCOP rating"),
        coerce=_optional_int,
        choices=choices(
            [
                ("", _l("Not OCOP certified")),
                (3, _l("3 stars")),
                (4, _l("4 stars")),
                (5, _l("5 stars")),
            ]
        ),
    )
    ocop_certificate_no = StringField(
        _l("OCOP certificate number"), validators=[Optional(), max_length(50)]
    )
    ocop_year = WholeNumberField(_l("Year of the certificate"), validators=[Optional()])
    ocop_level = SelectField(
        _l("Certified by"),
        choices=choices(
            [("", _l("— choose —"))]
            + [(level.value, label) for level, label in OCOP_LEVEL_LABELS.items()]
        ),
    )
    origin = StringField(_l("Origin"), validators=[Optional(), max_length(120)])
    gtin = StringField(_l("Barcode (GTIN/EAN)"), validators=[Optional(), max_length(14)])
    traceability_url = StringField(
        _l("Traceability link"), validators=[Optional(), max_length(500)]
    )
    photos = MultipleFileField(_l("Add pictures (JPEG, PNG or WebP, up to 8)"))

    def fill_category_choices(self, locale: str) -> None:
        """Offer leaf categories, grouped under their parents."""
        options = []
        for top in queries.category_tree():
            leaves = top.children or [top]
            options += choices(
                ((leaf.id, leaf.name(locale)) for leaf in leaves), optgroup=top.name(locale)
            )
        self.category_id.choices = options

    def to_input(self) -> ProductInput:
        return ProductInput(
            name=self.name.data or "",
            category_id=self.category_id.data or 0,
            description_md=self.description_md.data or "",
            price_vnd=self.price_vnd.data or 0,
            compare_at_price_vnd=self.compare_at_price_vnd.data,
            stock=self.stock.data or 0,
            unit=self.unit.data or "",
            weight_grams=self.weight_grams.data,
            ocop_stars=self.ocop_stars.data,
            ocop_certificate_no=self.ocop_certificate_no.data,
            ocop_year=self.ocop_year.data,
            ocop_level=self.ocop_level.data or None,
            origin=self.origin.data or "",
            gtin=self.gtin.data,
            traceability_url=self.traceability_url.data,
        )


class QuickEditForm(Form):
    price_vnd = WholeNumberField(_l("Price (₫)"), validators=[input_required()], money=True)
    stock = WholeNumberField(
        _l("In stock"),
        validators=[
            Optional(),
            NumberRange(min=0, message=_l("Stock cannot be negative.")),
        ],
        default=0,
    )


class ActionForm(Form):
    """A button that changes something: only the CSRF token."""
