"""Build the demo dataset. Same seed, same data: no clock, no network."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import hash_password
from marketplace.core.text import fold
from marketplace.demo.names import (
    GIVEN_FEMALE,
    GIVEN_MALE,
    MIDDLE_FEMALE,
    MIDDLE_MALE,
    MOBILE_PREFIXES,
    SURNAMES,
)
from marketplace.extensions import db

# The province's report: 460 member accounts, 202 shops, 542 products.
DEMO_ACCOUNTS = 460
DEMO_PASSWORD = "chocamau-demo"  # noqa: S105 - published in the README for the demo
ADMIN_EMAIL = "admin@example.com"
# Timestamps count from a fixed day, so two seeds of the same version are identical.
EPOCH = datetime(2025, 7, 1, 1, 0, tzinfo=UTC)
SEED = 20250701


@dataclass
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)


def database_is_empty() -> bool:
    return db.session.scalar(select(func.count()).select_from(User)) == 0


def seed_demo(seed: int = SEED) -> DemoSummary:
    """Insert the demo dataset into an empty database (the caller commits)."""
    rng = random.Random(seed)
    users = seed_accounts(rng)
    return DemoSummary(counts={"accounts": len(users)})


def _person(rng: random.Random) -> str:
    surnames, weights = zip(*SURNAMES, strict=True)
    surname = rng.choices(surnames, weights=weights)[0]
    if rng.random() < 0.5:
        return f"{surname} {rng.choice(MIDDLE_MALE)} {rng.choice(GIVEN_MALE)}"
    return f"{surname} {rng.choice(MIDDLE_FEMALE)} {rng.choice(GIVEN_FEMALE)}"


def _phone(rng: random.Random) -> str:
    return "+84" + rng.choice(MOBILE_PREFIXES)[1:] + f"{rng.randrange(10**7):07d}"


def seed_accounts(rng: random.Random) -> list[User]:
    """Create the admin and the members (shop owners become sellers with their shops)."""
    # One hash for every demo account: argon2id is slow on purpose, 460 times is a minute.
    password_hash = hash_password(DEMO_PASSWORD)
    users = [
        User(
            email=ADMIN_EMAIL,
            password_hash=password_hash,
            full_name="Ban Quản trị Chợ Cà Mau",
            phone="+842903831234",
            role=Role.ADMIN,
            created_at=EPOCH,
            updated_at=EPOCH,
        )
    ]
    seen: set[str] = {ADMIN_EMAIL}
    for index in range(1, DEMO_ACCOUNTS):
        name = _person(rng)
        local = ".".join(fold(name).split())
        email = f"{local}@example.com"
        if email in seen:
            email = f"{local}.{index}@example.com"
        seen.add(email)
        joined = EPOCH + timedelta(days=rng.randrange(480), minutes=rng.randrange(24 * 60))
        users.append(
            User(
                email=email,
                password_hash=password_hash,
                full_name=name,
                phone=_phone(rng),
                role=Role.SHOPPER,
                created_at=joined,
                updated_at=joined,
            )
        )
    db.session.add_all(users)
    db.session.flush()
    return users
