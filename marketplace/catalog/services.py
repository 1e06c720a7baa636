"""Business rules of listings. Services add and flush; the caller commits."""

from __future__ import annotations

import enum
import re
from dataclasses import asdict, dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.catalog import ocop
from marketplace.catalog.default_categories import DEFAULT_CATEGORIES, CategorySpec
from marketplace.catalog.models import (
    MAX_IMAGES,
    MAX_PRICE_VND,
    Category,
    OcopLevel,
    Product,
    ProductImage,
    ProductRevision,
    ProductStatus,
)
from marketplace.core import revisions, states
from marketplace.core.errors import DomainError
from marketplace.core.markup import render_markdown
from marketplace.core.models import utcnow
from marketplace.core.states import Transitions
from marketplace.core.text import clean_line, has_visible_text, normalise, slugify
from marketplace.core.urls import InvalidWebAddress, check_web_url
from marketplace.extensions import db
from marketplace.media.models import Image
from marketplace.shops.models import Shop, ShopStatus


class CatalogError(DomainError):
    """A rule about listings refused the operation."""


class InvalidProduct(CatalogError):
    """A field is wrong; ``field`` names it so a form can show the message beside it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidTransition(CatalogError, states.InvalidTransition):
    pass


class ReasonRequired(CatalogError, states.ReasonRequired):
    pass


class RevisionConflict(CatalogError, revisions.RevisionConflict):
    pass


UNITS = ("kg", "g", "hộp", "gói", "chai", "hũ", "lọ", "túi", "con", "bó", "cái", "thùng", "lít")
MAX_STOCK = 1_000_000
MAX_WEIGHT_GRAMS = 100_000
MAX_DESCRIPTION = 5000
OCOP_FIRST_YEAR = 2018  # the OCOP programme's first certificates
# Edits to these wait for review on a live listing of a shop that is not trusted.
CONTENT_FIELDS = (
    "name", "category_id", "description_md", "unit", "origin", "gtin", "traceability_url",
    "ocop_stars", "ocop_certificate_no", "ocop_year", "ocop_level",
)  # fmt: skip
# These apply at once, always: sellers must be able to follow the market.
IMMEDIATE_FIELDS = ("price_vnd", "compare_at_price_vnd", "stock", "weight_grams")

ALLOWED: dict[ProductStatus, frozenset[ProductStatus]] = {
    ProductStatus.DRAFT: frozenset(
        {ProductStatus.PENDING, ProductStatus.PUBLISHED, ProductStatus.DELETED}
    ),
    ProductStatus.PENDING: frozenset(
        {ProductStatus.PUBLISHED, ProductStatus.REJECTED, ProductStatus.DELETED}
    ),
    # A rejected listing goes back to review, even in a trusted shop: an admin refused it.
    ProductStatus.REJECTED: frozenset({ProductStatus.PENDING, ProductStatus.DELETED}),
    ProductStatus.PUBLISHED: frozenset(
        {ProductStatus.DRAFT, ProductStatus.HIDDEN, ProductStatus.DELETED}
    ),
    # Only an admin's unhide leaves HIDDEN (see unhide_product); the seller may delete.
    ProductStatus.HIDDEN: frozenset({ProductStatus.PUBLISHED, ProductStatus.DELETED}),
    ProductStatus.DELETED: frozenset(),
}
TRANSITIONS = Transitions(
    allowed=ALLOWED,
    needs_reason=frozenset({ProductStatus.REJECTED, ProductStatus.HIDDEN}),
    refused=lambda: _("The listing's current state does not allow this change."),
    reason_required=lambda: _("Give a reason: the seller will see it."),
    invalid=InvalidTransition,
    missing_reason=ReasonRequired,
)
# What an admin may do with a staged edit.
REVISIONS = revisions.rules(
    already_decided=lambda: _("This edit has already been decided."),
    reason_required=lambda: _("Give a reason: the seller will see it."),
    invalid=InvalidTransition,
    missing_reason=ReasonRequired,
)


class UpdateOutcome(enum.StrEnum):
    APPLIED = "applied"
    STAGED = "staged"


@dataclass(frozen=True)
class ProductInput:
    """What a seller fills in about a listing."""

    name: str
    category_id: int
    price_vnd: int
    stock: int
    unit: str
    description_md: str = ""
    compare_at_price_vnd: int | None = None
    weight_grams: int | None = None
    ocop_stars: int | None = None
    ocop_certificate_no: str | None = None
    ocop_year: int | None = None
    ocop_level: OcopLevel | str | None = None
    origin: str = ""
    gtin: str | None = None
    traceability_url: str | None = None


def is_valid_gtin(code: str) -> bool:
    """Return True for a GTIN-8/12/13/14 (EAN, UPC) whose check digit is right."""
    if not re.fullmatch(r"\d{8}|\d{12,14}", code):
        return False
    digits = [int(ch) for ch in code]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == digits[-1]


def check_price(price_vnd: int, compare_at_price_vnd: int | None) -> None:
    if not 0 < price_vnd <= MAX_PRICE_VND:
        raise InvalidProduct(
            _("The price must be between 1 ₫ and 1.000.000.000 ₫."), field="price_vnd"
        )
    if compare_at_price_vnd is not None and compare_at_price_vnd <= price_vnd:
        raise InvalidProduct(
            _("The price before discount must be higher than the price."),
            field="compare_at_price_vnd",
        )
    if compare_at_price_vnd is not None and compare_at_price_vnd > MAX_PRICE_VND:
        raise InvalidProduct(
            _("The price must be between 1 ₫ and 1.000.000.000 ₫."), field="compare_at_price_vnd"
        )


def check_stock(stock: int) -> None:
    if not 0 <= stock <= MAX_STOCK:
        raise InvalidProduct(_("Stock must be between 0 and 1.000.000."), field="stock")


def _clean_ocop(data: ProductInput) -> dict[str, Any]:
    if data.ocop_stars is None:
        return {
            "ocop_stars": None,
            "ocop_certificate_no": None,
            "ocop_year": None,
            "ocop_level": None,
        }
    if data.ocop_stars not in (3, 4, 5):
        raise InvalidProduct(_("OCOP ratings are 3, 4 or 5 stars."), field="ocop_stars")
    certificate = " ".join((data.ocop_certificate_no or "").split())
    if not certificate or len(certificate) > 50:
        raise InvalidProduct(
            _("Give the OCOP certificate number (at most 50 characters)."),
            field="ocop_certificate_no",
        )
    year = data.ocop_year
    if year is None or not OCOP_FIRST_YEAR <= year <= utcnow().year:
        raise InvalidProduct(_("Give the year the OCOP certificate was issued."), field="ocop_year")
    try:
        level = OcopLevel(data.ocop_level) if data.ocop_level else None
    except ValueError:
        level = None
    if level is None:
        raise InvalidProduct(_("Choose who issued the OCOP certificate."), field="ocop_level")
    return {
        "ocop_stars": data.ocop_stars,
        "ocop_certificate_no": certificate,
        "ocop_year": year,
        "ocop_level": level,
    }


def _clean_url(url: str | None) -> str | None:
    if not (url or "").strip():
        return None
    try:
        return check_web_url(url or "")
    except InvalidWebAddress as error:
        raise InvalidProduct(str(error), field="traceability_url") from None


def clean_input(data: ProductInput) -> dict[str, Any]:
    """Return the listing's fields, checked and normalised, or raise ``InvalidProduct``."""
    name = clean_line(data.name)
    if not has_visible_text(name) or len(name) > 150:
        raise InvalidProduct(_("Give the product a name (at most 150 characters)."), "name")
    category = db.session.get(Category, data.category_id)
    if category is None or category.children:
        raise InvalidProduct(_("Choose a category from the list."), field="category_id")
    description = normalise(data.description_md or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidProduct(
            _("The description is too long (at most 5000 characters)."), "description_md"
        )
    check_price(data.price_vnd, data.compare_at_price_vnd)
    check_stock(data.stock)
    if data.unit not in UNITS:
        raise InvalidProduct(_("Choose a unit from the list."), field="unit")
    if data.weight_grams is not None and not 0 < data.weight_grams <= MAX_WEIGHT_GRAMS:
        raise InvalidProduct(_("The weight must be between 1 g and 100 kg."), field="weight_grams")
    gtin = "".join((data.gtin or "").split()) or None
    if gtin is not None and not is_valid_gtin(gtin):
        raise InvalidProduct(
            _("This barcode is not a valid GTIN/EAN (8, 12, 13 or 14 digits)."), "gtin"
        )
    return {
        "name": name,
        "category_id": category.id,
        "description_md": description,
        "price_vnd": data.price_vnd,
        "compare_at_price_vnd": data.compare_at_price_vnd,
        "stock": data.stock,
        "unit": data.unit,
        "weight_grams": data.weight_grams,
        "origin": clean_line(data.origin or "")[:120],
        "gtin": gtin,
        "traceability_url": _clean_url(data.traceability_url),
        **_clean_ocop(data),
    }


def check_image_count(count: int) -> None:
    """Refuse more than 8 pictures (before any upload is converted)."""
    if count > MAX_IMAGES:
        raise InvalidProduct(_("A listing has at most 8 pictures."), field="photos")


def root_category_id(category_id: int) -> int:
    """Return the id of the top-level category above ``category_id`` (or itself)."""
    category = db.session.get(Category, category_id)
    while category is not None and category.parent_id is not None:
        category = db.session.get(Category, category.parent_id)
    return category.id if category is not None else category_id


def _check_images(images: list[Image]) -> list[Image]:
    unique = list(dict.fromkeys(images))
    check_image_count(len(unique))
    return unique


def _set_images(product: Product, images: list[Image]) -> None:
    product.images = [
        ProductImage(image=image, position=position) for position, image in enumerate(images)
    ]


def _apply_content(product: Product, fields: dict[str, Any], images: list[Image]) -> None:
    for name in CONTENT_FIELDS:
        setattr(product, name, fields[name])
    product.root_category_id = root_category_id(fields["category_id"])
    product.slug = slugify(fields["name"], max_length=150) or "san-pham"
    product.description_html = render_markdown(fields["description_md"])
    product.ocop_verified = ocop.is_verified(product)
    _set_images(product, images)


def input_of(product: Product) -> ProductInput:
    """Return the listing's current fields as an input (for duplicating, and forms)."""
    names = ProductInput.__dataclass_fields__
    return ProductInput(**{name: getattr(product, name) for name in names})


def create_product(shop: Shop, data: ProductInput, images: list[Image]) -> Product:
    """Create a draft listing in ``shop``."""
    fields = clean_input(data)
    product = Product(shop=shop, status=ProductStatus.DRAFT)
    for name in IMMEDIATE_FIELDS:
        setattr(product, name, fields[name])
    _apply_content(product, fields, _check_images(images))
    db.session.add(product)
    db.session.flush()
    return product


def _content_of(fields: dict[str, Any], images: list[Image]) -> dict[str, Any]:
    content = {name: fields[name] for name in CONTENT_FIELDS}
    if content["ocop_level"] is not None:
        content["ocop_level"] = str(content["ocop_level"])
    content["image_ids"] = [image.id for image in images]
    return content


def _current_content(product: Product) -> dict[str, Any]:
    fields = {name: getattr(product, name) for name in CONTENT_FIELDS}
    return _content_of(fields, [item.image for item in product.images])


def needs_review(product: Product) -> bool:
    """Return True when content edits to ``product`` must wait for an admin."""
    return product.status == ProductStatus.PUBLISHED and not product.shop.trusted


def update_product(
    product: Product, data: ProductInput, images: list[Image], *, author: User
) -> UpdateOutcome:
    """Save a seller's edit; on a live listing of an untrusted shop, stage the content.

    Price, stock and weight always apply at once. A staged content edit replaces any
    earlier one still waiting; sending back the live content withdraws it; sending the
    waiting content again leaves it as it is. The live version stays until an admin decides.
    """
    fields = clean_input(data)
    images = _check_images(images)
    db.session.flush()  # images uploaded in this request need their ids
    for name in IMMEDIATE_FIELDS:
        setattr(product, name, fields[name])
    content = _content_of(fields, images)
    if not needs_review(product):
        _supersede_pending_revision(product)
        _apply_content(product, fields, images)
        db.session.flush()
        return UpdateOutcome.APPLIED
    waiting = pending_revision(product)
    if waiting is not None and waiting.content == content:
        db.session.flush()
        return UpdateOutcome.STAGED
    _supersede_pending_revision(product)
    if content == _current_content(product):
        db.session.flush()
        return UpdateOutcome.APPLIED
    revisions.stage(
        db.session,
        ProductRevision(product=product, author=author, content=content),
        # Another save of this listing staged its edit at the same moment.
        _("This listing was just saved elsewhere. Reload the page and try again."),
        error=RevisionConflict,
    )
    return UpdateOutcome.STAGED


def editable_content(product: Product) -> tuple[ProductInput, list[Image]]:
    """What the edit form starts from: the edit waiting for review if any, else the live one."""
    live = input_of(product)
    waiting = pending_revision(product)
    if waiting is None:
        return live, [item.image for item in product.images]
    content = dict(waiting.content)
    image_ids = content.pop("image_ids")
    images = {
        image.id: image
        for image in db.session.scalars(select(Image).where(Image.id.in_(image_ids)))
    }
    return (
        ProductInput(**{**asdict(live), **content}),
        [images[image_id] for image_id in image_ids if image_id in images],
    )


def set_price_and_stock(product: Product, *, price_vnd: int, stock: int) -> None:
    """Change price and stock at once (the dashboard's quick edit); never reviewed."""
    compare_at = product.compare_at_price_vnd
    if compare_at is not None and compare_at <= price_vnd:
        # A "before" price at or below the new price would be a false discount.
        compare_at = None
    check_price(price_vnd, compare_at)
    check_stock(stock)
    product.price_vnd, product.compare_at_price_vnd, product.stock = price_vnd, compare_at, stock
    db.session.flush()


def pending_revision(product: Product) -> ProductRevision | None:
    return revisions.pending(db.session, ProductRevision.product_id, product.id)


def _supersede_pending_revision(product: Product) -> None:
    revisions.supersede(db.session, pending_revision(product))


def revision_changes(revision: ProductRevision) -> dict[str, tuple[Any, Any]]:
    """What a staged edit changes: each field's live value beside the proposed one."""
    live = _current_content(revision.product)
    return {
        name: (live.get(name), proposed)
        for name, proposed in revision.content.items()
        if live.get(name) != proposed
    }


def approve_revision(revision: ProductRevision) -> None:
    """Swap a staged edit into the live listing."""
    revisions.approve(db.session, revision, REVISIONS, _apply_revision)


def _apply_revision(revision: ProductRevision) -> None:
    if revision.product.status != ProductStatus.PUBLISHED:
        raise InvalidTransition(_("The listing's current state does not allow this change."))
    content = dict(revision.content)
    image_ids = content.pop("image_ids")
    images_by_id = {
        image.id: image
        for image in db.session.scalars(select(Image).where(Image.id.in_(image_ids)))
    }
    fields = {**content}
    fields["ocop_level"] = OcopLevel(content["ocop_level"]) if content["ocop_level"] else None
    _apply_content(
        revision.product, fields, [images_by_id[i] for i in image_ids if i in images_by_id]
    )


def reject_revision(revision: ProductRevision, *, reason: str) -> None:
    """Refuse a staged edit; the live listing stays, and the seller sees why."""
    revisions.reject(db.session, revision, REVISIONS, reason=reason)


def change_status(
    product: Product, new_status: ProductStatus, *, reason: str | None = None
) -> None:
    """Move ``product`` to ``new_status`` if the transition table allows it."""
    product.status_reason = TRANSITIONS.check(product.status, new_status, reason)
    product.status = new_status
    if new_status == ProductStatus.PUBLISHED and product.published_at is None:
        product.published_at = utcnow()
    if new_status != ProductStatus.PUBLISHED:
        # A staged edit belongs to the live version; once that is gone, so is the edit.
        _supersede_pending_revision(product)
    db.session.flush()


SUBMITTABLE = frozenset({ProductStatus.DRAFT, ProductStatus.REJECTED})


def submit_product(product: Product) -> None:
    """Send a draft or rejected listing to review; a trusted, approved shop's draft
    is published at once."""
    if product.status not in SUBMITTABLE:
        raise InvalidTransition(_("Only drafts and rejected listings can be submitted."))
    shop = product.shop
    if shop.status == ShopStatus.SUSPENDED:
        # Reinstating a shop brings back what was public when it was suspended, no more.
        raise InvalidTransition(
            _("Your shop is suspended: listings can be sent for review once it is reinstated.")
        )
    if (
        product.status == ProductStatus.DRAFT
        and shop.trusted
        and shop.status == ShopStatus.APPROVED
    ):
        change_status(product, ProductStatus.PUBLISHED)
    else:
        change_status(product, ProductStatus.PENDING)


def allowed_actions(product: Product) -> frozenset[str]:
    """The seller's buttons for ``product`` on the dashboard."""
    actions = {"delete"}
    if product.status in SUBMITTABLE and product.shop.status != ShopStatus.SUSPENDED:
        actions.add("submit")
    if product.status == ProductStatus.PUBLISHED:
        actions.add("unpublish")
    if product.status != ProductStatus.HIDDEN:
        actions.add("duplicate")
    return frozenset(actions)


def approve_product(product: Product) -> None:
    if product.status != ProductStatus.PENDING:
        raise InvalidTransition(_("Only listings waiting for review can be approved."))
    change_status(product, ProductStatus.PUBLISHED)


def reject_product(product: Product, *, reason: str) -> None:
    change_status(product, ProductStatus.REJECTED, reason=reason)


def unpublish_product(product: Product) -> None:
    """Take a live listing off the site; the seller can submit it again later."""
    if product.status != ProductStatus.PUBLISHED:
        raise InvalidTransition(_("Only published listings can be unpublished."))
    change_status(product, ProductStatus.DRAFT)


def hide_product(product: Product, *, reason: str) -> None:
    change_status(product, ProductStatus.HIDDEN, reason=reason)


def unhide_product(product: Product) -> None:
    if product.status != ProductStatus.HIDDEN:
        raise InvalidTransition(_("Only hidden listings can be shown again."))
    change_status(product, ProductStatus.PUBLISHED)


def delete_product(product: Product) -> None:
    """Remove a listing for good (kept as a row: orders will point at it)."""
    change_status(product, ProductStatus.DELETED)


def duplicate_product(product: Product) -> Product:
    """Return a new draft copy of ``product`` (pictures shared), for a similar listing."""
    if product.status == ProductStatus.HIDDEN:
        # A copy would carry hidden content back to the site under a new id.
        raise InvalidTransition(_("A hidden listing cannot be duplicated."))
    data = input_of(product)
    suffix = _(" (copy)")
    name = data.name[: 150 - len(suffix)] + suffix
    copy = create_product(
        product.shop,
        ProductInput(**{**asdict(data), "name": name}),
        [item.image for item in product.images],
    )
    return copy


def ensure_default_categories(specs: list[CategorySpec] = DEFAULT_CATEGORIES) -> int:
    """Create the missing categories of the default tree; return how many were added."""
    existing = set(db.session.scalars(select(Category.slug)))
    added = 0

    def add(spec: CategorySpec, parent: Category | None, position: int) -> Category:
        nonlocal added
        category = db.session.scalar(select(Category).where(Category.slug == spec.slug))
        if category is None:
            category = Category(
                slug=spec.slug,
                name_vi=spec.name_vi,
                name_en=spec.name_en,
                parent=parent,
                position=position,
            )
            db.session.add(category)
            added += 1
        for child_position, child in enumerate(spec.children):
            add(child, category, child_position)
        return category

    for position, spec in enumerate(specs):
        if spec.slug not in existing or spec.children:
            add(spec, None, position)
    db.session.flush()
    return added
