"""Card payments through Stripe, the webhook events received, and sellers' ledger."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.models import UTCDateTime, text_enum, utcnow
from marketplace.extensions import db
from marketplace.orders.models import Checkout


class CardPaymentStatus(enum.StrEnum):
    STARTING = "starting"  # written before the call to Stripe: the session may not exist
    OPEN = "open"
    PAID = "paid"
    EXPIRED = "expired"


class CardPayment(db.Model):
    """A Stripe Checkout Session paying for one checkout (every order in it)."""

    __tablename__ = "card_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkout_id: Mapped[int] = mapped_column(ForeignKey("checkouts.id"), unique=True)
    # Sent with the create call; the same key again returns the same session.
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    session_url: Mapped[str | None] = mapped_column(String(2000))
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    amount_vnd: Mapped[int]
    # Stripe's cumulative refunded amount (the largest seen), and the part of it no refund
    # of ours asked for (made in Stripe's dashboard), already shared out over the orders.
    refunded_vnd: Mapped[int] = mapped_column(default=0, server_default="0")
    unattributed_vnd: Mapped[int] = mapped_column(default=0, server_default="0")
    status: Mapped[CardPaymentStatus] = mapped_column(
        text_enum(CardPaymentStatus), default=CardPaymentStatus.STARTING
    )
    last_error: Mapped[str | None] = mapped_column(String(500))
    # What the session asks Stripe for, fixed at the first try so a retry sends the very
    # same request (Stripe refuses a reused idempotency key with other parameters).
    order_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    checkout: Mapped[Checkout] = relationship()


class CardRefund(db.Model):
    """Money asked back from Stripe for one order; sent once, from the outbox."""

    __tablename__ = "card_refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("card_payments.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount_vnd: Mapped[int]
    # Set once Stripe took the refund: it then counts on the order.
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StripeEvent(db.Model):
    """A webhook event already applied: Stripe delivers at least once."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    # For a refund that arrives before its payment is known: applied once it is.
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    amount_refunded_vnd: Mapped[int | None]
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerKind(enum.StrEnum):
    SALE = "sale"  # a delivered order paid to the marketplace: owed to the seller
    VAT = "vat"  # withheld for the tax office (Decree 117/2025)
    PIT = "pit"
    REFUND = "refund"
    PAYOUT = "payout"  # paid out to the seller's bank account


class LedgerEntry(db.Model):
    """One signed amount in a shop's account with the marketplace; never updated."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id"))
    kind: Mapped[LedgerKind] = mapped_column(text_enum(LedgerKind))
    amount_vnd: Mapped[int]
    # What the entry stands for ("sale:order:12", "refund:order:12:150000"): written once.
    reference: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_ledger_shop", "shop_id", "id"),)


class Payout(db.Model):
    """Money sent to a shop's bank account, marked by an admin."""

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    amount_vnd: Mapped[int]
    bank_reference: Mapped[str] = mapped_column(String(100), default="")
    made_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
