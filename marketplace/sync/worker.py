"""The sync worker: the ``sync`` topic's handler, run by ``flask sync run``.

Each message names a listing and a channel; the listing's latest state is rendered when
the message is handled, so ten edits are one push. A public listing is created or
updated by our reference (unless the channel already has exactly this content); any
other is removed. Failures are retried with exponential backoff and jitter, scheduled
in the outbox; a 429 makes every worker wait for the channel; after ``MAX_ATTEMPTS`` a
message is a dead letter for an admin to retry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, joinedload, selectinload

from marketplace.catalog import queries as catalog_queries
from marketplace.catalog.models import Product, ProductImage
from marketplace.core import outbox
from marketplace.core.database import begin_write_transaction
from marketplace.core.models import utcnow
from marketplace.core.urls import InvalidWebAddress, split_web_url
from marketplace.extensions import db
from marketplace.sync import secrets, services, standing
from marketplace.sync.connectors import connector_for
from marketplace.sync.connectors.base import Access, PushConnector, RateLimited, Refused, SyncError
from marketplace.sync.models import (
    Channel,
    ChannelListing,
    ConnectorType,
    ListingExclusion,
    ListingStatus,
    ShopChannel,
)

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
# What a binding's details say about its last failure (cleared once it is live).
PROBLEM_KEYS = ("problem", "missing")
# The outcomes of a message that sent the channel requests (counted for its error rate).
SENT = frozenset({"pushed", "delisted", "withdrawn"})
LEASE = timedelta(minutes=2)
TURNS_AHEAD = 0.05  # seconds of a channel's request slots a worker reserves at once
HTTP_TIMEOUT_SECONDS = 10.0


def commit_without_waiting_for_disk() -> None:
    """PostgreSQL: this process's commits stop waiting for the disk (``synchronous_commit
    = off``), which on a small server is most of the cost of a message.

    For the sync worker only, where it loses nothing: a crash of the database server can
    forget the last moments of its commits, all of which are bindings, completions and
    rate-limit slots. A forgotten completion means the message is handled again, and
    handling is idempotent (the content hash; creation by our reference). The messages
    themselves are written by the site, whose commits still wait for the disk.
    """
    engine = db.engine
    if engine.dialect.name != "postgresql" or event.contains(engine, "checkout", _no_wait):
        return
    # On checkout, once per connection: those already in the pool get it too.
    event.listen(engine, "checkout", _no_wait)


def _no_wait(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if record.info.get("synchronous_commit") == "off":
        return
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    dbapi_connection.commit()
    record.info["synchronous_commit"] = "off"


def backoff(attempt: int) -> timedelta:
    """2, 4, 8 … seconds (at most ten minutes), each ±25 % so retries spread out.

    ``SYNC_RETRY_BASE_SECONDS`` scales it (the tests use a fraction of a second).
    """
    base = float(current_app.config.get("SYNC_RETRY_BASE_SECONDS", 1.0))
    seconds = min(base * 2.0**attempt, 600.0)
    return timedelta(seconds=seconds * random.uniform(0.75, 1.25))  # noqa: S311 - jitter


def content_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# -- the per-channel rate limit, shared by every worker --------------------------------------


def take_turns(channel_id: int, per_second: float, count: int = 1) -> list[float]:
    """Reserve the channel's next ``count`` request slots; return when each may be sent.

    GCRA in one UPDATE of the channel's row: its theoretical arrival time moves on by one
    interval per slot, from now or from where the last reservation ended, whichever
    worker on whichever machine made it; so the channel sees at most ``per_second``
    requests a second, and several slots cost one write.
    """
    interval, now = 1.0 / per_second, time.time()
    with Session(db.engine) as session:
        sqlite = session.get_bind().dialect.name == "sqlite"
        if sqlite:
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        later = func.max if sqlite else func.greatest
        end = session.scalar(
            update(Channel)
            .where(Channel.id == channel_id)
            .values(rate_tat=later(func.coalesce(Channel.rate_tat, now), now) + count * interval)
            .returning(Channel.rate_tat)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    start = (end or now + count * interval) - count * interval
    return [start + n * interval for n in range(count)]


def pause_channel(channel_id: int, seconds: float) -> None:
    """Hold every worker's requests to the channel for ``seconds`` (its Retry-After).

    Never earlier than slots already handed out end: those stay counted.
    """
    with Session(db.engine) as session:
        later = func.max if session.get_bind().dialect.name == "sqlite" else func.greatest
        session.execute(
            update(Channel)
            .where(Channel.id == channel_id)
            .values(rate_tat=later(func.coalesce(Channel.rate_tat, 0.0), time.time() + seconds))
            .execution_options(synchronize_session=False)
        )
        session.commit()


class Turns:
    """The request slots this worker holds, per channel, reserved a few at a time.

    At most ``TURNS_AHEAD`` seconds of slots at once: after a 429 pauses the channel, the
    other workers send at most that much before they wait too. A worker slower than the
    channel would miss slots it reserved ahead (and wait for them to pass): it takes one
    at a time again once it misses one, twice as many each time it used them all.
    """

    def __init__(self) -> None:
        self._held: dict[int, deque[float]] = {}
        self._size: dict[int, int] = {}

    def next(self, channel_id: int, per_second: float, *, wanted: int = 1) -> float:
        """When this worker's next request to the channel may go (a ``time.time()``);
        ``wanted`` is how many requests may follow (slots beyond those would go unused)."""
        held = self._held.setdefault(channel_id, deque())
        size = self._size.get(channel_id, 1)
        # A slot missed by more than half an interval is not used: sent that late, it would
        # land next to the following slot, and a channel counting per second could see one
        # request too many.
        while held and held[0] < time.time() - 0.5 / per_second:
            held.popleft()
            size = 1
        if not held:
            most = max(1, int(per_second * TURNS_AHEAD))
            held.extend(take_turns(channel_id, per_second, max(1, min(wanted, size, most))))
            size = min(size * 2, most)
        self._size[channel_id] = size
        return held.popleft()

    def wait(self, channel_id: int, per_second: float) -> None:
        """Sleep until this worker's next slot on the channel."""
        time.sleep(max(0.0, self.next(channel_id, per_second) - time.time()))

    def forget(self, channel_id: int) -> None:
        """Give up the slots held on a channel that answered 429: they fall in its pause."""
        self._held.pop(channel_id, None)


# -- handling one message ------------------------------------------------------------------


class LeaseLost(Exception):
    """The message was taken over while this worker waited: it is not ours to send."""


def _is_public_on(channel: Channel, product: Product) -> bool:
    public = (
        catalog_queries.public_products()
        .with_only_columns(Product.id)
        .where(Product.id == product.id)
        .exists()
    )
    opted_in = (
        select(ShopChannel.shop_id)
        .where(ShopChannel.shop_id == product.shop_id, ShopChannel.channel_id == channel.id)
        .exists()
    )
    excluded = (
        select(ListingExclusion.product_id)
        .where(ListingExclusion.product_id == product.id, ListingExclusion.channel_id == channel.id)
        .exists()
    )
    return bool(db.session.scalar(select(public & opted_in & ~excluded)))


def _existing_binding(channel: Channel, product_id: int) -> ChannelListing | None:
    return db.session.scalar(
        select(ChannelListing).where(
            ChannelListing.channel_id == channel.id, ChannelListing.product_id == product_id
        )
    )


def _binding(channel: Channel, product_id: int) -> ChannelListing:
    binding = _existing_binding(channel, product_id)
    if binding is None:
        binding = ChannelListing(channel_id=channel.id, product_id=product_id,
                                 status=ListingStatus.PENDING, details={})  # fmt: skip
        db.session.add(binding)
        db.session.flush()
    return binding


def sync_listing(
    channel: Channel,
    product: Product | None,
    product_id: int,
    *,
    connector: PushConnector,
    turn: Callable[[int, float], None],
) -> str:
    """Bring the channel in line with the listing's present state; return what was done.

    ``turn(channel_id, requests_per_second)`` waits for a rate-limit slot. No transaction
    stays open across that wait and the request: on SQLite, a transaction begun before
    another worker's commit could not write afterwards. What is needed is read first;
    the binding is written in a transaction begun after, left open for the caller to
    commit.
    """
    # Read now: once committed, the channel would be read again in a transaction left open
    # through the wait.
    rate = (channel.id, channel.requests_per_second)
    if product is not None and channel.enabled and _is_public_on(channel, product):
        # The binding is written before the first request, so a create whose answer is
        # lost still leaves a row saying the channel may hold the listing.
        earlier = _existing_binding(channel, product_id)
        binding = earlier or _binding(channel, product_id)
        payload = services.payload(channel, product)
        if missing := connector.missing(payload):
            refusal = {
                "status": ListingStatus.FAILED,
                "last_error": "; ".join(services.refusal_reasons(missing)),
                "content_hash": None,
                "details": {**(binding.details or {}), "problem": "missing", "missing": missing},
            }
            # A pending binding may be a create whose answer was lost: the channel may hold it.
            may_be_there = earlier is not None and (
                earlier.status in (ListingStatus.LIVE, ListingStatus.PENDING)
                or earlier.external_id is not None
            )
            if not may_be_there:
                _record(binding.id, **refusal)
                return "refused"
            # Its copy there would stay as it was (an old price, stock since sold): removed
            # until the listing can be sent again.
            binding_id, external_id = binding.id, binding.external_id
            db.session.rollback()  # nothing written yet: end the read before waiting
            with connector.paced(lambda: turn(*rate)):
                connector.delete(services.listing_reference_of(product_id), external_id)
            _record(binding_id, external_id=None, external_url=None, **refusal)
            return "withdrawn"
        digest = content_hash(connector.body(payload))
        if binding.status == ListingStatus.LIVE and binding.content_hash == digest:
            return "unchanged"
        binding_id, external_id = binding.id, binding.external_id
        kept = {k: v for k, v in (binding.details or {}).items() if k not in PROBLEM_KEYS}
        db.session.commit()
        with connector.paced(lambda: turn(*rate)):
            pushed = connector.upsert(payload, external_id)
        _record(binding_id, external_id=pushed.external_id, external_url=_link(pushed.url),
                status=ListingStatus.LIVE, content_hash=digest, last_error=None,
                pushed_at=utcnow(), details=kept)  # fmt: skip
        return "pushed"
    binding = _existing_binding(channel, product_id)
    if binding is None or binding.status == ListingStatus.DELISTED:
        return "absent"  # never sent there, or already removed
    binding_id, external_id = binding.id, binding.external_id
    db.session.rollback()  # nothing written yet: end the read before waiting
    with connector.paced(lambda: turn(*rate)):
        connector.delete(services.listing_reference_of(product_id), external_id)
    _record(binding_id, status=ListingStatus.DELISTED, content_hash=None, last_error=None)
    return "delisted"


def _link(url: str | None) -> str | None:
    """The channel's page of the listing, kept only as a web address: sellers open it, so
    a ``javascript:`` or other address from a channel's answer is never shown to them."""
    if not url or len(url) > 500:
        return None
    try:
        return split_web_url(url).geturl()
    except InvalidWebAddress:
        return None


def _record(binding_id: int, **values: Any) -> None:
    """Write what a request did to the binding, in a transaction that may write (SQLite:
    BEGIN IMMEDIATE), with one UPDATE: nothing of it needs reading again."""
    begin_write_transaction()
    db.session.execute(
        update(ChannelListing)
        .where(ChannelListing.id == binding_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


# What a listing's payload reads, in the query that reads the listing.
_PAYLOAD_LOADS = (
    selectinload(Product.images).joinedload(ProductImage.image),
    joinedload(Product.shop),
)


class Claim:
    """The messages of one claim, the channels' connectors and the slots they share.

    Each claim is renewed (all that is left of it, in one statement) once less than half
    of its lease remains: a long batch, or a long wait for the channel, never lets a
    message's lease run out while it is still to be sent.
    """

    def __init__(self, messages: list[outbox.Message]) -> None:
        self.pending = list(messages)
        self.lost: set[int] = set()
        self.turns = Turns()
        self._renew_at = time.monotonic() + LEASE.total_seconds() / 2
        self._connectors: dict[tuple, PushConnector] = {}

    def holds(self, message: outbox.Message) -> bool:
        """True while ``message`` is still ours."""
        if time.monotonic() >= self._renew_at:
            self._renew_at = time.monotonic() + LEASE.total_seconds() / 2
            kept = {m.id for m in outbox.renew(self.pending, lease=LEASE)}
            self.lost.update(m.id for m in self.pending if m.id not in kept)
        return message.id not in self.lost

    def done(self, message: outbox.Message) -> None:
        self.pending.remove(message)

    def connector(self, channel: Channel) -> PushConnector:
        """One connector per channel and claim, so its HTTP connection is kept alive."""
        key = (channel.id, channel.connector, channel.base_url, channel.credentials_encrypted)
        if key not in self._connectors:
            self._connectors[key] = connector_of(channel)
        return self._connectors[key]

    def turn(self, message: outbox.Message, channel_id: int, per_second: float) -> None:
        """Wait for a slot on the channel for ``message``; LeaseLost if it went meanwhile.

        A long wait (a channel paused by a 429) is slept in pieces, renewing between them.
        """
        slot = self.turns.next(channel_id, per_second, wanted=len(self.pending))
        while self.holds(message):
            if (delay := slot - time.time()) <= 0:
                return
            time.sleep(min(delay, LEASE.total_seconds() / 4))
        raise LeaseLost(message.key)


def handle(message: outbox.Message, claim: Claim) -> None:
    """Handle one ``sync`` message of ``claim``: push, skip, delist, or schedule what
    comes next."""
    channel_key, _sep, product_id_text = message.key.partition(":")
    # A writer from the start (SQLite: BEGIN IMMEDIATE): the binding may be written after
    # these reads, and a deferred transaction cannot write once another worker committed.
    begin_write_transaction()
    channel = db.session.get(Channel, int(channel_key))
    product_id = int(product_id_text)
    if channel is None or channel.connector == ConnectorType.FEED:
        outbox.complete([message], session=db.session())  # feeds are pulled, not pushed
        db.session.commit()
        return
    # Read now: after a rollback, reading them would begin a transaction that (on SQLite)
    # could not write the failure once another worker had committed.
    channel_id, code = channel.id, channel.code
    try:
        outcome = sync_listing(
            channel,
            db.session.get(Product, product_id, options=_PAYLOAD_LOADS),
            product_id,
            connector=claim.connector(channel),
            turn=lambda *rate: claim.turn(message, *rate),
        )
        # What was written and the message's completion, in one transaction.
        outbox.complete([message], session=db.session())
        db.session.commit()
    except LeaseLost:
        db.session.rollback()
        log.info("sync %s: taken over by another worker while waiting", message.key)
        return
    except RateLimited as error:
        db.session.rollback()
        standing.count_request(channel_id, failed=True)
        claim.turns.forget(channel_id)
        # Bounded: a Retry-After of 0 would spin, one of a day would stall the queue.
        wait = min(max(error.retry_after, 0.5), 300.0)
        pause_channel(channel_id, wait)
        outbox.retry(message, error=str(error), delay=timedelta(seconds=wait),
                     count_attempt=False)  # fmt: skip
        log.info("sync %s: %s rate limited, waiting %.0f s", message.key, code,
                 error.retry_after)  # fmt: skip
        return
    except Refused as error:
        db.session.rollback()
        standing.count_request(channel_id, failed=True)
        mark_failed(channel_id, product_id, str(error), problem="refused")
        outbox.complete([message])
        log.warning("sync %s: %s refused it: %s", message.key, code, error)
        return
    except (SyncError, secrets.UnreadableCredentials, SQLAlchemyError) as error:
        db.session.rollback()
        standing.count_request(channel_id, failed=True)
        fail_or_bury(message, channel_id, product_id, str(error)[:500])
        return
    if outcome in SENT:
        standing.count_request(channel_id, failed=False)
    log.info("sync %s: %s on %s", message.key, outcome, code)


def fail_or_bury(message: outbox.Message, channel_id: int, product_id: int, reason: str) -> None:
    """Retry the message later, or after ``MAX_ATTEMPTS`` keep it as a dead letter and
    tell the listing's seller that the channel could not be reached."""
    if message.attempts >= MAX_ATTEMPTS:
        mark_failed(channel_id, product_id, reason, problem="unreachable")
        outbox.bury(message, error=reason)
        log.error("sync %s: dead after %d attempts: %s", message.key, message.attempts, reason)
    else:
        outbox.retry(message, error=reason, delay=backoff(message.attempts))
        log.warning("sync %s: attempt %d failed: %s", message.key, message.attempts, reason)


def mark_failed(channel_id: int, product_id: int, reason: str, *, problem: str) -> None:
    """Record why the listing is not on the channel, in a fresh write transaction.

    ``problem`` says which words its seller reads (``standing.problem_text``): for a
    refusal, ``reason`` is the channel's own message, shown to them as the channel said it.
    """
    db.session.rollback()
    begin_write_transaction()
    binding = db.session.scalar(
        select(ChannelListing).where(
            ChannelListing.channel_id == channel_id, ChannelListing.product_id == product_id
        )
    ) or ChannelListing(channel_id=channel_id, product_id=product_id, details={})
    binding.status, binding.last_error = ListingStatus.FAILED, reason[:2000]
    binding.details = {**(binding.details or {}), "problem": problem}
    db.session.add(binding)
    db.session.commit()


def drain_sync(*, limit: int = 50) -> int:
    """Handle the sync messages that are due now; return how many were taken."""
    claim = Claim(outbox.claim(services.TOPIC, limit=limit, lease=LEASE))
    taken = len(claim.pending)
    for message in list(claim.pending):
        # Each message in a transaction of its own, begun after the claim: an older
        # snapshot could neither see the latest listing nor (on SQLite) write.
        db.session.rollback()
        if not claim.holds(message):
            claim.done(message)
            continue  # waited too long behind the others: another worker has it now
        try:
            handle(message, claim)
        except Exception as error:  # never lose the rest of the batch to one surprise
            db.session.rollback()
            log.exception("sync %s: unexpected error", message.key)
            # Dead-lettered after MAX_ATTEMPTS too: a channel answering something we cannot
            # read would otherwise be retried for ever (and `--once` never end).
            channel_id, _sep, product_id = message.key.partition(":")
            fail_or_bury(message, int(channel_id), int(product_id), type(error).__name__)
        claim.done(message)
    db.session.rollback()
    standing.flush_counts()
    return taken


outbox.register(services.TOPIC, drain_sync, after_commit=None)


# -- the reconciler ------------------------------------------------------------------------


def connector_of(channel: Channel, *, timeout: float | None = None) -> PushConnector:
    """The channel's connector, with its credentials and a timeout per request
    (``SYNC_HTTP_TIMEOUT`` unless ``timeout`` is shorter)."""
    configured = float(current_app.config.get("SYNC_HTTP_TIMEOUT", HTTP_TIMEOUT_SECONDS))
    access = Access(
        base_url=channel.base_url or "",
        credentials=secrets.unseal(channel.credentials_encrypted)
        if channel.credentials_encrypted
        else "",
        timeout=min(configured, timeout) if timeout else configured,
        production=bool(current_app.config.get("PRODUCTION")),
    )
    connector = connector_for(channel.connector, access)
    assert isinstance(connector, PushConnector), "feeds are pulled: nothing to reconcile"
    return connector


def reconcile(channel: Channel) -> list[str]:
    """Make what ``channel`` holds match what it should hold; return what was done.

    Lists the channel's copies; a listing we should show that is missing or differs is
    pushed again (its binding forgotten, so the push is not skipped), and a copy of ours
    that should not be there, or a second copy of one listing, is deleted. Every request
    takes a slot of the channel's rate limit, as the workers' do.
    """
    connector, turns = connector_of(channel), Turns()
    rate = (channel.id, channel.requests_per_second)
    held: dict[str, list] = {}
    with connector.paced(lambda: turns.wait(*rate)):
        for remote in connector.listings():
            held.setdefault(remote.reference, []).append(remote)
    _fresh_transaction()  # slots were taken (commits elsewhere) while listing
    should = {
        services.listing_reference(product): product
        for product in services.preview(channel).pushable
    }
    stale: list[tuple[str, int, bool]] = []
    for reference, product in should.items():
        copies = held.get(reference, [])
        body = connector.body(services.payload(channel, product))
        fields = copies[0].fields if copies else {}
        # The reference itself is not among a copy's fields; every other sent field is.
        if not copies or any(fields.get(k) != v for k, v in body.items() if k in fields):
            stale.append((reference, product.id, bool(copies)))
    done: list[str] = []
    for reference, product_id, had_copy in stale:
        _fresh_transaction(write=True)
        binding = _binding(channel, product_id)
        binding.content_hash, binding.status = None, ListingStatus.PENDING
        db.session.commit()
        product = db.session.get(Product, product_id, options=_PAYLOAD_LOADS)
        sync_listing(channel, product, product_id, connector=connector, turn=turns.wait)
        db.session.commit()
        done.append(f"{'updated' if had_copy else 'created'} {reference}")
    for reference, copies in held.items():
        ours = reference.startswith(services.REFERENCE_PREFIX)
        extra = copies if reference not in should else copies[1:]
        for remote in extra if ours else []:
            with connector.paced(lambda: turns.wait(*rate)):
                connector.delete(reference, remote.external_id)
            done.append(f"deleted {reference} ({remote.external_id})")
        if ours and reference not in should:
            _fresh_transaction(write=True)
            product_id = int(reference.removeprefix(services.REFERENCE_PREFIX))
            if (binding := _existing_binding(channel, product_id)) is not None:
                binding.status, binding.content_hash = ListingStatus.DELISTED, None
            db.session.commit()
    return done


def _fresh_transaction(*, write: bool = False) -> None:
    """End the transaction so far and start another, as a writer when ``write``: on
    SQLite a transaction that read before another connection committed (a rate-limit
    slot, say) cannot write after it."""
    db.session.rollback()
    if write:
        begin_write_transaction()
