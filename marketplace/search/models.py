"""Index updates waiting to be applied."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.models import UTCDateTime, utcnow
from marketplace.extensions import db


class SearchPending(db.Model):
    """A listing whose index entry must be refreshed (written with the change itself).

    A row stays until some process has applied it under the index lock, so a crash or a
    busy index never loses an update: the next writer, or ``flask search apply``, does it.
    """

    __tablename__ = "search_pending"

    product_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
