"""Moderation: admins' decisions on shops and listings, each recorded in the audit log.

The rules of each state change live in ``shops.services`` and ``catalog.services``; this
module adds what a decision by a person needs: the row locked so two admins cannot both
decide it, the audit entry, and the mail to the seller once the decision is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, or_, select

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.catalog import ocop
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product, ProductRevision, ProductStatus, RevisionStatus
from marketplace.core.errors import DomainError, NotFound
from marketplace.core.mail import queue_mail
from marketplace.core.security import external_url
from marketplace.extensions import db
from marketplace.moderation.models import AuditEntry
from marketplace.shops import services as shops
from marketplace.shops.models import Shop, ShopRevision, ShopStatus


class ModerationError(DomainError):
    pass


class AlreadyDecided(ModerationError):
    """Someone else decided the item first; nothing was applied."""


# The reasons admins pick most; "other" needs words of its own.
REJECTION_REASONS: dict[str, Any] = {
    "photos": _l("Photos are unclear or do not show the real product"),
    "description": _l("The description is missing, wrong or misleading"),
    "category": _l("The listing is in the wrong category"),
    "price": _l("The price or unit is wrong"),
    "prohibited": _l("The goods may not be sold on the marketplace"),
    "legal": _l("The business or tax details are incomplete or wrong"),
    "ocop": _l("The OCOP claim does not match the certificate"),
    "counterfeit": _l("Counterfeit or imitation goods"),
    "offensive": _l("Offensive content"),
    "other": _l("Other"),
}


def reason_text(code: str | None, details: str | None) -> str:
    """The reason the seller reads: the chosen reason, then the admin's own words."""
    details = (details or "").strip()
    if code not in REJECTION_REASONS:
        raise ModerationError(_("Choose a reason: the seller will see it."))
    if code == "other":
        if not details:
            raise ModerationError(_("Say what is wrong: the seller will see it."))
        return details[:500]
    label = str(REJECTION_REASONS[code])
    return f"{label}. {details}"[:500] if details else label


Target = Shop | ShopRevision | Product | ProductRevision | User


def record(
    actor: User | None,
    action: str,
    target: Target | tuple[str, int],
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None = None,
    on_behalf_of: Shop | None = None,
) -> AuditEntry:
    """Add one entry to the audit log; ``target`` is a row, or a (type, id) pair for what
    is not one (an import of the OCOP list)."""
    if isinstance(target, tuple):
        target_type, target_id = target
    else:
        target_type, target_id = TARGET_TYPES[type(target)], target.id
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
        reason=reason,
        on_behalf_of_shop_id=on_behalf_of.id if on_behalf_of else None,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


TARGET_TYPES: dict[type, str] = {
    Shop: "shop",
    ShopRevision: "shop_revision",
    Product: "product",
    ProductRevision: "revision",
    User: "user",
}
# What the audit log can be narrowed to: those, and the OCOP list's imports.
AUDIT_TARGETS = (*TARGET_TYPES.values(), "ocop")


def _locked(model: type, item_id: int) -> Any:
    """The row, locked until the transaction ends (PostgreSQL; SQLite's write requests
    already run one at a time), and read afresh: a decision made meanwhile is seen."""
    item = db.session.get(model, item_id, with_for_update=True, populate_existing=True)
    if item is None:
        raise NotFound(_("This item no longer exists."))
    return item


def _shop_state(shop: Shop) -> dict[str, Any]:
    return {"status": str(shop.status), "reason": shop.status_reason, "trusted": shop.trusted}


def _product_state(product: Product) -> dict[str, Any]:
    return {"status": str(product.status), "reason": product.status_reason}


def _revision_state(revision: ProductRevision | ShopRevision) -> dict[str, Any]:
    return {"status": str(revision.status), "reason": revision.reason}


def _tell_seller(owner: User, subject: str, body: str) -> None:
    dashboard = external_url("shops.dashboard")
    queue_mail(owner.email, subject, f"{body}\n\n{dashboard}\n")


# -- queues ------------------------------------------------------------------------------


def shop_queue() -> list[Shop]:
    """Shops waiting for a decision, oldest first."""
    return list(
        db.session.scalars(
            select(Shop).where(Shop.status == ShopStatus.PENDING).order_by(Shop.updated_at, Shop.id)
        )
    )


def shop_revision_queue() -> list[ShopRevision]:
    """Changes to live shops' names and legal details waiting for a decision, oldest first."""
    return list(
        db.session.scalars(
            select(ShopRevision)
            .where(ShopRevision.status == RevisionStatus.PENDING)
            .order_by(ShopRevision.created_at, ShopRevision.id)
        )
    )


def product_queue() -> list[Product]:
    """Listings waiting for a decision, oldest first (a suspended shop's wait for it)."""
    return list(
        db.session.scalars(
            select(Product)
            .join(Product.shop)
            .where(Product.status == ProductStatus.PENDING, Shop.status != ShopStatus.SUSPENDED)
            .order_by(Product.updated_at, Product.id)
        )
    )


def _check_shop_not_suspended(product: Product) -> None:
    # Reinstating a shop brings back exactly what was public when it was suspended.
    if product.shop.status == ShopStatus.SUSPENDED:
        raise ModerationError(
            _("This listing's shop is suspended: decide once the shop is reinstated.")
        )


def revision_queue() -> list[ProductRevision]:
    """Edits of live listings waiting for a decision, oldest first."""
    return list(
        db.session.scalars(
            select(ProductRevision)
            .where(ProductRevision.status == RevisionStatus.PENDING)
            .order_by(ProductRevision.created_at, ProductRevision.id)
        )
    )


def _about_shop(shop: Shop) -> ColumnElement[bool]:
    """Audit entries about ``shop``: the shop, its changes, its listings and their edits."""
    product_ids = select(Product.id).where(Product.shop_id == shop.id)
    revision_ids = select(ProductRevision.id).where(ProductRevision.product_id.in_(product_ids))
    shop_revision_ids = select(ShopRevision.id).where(ShopRevision.shop_id == shop.id)
    return or_(
        (AuditEntry.target_type == "shop") & (AuditEntry.target_id == shop.id),
        (AuditEntry.target_type == "shop_revision") & AuditEntry.target_id.in_(shop_revision_ids),
        (AuditEntry.target_type == "product") & AuditEntry.target_id.in_(product_ids),
        (AuditEntry.target_type == "revision") & AuditEntry.target_id.in_(revision_ids),
    )


def rejections_of_shop(shop: Shop) -> int:
    """How often this shop's listings and edits were refused (the seller's history)."""
    query = select(db.func.count(AuditEntry.id)).where(
        AuditEntry.action.in_(("product.reject", "revision.reject")), _about_shop(shop)
    )
    return db.session.scalar(query) or 0


# -- decisions ---------------------------------------------------------------------------


def _change(
    actor: User | None,
    item: Target,
    action: str,
    apply: Callable[[], object],
    state: Callable[[Any], dict[str, Any]],
    *,
    reason: str | None = None,
    tell: tuple[User, str, str] | None = None,
) -> None:
    """Apply one change to a locked item, record it with the state before and after, and
    (once it commits) tell the seller ``tell``: owner, subject, body."""
    before = state(item)
    apply()
    record(actor, action, item, before=before, after=state(item), reason=reason)
    if tell is not None:
        _tell_seller(*tell)


def _conclude(
    actor: User | None,
    item: Shop | Product | ProductRevision | ShopRevision,
    *,
    action: str,
    approve: bool,
    reason: str | None,
    approve_item: Callable[..., object],
    refuse_item: Callable[..., object],
    state: Callable[[Any], dict[str, Any]],
    owner: User,
    approved: tuple[str, str],
    refused: tuple[str, str],
) -> None:
    """What every decision shares once its item is locked and known to be waiting."""
    if approve:
        _change(actor, item, f"{action}.approve", lambda: approve_item(item), state,
                tell=(owner, *approved))  # fmt: skip
        return
    reason = (reason or "").strip()[:500]
    subject, body = refused
    body = _("Reason: %(reason)s", reason=reason) + "\n" + body
    _change(actor, item, f"{action}.reject", lambda: refuse_item(item, reason=reason), state,
            reason=reason, tell=(owner, subject, body))  # fmt: skip


def decide_shop(
    actor: User | None, shop_id: int, *, approve: bool, reason: str | None = None
) -> Shop:
    shop = _locked(Shop, shop_id)
    if shop.status != ShopStatus.PENDING:
        raise AlreadyDecided(_("This shop has already been decided."))
    _conclude(
        actor, shop, action="shop", approve=approve, reason=reason,
        approve_item=shops.approve_shop, refuse_item=shops.reject_shop, state=_shop_state,
        owner=shop.owner,
        approved=(
            _("Your shop %(name)s is approved", name=shop.name),
            _("Your shop is open: shoppers can now see it and its listings."),
        ),
        refused=(
            _("Your shop %(name)s needs changes", name=shop.name),
            _("Fix the details and send the shop for review again from your dashboard."),
        ),
    )  # fmt: skip
    return shop


def decide_product(
    actor: User | None, product_id: int, *, approve: bool, reason: str | None = None
) -> Product:
    product = _locked(Product, product_id)
    if product.status != ProductStatus.PENDING:
        raise AlreadyDecided(_("This listing has already been decided."))
    if approve:
        _check_shop_not_suspended(product)
    _conclude(
        actor, product, action="product", approve=approve, reason=reason,
        approve_item=catalog.approve_product, refuse_item=catalog.reject_product,
        state=_product_state, owner=product.shop.owner,
        approved=(
            _("Your listing %(name)s is approved", name=product.name),
            _("The listing is published: shoppers can find it now."),
        ),
        refused=(
            _("Your listing %(name)s needs changes", name=product.name),
            _("Edit the listing and submit it again from your dashboard."),
        ),
    )  # fmt: skip
    return product


def decide_revision(
    actor: User | None, revision_id: int, *, approve: bool, reason: str | None = None
) -> ProductRevision:
    revision = _locked(ProductRevision, revision_id)
    if revision.status != RevisionStatus.PENDING:
        raise AlreadyDecided(_("This edit has already been decided."))
    product = revision.product
    _conclude(
        actor, revision, action="revision", approve=approve, reason=reason,
        approve_item=catalog.approve_revision, refuse_item=catalog.reject_revision,
        state=_revision_state, owner=product.shop.owner,
        approved=(
            _("Your changes to %(name)s are approved", name=product.name),
            _("The listing now shows your changes."),
        ),
        refused=(
            _("Your changes to %(name)s were not accepted", name=product.name),
            _("The listing still shows its earlier version."),
        ),
    )  # fmt: skip
    return revision


def decide_shop_revision(
    actor: User | None, revision_id: int, *, approve: bool, reason: str | None = None
) -> ShopRevision:
    revision = _locked(ShopRevision, revision_id)
    if revision.status != RevisionStatus.PENDING:
        raise AlreadyDecided(_("This change has already been decided."))
    shop = revision.shop
    _conclude(
        actor, revision, action="shop_revision", approve=approve, reason=reason,
        approve_item=shops.approve_shop_revision, refuse_item=shops.reject_shop_revision,
        state=_revision_state, owner=shop.owner,
        approved=(
            _("The new details of %(name)s are approved", name=shop.name),
            _("Shoppers now see the shop's new name and details."),
        ),
        refused=(
            _("The new details of %(name)s were not accepted", name=shop.name),
            _("Shoppers still see the approved name and details."),
        ),
    )  # fmt: skip
    return revision


DECIDERS: dict[str, Callable[..., object]] = {
    "shop": decide_shop,
    "shop_revision": decide_shop_revision,
    "product": decide_product,
    "revision": decide_revision,
}


@dataclass
class BulkOutcome:
    decided: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # decided by someone else meanwhile
    missing: list[int] = field(default_factory=list)  # no such item


# The row each kind of decision is about.
DECIDED_MODELS: dict[str, type] = {
    "shop": Shop,
    "shop_revision": ShopRevision,
    "product": Product,
    "revision": ProductRevision,
}
_ID_CHUNK = 1000


def decide_many(
    actor: User | None,
    kind: str,
    ids: Iterable[int],
    *,
    approve: bool,
    reason: str | None = None,
) -> BulkOutcome:
    """Decide several items alike; those already decided or gone are skipped, not failed.

    Which ids exist is read in one query per thousand ids, so a form full of ids that
    name nothing costs no query per id. No savepoints: both kinds of skip are found before
    anything is changed, and any other refusal fails the whole batch, so nothing is
    decided half-way.
    """
    decide, model = DECIDERS[kind], DECIDED_MODELS[kind]
    wanted = list(dict.fromkeys(ids))
    existing: set[int] = set()
    for start in range(0, len(wanted), _ID_CHUNK):
        chunk = wanted[start : start + _ID_CHUNK]
        existing.update(db.session.scalars(select(model.id).where(model.id.in_(chunk))))
    outcome = BulkOutcome()
    for item_id in wanted:
        if item_id not in existing:
            outcome.missing.append(item_id)
            continue
        try:
            decide(actor, item_id, approve=approve, reason=reason)
        except (AlreadyDecided, NotFound):
            outcome.skipped.append(item_id)
        else:
            outcome.decided.append(item_id)
    return outcome


# -- after publication ---------------------------------------------------------------------


def hide_product(actor: User | None, product_id: int, *, reason: str) -> Product:
    """Take a published listing off every page, search and channel; the seller is told."""
    product = _locked(Product, product_id)
    reason = reason.strip()[:500]
    _change(
        actor, product, "product.hide", lambda: catalog.hide_product(product, reason=reason),
        _product_state, reason=reason,
        tell=(
            product.shop.owner,
            _("Your listing %(name)s has been hidden", name=product.name),
            _("Reason: %(reason)s", reason=reason),
        ),
    )  # fmt: skip
    return product


def unhide_product(actor: User | None, product_id: int) -> Product:
    product = _locked(Product, product_id)
    _check_shop_not_suspended(product)
    _change(
        actor, product, "product.unhide", lambda: catalog.unhide_product(product),
        _product_state,
        tell=(
            product.shop.owner,
            _("Your listing %(name)s is shown again", name=product.name),
            _("The listing is published: shoppers can find it now."),
        ),
    )  # fmt: skip
    return product


def suspend_shop(actor: User | None, shop_id: int, *, reason: str) -> Shop:
    """Hide a shop and all its listings. Listings keep their own states, so reinstating
    brings back exactly those that were published, and nothing else."""
    shop = _locked(Shop, shop_id)
    reason = reason.strip()[:500]
    _change(
        actor, shop, "shop.suspend", lambda: shops.suspend_shop(shop, reason=reason),
        _shop_state, reason=reason,
        tell=(
            shop.owner,
            _("Your shop %(name)s has been suspended", name=shop.name),
            _("Reason: %(reason)s", reason=reason),
        ),
    )  # fmt: skip
    return shop


def reinstate_shop(actor: User | None, shop_id: int) -> Shop:
    shop = _locked(Shop, shop_id)
    if shop.owner.is_banned:
        raise ModerationError(_("The owner's account is banned: unban it first."))
    _change(
        actor, shop, "shop.reinstate", lambda: shops.reinstate_shop(shop), _shop_state,
        tell=(
            shop.owner,
            _("Your shop %(name)s is open again", name=shop.name),
            _("Your shop is open: shoppers can now see it and its listings."),
        ),
    )  # fmt: skip
    return shop


def set_trusted(actor: User | None, shop_id: int, *, trusted: bool) -> Shop:
    shop = _locked(Shop, shop_id)
    action = "shop.trust" if trusted else "shop.untrust"
    _change(actor, shop, action, lambda: shops.set_trusted(shop, trusted), _shop_state)
    return shop


def _user_state(user: User) -> dict[str, Any]:
    return {"status": "banned" if user.is_banned else "active", "reason": user.ban_reason}


def ban_user(actor: User | None, user_id: int, *, reason: str) -> User:
    """Lock a member out everywhere; their shop is suspended (or refused, if pending)."""
    user = _locked(User, user_id)
    if user.can_moderate:
        raise ModerationError(_("An administrator cannot be banned."))
    if user.is_banned:
        raise AlreadyDecided(_("This member is already banned."))
    reason = reason.strip()[:500]
    _change(actor, user, "user.ban", lambda: accounts.ban_member(user, reason=reason),
            _user_state, reason=reason)  # fmt: skip
    shop = shops.shop_of(user)
    if shop is not None and shop.status == ShopStatus.APPROVED:
        suspend_shop(actor, shop.id, reason=reason)
    elif shop is not None and shop.status == ShopStatus.PENDING:
        decide_shop(actor, shop.id, approve=False, reason=reason)
    return user


def unban_user(actor: User | None, user_id: int) -> User:
    """Let a member in again. Their shop stays suspended until an admin reinstates it."""
    user = _locked(User, user_id)
    if not user.is_banned:
        raise AlreadyDecided(_("This member is not banned."))
    _change(actor, user, "user.unban", lambda: accounts.unban_member(user), _user_state)
    return user


# -- assisted mode -------------------------------------------------------------------------


def start_assisting(actor: User, member: User) -> None:
    if member.can_moderate or member.is_banned:
        raise ModerationError(_("Staff can act only for members who are not banned."))
    record(actor, "assist.start", member, before=None, after=None,
           on_behalf_of=shops.shop_of(member))  # fmt: skip


def stop_assisting(actor: User, member: User) -> None:
    record(actor, "assist.stop", member, before=None, after=None,
           on_behalf_of=shops.shop_of(member))  # fmt: skip


def record_assisted(actor: User, member: User, what: str) -> None:
    """Record one change staff made on a seller's pages, for the member and their shop."""
    shop = shops.shop_of(member)
    record(actor, "assist.action", member, before=None, after={"page": what},
           on_behalf_of=shop)  # fmt: skip


# -- the OCOP list --------------------------------------------------------------------------


def import_ocop_list(actor: User, content: bytes) -> ocop.ImportOutcome:
    outcome = ocop.import_list(content)
    after = {
        "added": outcome.added,
        "updated": outcome.updated,
        "verified_listings": outcome.verified_listings,
    }
    record(actor, "ocop.import", ("ocop", 0), before=None, after=after)
    return outcome


# -- what sellers see ------------------------------------------------------------------------

ACTION_LABELS: dict[str, Any] = {
    "shop.approve": _l("Shop approved"),
    "shop.reject": _l("Shop refused"),
    "shop.suspend": _l("Shop suspended"),
    "shop.reinstate": _l("Shop reinstated"),
    "shop.trust": _l("Shop trusted: new listings publish without review"),
    "shop.untrust": _l("New listings wait for review again"),
    "product.approve": _l("Listing approved"),
    "product.reject": _l("Listing refused"),
    "product.hide": _l("Listing hidden"),
    "product.unhide": _l("Listing shown again"),
    "revision.approve": _l("Changes approved"),
    "revision.reject": _l("Changes refused"),
    "shop_revision.approve": _l("New shop details approved"),
    "shop_revision.reject": _l("New shop details refused"),
    "user.ban": _l("Member banned"),
    "user.unban": _l("Member unbanned"),
    "user.role": _l("Staff rights granted"),
    "reports.dismiss": _l("Reports dismissed"),
    "reports.hide": _l("Reports resolved: listing hidden"),
    "reports.suspend": _l("Reports resolved: shop suspended"),
    "ocop.import": _l("OCOP list imported"),
    "assist.start": _l("Staff began acting for the member"),
    "assist.stop": _l("Staff stopped acting for the member"),
    "assist.action": _l("Staff acted for the member"),
}


@dataclass(frozen=True)
class Decision:
    entry: AuditEntry
    subject: str  # the shop's or the listing's name

    @property
    def label(self) -> str:
        return str(ACTION_LABELS.get(self.entry.action, self.entry.action))


def decisions_for_shop(shop: Shop, limit: int = 20) -> list[Decision]:
    """Admins' decisions on a shop, its listings and their edits, newest first."""
    entries = list(
        db.session.scalars(
            select(AuditEntry)
            .where(_about_shop(shop), AuditEntry.action.not_like("reports.%"))
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    )
    # Names only for the listings these entries are about.
    revision_ids = {e.target_id for e in entries if e.target_type == "revision"}
    product_of_revision = dict(
        db.session.execute(
            select(ProductRevision.id, ProductRevision.product_id).where(
                ProductRevision.id.in_(revision_ids)
            )
        ).all()
    )
    product_ids = {e.target_id for e in entries if e.target_type == "product"}
    product_ids |= set(product_of_revision.values())
    names = dict(
        db.session.execute(
            select(Product.id, Product.name).where(Product.id.in_(product_ids))
        ).all()
    )

    def subject(entry: AuditEntry) -> str:
        if entry.target_type in ("shop", "shop_revision"):
            return shop.name
        if entry.target_type == "revision":
            return names.get(product_of_revision.get(entry.target_id), "")
        return names.get(entry.target_id, "")

    return [Decision(entry, subject(entry)) for entry in entries]


# -- finding things -------------------------------------------------------------------------


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_shops(text: str, status: str | None) -> Select[tuple[Shop]]:
    query = select(Shop).order_by(Shop.id.desc())
    if text:
        query = query.where(Shop.name.ilike(_like(text), escape="\\") | (Shop.slug == text))
    if status:
        query = query.where(Shop.status == status)
    return query


def find_products(text: str, status: str | None) -> Select[tuple[Product]]:
    query = select(Product).order_by(Product.id.desc())
    if text:
        query = query.where(Product.name.ilike(_like(text), escape="\\"))
    if status:
        query = query.where(Product.status == status)
    return query


def find_users(text: str) -> Select[tuple[User]]:
    query = select(User).order_by(User.id.desc())
    if text:
        query = query.where(
            User.email.ilike(_like(text), escape="\\")
            | User.full_name.ilike(_like(text), escape="\\")
        )
    return query


def audit_entries(
    *, target_type: str | None = None, target_id: int | None = None, actor_id: int | None = None
) -> Select[tuple[AuditEntry]]:
    """The audit log, newest first, narrowed to a target or an admin."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    return query
