"""The outbox when a key is enqueued again between a look and a write (PostgreSQL's read
committed lets another transaction commit in between): the newer message is kept, the
older dropped, and nothing fails on the one-waiting-message-per-key index.

The interleaving is forced by letting the look miss the twin once, on the real database.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from marketplace.core import outbox
from marketplace.core.outbox import OutboxMessage
from marketplace.extensions import db


@pytest.fixture
def look_misses_once(monkeypatch):
    """The first look for a waiting twin misses it, as if it were committed just after."""
    real = outbox._waiting_twin
    calls = []

    def late(*args):
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(outbox, "_waiting_twin", late)
    return calls


def rows() -> list[tuple[str, dict, bool]]:
    db.session.rollback()
    query = select(OutboxMessage).where(OutboxMessage.topic == "test").order_by(OutboxMessage.id)
    return [(m.key, m.payload, m.dead_at is not None) for m in db.session.scalars(query)]


def test_a_retry_racing_a_new_enqueue_keeps_the_newer_message(app, look_misses_once):
    app.config["OUTBOX_HANDLE_AFTER_COMMIT"] = False
    outbox.enqueue("test", "k", {"n": 1})
    db.session.commit()
    [claimed] = outbox.claim("test", worker="w1", lease=timedelta(seconds=60))
    outbox.enqueue("test", "k", {"n": 2})
    db.session.commit()

    outbox.retry(claimed, error="503", delay=timedelta(0))

    assert len(look_misses_once) == 2  # the update hit the index, and the twin was found
    assert rows() == [("k", {"n": 2}, False)]


def test_a_revived_dead_letter_racing_a_new_enqueue_gives_way_to_it(app, look_misses_once):
    app.config["OUTBOX_HANDLE_AFTER_COMMIT"] = False
    outbox.enqueue("test", "k", {"n": 1})
    db.session.commit()
    [claimed] = outbox.claim("test", worker="w1")
    outbox.bury(claimed, error="dead")
    outbox.enqueue("test", "k", {"n": 2})
    db.session.commit()

    assert outbox.revive([claimed.id]) == 1

    assert rows() == [("k", {"n": 2}, False)]


def test_a_key_another_worker_is_claiming_right_now_is_left_to_it(app):
    """PostgreSQL: a claim in flight holds each of its keys' advisory locks until it
    commits; a second claim meanwhile skips those keys instead of reading a snapshot
    that does not show the first claim yet."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: claims never overlap")
    app.config["OUTBOX_HANDLE_AFTER_COMMIT"] = False
    outbox.enqueue_many("test", [("k", {}), ("other", {})])
    db.session.commit()
    with db.engine.connect() as first_claim:
        first_claim.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('test:k', 0))"))
        assert [m.key for m in outbox.claim("test", worker="w2")] == ["other"]
        first_claim.rollback()
    assert [m.key for m in outbox.claim("test", worker="w2")] == ["k"]
