"""The database storage of rate-limit counters, as the limits library drives it."""

from __future__ import annotations

import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from marketplace.core.ratelimit import STORAGE_URI, DatabaseStorage


def test_the_scheme_names_the_database_storage(app):
    storage = storage_from_string(STORAGE_URI)

    assert isinstance(storage, DatabaseStorage)
    assert storage.check()


def test_a_moving_window_allows_the_limit_then_refuses(app):
    limiter = MovingWindowRateLimiter(storage_from_string(STORAGE_URI))
    three = parse("3 per minute")

    taken = [limiter.hit(three, "an@example.com") for _ in range(4)]

    assert taken == [True, True, True, False]
    assert not limiter.test(three, "an@example.com")
    assert limiter.test(three, "someone-else")
    reset, remaining = limiter.get_window_stats(three, "an@example.com")
    assert remaining == 0
    assert time.time() < reset <= time.time() + 60


def test_entries_older_than_the_window_no_longer_count(app):
    storage = storage_from_string(STORAGE_URI)

    assert storage.acquire_entry("k", limit=1, expiry=1)
    assert not storage.acquire_entry("k", limit=1, expiry=1)
    time.sleep(1.1)

    assert storage.acquire_entry("k", limit=1, expiry=1)


def test_clear_and_reset_forget_counted_attempts(app):
    storage = storage_from_string(STORAGE_URI)
    storage.acquire_entry("a", limit=1, expiry=60)
    storage.acquire_entry("b", limit=1, expiry=60)

    storage.clear("a")
    assert storage.acquire_entry("a", limit=1, expiry=60)
    assert storage.reset() == 2
    assert storage.get_moving_window("b", 1, 60)[1] == 0
