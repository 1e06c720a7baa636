"""The sync rules: channels, which listings each takes, at what price and stock.

A channel is configured (``add_channel``), its categories mapped, then enabled once its
``preview`` shows nothing refused for an unmapped category. Shops opt in
(``opt_in``); every change to a public listing of an opted-in shop, or a listing that
stops being public, enqueues a ``sync`` message per channel in the same transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from marketplace.catalog import queries as catalog_queries
from marketplace.catalog.models import Category, Product
from marketplace.core import outbox
from marketplace.core.errors import DomainError, NotFound
from marketplace.core.models import utcnow
from marketplace.core.outbox import OutboxMessage
from marketplace.core.security import external_url
from marketplace.core.text import clean_line, has_visible_text
from marketplace.core.urls import (
    InvalidWebAddress,
    is_public_address,
    literal_address,
    split_web_url,
)
from marketplace.extensions import db
from marketplace.media.services import derivative_key
from marketplace.shops.models import Shop, ShopStatus
from marketplace.sync import secrets
from marketplace.sync.connectors import ListingPayload, connector_for
from marketplace.sync.connectors.base import MISSING_REASONS
from marketplace.sync.models import (
    Channel,
    ChannelListing,
    ConnectorType,
    ListingExclusion,
    ListingStatus,
    ShopChannel,
)

TOPIC = "sync"
FEED_BATCH = 500
PRICE_STEP_VND = 1000
MAX_STOCK = 1_000_000
_CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
_LOCAL_SUFFIXES = (".local", ".internal", ".localhost", ".lan", ".home.arpa", ".corp")


class ChannelError(DomainError):
    """A channel setting was refused; the message says why."""


# -- channels ------------------------------------------------------------------------------


def check_base_url(url: str, *, production: bool) -> str:
    """Return a channel's base URL when it is safe to send listings and credentials to.

    https, or plain http to this machine outside production (the simulator); never a
    user name in the URL; in production no private, link-local or loopback address, so
    a mistyped or malicious setting cannot point the worker at internal services.
    """
    try:
        parts = split_web_url(url)
    except InvalidWebAddress as error:
        raise ChannelError(str(error)) from None
    host = (parts.hostname or "").lower().rstrip(".")
    address = literal_address(host)
    loopback = host in _LOOPBACK_NAMES or bool(address and address.is_loopback)
    if parts.scheme.lower() == "http" and (production or not loopback):
        raise ChannelError(_("Use https:// (plain http only to this machine, for testing)."))
    if production and (
        loopback
        or "." not in host
        or host.endswith(_LOCAL_SUFFIXES)
        or (address is not None and not is_public_address(address))
    ):
        raise ChannelError(_("A channel cannot be on a private or local network address."))
    # A public name may still resolve to a private address (or be made to, later): the
    # connector checks what it resolves to before each request in production.
    return url.strip().rstrip("/")


def add_channel(
    *,
    code: str,
    name: str,
    connector: str,
    base_url: str | None,
    credentials: str | None,
    requests_per_second: float = 5.0,
    production: bool = False,
    new: bool = False,
) -> Channel:
    """Create a channel (disabled), or update the one with this code; credentials sealed.

    ``new`` refuses a code already taken (the back office's "add" never updates). The
    type of a channel that is on, or still holds listings of ours, cannot change: its
    listings there would be left behind, out of reach of the new connector.
    """
    code = (code or "").strip().lower()
    if not code or len(code) > 40 or not set(code) <= _CODE_CHARS:
        raise ChannelError(_("A channel code is lower-case letters, digits and dashes."))
    try:
        kind = ConnectorType(connector)
    except ValueError:
        raise ChannelError(_("Choose postmart, voso or feed.")) from None
    if kind != ConnectorType.FEED:
        if not base_url:
            raise ChannelError(_("Give the channel's base URL."))
        base_url = check_base_url(base_url, production=production)
    elif base_url:
        raise ChannelError(_("A feed channel has no base URL: the channel fetches the feed."))
    if not 0 < requests_per_second <= 1000:
        raise ChannelError(_("The request rate is between 0 and 1000 per second."))
    name = clean_line(name or code)
    if not has_visible_text(name) or len(name) > 120:
        raise ChannelError(_("Give the channel a name (at most 120 characters)."))
    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    if channel is not None and new:
        raise ChannelError(_("A channel with this code exists already."))
    if channel is None:
        channel = Channel(code=code, enabled=False, category_map={})
    elif channel.connector != kind and (channel.enabled or _holds_listings(channel)):
        raise ChannelError(
            _("Switch the channel off and let its listings be removed before changing its type.")
        )
    channel.name, channel.connector = name, kind
    channel.base_url = base_url or None
    channel.requests_per_second = requests_per_second
    if credentials is not None:
        channel.credentials_encrypted = secrets.seal(credentials) if credentials else None
    db.session.add(channel)
    db.session.flush()
    return channel


def _holds_listings(channel: Channel) -> bool:
    return (
        db.session.scalar(
            select(ChannelListing.id)
            .where(ChannelListing.channel_id == channel.id)
            .where(ChannelListing.status != ListingStatus.DELISTED)
            .limit(1)
        )
        is not None
    )


def channel_by_code(code: str) -> Channel:
    channel = db.session.scalar(select(Channel).where(Channel.code == (code or "").lower()))
    if channel is None:
        raise NotFound(_("There is no channel %(code)s.", code=code))
    return channel


def map_category(channel: Channel, category: Category, channel_category_id: str) -> None:
    """Send ``category``'s listings to the channel's ``channel_category_id``."""
    target = clean_line(channel_category_id)
    if not target or len(target) > 120:
        raise ChannelError(_("Give the channel's category id."))
    channel.category_map = {**(channel.category_map or {}), str(category.id): target}


def set_category_map(channel: Channel, targets: dict[int, str]) -> None:
    """Map each of ``targets``' categories of ours to the channel's (blank: to none);
    categories not named keep their mapping.

    Every listing of a category whose target changed is queued again.
    """
    known = set(db.session.scalars(select(Category.id).where(Category.id.in_(list(targets)))))
    old_map = channel.category_map or {}
    new_map = dict(old_map)
    for category_id, target in targets.items():
        if category_id not in known:
            continue
        target = clean_line(target or "")
        if len(target) > 120:
            raise ChannelError(_("A channel category id has at most 120 characters."))
        if target:
            new_map[str(category_id)] = target
        else:
            new_map.pop(str(category_id), None)
    changed = {key for key in {*old_map, *new_map} if old_map.get(key) != new_map.get(key)}
    channel.category_map = new_map
    if channel.enabled and changed:
        enqueue_listings(channel, list(db.session.scalars(
            _candidate_query(channel).with_only_columns(Product.id)
            .where(Product.category_id.in_([int(key) for key in changed]))
        )))  # fmt: skip


def set_rules(
    channel: Channel,
    *,
    markup_percent: float = 0.0,
    markup_vnd: int = 0,
    stock_held_back: int = 0,
    stock_max_shown: int | None = None,
) -> None:
    """Set the price rule (a mark-up, rounded to 1 000 đ) and the stock rule."""
    if not 0 <= markup_percent <= 100 or not 0 <= markup_vnd <= 10_000_000:
        raise ChannelError(_("A mark-up is 0–100 % and 0–10.000.000 ₫."))
    if not 0 <= stock_held_back <= MAX_STOCK or (
        stock_max_shown is not None and not 0 <= stock_max_shown <= MAX_STOCK
    ):
        raise ChannelError(_("Stock rules are whole numbers from 0 to 1.000.000."))
    before = (channel.price_markup_percent, channel.price_markup_vnd,
              channel.stock_held_back, channel.stock_max_shown)  # fmt: skip
    channel.price_markup_percent, channel.price_markup_vnd = markup_percent, markup_vnd
    channel.stock_held_back, channel.stock_max_shown = stock_held_back, stock_max_shown
    if channel.enabled and before != (markup_percent, markup_vnd, stock_held_back,
                                      stock_max_shown):  # fmt: skip
        # Every price or stock shown there changes: the worker pushes those that differ.
        enqueue_listings(channel, list(db.session.scalars(
            _candidate_query(channel).with_only_columns(Product.id)
        )))  # fmt: skip


def channel_price(channel: Channel, price_vnd: int) -> int:
    """The price shown on the channel: ours plus the mark-up, to the nearest 1 000 đ."""
    raised = Decimal(price_vnd) * (1 + Decimal(str(channel.price_markup_percent)) / 100)
    raised += channel.price_markup_vnd
    steps = (raised / PRICE_STEP_VND).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(PRICE_STEP_VND, int(steps) * PRICE_STEP_VND)


def channel_stock(channel: Channel, stock: int) -> int:
    """The stock shown on the channel: some units held back, and at most a maximum."""
    shown = max(0, stock - (channel.stock_held_back or 0))
    if channel.stock_max_shown is not None:
        shown = min(shown, channel.stock_max_shown)
    return shown


# -- listings on a channel -----------------------------------------------------------------


def listing_reference(product: Product) -> str:
    """Our stable reference of a listing on every channel (their seller SKU)."""
    return listing_reference_of(product.id)


REFERENCE_PREFIX = "cm-"


def listing_reference_of(product_id: int) -> str:
    return f"{REFERENCE_PREFIX}{product_id}"


def payload(channel: Channel, product: Product) -> ListingPayload:
    """What ``channel`` is sent for ``product``, after its category map and rules."""
    mapped = (channel.category_map or {}).get(str(product.category_id))
    return ListingPayload(
        reference=listing_reference(product),
        name=product.name,
        description=product.description_md,
        price_vnd=channel_price(channel, product.price_vnd),
        compare_at_price_vnd=channel_price(channel, product.compare_at_price_vnd)
        if product.compare_at_price_vnd
        else None,
        stock=channel_stock(channel, product.stock),
        unit=product.unit,
        weight_grams=product.weight_grams,
        category_id=mapped,
        image_urls=tuple(
            external_url("media.file", key=derivative_key(picture.image.sha256, 1200))
            for picture in product.images
        ),
        url=external_url("catalog.product_detail", product_id=product.id, slug=product.slug),
        brand=product.shop.name,
        gtin=product.gtin,
        ocop_stars=product.ocop_stars,
        origin=product.origin or "",
    )


def _candidate_query(channel: Channel) -> Select[tuple[Product]]:
    """The public listings of the shops on ``channel``, less the ones their sellers kept off."""
    opted_in = select(ShopChannel.shop_id).where(ShopChannel.channel_id == channel.id)
    excluded = select(ListingExclusion.product_id).where(ListingExclusion.channel_id == channel.id)
    return catalog_queries.public_products().where(
        Product.shop_id.in_(opted_in), Product.id.not_in(excluded)
    )


def _candidates(channel: Channel) -> Iterator[Product]:
    """The candidates in id order, loaded a few hundred at a time (a province may have
    500 000): never the whole catalogue in memory at once."""
    ids = list(
        db.session.scalars(
            _candidate_query(channel).with_only_columns(Product.id).order_by(Product.id)
        )
    )
    for start in range(0, len(ids), FEED_BATCH):
        query = catalog_queries.with_cards(catalog_queries.public_products())
        query = query.where(Product.id.in_(ids[start : start + FEED_BATCH]))
        yield from db.session.scalars(query.order_by(Product.id)).unique()


def feed_items(channel: Channel) -> Iterator[ListingPayload]:
    """Every listing the channel takes, as a full snapshot (a feed, a bulk-upload sheet)."""
    connector = connector_for(channel.connector)
    for product in _candidates(channel):
        item = payload(channel, product)
        if not connector.missing(item):
            yield item


def bulk_sheet(channel: Channel) -> Iterator[str]:
    """The channel's bulk-upload sheet (CSV, docs/channels/), a row at a time: for
    uploading by hand where the channel's API cannot be used. Starts with a UTF-8 BOM,
    without which Excel shows Vietnamese as mojibake."""
    connector = connector_for(channel.connector)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(connector.bulk_columns())
    for item in feed_items(channel):
        writer.writerow(connector.bulk_row(item))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@dataclass
class Preview:
    """What enabling a channel would push, and what it would refuse, with the reasons."""

    pushable: list[Product] = field(default_factory=list)
    refused: list[tuple[Product, list[str]]] = field(default_factory=list)

    @property
    def unmapped_categories(self) -> set[int]:
        return {
            product.category_id for product, missing in self.refused if "category_id" in missing
        }


def refusal_reasons(missing: list[str]) -> list[str]:
    """Why a channel refuses a listing, in a seller's words, from the fields it lacks."""
    return [str(MISSING_REASONS.get(name, name)) for name in missing]


def preview(channel: Channel) -> Preview:
    """Sort the channel's candidate listings into those it would take and those it refuses."""
    connector = connector_for(channel.connector)
    result = Preview()
    for product in _candidates(channel):
        missing = connector.missing(payload(channel, product))
        if missing:
            result.refused.append((product, missing))
        else:
            result.pushable.append(product)
    return result


def enable_channel(channel: Channel, *, map_rest: str | None = None) -> Preview:
    """Enable ``channel`` and queue its listings; refused while categories are unmapped.

    ``map_rest`` maps every category of ours not mapped yet to that channel category.
    Listings refused for another reason (no picture…) stay off until their seller fixes
    them; the preview returned says which.
    """
    result = preview(channel)
    unmapped = result.unmapped_categories
    if unmapped and map_rest is None:
        names = sorted(
            db.session.scalars(select(Category.name_vi).where(Category.id.in_(unmapped)))
        )
        raise ChannelError(
            _(
                "Map these categories to the channel's first: %(names)s.",
                names=", ".join(names),
            )
        )
    if map_rest is not None:
        # Every category not yet mapped, listings in it or not: one added later is sent too.
        mapped = {int(key) for key in channel.category_map or {}}
        for category in db.session.scalars(select(Category).where(Category.id.not_in(mapped))):
            map_category(channel, category, map_rest)
    channel.enabled = True
    db.session.flush()
    result = preview(channel)
    # The refused are queued too: the worker records why, for their sellers to read.
    enqueue_listings(
        channel, [product.id for product in result.pushable]
        + [product.id for product, _missing in result.refused],
    )  # fmt: skip
    return result


def opt_in(shop: Shop, channel: Channel) -> bool:
    """Show ``shop``'s listings on ``channel``; return False when it already was."""
    if db.session.get(ShopChannel, (shop.id, channel.id)) is not None:
        return False
    db.session.add(ShopChannel(shop_id=shop.id, channel_id=channel.id, created_at=utcnow()))
    db.session.flush()
    if channel.enabled:
        enqueue_listings(channel, list(db.session.scalars(
            select(Product.id).where(Product.shop_id == shop.id)
        )))  # fmt: skip
    return True


def opt_in_approved_shops(channel: Channel) -> tuple[int, int]:
    """Show every approved shop's listings on ``channel``; return (added, already there)."""
    shops = db.session.scalars(
        select(Shop).where(Shop.status == ShopStatus.APPROVED).order_by(Shop.id)
    ).all()
    added = sum(opt_in(shop, channel) for shop in shops)
    return added, len(shops) - added


def opt_out(shop: Shop, channel: Channel) -> bool:
    """Take ``shop``'s listings off ``channel``; return False when it was not on it.

    The shop's listings are enqueued by the change collector: the worker finds them no
    longer opted in and removes them from the channel.
    """
    joined = db.session.get(ShopChannel, (shop.id, channel.id))
    if joined is None:
        return False
    db.session.delete(joined)
    db.session.flush()
    return True


def _check_own(shop: Shop, product: Product) -> None:
    if product.shop_id != shop.id:
        raise NotFound(product.id)


def exclude_listing(shop: Shop, product: Product, channel: Channel) -> bool:
    """Keep one of ``shop``'s listings off ``channel``; False when it already was."""
    _check_own(shop, product)
    if db.session.get(ListingExclusion, (product.id, channel.id)) is not None:
        return False
    db.session.add(ListingExclusion(product_id=product.id, channel_id=channel.id))
    db.session.flush()
    return True


def include_listing(shop: Shop, product: Product, channel: Channel) -> bool:
    """Let an excluded listing go to ``channel`` again; False when it was not excluded."""
    _check_own(shop, product)
    exclusion = db.session.get(ListingExclusion, (product.id, channel.id))
    if exclusion is None:
        return False
    db.session.delete(exclusion)
    db.session.flush()
    return True


def disable_channel(channel: Channel) -> int:
    """Stop sending to ``channel`` and remove what we placed there; return how many.

    Every listing the channel may hold is enqueued: the worker, finding the channel
    disabled, deletes it there.
    """
    channel.enabled = False
    # What the channel may hold: live, being sent (an answer may have been lost), or
    # refused after it was there; never-sent refusals have nothing to remove.
    held = list(
        db.session.scalars(
            select(ChannelListing.product_id).where(
                ChannelListing.channel_id == channel.id,
                ChannelListing.status.in_([ListingStatus.LIVE, ListingStatus.PENDING])
                | ChannelListing.external_id.is_not(None),
            )
        )
    )
    enqueue_listings(channel, held)
    db.session.flush()
    return len(held)


def enqueue_listings(channel: Channel, product_ids: list[int]) -> None:
    """Queue a push (or a removal) of each listing to ``channel``, in this transaction."""
    outbox.enqueue_many(
        TOPIC, [(f"{channel.id}:{product_id}", {}) for product_id in sorted(set(product_ids))]
    )


# -- every change reaches the channels -----------------------------------------------------


def _listings_to_sync(session: Session, changed: set[object]) -> None:
    """Enqueue a sync of each changed listing to every enabled channel its shop is on.

    A listing that stopped being public is enqueued too: its handler delists it. The
    message carries ids only; the worker renders the listing's latest state when it
    sends, so ten edits in a row are one push.
    """
    products: set[int] = set()
    shops: set[int] = set()
    joined_or_left: set[tuple[int, int]] = set()
    for obj in changed:
        if isinstance(obj, Product) and obj.id is not None:
            products.add(obj.id)
        elif isinstance(obj, ListingExclusion):
            products.add(obj.product_id)
        elif isinstance(obj, Shop) and obj.id is not None:
            shops.add(obj.id)  # suspended, reinstated, renamed: all its listings
        elif isinstance(obj, ShopChannel):
            # Joined or left: its row may be gone already, so the pair is kept as it is.
            joined_or_left.add((obj.shop_id, obj.channel_id))
    if not products and not shops and not joined_or_left:
        return
    queries = [
        select(Product.id, ShopChannel.channel_id)
        .join(ShopChannel, ShopChannel.shop_id == Product.shop_id)
        .join(Channel, Channel.id == ShopChannel.channel_id)
        .where(Channel.enabled.is_(True))
        .where(Product.id.in_(products) | Product.shop_id.in_(shops)),
        *(
            select(Product.id, Channel.id)
            .join(Channel, Channel.id == channel_id)
            .where(Product.shop_id == shop_id, Channel.enabled.is_(True))
            for shop_id, channel_id in joined_or_left
        ),
    ]
    rows = {(product_id, channel_id) for query in queries
            for product_id, channel_id in session.execute(query)}  # fmt: skip
    if rows:
        outbox.enqueue_many(
            TOPIC,
            [(f"{channel_id}:{product_id}", {}) for product_id, channel_id in sorted(rows)],
            session=session,
        )


outbox.collect_before_commit(_listings_to_sync)


def status(channel: Channel | None = None) -> dict[str, float | int]:
    """Where listings stand on ``channel`` (or on all channels), and the sync queue."""
    query = select(ChannelListing.status, func.count()).group_by(ChannelListing.status)
    excluded = select(func.count()).select_from(ListingExclusion)
    if channel is not None:
        query = query.where(ChannelListing.channel_id == channel.id)
        excluded = excluded.where(ListingExclusion.channel_id == channel.id)
    counts = {str(state): count for state, count in db.session.execute(query)}
    in_topic = [OutboxMessage.topic == TOPIC]
    if channel is not None:
        in_topic.append(OutboxMessage.key.startswith(f"{channel.id}:"))
    waiting, oldest = db.session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(
            *in_topic, OutboxMessage.dead_at.is_(None)
        )
    ).one()
    dead = db.session.scalar(
        select(func.count()).where(*in_topic, OutboxMessage.dead_at.is_not(None))
    )
    return {
        "live": counts.get("live", 0),
        "pending": counts.get("pending", 0),
        "failed": counts.get("failed", 0),
        "delisted": counts.get("delisted", 0),
        "excluded": db.session.scalar(excluded) or 0,
        "dead": dead or 0,
        "queue_depth": waiting or 0,
        "oldest_pending_s": round((utcnow() - oldest).total_seconds(), 1) if oldest else 0,
    }
