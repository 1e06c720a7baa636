"""Pictures and private documents: checked, converted to WebP, stored by content hash.

``create_app`` calls ``init_media(app)`` and registers ``views.bp``; other domains use
``services.ingest_image``, ``services.image_url`` and ``services.store_document``.
"""

from marketplace.media.storage import init_media

__all__ = ["init_media"]
