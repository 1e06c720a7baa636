"""The transactional outbox: every side effect of a change is a row written with the change.

A service calls ``enqueue(topic, key, payload)`` inside its transaction; the row commits
(or rolls back) with the change itself, so a process that dies right after the commit
loses nothing: the row waits until someone handles it. Each topic registers a handler:

- ``search`` (re-index a listing) and ``mail`` run right after the commit, in the process
  that committed, and again from any later commit or ``flask outbox run`` for rows that a
  dead process left behind;
- ``sync`` (push a listing to a channel) is only handled by the sync worker.

One row waits per (topic, key): enqueueing again while it waits updates that row (ten
edits become one re-index or one push of the latest state). A row being handled is
*claimed* for a lease; a claim whose worker died expires and the row is taken over.
Handled rows are deleted; failed ones are retried later with a backoff, then kept as
dead letters (``dead_at``) for an admin.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    Integer,
    String,
    Text,
    delete,
    event,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from marketplace.core.database import dialect_insert
from marketplace.core.models import UTCDateTime, utcnow
from marketplace.extensions import db

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(minutes=5)


class OutboxMessage(db.Model):
    """A side effect still to be carried out."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Not handled before this moment (a retry's backoff, a 429's Retry-After).
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # One waiting (unclaimed, living) row per topic and key: the coalescing point.
        Index(
            "uq_outbox_waiting",
            "topic",
            "key",
            unique=True,
            sqlite_where=text("claimed_until IS NULL AND dead_at IS NULL"),
            postgresql_where=text("claimed_until IS NULL AND dead_at IS NULL"),
        ),
        Index("ix_outbox_topic_available_at", "topic", "available_at"),
    )

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.topic}:{self.key}>"


@dataclass(frozen=True)
class Message:
    """A claimed row, detached from any session: what a handler works on."""

    id: int
    topic: str
    key: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    worker: str  # who claimed it: only the claimer may complete, retry or bury it


@dataclass(frozen=True)
class Topic:
    name: str
    # Handle what is due; return how many messages were handled. Called with an app context.
    drain: Callable[[], int]
    # What to run once a transaction that enqueued this topic commits (None: the topic
    # has a worker of its own). Usually ``drain``; mail drains from a thread instead.
    after_commit: Callable[[], object] | None


_TOPICS: dict[str, Topic] = {}
_ENQUEUED = "outbox_enqueued_topics"


def register(
    name: str, drain: Callable[[], int], *, after_commit: Callable[[], object] | None
) -> None:
    """Declare a topic, the function that handles its due messages, and what runs at commit."""
    _TOPICS[name] = Topic(name, drain, after_commit)


def topics() -> dict[str, Topic]:
    return dict(_TOPICS)


def worker_name() -> str:
    """Who claims: host and process, so a lease in the table says whose it is."""
    return f"{socket.gethostname()}:{os.getpid()}"


# -- writing, inside the caller's transaction -------------------------------------------


_WAITING = text("claimed_until IS NULL AND dead_at IS NULL")


def enqueue(
    topic: str,
    key: str,
    payload: dict[str, Any] | None = None,
    *,
    delay: timedelta | None = None,
    session: Session | None = None,
) -> None:
    """Write a message in the current transaction; it is handled once the transaction commits.

    A message already waiting for the same topic and key takes the new payload and the
    earlier of the two due times, so repeated changes are handled once, with the latest.
    """
    enqueue_many(topic, [(key, payload or {})], delay=delay, session=session)


def enqueue_many(
    topic: str,
    items: Iterable[tuple[str, dict[str, Any]]],
    *,
    delay: timedelta | None = None,
    session: Session | None = None,
) -> None:
    """``enqueue`` for many keys of one topic, in statements of at most 500 rows."""
    session = session or db.session()
    now = utcnow()
    due = now + delay if delay else now
    rows = [
        {"topic": topic, "key": str(key)[:200], "payload": payload, "created_at": now,
         "available_at": due, "attempts": 0}
        for key, payload in dict(items).items()
    ]  # fmt: skip
    insert = dialect_insert(session)
    for start in range(0, len(rows), 500):
        statement = insert(OutboxMessage).values(rows[start : start + 500])
        statement = statement.on_conflict_do_update(
            index_elements=["topic", "key"],
            index_where=_WAITING,
            set_={
                "payload": statement.excluded.payload,
                "available_at": func.min(
                    OutboxMessage.available_at, statement.excluded.available_at
                )
                if session.get_bind().dialect.name == "sqlite"
                else func.least(OutboxMessage.available_at, statement.excluded.available_at),
            },
        )
        session.execute(statement)
    if rows:
        session.info.setdefault(_ENQUEUED, set()).add(topic)


# -- handling, on connections of its own -------------------------------------------------


def claim(
    topic: str, *, limit: int = 100, lease: timedelta = DEFAULT_LEASE, worker: str | None = None
) -> list[Message]:
    """Take up to ``limit`` due messages of ``topic`` for ``lease``, counting an attempt.

    PostgreSQL skips rows other workers hold locked (``FOR UPDATE SKIP LOCKED``), so
    workers on many machines never take the same row; SQLite has one writer at a time,
    and ``BEGIN IMMEDIATE`` makes the select-then-update one step. A row whose lease
    ran out (its worker died) is due again.
    """
    now = utcnow()
    worker = worker or worker_name()
    with Session(db.engine) as session:
        _begin_as_writer(session)
        held = aliased(OutboxMessage)
        # A key someone is handling now is left alone, so one listing is never pushed to
        # one channel by two workers at once (the newer message waits for the older).
        in_hand = select(held.key).where(held.topic == topic, held.claimed_until >= now)
        due = (
            select(OutboxMessage.id, OutboxMessage.key)
            .where(
                OutboxMessage.topic == topic,
                OutboxMessage.dead_at.is_(None),
                OutboxMessage.available_at <= now,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                OutboxMessage.key.not_in(in_hand),
            )
            .order_by(OutboxMessage.available_at, OutboxMessage.id)
            .limit(limit)
        )
        postgresql = session.get_bind().dialect.name == "postgresql"
        if postgresql:
            due = due.with_for_update(skip_locked=True, of=OutboxMessage)
        first_per_key: dict[str, int] = {}
        for row_id, key in session.execute(due):
            first_per_key.setdefault(key, row_id)
        if postgresql and first_per_key:
            _keep_keys_only_we_hold(session, topic, first_per_key, now)
        ids = list(first_per_key.values())
        if not ids:
            return []
        rows = session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(
                claimed_by=worker[:120],
                claimed_until=now + lease,
                attempts=OutboxMessage.attempts + 1,
            )
            .returning(OutboxMessage)
        ).all()
        messages = [
            Message(row.id, row.topic, row.key, dict(row.payload or {}), row.attempts,
                    row.created_at, worker[:120])
            for row in rows
        ]  # fmt: skip
        session.commit()
    return sorted(messages, key=lambda message: message.id)


def _keep_keys_only_we_hold(
    session: Session, topic: str, first_per_key: dict[str, int], now: datetime
) -> None:
    """Drop from ``first_per_key`` every key another worker is claiming or holds.

    ``in_hand`` above is read from the statement's snapshot: a worker claiming the other
    message of a key (a dead worker's expired one and a newer one may both be due) and
    committing meanwhile is not in it. So each key is locked for the rest of this
    transaction (an advisory lock; a key another claim has locked is skipped), then
    looked up again in a fresh snapshot, which shows any claim committed before.
    """
    keys = list(first_per_key)
    locked = set(
        session.scalars(
            text(
                "SELECT k FROM unnest(CAST(:keys AS text[])) AS k"
                " WHERE pg_try_advisory_xact_lock(hashtextextended(:topic || ':' || k, 0))"
            ),
            {"keys": keys, "topic": topic},
        )
    )
    held_elsewhere = set(
        session.scalars(
            select(OutboxMessage.key).where(
                OutboxMessage.topic == topic,
                OutboxMessage.key.in_(sorted(locked)),
                OutboxMessage.claimed_until >= now,
            )
        )
    )
    for key in keys:
        if key not in locked or key in held_elsewhere:
            del first_per_key[key]


def _begin_as_writer(session: Session) -> None:
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def _ours(message: Message) -> Any:
    return (OutboxMessage.id == message.id) & (OutboxMessage.claimed_by == message.worker)


def _all_ours(messages: list[Message]) -> Any:
    by_worker: dict[str, list[int]] = {}
    for message in messages:
        by_worker.setdefault(message.worker, []).append(message.id)
    return or_(
        *(
            (OutboxMessage.claimed_by == worker) & OutboxMessage.id.in_(ids)
            for worker, ids in by_worker.items()
        )
    )


def complete(messages: Iterable[Message], *, session: Session | None = None) -> None:
    """Delete handled messages, as long as they are still ours (a claim taken over after
    its lease ran out belongs to the new worker, who will handle it again).

    With ``session``, in that session's transaction, to commit with the handler's own
    writes; otherwise in a transaction of its own.
    """
    messages = list(messages)
    if not messages:
        return
    if session is not None:
        session.execute(delete(OutboxMessage).where(_all_ours(messages)))
        return
    with Session(db.engine) as own:
        _begin_as_writer(own)
        own.execute(delete(OutboxMessage).where(_all_ours(messages)))
        own.commit()


def renew(messages: Iterable[Message], *, lease: timedelta = DEFAULT_LEASE) -> list[Message]:
    """Extend claims, in one statement; return the messages still ours (a claim whose
    lease ran out may be another worker's now)."""
    messages = list(messages)
    if not messages:
        return []
    now = utcnow()
    with Session(db.engine) as session:
        _begin_as_writer(session)
        kept = set(
            session.scalars(
                update(OutboxMessage)
                .where(_all_ours(messages), OutboxMessage.claimed_until >= now)
                .values(claimed_until=now + lease)
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            )
        )
        session.commit()
    return [message for message in messages if message.id in kept]


def retry(message: Message, *, error: str, delay: timedelta, count_attempt: bool = True) -> None:
    """Give a message back to be handled again after ``delay``.

    When the same key was enqueued again meanwhile, the newer row already waits with the
    latest payload: this one is dropped instead of waiting beside it.
    """
    attempts = message.attempts if count_attempt else message.attempts - 1
    values: dict[str, Any] = {
        "claimed_by": None,
        "claimed_until": None,
        "available_at": utcnow() + delay,
        "last_error": error[:2000],
        "attempts": attempts,
    }
    with Session(db.engine) as session:
        _begin_as_writer(session)
        newer = _waiting_twin(session, message.topic, message.key, message.id)
        if newer is None:
            try:
                with session.begin_nested():
                    session.execute(update(OutboxMessage).where(_ours(message)).values(**values))
            except IntegrityError:
                # Enqueued again between the look and the update (PostgreSQL's read
                # committed lets that happen): the newer row is the one to keep.
                newer = _waiting_twin(session, message.topic, message.key, message.id)
        if newer is not None:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id == newer).values(attempts=attempts)
            )
            session.execute(delete(OutboxMessage).where(_ours(message)))
        session.commit()


def _waiting_twin(session: Session, topic: str, key: str, other_than: int) -> int | None:
    """The id of another message of ``topic`` and ``key`` waiting to be handled, if any."""
    return session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.topic == topic,
            OutboxMessage.key == key,
            OutboxMessage.id != other_than,
            OutboxMessage.claimed_until.is_(None),
            OutboxMessage.dead_at.is_(None),
        )
    )


def bury(message: Message, *, error: str) -> None:
    """Keep a message that will not succeed as a dead letter, for an admin to look at."""
    with Session(db.engine) as session:
        _begin_as_writer(session)
        session.execute(
            update(OutboxMessage)
            .where(_ours(message))
            .values(claimed_by=None, claimed_until=None, dead_at=utcnow(), last_error=error[:2000])
        )
        session.commit()


def revive(message_ids: Iterable[int]) -> int:
    """Give dead letters another chance (the admin's retry button); return how many."""
    ids = list(message_ids)
    with Session(db.engine) as session:
        _begin_as_writer(session)
        revived = 0
        for message_id in ids:
            row = session.get(OutboxMessage, message_id)
            if row is None or row.dead_at is None:
                continue
            revived += 1
            if _waiting_twin(session, row.topic, row.key, row.id) is None:
                try:
                    with session.begin_nested():
                        row.dead_at, row.attempts, row.available_at = None, 0, utcnow()
                    continue
                except IntegrityError:  # enqueued again meanwhile, as in ``retry``
                    session.expire(row)
            session.delete(row)  # a newer message for the same key already waits
        session.commit()
    return revived


@dataclass
class Depth:
    waiting: int = 0
    dead: int = 0
    oldest: datetime | None = None


def depth(topic: str) -> Depth:
    """How many messages of ``topic`` wait (claimed ones included) and how many are dead."""
    with Session(db.engine) as session:
        waiting, oldest = session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.topic == topic, OutboxMessage.dead_at.is_(None)
            )
        ).one()
        dead = session.scalar(
            select(func.count()).where(
                OutboxMessage.topic == topic, OutboxMessage.dead_at.is_not(None)
            )
        )
    return Depth(waiting=waiting or 0, dead=dead or 0, oldest=oldest)


def seconds_until_due(topic: str) -> float:
    """How long until the next living message of ``topic`` is due (0 when one is due)."""
    with Session(db.engine) as session:
        soonest = session.scalar(
            select(func.min(OutboxMessage.available_at)).where(
                OutboxMessage.topic == topic, OutboxMessage.dead_at.is_(None)
            )
        )
    if soonest is None:
        return 0.0
    return max(0.0, (soonest - utcnow()).total_seconds())


def drain_each(
    topic: str,
    handle: Callable[[Message], None],
    *,
    max_attempts: int,
    backoff: Callable[[int], timedelta],
    limit: int = 50,
) -> int:
    """Handle due messages one by one: an exception retries later, then buries the message."""
    handled = 0
    while messages := claim(topic, limit=limit):
        for message in messages:
            try:
                handle(message)
            except Exception as error:
                reason = f"{type(error).__name__}: {error}"
                if message.attempts >= max_attempts:
                    log.error("outbox %s:%s dead after %d attempts: %s", topic, message.key,
                              message.attempts, reason)  # fmt: skip
                    bury(message, error=reason)
                else:
                    log.warning("outbox %s:%s failed (attempt %d): %s", topic, message.key,
                                message.attempts, reason)  # fmt: skip
                    retry(message, error=reason, delay=backoff(message.attempts))
            else:
                complete([message])
                handled += 1
        if len(messages) < limit:
            break
    return handled


def drain_all(*, names: Iterable[str] | None = None) -> dict[str, int]:
    """Handle what is due in the topics handled at commit (or ``names``); counts per topic."""
    wanted = set(names) if names is not None else None
    counts = {}
    for topic in _TOPICS.values():
        if (wanted is None and topic.after_commit is None) or (wanted and topic.name not in wanted):
            continue
        counts[topic.name] = topic.drain()
    return counts


# -- the session hooks: one set, for every topic -----------------------------------------

_collectors: list[Callable[[Session, set[object]], None]] = []
_CHANGED = "outbox_changed_objects"
_FLUSHED = "outbox_flushed_objects"
_STATE = "outbox_transaction_state"


def transaction_state(session: Session) -> dict[str, Any]:
    """A dict that lives as long as the session's current transaction (collectors' notes)."""
    return session.info.setdefault(_STATE, {})


def collect_before_commit(collector: Callable[[Session, set[object]], None]) -> None:
    """Run ``collector(session, changed)`` before each real commit that changed rows.

    ``changed`` holds every object the transaction added, changed or deleted. Domains that
    react to changes (search re-indexes listings, the page cache counts a generation, sync
    pushes listings) look at them here, once, inside the transaction, and enqueue.
    """
    _collectors.append(collector)


def note_changed(session: Session, objects: Iterable[object]) -> None:
    """Count ``objects`` as changed by this transaction, for changes made by bulk
    statements (a sale's conditional stock UPDATE), which change capture does not see."""
    session.info.setdefault(_CHANGED, set()).update(objects)


def only_noted(session: Session, obj: object) -> bool:
    """Whether this transaction changed ``obj`` only by bulk statements (``note_changed``),
    never by a flush of the object itself: a collector may then know exactly what
    changed (a sale changes the stock alone)."""
    return obj not in session.info.get(_FLUSHED, set())


def _after_flush(session: Session, flush_context: Any) -> None:
    flushed = (*session.new, *session.dirty, *session.deleted)
    session.info.setdefault(_CHANGED, set()).update(flushed)
    session.info.setdefault(_FLUSHED, set()).update(flushed)


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # SQLAlchemy fires this for savepoints too: wait for the real commit
    session.flush()  # before_commit runs before the commit's own flush
    changed = session.info.pop(_CHANGED, set())
    if not changed:
        return
    for collector in _collectors:
        collector(session, changed)
    session.flush()


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_STATE, None)
    session.info.pop(_FLUSHED, None)
    enqueued = session.info.pop(_ENQUEUED, set())
    if not enqueued or not has_app_context():
        return
    if not current_app.config.get("OUTBOX_HANDLE_AFTER_COMMIT", True):
        return  # tests of "killed between commit and handling", and `flask outbox run` only
    for name in sorted(enqueued):
        topic = _TOPICS.get(name)
        if topic is None or topic.after_commit is None:
            continue
        try:
            topic.after_commit()
        except Exception:  # the rows stay; the page that committed must not fail
            log.exception("could not handle the %s outbox after commit", name)


def _after_rollback(session: Session) -> None:
    # A rolled-back savepoint's changes stay counted: a needless re-index at worst.
    if not session.in_nested_transaction():
        session.info.pop(_ENQUEUED, None)
        session.info.pop(_CHANGED, None)
        session.info.pop(_FLUSHED, None)
        session.info.pop(_STATE, None)


event.listen(Session, "after_flush", _after_flush)
event.listen(Session, "before_commit", _before_commit)
event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_rollback", _after_rollback)
