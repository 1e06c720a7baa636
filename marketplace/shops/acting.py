"""Whose shop the seller pages work on: the member's own, or, for provincial staff
enrolling a farmer in person, the member an admin is acting for ("assisted mode")."""

from __future__ import annotations

from flask import session
from flask_login import current_user

from marketplace.accounts.models import User
from marketplace.extensions import db

SESSION_KEY = "acting_for"


def acting_for() -> User | None:
    """The member an admin is acting for, or None outside assisted mode."""
    member_id = session.get(SESSION_KEY)
    if member_id is None or not current_user.is_authenticated or not current_user.is_admin:
        return None
    member = db.session.get(User, member_id)
    if member is None or member.is_banned or member.can_moderate:
        session.pop(SESSION_KEY, None)
        return None
    return member


def seller() -> User:
    """The member whose shop the seller pages show and change."""
    return acting_for() or current_user._get_current_object()


def start(member: User) -> None:
    session[SESSION_KEY] = member.id


def stop() -> None:
    session.pop(SESSION_KEY, None)
