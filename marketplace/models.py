"""Every domain's models, imported in one place for metadata and migrations."""

from marketplace.accounts.models import Role, User
from marketplace.cart.models import CartItem
from marketplace.catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductRevision,
)
from marketplace.core.outbox import OutboxMessage
from marketplace.core.pagecache import CacheGeneration
from marketplace.core.ratelimit import RateLimitEntry
from marketplace.media.models import Document, Image
from marketplace.moderation.models import AuditEntry, Report
from marketplace.orders.models import Checkout, Order, OrderEvent, OrderLine
from marketplace.payments.models import CardPayment, CardRefund, LedgerEntry, Payout, StripeEvent
from marketplace.shops.models import Shop, ShopRevision
from marketplace.sync.models import (
    Channel,
    ChannelListing,
    ListingExclusion,
    ShopChannel,
    SyncMinute,
)

__all__ = [
    "AuditEntry",
    "CacheGeneration",
    "CardPayment",
    "CardRefund",
    "CartItem",
    "Category",
    "Channel",
    "ChannelListing",
    "Checkout",
    "Document",
    "Image",
    "LedgerEntry",
    "ListingExclusion",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OutboxMessage",
    "Payout",
    "Product",
    "ProductImage",
    "ProductRevision",
    "RateLimitEntry",
    "Report",
    "Role",
    "Shop",
    "ShopChannel",
    "ShopRevision",
    "StripeEvent",
    "SyncMinute",
    "User",
]
