"""Checkouts, the orders they create (one per shop), their lines and history."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.core.models import TimestampMixin, UTCDateTime, text_enum, utcnow
from marketplace.extensions import db
from marketplace.shops.models import Shop


class OrderStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"  # card: until Stripe confirms; stock is held
    PLACED = "placed"  # waiting for the seller to confirm
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class PaymentMethod(enum.StrEnum):
    COD = "cod"  # cash on delivery
    VIETQR = "vietqr"  # bank transfer to the shop's account
    CARD = "card"  # Stripe Checkout, collected by the marketplace


class PaymentStatus(enum.StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"  # card confirmed by Stripe, transfer marked received, cash collected
    REFUNDED = "refunded"  # the whole amount went back


class Checkout(db.Model):
    """One submission of the checkout form; its token makes a second submission a no-op."""

    __tablename__ = "checkouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    payment_method: Mapped[PaymentMethod] = mapped_column(text_enum(PaymentMethod))
    total_vnd: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    orders: Mapped[list[Order]] = relationship(back_populates="checkout", order_by="Order.id")


class Order(TimestampMixin, db.Model):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)
    checkout_id: Mapped[int] = mapped_column(ForeignKey("checkouts.id"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[OrderStatus] = mapped_column(text_enum(OrderStatus))
    payment_method: Mapped[PaymentMethod] = mapped_column(text_enum(PaymentMethod))
    payment_status: Mapped[PaymentStatus] = mapped_column(
        text_enum(PaymentStatus), default=PaymentStatus.UNPAID
    )
    goods_vnd: Mapped[int]
    shipping_fee_vnd: Mapped[int]
    total_vnd: Mapped[int]
    refunded_vnd: Mapped[int] = mapped_column(default=0, server_default="0")
    ship_name: Mapped[str] = mapped_column(String(120))
    ship_phone: Mapped[str] = mapped_column(String(20))
    ship_street: Mapped[str] = mapped_column(String(200))
    ship_province_code: Mapped[int]
    ship_commune_code: Mapped[int] = mapped_column(index=True)
    shopper_note: Mapped[str] = mapped_column(String(500), default="")
    carrier: Mapped[str | None] = mapped_column(String(60))
    tracking_number: Mapped[str | None] = mapped_column(String(60))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # True while the order holds its lines' stock; cleared exactly once when it goes back.
    holds_stock: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Deadlines: a card order must be paid by, a placed order confirmed by.
    pay_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirm_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    checkout: Mapped[Checkout] = relationship(back_populates="orders")
    shop: Mapped[Shop] = relationship()
    buyer: Mapped[User] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", order_by="OrderEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("total_vnd = goods_vnd + shipping_fee_vnd", name="order_total"),
        CheckConstraint("refunded_vnd >= 0 AND refunded_vnd <= total_vnd", name="order_refund"),
        Index("ix_orders_buyer", "buyer_id", "id"),
        Index("ix_orders_shop_status", "shop_id", "status", "id"),
        Index("ix_orders_status_confirm_by", "status", "confirm_by"),
        Index("ix_orders_status_pay_by", "status", "pay_by"),
        Index("ix_orders_placed_at", "placed_at"),
    )

    def __repr__(self) -> str:
        return f"<Order {self.number} {self.status}>"

    @property
    def quantities(self) -> dict[int, int]:
        held: dict[int, int] = {}
        for line in self.lines:
            if line.product_id is not None:
                held[line.product_id] = held.get(line.product_id, 0) + line.quantity
        return held


class OrderLine(db.Model):
    """A listing as it was sold: name and price are copied, later edits do not reach here."""

    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    product_name: Mapped[str] = mapped_column(String(150))
    unit: Mapped[str] = mapped_column(String(20))
    unit_price_vnd: Mapped[int]
    quantity: Mapped[int]
    line_total_vnd: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="lines")

    __table_args__ = (
        CheckConstraint("quantity > 0", name="order_line_quantity"),
        CheckConstraint("line_total_vnd = unit_price_vnd * quantity", name="order_line_total"),
    )


class OrderEvent(db.Model):
    """One step of an order's history, shown to shopper and seller."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    # The state reached, or a payment step ("paid", "refunded", "collected").
    step: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
