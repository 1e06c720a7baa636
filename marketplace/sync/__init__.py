"""Sync: push approved listings to national marketplaces (postmart.vn, voso.vn) and feeds.

``models`` holds channels and, per listing and channel, where the listing stands;
``services`` the rules (which listings a channel takes, at what price and stock);
``connectors/`` one module per channel type. Listing changes reach channels through the
transactional outbox's ``sync`` topic.
"""
