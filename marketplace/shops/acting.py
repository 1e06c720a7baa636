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
    state = session.get(SESSION_KEY)
    if not state or not current_user.is_authenticated or not current_user.is_admin:
        return None
    staff_id, member_id = state
    if staff_id != current_user.id:  # another admin logged in on this browser since
        session.pop(SESSION_KEY, None)
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
    # Who started it is kept too: the mode belongs to that admin's log-in, no one else's.
    session[SESSION_KEY] = [current_user.id, member.id]


def stop() -> None:
    session.pop(SESSION_KEY, None)


def end_for(staff: User) -> User | None:
    """End ``staff``'s assisted mode (at log-out, say); return the member it was for."""
    state = session.pop(SESSION_KEY, None)
    if not state or state[0] != staff.id:
        return None
    return db.session.get(User, state[1])
