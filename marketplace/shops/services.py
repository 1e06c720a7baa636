"""Business rules of shops. Services add and flush; the caller commits."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.core import revisions, states
from marketplace.core.errors import DomainError
from marketplace.core.models import utcnow
from marketplace.core.states import Transitions
from marketplace.core.text import clean_line, has_visible_text, normalise, slugify
from marketplace.extensions import db
from marketplace.media.models import Document, Image
from marketplace.shops import places
from marketplace.shops.models import BusinessType, Shop, ShopRevision, ShopStatus
from marketplace.shops.rules import RULES_VERSION


class ShopError(DomainError):
    """A rule about shops refused the operation."""


class AlreadyHasShop(ShopError):
    pass


class SlugTaken(ShopError):
    pass


class InvalidSlug(ShopError):
    pass


class InvalidAddress(ShopError):
    pass


class InvalidLegalProfile(ShopError):
    pass


class RulesNotAccepted(ShopError):
    pass


class InvalidTransition(ShopError, states.InvalidTransition):
    pass


class ReasonRequired(ShopError, states.ReasonRequired):
    pass


class RevisionConflict(ShopError, revisions.RevisionConflict):
    pass


# The one transition table of shop states.
ALLOWED: dict[ShopStatus, frozenset[ShopStatus]] = {
    ShopStatus.PENDING: frozenset({ShopStatus.APPROVED, ShopStatus.REJECTED}),
    ShopStatus.REJECTED: frozenset({ShopStatus.PENDING}),
    ShopStatus.APPROVED: frozenset({ShopStatus.SUSPENDED}),
    ShopStatus.SUSPENDED: frozenset({ShopStatus.APPROVED}),
}
TRANSITIONS = Transitions(
    allowed=ALLOWED,
    needs_reason=frozenset({ShopStatus.REJECTED, ShopStatus.SUSPENDED}),
    refused=lambda: _("The shop's current state does not allow this change."),
    reason_required=lambda: _("Give a reason: the seller will see it."),
    invalid=InvalidTransition,
    missing_reason=ReasonRequired,
)
# What an admin may do with a staged change of a live shop's name or legal details.
REVISIONS = revisions.rules(
    already_decided=lambda: _("This change has already been decided."),
    reason_required=lambda: _("Give a reason: the seller will see it."),
    invalid=InvalidTransition,
    missing_reason=ReasonRequired,
)

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MIN, SLUG_MAX = 3, 80
# Paths and words a shop must not take as its address.
RESERVED_SLUGS = frozenset(
    {"admin", "api", "seller", "account", "static", "media", "search", "new", "edit", "moi"}
)
# Mã số thuế: 10 digits with a check digit, optionally "-" and a 3-digit branch number.
_TAX_CODE_RE = re.compile(r"^(\d{10})(?:-(\d{3}))?$")
_TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
# Căn cước công dân: 12 digits; since 1 July 2025 it is also the tax code of individuals
# and household businesses.
_PERSONAL_ID_RE = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class ShopDetails:
    """What a seller fills in about the shop."""

    name: str
    description: str
    phone: str
    street: str
    province_code: int
    commune_code: int
    business_type: BusinessType
    tax_code: str | None = None
    id_number: str | None = None
    slug: str | None = None


def is_valid_tax_code(value: str) -> bool:
    """Return True for a Vietnamese tax code (mã số thuế) whose check digit is right."""
    match = _TAX_CODE_RE.match(value)
    if not match:
        return False
    digits = [int(ch) for ch in match.group(1)]
    check = 10 - sum(d * w for d, w in zip(digits[:9], _TAX_WEIGHTS, strict=True)) % 11
    return check == digits[9]


def _clean(value: str | None) -> str | None:
    cleaned = "".join((value or "").split())
    return cleaned or None


def check_legal_profile(
    business_type: BusinessType, tax_code: str | None, id_number: str | None
) -> tuple[str | None, str | None]:
    """Return the cleaned tax code and ID number, or raise ``InvalidLegalProfile``.

    Enterprises and cooperatives need a tax code; household businesses a tax code or (since
    July 2025) the owner's 12-digit personal ID; individuals their personal ID number.
    """
    tax_code, id_number = _clean(tax_code), _clean(id_number)
    if tax_code and not (is_valid_tax_code(tax_code) or _PERSONAL_ID_RE.match(tax_code)):
        raise InvalidLegalProfile(_("This tax code is not valid (10 digits, e.g. 0100109106)."))
    if id_number and not _PERSONAL_ID_RE.match(id_number):
        raise InvalidLegalProfile(_("A citizen ID number has 12 digits."))
    if business_type in {BusinessType.ENTERPRISE, BusinessType.COOPERATIVE}:
        if not tax_code or not is_valid_tax_code(tax_code):
            raise InvalidLegalProfile(_("Enterprises and cooperatives must give their tax code."))
    elif business_type == BusinessType.HOUSEHOLD:
        if not tax_code:
            raise InvalidLegalProfile(
                _("Household businesses must give their tax code or the owner's citizen ID.")
            )
    elif not id_number:
        raise InvalidLegalProfile(_("Individuals must give their citizen ID number."))
    return tax_code, id_number


def check_address(province_code: int, commune_code: int) -> None:
    if places.province(province_code) is None:
        raise InvalidAddress(_("Choose a province."))
    if not places.commune_in_province(commune_code, province_code):
        raise InvalidAddress(_("Choose a commune or ward of the chosen province."))


def check_slug(slug: str, *, shop: Shop | None = None) -> str:
    """Return ``slug`` if a shop may use it, or raise ``InvalidSlug`` / ``SlugTaken``."""
    slug = slug.strip().lower()
    if not (SLUG_MIN <= len(slug) <= SLUG_MAX) or not SLUG_RE.match(slug):
        raise InvalidSlug(
            _("Use 3–80 lower-case letters, digits and hyphens, e.g. kho-ca-loc-ut-hien.")
        )
    if slug in RESERVED_SLUGS:
        raise SlugTaken(_("This address is reserved. Choose another one."))
    query = select(Shop.id).where(Shop.slug == slug)
    if shop is not None and shop.id is not None:
        query = query.where(Shop.id != shop.id)
    if db.session.scalar(query) is not None:
        raise SlugTaken(_("Another shop already uses this address."))
    return slug


def unique_slug(name: str) -> str:
    """Return a free slug made from ``name``: "Khô Cá Lóc Út Hiền" → ``kho-ca-loc-ut-hien``."""
    base = slugify(name, max_length=SLUG_MAX - 4) or "gian-hang"
    if len(base) < SLUG_MIN:
        base = f"gian-hang-{base}"
    taken = set(db.session.scalars(select(Shop.slug).where(Shop.slug.startswith(base))))
    candidate, number = base, 2
    while candidate in taken or candidate in RESERVED_SLUGS:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def _clean_details(details: ShopDetails, shop: Shop | None) -> dict[str, object]:
    name = clean_line(details.name)
    if not has_visible_text(name):
        raise ShopError(_("Enter the shop's name."))
    check_address(details.province_code, details.commune_code)
    tax_code, id_number = check_legal_profile(
        details.business_type, details.tax_code, details.id_number
    )
    if details.slug:
        slug = check_slug(details.slug, shop=shop)
    elif shop is not None:
        slug = shop.slug
    else:
        slug = unique_slug(name)
    return {
        "name": name,
        "slug": slug,
        "description": normalise(details.description or "").strip(),
        "phone": accounts.normalise_phone(details.phone),
        "street": clean_line(details.street),
        "province_code": details.province_code,
        "commune_code": details.commune_code,
        "business_type": details.business_type,
        "tax_code": tax_code,
        "id_number": id_number,
    }


def shop_of(user: User) -> Shop | None:
    return db.session.scalar(select(Shop).where(Shop.owner_id == user.id))


def check_details(details: ShopDetails, shop: Shop | None = None) -> None:
    """Raise the ``ShopError`` the details would cause, writing nothing.

    Views call it before storing uploaded files, so a refused form leaves no file behind.
    """
    _clean_details(details, shop)


def check_can_open(owner: User, accepted_rules_version: str | None) -> None:
    if shop_of(owner) is not None:
        raise AlreadyHasShop(_("You already have a shop."))
    if accepted_rules_version != RULES_VERSION:
        raise RulesNotAccepted(_("You must accept the platform's rules to open a shop."))


def open_shop(
    owner: User,
    details: ShopDetails,
    *,
    accepted_rules_version: str | None,
    registration_document: Document | None = None,
    logo: Image | None = None,
    banner: Image | None = None,
) -> Shop:
    """Open a pending shop for ``owner``, who becomes a seller at once."""
    check_can_open(owner, accepted_rules_version)
    now = utcnow()
    shop = Shop(
        owner=owner,
        rules_version=RULES_VERSION,
        rules_accepted_at=now,
        registration_document=registration_document,
        logo=logo,
        banner=banner,
        status=ShopStatus.PENDING,
        status_changed_at=now,
        **_clean_details(details, None),
    )
    try:
        with db.session.begin_nested():
            db.session.add(shop)
    except IntegrityError as error:
        # A second submit of the same form, or another shop taking the slug, at that moment.
        if shop_of(owner) is not None:
            raise AlreadyHasShop(_("You already have a shop.")) from error
        raise SlugTaken(_("Another shop already uses this address.")) from error
    accounts.grant_seller(owner)
    db.session.flush()
    return shop


# What admins checked when they approved the shop: once it is live, changes to these wait
# for review while the checked details stay. The rest (description, contacts, address,
# pictures) applies at once.
REVIEWED_FIELDS = ("name", "business_type", "tax_code", "id_number", "registration_document_id")


def _reviewed_state(shop: Shop) -> dict[str, object]:
    state = {name: getattr(shop, name) for name in REVIEWED_FIELDS}
    state["business_type"] = str(state["business_type"])
    return state


def pending_shop_revision(shop: Shop) -> ShopRevision | None:
    return revisions.pending(db.session, ShopRevision.shop_id, shop.id)


def latest_shop_revision(shop: Shop) -> ShopRevision | None:
    """The newest change waiting or refused (what the seller's dashboard tells about)."""
    return db.session.scalar(
        select(ShopRevision)
        .where(ShopRevision.shop_id == shop.id)
        .order_by(ShopRevision.id.desc())
        .limit(1)
    )


def update_shop(
    shop: Shop,
    details: ShopDetails,
    *,
    author: User,
    registration_document: Document | None = None,
    logo: Image | None = None,
    banner: Image | None = None,
) -> bool:
    """Change the shop's details; new files replace old ones, missing ones are kept.

    Return True when the name or legal details of a live shop were staged for review.
    """
    cleaned = _clean_details(details, shop)
    if registration_document is not None:
        db.session.flush()  # the document needs its id
        cleaned["registration_document_id"] = registration_document.id
    staged = False
    if shop.status in (ShopStatus.APPROVED, ShopStatus.SUSPENDED):
        live = _reviewed_state(shop)
        pending = pending_shop_revision(shop)
        # What the form leaves out (a document not sent again) keeps its proposed value.
        base = dict(pending.content) if pending is not None else live
        proposed = {**base, **{n: cleaned.pop(n) for n in REVIEWED_FIELDS if n in cleaned}}
        proposed["business_type"] = str(proposed["business_type"])
        staged = proposed != live
        # The newest proposal replaces one still waiting (or withdraws it).
        revisions.supersede(db.session, pending)
        if staged:
            revisions.stage(
                db.session,
                ShopRevision(shop=shop, author=author, content=proposed),
                # Another save of this shop staged its change at the same moment.
                _("This shop was just saved elsewhere. Reload the page and try again."),
                error=RevisionConflict,
            )
    for field, value in cleaned.items():
        setattr(shop, field, value)
    if logo is not None:
        shop.logo = logo
    if banner is not None:
        shop.banner = banner
    db.session.flush()
    return staged


def shop_revision_changes(revision: ShopRevision) -> dict[str, tuple[object, object]]:
    """What a staged change changes: each reviewed field's live value beside the proposed."""
    live = _reviewed_state(revision.shop)
    return {
        name: (live[name], revision.content.get(name))
        for name in REVIEWED_FIELDS
        if live[name] != revision.content.get(name)
    }


def approve_shop_revision(revision: ShopRevision) -> None:
    """Swap the staged name and legal details into the live shop."""
    revisions.approve(db.session, revision, REVISIONS, _apply_revision)


def _apply_revision(revision: ShopRevision) -> None:
    content = dict(revision.content)
    content["business_type"] = BusinessType(content["business_type"])
    for name in REVIEWED_FIELDS:
        setattr(revision.shop, name, content[name])


def reject_shop_revision(revision: ShopRevision, *, reason: str) -> None:
    revisions.reject(db.session, revision, REVISIONS, reason=reason)


def change_status(shop: Shop, new_status: ShopStatus, *, reason: str | None = None) -> None:
    """Move ``shop`` to ``new_status`` if the transition table allows it."""
    shop.status_reason = TRANSITIONS.check(shop.status, new_status, reason)
    shop.status = new_status
    shop.status_changed_at = utcnow()
    db.session.flush()


def _require(shop: Shop, status: ShopStatus) -> None:
    if shop.status != status:
        raise InvalidTransition(_("This shop has already been decided."))


def approve_shop(shop: Shop, *, trusted: bool | None = None) -> None:
    """Approve a pending shop: it and its published listings become public."""
    _require(shop, ShopStatus.PENDING)
    change_status(shop, ShopStatus.APPROVED)
    if trusted is not None:
        shop.trusted = trusted


def reject_shop(shop: Shop, *, reason: str) -> None:
    change_status(shop, ShopStatus.REJECTED, reason=reason)


def resubmit_shop(shop: Shop) -> None:
    """Send a rejected shop, fixed by its owner, back to review."""
    change_status(shop, ShopStatus.PENDING)


def suspend_shop(shop: Shop, *, reason: str) -> None:
    change_status(shop, ShopStatus.SUSPENDED, reason=reason)


def reinstate_shop(shop: Shop) -> None:
    _require(shop, ShopStatus.SUSPENDED)
    change_status(shop, ShopStatus.APPROVED)


def set_trusted(shop: Shop, trusted: bool) -> None:
    """Mark a shop whose new listings publish without review (or take that back)."""
    shop.trusted = trusted


def can_see_registration_document(shop: Shop, user: User) -> bool:
    return user.is_authenticated and (user.id == shop.owner_id or user.can_moderate)


MAX_SHIPPING_FEE = 10_000_000
MAX_PRICE = 1_000_000_000
_ACCOUNT_RE = re.compile(r"^[0-9A-Za-z]{4,19}$")


@dataclass(frozen=True)
class Selling:
    """How the shop sells: its shipping fee, and the bank account shoppers transfer to."""

    shipping_fee_vnd: int
    free_shipping_from_vnd: int | None = None
    bank_bin: str | None = None
    bank_account_number: str | None = None
    bank_account_name: str | None = None


class InvalidSelling(ShopError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def set_selling(shop: Shop, selling: Selling) -> None:
    """Change the shop's shipping fee and transfer account (never reviewed: no one else's)."""
    from marketplace.payments.vietqr import BANKS

    if not 0 <= selling.shipping_fee_vnd <= MAX_SHIPPING_FEE:
        raise InvalidSelling(
            _("The shipping fee must be between 0 ₫ and 10.000.000 ₫."), "shipping_fee_vnd"
        )
    free_from = selling.free_shipping_from_vnd
    if free_from is not None and not 0 < free_from <= MAX_PRICE:
        raise InvalidSelling(_("Enter an amount above 0 ₫."), "free_shipping_from_vnd")
    bank_bin = (selling.bank_bin or "").strip() or None
    account = "".join((selling.bank_account_number or "").split()) or None
    name = clean_line(selling.bank_account_name or "").upper()
    name = name if has_visible_text(name) else None  # zero-width spaces are no name
    if bank_bin or account or name:
        if bank_bin not in BANKS:
            raise InvalidSelling(_("Choose your bank."), "bank_bin")
        if not account or not _ACCOUNT_RE.match(account):
            raise InvalidSelling(
                _("Enter the account number (4 to 19 letters and digits)."), "bank_account_number"
            )
        if not name:
            raise InvalidSelling(_("Enter the account holder's name."), "bank_account_name")
    shop.shipping_fee_vnd, shop.free_shipping_from_vnd = selling.shipping_fee_vnd, free_from
    shop.bank_bin, shop.bank_account_number = bank_bin, account
    shop.bank_account_name = name[:100] if name else None
    db.session.flush()
