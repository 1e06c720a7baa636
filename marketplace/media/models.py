"""Uploaded pictures and private documents."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.models import TimestampMixin
from marketplace.extensions import db


class Image(TimestampMixin, db.Model):
    """A public picture, stored only as WebP derivatives named by ``sha256``.

    ``sha256`` is the hash of the encoded 1200 px derivative, so it names the normalised
    picture, not the upload: the same photo sent again, or sent with different metadata,
    finds this row. ``width``, ``height``, ``format`` and ``size_bytes`` describe the first
    upload (after EXIF orientation); the original file itself is never kept.
    """

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    format: Mapped[str] = mapped_column(String(10))
    size_bytes: Mapped[int]

    def __repr__(self) -> str:
        return f"<Image {self.id} {self.sha256[:12]} {self.width}x{self.height}>"


class Document(TimestampMixin, db.Model):
    """A private file kept as uploaded, such as a shop's business-registration scan."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<Document {self.id} {self.filename!r}>"
