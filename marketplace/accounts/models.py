"""The member account."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.models import TimestampMixin, UTCDateTime, text_enum
from marketplace.extensions import db


class Role(enum.StrEnum):
    SHOPPER = "shopper"
    SELLER = "seller"
    # Moderation (queues, reports, hiding, suspending, the audit log and the report),
    # but not members' accounts, assisted mode or the OCOP list.
    MODERATOR = "moderator"
    ADMIN = "admin"


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))
    role: Mapped[Role] = mapped_column(
        text_enum(Role),
        default=Role.SHOPPER,
        server_default=Role.SHOPPER.value,
    )
    # Part of the id Flask-Login keeps in the session and remember cookie: rotating it
    # logs the member out everywhere (password change, reset, ban).
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    banned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ban_reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (db.Index("ix_users_role", "role"),)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.banned_at is None

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_moderate(self) -> bool:
        return self.role in (Role.ADMIN, Role.MODERATOR)

    @property
    def is_banned(self) -> bool:
        return self.banned_at is not None
