"""A shared cache of public pages for visitors who are not logged in, invalidated per thing.

Shoppers on slow phones mostly browse anonymously, and the same category and product
pages are asked for again and again. The cache must never show what the database hides
(a hidden listing, a suspended shop, a changed price), yet a sale must not empty it.

**Tags and generations.** Everything a page shows is covered by *tags*, names such as
``product:12`` (the listing's own page), ``card:12`` (what its card on a list shows),
``category:3`` (which listings a category lists, in which order, and how many), ``shop:5``
or ``home``; the domains name them (see ``catalog.models``). Each tag has a *generation*,
a counter in the ``cache_generations`` table. ``CATALOG`` is the one every page depends
on, for rare sweeping changes (the category tree).

- *Writing.* A change counts one more generation of each tag it shows on, with an upsert
  written in the change's own transaction, just before its commit: it commits or rolls
  back with the change, a page cached between the commit and a later handler cannot
  outlive what the commit hid, and it holds across any number of processes and
  machines. Which tags a change bumps is the domain's call: a model registers a *tagger*
  (``on_change``) that gets each changed row's values before and after the transaction
  (recorded at every flush, from the ORM's history) and names the tags; rows changed by
  bulk statements reach it through ``outbox.note_changed`` with the change unknown, and
  the tagger then assumes the worst unless it knows better (the catalog reads the stock
  changes its sales noted, so a sale that leaves stock above zero bumps only
  ``product:N``). ``watch`` models bump ``CATALOG`` on any change; ``invalidate`` bumps
  given tags from any transaction. Bumps are one statement per commit, in name order,
  so two transactions never wait for each other's rows in opposite orders.
- *Reading.* While a page renders, the view declares the tags it depends on
  (``depends_on``) *before* reading the data they cover; their generations are read then,
  in one query on the request's own session, and kept with the page. On SQLite the
  session's transaction reads one snapshot, so tags and data agree; on PostgreSQL a
  generation read before the data can only be older than it, which at worst makes the
  next visit render again. A list page first reads which listings it shows (ids only),
  then their card tags, then the cards.
- *A hit* reads the current generations of the cached page's tags in one small query
  (one row per tag, by primary key, on a connection of its own: no ORM session) and
  serves the page only if none moved. Generations stay in the database rather than in
  Redis so that they change atomically with the data; the page bodies are in Redis when
  ``REDIS_URL`` is set (shared by all workers), else in each process's memory.

``remembered`` keeps derived values (a category's count) under the generations of the
tags they depend on, also when page caching itself is off (``PAGE_CACHE_SECONDS=0``).
Responses served through ``cached_page`` carry ``X-Cache: hit`` or ``miss``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

from cachelib import BaseCache, NullCache, RedisCache, SimpleCache
from flask import (
    Flask,
    current_app,
    g,
    has_app_context,
    has_request_context,
    make_response,
    request,
    session,
)
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import String, bindparam, event, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketplace.core import outbox
from marketplace.core.database import dialect_insert
from marketplace.extensions import db

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
_PAGES_KEY = "marketplace.pagecache"
_VALUES_KEY = "marketplace.pagecache.values"
CATALOG = "catalog"
# Derived values are keyed by generation, so they may live long; the time only bounds memory.
VALUE_SECONDS = 3600
MAX_TAG_LENGTH = 40


class CacheGeneration(db.Model):
    __tablename__ = "cache_generations"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


# -- what a change shows on ----------------------------------------------------------------


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


# A value the change capture could not see (a column not loaded, a bulk statement).
UNKNOWN: Any = _Unknown()


@dataclass
class Change:
    """One row's change over the transaction, as a tagger sees it.

    ``values`` are the row's columns after the transaction (before it for a deleted row);
    ``before`` holds the earlier value of each column that changed (``UNKNOWN`` when the
    ORM had not loaded it). ``known`` is False for a row changed by a bulk statement:
    any column may have changed.
    """

    values: dict[str, Any]
    before: dict[str, Any] = field(default_factory=dict)
    new: bool = False
    deleted: bool = False
    known: bool = True

    def changed(self, *names: str) -> bool:
        """Whether any of these columns may have changed (always, for a new or deleted row)."""
        return self.new or self.deleted or not self.known or any(n in self.before for n in names)

    def old(self, name: str) -> Any:
        """The column's value before the transaction (``UNKNOWN`` if it cannot be told)."""
        if self.new:
            return None
        if not self.known:
            return UNKNOWN
        return self.before.get(name, self.values.get(name, UNKNOWN))

    def now(self, name: str) -> Any:
        return self.values.get(name, UNKNOWN)


Tagger = Callable[[Session, Change], Iterable[str]]
# Model classes any change of which shows everywhere (bumps CATALOG).
_WATCHED: set[type] = set()
_TAGGERS: dict[type, Tagger] = {}
_RECORDED = "pagecache_changes"
_PENDING = "pagecache_tags"


def watch(*models: type) -> None:
    """Make any change to ``models`` invalidate every cached page (``CATALOG``)."""
    _WATCHED.update(models)


def on_change(model: type, tagger: Tagger) -> None:
    """Call ``tagger(session, change)`` for each changed ``model`` row before commit; the
    tags it returns get a new generation in that transaction."""
    _TAGGERS[model] = tagger


def invalidate(session: Session, *tags: str) -> None:
    """Count one more generation of ``tags`` when the session's transaction commits.

    For changes the change capture cannot see or judge (bulk statements, something an
    order shows on a public page): call it inside the transaction that makes the change.
    """
    for tag in tags:
        if len(tag) > MAX_TAG_LENGTH:
            raise ValueError(f"tag too long: {tag!r}")
    outbox.transaction_state(session).setdefault(_PENDING, set()).update(tags)


def bump_catalog(session: Session) -> None:
    """Invalidate every cached page at commit (a sweeping change made by bulk statements)."""
    invalidate(session, CATALOG)


def _snapshot(obj: object, *, new: bool, deleted: bool) -> tuple[tuple[Any, ...], Change]:
    state = inspect(obj)
    values: dict[str, Any] = {}
    before: dict[str, Any] = {}
    for attribute in state.mapper.column_attrs:
        key = attribute.key
        values[key] = state.dict.get(key, UNKNOWN)
        if new or deleted:
            continue
        history = state.attrs[key].history
        if history.added or history.deleted:
            before[key] = history.deleted[0] if history.deleted else UNKNOWN
    identity = (type(obj), *state.mapper.primary_key_from_instance(obj))
    return identity, Change(values=values, before=before, new=new, deleted=deleted)


def _record_flush(session: Session, flush_context: Any) -> None:
    """Keep each tagged row's values before and after (the ORM forgets its history once
    the flush is over); merged over the transaction's flushes."""
    if not _TAGGERS:
        return
    recorded: dict[tuple[Any, ...], Change] | None = None
    for objects, new, deleted in (
        (session.new, True, False),
        (session.dirty, False, False),
        (session.deleted, False, True),
    ):
        for obj in objects:
            if type(obj) not in _TAGGERS:
                continue
            if not new and not deleted and not session.is_modified(obj):
                continue
            if recorded is None:
                recorded = outbox.transaction_state(session).setdefault(_RECORDED, {})
            identity, change = _snapshot(obj, new=new, deleted=deleted)
            earlier = recorded.get(identity)
            if earlier is not None:  # the first earlier value, the latest values
                change.before = {**change.before, **earlier.before}
                change.new = earlier.new
                change.deleted = deleted
            recorded[identity] = change


def _unknown_change(obj: object) -> tuple[tuple[Any, ...], Change]:
    state = inspect(obj)
    values = {a.key: state.dict.get(a.key, UNKNOWN) for a in state.mapper.column_attrs}
    identity = (type(obj), *state.mapper.primary_key_from_instance(obj))
    return identity, Change(values=values, known=False)


def _bump_on_change(session: Session, changed: set[object]) -> None:
    """Before commit: count one more generation of every tag the transaction's changes
    show on."""
    state = outbox.transaction_state(session)
    recorded: dict[tuple[Any, ...], Change] = state.pop(_RECORDED, {})
    tags: set[str] = state.pop(_PENDING, set())
    for obj in changed:
        kind = type(obj)
        if kind in _WATCHED:
            tags.add(CATALOG)
        elif kind in _TAGGERS:
            identity, change = _unknown_change(obj)
            recorded.setdefault(identity, change)  # a bulk statement's row: judged as unknown
    if CATALOG not in tags:
        for (kind, *_key), change in recorded.items():
            tags.update(_TAGGERS[kind](session, change))
    if CATALOG in tags:
        tags = {CATALOG}  # every page and value depends on it: the other tags are moot
    if tags:
        bump(session, tags)


def bump(session: Session, tags: Iterable[str]) -> None:
    """Count one more generation of ``tags`` now, in the session's transaction (prefer
    ``invalidate``, which waits for the commit and bumps each tag once)."""
    names = sorted(set(tags))
    insert = dialect_insert(session)
    for start in range(0, len(names), 500):
        rows = [{"name": name, "value": 1} for name in names[start : start + 500]]
        statement = insert(CacheGeneration).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=["name"], set_={"value": CacheGeneration.value + 1}
        )
        session.execute(statement)


def _bump_invalidated(session: Session) -> None:
    # The outbox runs collectors only for transactions that changed rows; tags given to
    # ``invalidate`` in one that changed none are bumped here (this listener runs after it).
    if session.in_nested_transaction():
        return
    tags = outbox.transaction_state(session).pop(_PENDING, None)
    if tags:
        bump(session, {CATALOG} if CATALOG in tags else tags)


# Registered before search and sync import (pagecache is imported by the models), so the
# generations are written first; their rows are never locked by anything else first.
outbox.collect_before_commit(_bump_on_change)
event.listen(Session, "after_flush", _record_flush)
event.listen(Session, "before_commit", _bump_invalidated)


# -- reading generations -------------------------------------------------------------------

_GENERATIONS_QUERY = select(CacheGeneration.name, CacheGeneration.value).where(
    CacheGeneration.name.in_(bindparam("names", expanding=True))
)


def generations(tags: Iterable[str], *, on_session: bool = False) -> dict[str, int]:
    """The current generation of each tag (0 for one never bumped), in one query.

    On a connection of its own unless ``on_session``: a cache hit then costs one small
    query and no session set-up.
    """
    names = sorted(set(tags))
    if not names:
        return {}
    if on_session:
        rows = db.session.execute(_GENERATIONS_QUERY, {"names": names}).all()
    else:
        with db.engine.connect() as connection:
            rows = connection.execute(_GENERATIONS_QUERY, {"names": names}).all()
    found: dict[str, int] = {name: value for name, value in rows}
    return {name: found.get(name, 0) for name in names}


def generation(name: str = CATALOG) -> int:
    """Return the current generation of one tag (``CATALOG`` by default)."""
    return generations([name])[name]


def _recording() -> dict[str, int] | None:
    return g.get("_pagecache_recording")


_SEEN = "_pagecache_seen"


def _read(tags: Iterable[str]) -> dict[str, int]:
    """The generations of ``tags``, each read once per request, on the request's session.

    A generation read earlier in the request is older than any data read after it, which
    is all that correctness needs; a commit forgets them (``_forget_after_commit``).
    """
    tags = list(tags)
    seen: dict[str, int] = g.setdefault(_SEEN, {}) if has_request_context() else {}
    missing = [tag for tag in tags if tag not in seen]
    if missing:
        seen.update(generations(missing, on_session=True))
    return {tag: seen[tag] for tag in tags}


def _forget_after_commit(session: Session) -> None:
    if has_app_context():
        g.pop(_SEEN, None)


event.listen(Session, "after_commit", _forget_after_commit)


def depends_on(*tags: str) -> None:
    """Declare that the page being rendered shows what ``tags`` cover.

    Call it *before* reading that data: the tags' generations are read now (once per
    request) and stored with the page. Nothing happens when no page is being cached.
    """
    recording = _recording()
    if recording is not None:
        recording.update(_read(tags))


def is_recording() -> bool:
    """Whether a page is being rendered for the cache."""
    return _recording() is not None


def _current_generations(tags: tuple[str, ...]) -> dict[str, int]:
    values = _read(tags)
    recording = _recording()
    if recording is not None:
        recording.update(values)
    return values


def remembered(key: str, compute: Callable[[], T], *, tags: Iterable[str] = ()) -> T:
    """Return ``compute()``, kept until the generation of ``CATALOG`` or of ``tags`` moves
    (e.g. a category's count under the category's tag)."""
    tags = (CATALOG, *tags)
    current = _current_generations(tags)
    full_key = f"{key}@" + ",".join(f"{tag}={current[tag]}" for tag in tags)
    cache = current_app.extensions[_VALUES_KEY]
    try:
        value = cache.get(full_key)
    except Exception:  # a cache outage must not take pages down
        log.warning("page cache unavailable", exc_info=True)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(full_key, value)
        except Exception:
            log.warning("page cache unavailable", exc_info=True)
    return value


# -- the pages -----------------------------------------------------------------------------


def init_page_cache(app: Flask) -> None:
    seconds = app.config.get("PAGE_CACHE_SECONDS", 300)
    pages: BaseCache
    values: BaseCache
    if app.config.get("REDIS_URL"):
        import redis

        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=0.5)
        values = RedisCache(client, key_prefix="marketplace:value:", default_timeout=VALUE_SECONDS)
        pages = RedisCache(client, key_prefix="marketplace:page:", default_timeout=seconds)
    else:
        values = SimpleCache(threshold=2000, default_timeout=VALUE_SECONDS)
        pages = SimpleCache(threshold=1000, default_timeout=seconds)
    app.extensions[_PAGES_KEY] = pages if seconds else NullCache()
    app.extensions[_VALUES_KEY] = values


def _cache() -> BaseCache:
    return current_app.extensions[_PAGES_KEY]


def _cacheable_request() -> bool:
    return (
        request.method == "GET"
        and not current_user.is_authenticated
        and not session.get("_flashes")
        and not session.get("cart")  # the layout shows the visitor's own cart
    )


def _personal(response: Any) -> bool:
    """Whether the page carries something of this visitor's own: a cookie, or a CSRF
    token (a form's token is tied to the visitor's session; served to others it would
    fail for them and hand them this visitor's token)."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    return "Set-Cookie" in response.headers or field in g


def _current_of(dependencies: tuple[tuple[str, int], ...]) -> dict[str, int] | None:
    try:
        return generations(name for name, _value in dependencies)
    except Exception:
        log.warning("cache generations unavailable", exc_info=True)
        return None


def cached_page(
    view: F | None = None, *, depends: Callable[..., Iterable[str]] | None = None
) -> Any:
    """Serve this view's page from the cache to anonymous visitors.

    The view declares what it shows with ``depends_on``; every page depends on
    ``CATALOG``, and on the tags ``depends(**view_args)`` names (tags known from the
    address alone, read with ``CATALOG`` in one query).
    """
    if view is None:
        return lambda view: cached_page(view, depends=depends)

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _cacheable_request():
            return view(*args, **kwargs)
        cache = _cache()
        key = f"v2:{get_locale()}:{request.full_path}"
        try:
            hit = cache.get(key)
        except Exception:
            log.warning("page cache unavailable", exc_info=True)
            hit = None
        known: dict[str, int] = {}
        if hit is not None:
            dependencies, status, headers, body = hit
            current = _current_of(dependencies)
            if current is not None and all(current[n] == v for n, v in dependencies):
                response = current_app.response_class(body, status=status, headers=headers)
                response.headers["X-Cache"] = "hit"
                return response
            known = current or {}
        storing = not isinstance(cache, NullCache)
        if storing:
            g._pagecache_recording = {}
            # Generations read before the view began (checking a stale copy) are older
            # than anything the view reads: they may be recorded without reading them again.
            g.setdefault(_SEEN, {}).update(known)
        try:
            if storing:
                depends_on(CATALOG, *(depends(*args, **kwargs) if depends else ()))
            response = make_response(view(*args, **kwargs))
            recorded = g.get("_pagecache_recording")
        finally:
            g.pop("_pagecache_recording", None)
        if storing and response.status_code == 200 and not _personal(response):
            headers = [(k, v) for k, v in response.headers.items() if k != "Content-Length"]
            dependencies = tuple(sorted((recorded or {}).items()))
            try:
                cache.set(key, (dependencies, response.status_code, headers, response.get_data()))
            except Exception:
                log.warning("page cache unavailable", exc_info=True)
        response.headers["X-Cache"] = "miss"
        return response

    return wrapper
