"""Every domain's models, imported in one place for metadata and migrations."""

from marketplace.accounts.models import Role, User
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
    "Category",
    "Channel",
    "ChannelListing",
    "Document",
    "Image",
    "ListingExclusion",
    "OutboxMessage",
    "Product",
    "ProductImage",
    "ProductRevision",
    "RateLimitEntry",
    "Report",
    "Role",
    "Shop",
    "ShopChannel",
    "ShopRevision",
    "SyncMinute",
    "User",
]
