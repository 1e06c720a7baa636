"""The transactional outbox: written with the change, handled once, whatever dies when."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from marketplace.catalog.models import ProductStatus
from marketplace.core import mail, outbox
from marketplace.core.models import utcnow
from marketplace.core.outbox import OutboxMessage
from marketplace.extensions import db
from marketplace.search import services as search
from tests.factories import make_product, make_shop

ROOT = Path(__file__).resolve().parents[2]


def waiting(topic: str) -> list[OutboxMessage]:
    db.session.rollback()  # a fresh snapshot: the outbox is handled on other connections
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == topic)))


def crash_after_commit(app, tmp_path, action: str, product_id: int) -> None:
    db.session.commit()
    process = subprocess.run(
        [sys.executable, "-m", "tests.core.crash_after_commit",
         app.config["SQLALCHEMY_DATABASE_URI"], str(tmp_path / "crashed"), action,
         str(product_id)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
        timeout=120,
    )  # fmt: skip
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()[-2000:]


def test_a_message_commits_with_the_change_and_rolls_back_with_it(app):
    product = make_product()
    app.config["OUTBOX_HANDLE_AFTER_COMMIT"] = False

    outbox.enqueue("test", "a", {"n": 1})
    db.session.rollback()
    assert waiting("test") == []

    outbox.enqueue("test", "a", {"n": 1})
    product.stock = 3
    db.session.commit()
    assert [(m.key, m.payload) for m in waiting("test")] == [("a", {"n": 1})]


def test_repeated_messages_for_one_key_coalesce_into_the_latest(app):
    app.config["OUTBOX_HANDLE_AFTER_COMMIT"] = False
    for n in range(10):
        outbox.enqueue("test", "listing-7", {"n": n})
        db.session.commit()

    [message] = waiting("test")
    assert message.payload == {"n": 9}


def test_a_claimed_message_is_not_claimed_twice_and_a_new_one_waits_beside_it(app):
    app.config["OUTBOX_HANDLE_AFTER_COMMIT"] = False
    outbox.enqueue("test", "k", {"n": 1})
    db.session.commit()

    [first] = outbox.claim("test", worker="w1", lease=timedelta(seconds=60))
    assert outbox.claim("test", worker="w2") == []
    outbox.enqueue("test", "k", {"n": 2})  # a change made while the first is handled
    db.session.commit()
    # The key is in hand: the newer message waits until the first is done.
    assert outbox.claim("test", worker="w2") == []
    outbox.complete([first])
    [second] = outbox.claim("test", worker="w2")

    assert first.payload == {"n": 1}
    assert second.id != first.id and second.payload == {"n": 2}


def test_a_worker_whose_claim_was_taken_over_cannot_complete_or_retry_it(app):
    app.config["OUTBOX_HANDLE_AFTER_COMMIT"] = False
    outbox.enqueue("test", "k")
    db.session.commit()
    [late] = outbox.claim("test", worker="slow", lease=timedelta(seconds=-1))
    [taken] = outbox.claim("test", worker="fast")

    assert outbox.renew([late]) == []
    outbox.retry(late, error="too late", delay=timedelta(0))
    outbox.complete([late])
    [still] = waiting("test")
    assert (still.claimed_by, still.last_error) == ("fast", None)
    outbox.complete([taken])
    assert waiting("test") == []


def test_a_worker_that_died_leaves_its_claim_to_be_taken_over(app):
    app.config["OUTBOX_HANDLE_AFTER_COMMIT"] = False
    outbox.enqueue("test", "k")
    db.session.commit()
    [dead_workers] = outbox.claim("test", worker="dead", lease=timedelta(seconds=-1))

    [taken_over] = outbox.claim("test", worker="alive")

    assert taken_over.id == dead_workers.id
    assert taken_over.attempts == 2


def test_failures_are_retried_later_then_kept_as_dead_letters(app):
    app.config["OUTBOX_HANDLE_AFTER_COMMIT"] = False
    outbox.enqueue("test", "k")
    db.session.commit()

    def fail(message: outbox.Message) -> None:
        raise RuntimeError("channel down")

    assert outbox.drain_each("test", fail, max_attempts=2, backoff=lambda n: timedelta(0)) == 0
    [retried] = waiting("test")
    assert (retried.attempts, retried.dead_at, retried.last_error) == (
        1, None, "RuntimeError: channel down"
    )  # fmt: skip
    outbox.drain_each("test", fail, max_attempts=2, backoff=lambda n: timedelta(0))
    [dead] = waiting("test")
    assert dead.dead_at is not None and outbox.depth("test").dead == 1
    assert outbox.claim("test") == []

    assert outbox.revive([dead.id]) == 1
    assert (
        outbox.drain_each("test", lambda m: None, max_attempts=2, backoff=lambda n: timedelta(0))
        == 1
    )
    assert waiting("test") == []


def test_search_killed_between_commit_and_handling_loses_nothing_and_repeats_nothing(app, tmp_path):
    product = make_product(name="Khô cá lóc")
    assert search.check_index().ok

    crash_after_commit(app, tmp_path, "rename", product.id)

    assert [m.key for m in waiting("search")] == [str(product.id)]
    assert search.apply_pending().applied == 1
    assert search.apply_pending().applied == 0
    assert waiting("search") == []
    page = search.search_products("loai dac biet", search.SearchFilters(), search.Sort.RELEVANCE,
                                  page=1, per_page=10, locale="vi")  # fmt: skip
    assert [p.id for p in page.items] == [product.id]
    assert search.check_index().ok


def test_mail_killed_between_commit_and_handling_is_sent_once_later(app, tmp_path, caplog):
    product = make_product(status=ProductStatus.PENDING, shop=make_shop(name="Tôm Đất Năm Căn"))
    owner = product.shop.owner.email

    crash_after_commit(app, tmp_path, "approve", product.id)

    assert len(waiting("mail")) == 1
    with caplog.at_level("INFO", logger="marketplace.core.mail"):
        assert mail.drain_mail() == 1
        assert mail.drain_mail() == 0
    assert caplog.text.count(f"to={owner}") == 1
    assert waiting("mail") == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1  # search


@pytest.mark.parametrize("topic", ["search", "mail"])
def test_the_shell_command_handles_what_a_dead_process_left(app, tmp_path, topic):
    product = make_product(status=ProductStatus.PENDING)
    crash_after_commit(app, tmp_path, "approve", product.id)

    result = app.test_cli_runner().invoke(args=["outbox", "run", "--once"])

    assert result.exit_code == 0, result.output
    assert waiting(topic) == []


def test_a_batch_is_renewed_in_one_go_except_what_another_worker_took_over(app):
    app.config["OUTBOX_HANDLE_AFTER_COMMIT"] = False
    outbox.enqueue_many("test", [("a", {}), ("b", {})])
    db.session.commit()
    kept, lapsed = outbox.claim("test", worker="slow", lease=timedelta(seconds=60))
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == lapsed.id)
        .values(claimed_until=utcnow() - timedelta(minutes=5))
    )
    db.session.commit()
    [taken] = outbox.claim("test", worker="fast")

    assert outbox.renew([kept, lapsed], lease=timedelta(minutes=10)) == [kept]
    assert taken.id == lapsed.id
    [row] = [m for m in waiting("test") if m.id == kept.id]
    assert row.claimed_until > utcnow() + timedelta(minutes=9)


def test_a_completion_in_the_handlers_transaction_commits_or_rolls_back_with_it(app):
    app.config["OUTBOX_HANDLE_AFTER_COMMIT"] = False
    outbox.enqueue("test", "k")
    db.session.commit()
    [message] = outbox.claim("test", worker="w")

    outbox.complete([message], session=db.session())
    db.session.rollback()
    assert [m.id for m in waiting("test")] == [message.id]
    outbox.complete([message], session=db.session())
    db.session.commit()
    assert waiting("test") == []
