"""Where listings stand on the channels: per listing for its seller, per channel for admins.

Sellers see, for each listing and each channel their shop is on, one of the states of
``State``, with the external link when it is live and, when it failed, why in their own
words. Admins see each channel's health: what is live, what waits, what failed, the dead
letters, and the error rate of the last hour, which workers count in ``SyncMinute``.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from marketplace.catalog import queries as catalog_queries
from marketplace.catalog.models import Product
from marketplace.core import outbox
from marketplace.core.database import dialect_insert
from marketplace.core.models import utcnow
from marketplace.core.outbox import OutboxMessage
from marketplace.extensions import db
from marketplace.shops.models import Shop
from marketplace.sync import services
from marketplace.sync.connectors.base import MISSING_REASONS
from marketplace.sync.models import (
    Channel,
    ChannelListing,
    ConnectorType,
    ListingExclusion,
    ListingStatus,
    ShopChannel,
    SyncMinute,
)

DEAD_LETTERS_SHOWN = 100
KEEP_MINUTES = timedelta(days=2)


class State(enum.StrEnum):
    LIVE = "live"
    PENDING = "pending"
    FAILED = "failed"
    DELISTED = "delisted"
    EXCLUDED = "excluded"
    NOT_SENT = "not_sent"  # not on sale here, and never sent


@dataclass(frozen=True)
class ListingOnChannel:
    channel: Channel
    state: State
    url: str | None = None
    problem: str | None = None  # why it failed, for the seller


# -- what sellers see ----------------------------------------------------------------------


def shop_channels(shop: Shop) -> list[tuple[Channel, bool]]:
    """The enabled channels, each with whether ``shop`` shows its listings there."""
    joined = set(
        db.session.scalars(select(ShopChannel.channel_id).where(ShopChannel.shop_id == shop.id))
    )
    channels = db.session.scalars(
        select(Channel).where(Channel.enabled.is_(True)).order_by(Channel.name)
    )
    return [(channel, channel.id in joined) for channel in channels]


def problem_text(channel: Channel, binding: ChannelListing) -> str:
    """Why ``binding``'s listing is not on ``channel``, in words its seller understands."""
    details = binding.details or {}
    problem = details.get("problem")
    if problem == "missing":
        reasons = [str(MISSING_REASONS.get(name, name)) for name in details.get("missing", [])]
        return _(
            "%(channel)s cannot take it yet: %(reasons)s. Fix the listing and save it; "
            "it is sent again by itself.",
            channel=channel.name,
            reasons=", ".join(reasons),
        )
    if problem == "refused":
        return _(
            "%(channel)s refused it, saying: “%(message)s”. If the listing needs a fix, "
            "save it fixed and it is sent again; otherwise the admins will see to it.",
            channel=channel.name,
            message=binding.last_error or "",
        )
    return _(
        "%(channel)s did not answer, so it could not be sent. The admins can see this "
        "and will send it again.",
        channel=channel.name,
    )


def listings_on_channels(
    shop: Shop, products: Iterable[Product]
) -> dict[int, list[ListingOnChannel]]:
    """For each of ``products``, where it stands on each enabled channel ``shop`` is on."""
    products = list(products)
    channels = [channel for channel, joined in shop_channels(shop) if joined]
    ids = [product.id for product in products]
    if not channels or not ids:
        return {product_id: [] for product_id in ids}
    channel_ids = [channel.id for channel in channels]
    bindings = {
        (binding.product_id, binding.channel_id): binding
        for binding in db.session.scalars(
            select(ChannelListing).where(
                ChannelListing.product_id.in_(ids), ChannelListing.channel_id.in_(channel_ids)
            )
        )
    }
    excluded = {
        (row.product_id, row.channel_id)
        for row in db.session.execute(
            select(ListingExclusion.product_id, ListingExclusion.channel_id).where(
                ListingExclusion.product_id.in_(ids)
            )
        )
    }
    keys = [f"{channel_id}:{product_id}" for channel_id in channel_ids for product_id in ids]
    waiting = set(
        db.session.scalars(
            select(OutboxMessage.key).where(
                OutboxMessage.topic == services.TOPIC,
                OutboxMessage.key.in_(keys),
                OutboxMessage.dead_at.is_(None),
            )
        )
    )
    public = set(
        db.session.scalars(
            catalog_queries.public_products()
            .with_only_columns(Product.id)
            .where(Product.id.in_(ids))
        )
    )
    pictured = {product.id for product in products if product.images}
    result: dict[int, list[ListingOnChannel]] = {}
    for product_id in ids:
        states = result[product_id] = []
        for channel in channels:
            binding = bindings.get((product_id, channel.id))
            if channel.connector == ConnectorType.FEED:
                # Pulled, not pushed: a listing is in the feed as soon as it may be.
                states.append(_in_feed(channel, product_id in public, product_id in pictured,
                                       (product_id, channel.id) in excluded))  # fmt: skip
            elif (product_id, channel.id) in excluded and (
                binding is None or binding.status != ListingStatus.LIVE
            ):
                states.append(ListingOnChannel(channel, State.EXCLUDED))
            elif f"{channel.id}:{product_id}" in waiting or (
                binding is not None and binding.status == ListingStatus.PENDING
            ):
                states.append(ListingOnChannel(channel, State.PENDING))
            elif binding is None:
                state = State.PENDING if product_id in public else State.NOT_SENT
                states.append(ListingOnChannel(channel, state))
            elif binding.status == ListingStatus.LIVE:
                states.append(ListingOnChannel(channel, State.LIVE, url=binding.external_url))
            elif binding.status == ListingStatus.FAILED:
                states.append(
                    ListingOnChannel(channel, State.FAILED, problem=problem_text(channel, binding))
                )
            else:
                states.append(ListingOnChannel(channel, State.DELISTED))
    return result


def _in_feed(channel: Channel, public: bool, pictured: bool, excluded: bool) -> ListingOnChannel:
    if excluded:
        return ListingOnChannel(channel, State.EXCLUDED)
    if not public:
        return ListingOnChannel(channel, State.NOT_SENT)
    if not pictured:  # the one field a feed requires (FeedConnector.required)
        reason = str(MISSING_REASONS["image_urls"])
        return ListingOnChannel(
            channel, State.FAILED,
            problem=_("%(channel)s cannot take it yet: %(reasons)s. Fix the listing and save "
                      "it; it is sent again by itself.", channel=channel.name, reasons=reason),
        )  # fmt: skip
    return ListingOnChannel(channel, State.LIVE)


# -- what admins see -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelHealth:
    channel: Channel
    live: int
    live_shops: int
    pending: int
    failed: int
    dead: int
    queue_depth: int
    oldest_pending_s: float
    requests_last_hour: int
    errors_last_hour: int

    @property
    def error_rate(self) -> float:
        return self.errors_last_hour / self.requests_last_hour if self.requests_last_hour else 0.0


def live_shops(channel: Channel) -> int:
    """How many shops have at least one listing live on ``channel``."""
    return (
        db.session.scalar(
            select(func.count(func.distinct(Product.shop_id)))
            .join(ChannelListing, ChannelListing.product_id == Product.id)
            .where(
                ChannelListing.channel_id == channel.id,
                ChannelListing.status == ListingStatus.LIVE,
            )
        )
        or 0
    )


def shops_on(channel: Channel) -> int:
    """How many shops chose to show their listings on ``channel``."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(ShopChannel)
            .where(ShopChannel.channel_id == channel.id)
        )
        or 0
    )


def health(channel: Channel) -> ChannelHealth:
    figures = services.status(channel)
    requests, errors = db.session.execute(
        select(func.coalesce(func.sum(SyncMinute.requests), 0),
               func.coalesce(func.sum(SyncMinute.errors), 0))
        .where(SyncMinute.channel_id == channel.id,
               SyncMinute.minute > utcnow() - timedelta(hours=1))
    ).one()  # fmt: skip
    return ChannelHealth(
        channel=channel,
        live=int(figures["live"]),
        live_shops=live_shops(channel),
        pending=int(figures["pending"]),
        failed=int(figures["failed"]),
        dead=int(figures["dead"]),
        queue_depth=int(figures["queue_depth"]),
        oldest_pending_s=float(figures["oldest_pending_s"]),
        requests_last_hour=int(requests),
        errors_last_hour=int(errors),
    )


def all_health() -> list[ChannelHealth]:
    channels = db.session.scalars(select(Channel).order_by(Channel.name))
    return [health(channel) for channel in channels]


@dataclass(frozen=True)
class DeadLetter:
    id: int
    product_id: int
    product_name: str | None
    attempts: int
    error: str | None
    dead_at: datetime


def dead_letters(channel: Channel, *, limit: int = DEAD_LETTERS_SHOWN) -> list[DeadLetter]:
    """The channel's dead letters, newest first, with the listing each was for."""
    rows = db.session.execute(
        select(OutboxMessage)
        .where(
            OutboxMessage.topic == services.TOPIC,
            OutboxMessage.key.startswith(f"{channel.id}:"),
            OutboxMessage.dead_at.is_not(None),
        )
        .order_by(OutboxMessage.dead_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    ).scalars()
    letters = [(row, int(row.key.partition(":")[2])) for row in rows]
    names = dict(
        db.session.execute(
            select(Product.id, Product.name).where(Product.id.in_([pid for _, pid in letters]))
        ).all()
    )
    return [
        DeadLetter(
            row.id, product_id, names.get(product_id), row.attempts, row.last_error, row.dead_at
        )
        for row, product_id in letters
    ]


def retry_dead(channel: Channel, message_ids: Iterable[int] | None = None) -> int:
    """Give the channel's dead letters (all, or these) another chance; return how many."""
    query = select(OutboxMessage.id).where(
        OutboxMessage.topic == services.TOPIC,
        OutboxMessage.key.startswith(f"{channel.id}:"),
        OutboxMessage.dead_at.is_not(None),
    )
    if message_ids is not None:
        query = query.where(OutboxMessage.id.in_(list(message_ids)))
    ids = list(db.session.scalars(query))
    db.session.rollback()  # revive writes on a connection of its own
    return outbox.revive(ids)


@dataclass(frozen=True)
class LiveOnChannel:
    name: str
    shops: int
    listings: int


def live_by_channel() -> list[LiveOnChannel]:
    """Shops and listings live on each channel (the provincial report's figure)."""
    listings = dict(
        db.session.execute(
            select(ChannelListing.channel_id, func.count())
            .where(ChannelListing.status == ListingStatus.LIVE)
            .group_by(ChannelListing.channel_id)
        ).all()
    )
    shops = dict(
        db.session.execute(
            select(ChannelListing.channel_id, func.count(func.distinct(Product.shop_id)))
            .join(Product, Product.id == ChannelListing.product_id)
            .where(ChannelListing.status == ListingStatus.LIVE)
            .group_by(ChannelListing.channel_id)
        ).all()
    )
    channels = db.session.scalars(select(Channel).order_by(Channel.name))
    return [
        LiveOnChannel(channel.name, shops.get(channel.id, 0), listings.get(channel.id, 0))
        for channel in channels
        if channel.enabled or channel.id in listings
    ]


# -- what workers count ----------------------------------------------------------------------

# (channel id, minute) → [requests, errors], added to the table once a batch.
_counts: dict[tuple[int, datetime], Counter[str]] = {}


def count_request(channel_id: int, *, failed: bool) -> None:
    """Note one request to a channel and whether it failed (written by ``flush_counts``)."""
    minute = utcnow().replace(second=0, microsecond=0)
    tally = _counts.setdefault((channel_id, minute), Counter())
    tally["requests"] += 1
    tally["errors"] += int(failed)


def flush_counts() -> None:
    """Add the counted requests to ``SyncMinute``, and forget minutes older than two days."""
    if not _counts:
        return
    pending = dict(_counts)
    _counts.clear()
    with Session(db.engine) as session:
        if session.get_bind().dialect.name == "sqlite":
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        insert = dialect_insert(session)
        for (channel_id, minute), tally in sorted(pending.items()):
            statement = insert(SyncMinute).values(
                channel_id=channel_id, minute=minute,
                requests=tally["requests"], errors=tally["errors"],
            )  # fmt: skip
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["channel_id", "minute"],
                    set_={
                        "requests": SyncMinute.requests + statement.excluded.requests,
                        "errors": SyncMinute.errors + statement.excluded.errors,
                    },
                )
            )
        session.execute(delete(SyncMinute).where(SyncMinute.minute < utcnow() - KEEP_MINUTES))
        session.commit()
