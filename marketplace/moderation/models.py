"""The audit log (every moderation and administration action, kept for good) and
visitors' reports of listings and shops."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.core.models import UTCDateTime, text_enum, utcnow
from marketplace.extensions import db


class AuditEntry(db.Model):
    """Who did what to which target, the state before and after, and why.

    Append-only: the database itself refuses to change or delete a row (triggers below,
    created by migration 0006 as well), so no screen, script or bug can rewrite history.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # None: a command run on the server (flask shops approve …).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int]
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(500))
    # Set when staff acted for a seller (assisted onboarding): "staff X for shop Y".
    on_behalf_of_shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"))

    actor: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_audit_log_target", "target_type", "target_id", "id"),
        Index("ix_audit_log_actor", "actor_id", "id"),
    )


APPEND_ONLY_SQLITE = [
    f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    for verb in ("UPDATE", "DELETE")
]
APPEND_ONLY_POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
]

for _statement in APPEND_ONLY_SQLITE:
    event.listen(AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in APPEND_ONLY_POSTGRESQL:
    event.listen(
        AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql")
    )


class ReportReason(enum.StrEnum):
    COUNTERFEIT = "counterfeit"
    WRONG_INFORMATION = "wrong_information"
    PROHIBITED = "prohibited"
    OFFENSIVE = "offensive"
    OTHER = "other"


class Resolution(enum.StrEnum):
    DISMISS = "dismiss"
    HIDE = "hide"  # the listing
    SUSPEND = "suspend"  # the shop (of the listing)


class Report(db.Model):
    """A visitor's report of a listing or a shop ("Báo cáo vi phạm")."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    target_type: Mapped[str] = mapped_column(String(20))  # "product" or "shop"
    target_id: Mapped[int]
    reason: Mapped[ReportReason] = mapped_column(text_enum(ReportReason))
    details: Mapped[str] = mapped_column(Text, default="")
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[Resolution | None] = mapped_column(text_enum(Resolution))
    note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        # The open reports' queue, grouped by target.
        Index("ix_reports_open_target", "resolved_at", "target_type", "target_id"),
    )
