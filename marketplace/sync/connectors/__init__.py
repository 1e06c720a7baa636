"""One module per channel type, behind the small interface of ``base.Connector``."""

from __future__ import annotations

from marketplace.sync.connectors.base import Connector, ListingPayload, connector_for
from marketplace.sync.connectors.feed import FeedConnector
from marketplace.sync.connectors.postmart import PostmartConnector
from marketplace.sync.connectors.voso import VosoConnector

__all__ = [
    "Connector",
    "FeedConnector",
    "ListingPayload",
    "PostmartConnector",
    "VosoConnector",
    "connector_for",
]
