"""Channels, the shops that opted into them, and each listing's state on each channel."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.models import TimestampMixin, UTCDateTime, text_enum
from marketplace.extensions import db


class ConnectorType(enum.StrEnum):
    POSTMART = "postmart"
    VOSO = "voso"
    # A pull feed (Google Merchant XML, CSV) for channels that ingest feeds: no base URL.
    FEED = "feed"


class Channel(TimestampMixin, db.Model):
    """An external marketplace the province's listings can be shown on."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    connector: Mapped[ConnectorType] = mapped_column(text_enum(ConnectorType))
    base_url: Mapped[str | None] = mapped_column(String(500))
    # Fernet token (sync.secrets); never shown again once saved.
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    requests_per_second: Mapped[float] = mapped_column(Float, default=5.0)
    # Our category id (as text: JSON keys) → the channel's category id.
    category_map: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    price_markup_percent: Mapped[float] = mapped_column(Float, default=0.0)
    price_markup_vnd: Mapped[int] = mapped_column(Integer, default=0)
    stock_held_back: Mapped[int] = mapped_column(Integer, default=0)
    stock_max_shown: Mapped[int | None] = mapped_column(Integer)
    # The rate limit's "theoretical arrival time" (GCRA, seconds since the epoch): the
    # next request may go at this moment, whichever worker sends it.
    rate_tat: Mapped[float | None] = mapped_column(Float)

    def __repr__(self) -> str:
        return f"<Channel {self.code} {self.connector}>"


class ShopChannel(db.Model):
    """A shop that chose to show its listings on a channel."""

    __tablename__ = "shop_channels"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    channel: Mapped[Channel] = relationship()


class ListingExclusion(db.Model):
    """A single listing its seller keeps off a channel the shop is on."""

    __tablename__ = "listing_exclusions"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)


class ListingStatus(enum.StrEnum):
    PENDING = "pending"
    LIVE = "live"
    FAILED = "failed"
    DELISTED = "delisted"


class ChannelListing(TimestampMixin, db.Model):
    """Where one listing stands on one channel: the binding between our row and theirs."""

    __tablename__ = "channel_listings"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(120))
    external_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[ListingStatus] = mapped_column(
        text_enum(ListingStatus), default=ListingStatus.PENDING
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    # SHA-256 of the payload last accepted by the channel: the same content is not sent twice.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    channel: Mapped[Channel] = relationship()

    __table_args__ = (
        UniqueConstraint("channel_id", "product_id"),
        UniqueConstraint("channel_id", "external_id"),
    )


class SyncMinute(db.Model):
    """How many sends the workers made to a channel in one minute, and how many failed.

    A send is one message that reached the channel (voso's look-up and create count as
    one); ``requests`` is that count. Health reads the last hour's error rate from here;
    workers add their counts once a batch, so a killed worker loses at most one batch of
    figures, never work.
    """

    __tablename__ = "sync_minutes"

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    minute: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
