"""Small callable factories for test data; each writes through the real services."""

from __future__ import annotations

import itertools
from typing import Any

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.extensions import db

DEFAULT_PASSWORD = "mat-khau-an-toan-2026"
_sequence = itertools.count(1)


def make_user(
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    full_name: str = "Nguyễn Thị Hiền",
    phone: str = "0912 345 678",
    role: Role = Role.SHOPPER,
    **fields: Any,
) -> User:
    user = accounts.register_member(
        email=email or f"member{next(_sequence)}@example.com",
        password=password,
        full_name=full_name,
        phone=phone,
    )
    user.role = role
    for name, value in fields.items():
        setattr(user, name, value)
    db.session.commit()
    return user
