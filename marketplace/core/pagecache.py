"""A shared cache of public pages for visitors who are not logged in.

Shoppers on slow phones mostly browse anonymously, and the same category and product
pages are asked for again and again. A page is kept under a key that includes the
catalog's *generation*, a counter every transaction that changes what shoppers can see
increments (see ``_bump_on_catalog_change``): hiding a listing or suspending a shop makes
every cached page stale at its commit, so the cache never shows what the database hides.
Storage is Redis when ``REDIS_URL`` is set (shared by all workers), else each process's
memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from cachelib import BaseCache, NullCache, RedisCache, SimpleCache
from flask import Flask, current_app, g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import String, bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketplace.core import outbox
from marketplace.extensions import db

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
_EXTENSION_KEY = "marketplace.pagecache"
CATALOG = "catalog"
# Model classes whose changes show on public pages; domains add theirs at import.
_WATCHED: set[type] = set()


class CacheGeneration(db.Model):
    __tablename__ = "cache_generations"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


def watch(*models: type) -> None:
    """Make changes to ``models`` invalidate cached public pages."""
    _WATCHED.update(models)


def init_page_cache(app: Flask) -> None:
    seconds = app.config.get("PAGE_CACHE_SECONDS", 300)
    cache: BaseCache
    if not seconds:
        cache = NullCache()
    elif app.config.get("REDIS_URL"):
        import redis

        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=0.5)
        cache = RedisCache(client, key_prefix="marketplace:page:", default_timeout=seconds)
    else:
        cache = SimpleCache(threshold=1000, default_timeout=seconds)
    app.extensions[_EXTENSION_KEY] = cache


def _cache() -> BaseCache:
    return current_app.extensions[_EXTENSION_KEY]


_GENERATION_QUERY = select(CacheGeneration.value).where(CacheGeneration.name == bindparam("name"))


def generation(name: str = CATALOG) -> int:
    """Return the current generation, read on a connection of its own.

    It is read on every cached page view, so it skips the ORM session: a cache hit then
    costs one small query and no session set-up.
    """
    with db.engine.connect() as connection:
        value = connection.execute(_GENERATION_QUERY, {"name": name}).scalar()
    return value or 0


def _bump(session: Session, name: str) -> None:
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(CacheGeneration).values(name=name, value=1)
    statement = statement.on_conflict_do_update(
        index_elements=["name"], set_={"value": CacheGeneration.value + 1}
    )
    session.execute(statement)


def bump_catalog(session: Session) -> None:
    """Count one more catalog generation, for changes made by bulk statements (which the
    outbox's change capture does not see)."""
    state = outbox.transaction_state(session)
    if not state.get("catalog_bumped"):
        state["catalog_bumped"] = True
        _bump(session, CATALOG)


def _bump_on_catalog_change(session: Session, changed: set[object]) -> None:
    """Count one more catalog generation in a transaction that changes public content."""
    if any(type(obj) in _WATCHED for obj in changed):
        bump_catalog(session)


# The generation row is written in the transaction itself, not after it: a page cached
# between the commit and a later handler would outlive what the commit hid.
outbox.collect_before_commit(_bump_on_catalog_change)


def _request_generation() -> int:
    # Read once per request: the page and the values on it share one generation.
    if "_catalog_generation" not in g:
        g._catalog_generation = generation()
    return g._catalog_generation


def remembered(key: str, compute: Callable[[], T]) -> T:
    """Return ``compute()``, kept until the catalog changes (e.g. a category's count)."""
    full_key = f"value:{_request_generation()}:{key}"
    cache = _cache()
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


def _cacheable_request() -> bool:
    return (
        request.method == "GET"
        and not current_user.is_authenticated
        and not session.get("_flashes")
        and not session.get("cart")  # the layout shows the visitor's own cart
    )


def cached_page(view: F) -> F:
    """Serve this view's page from the cache to anonymous visitors."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _cacheable_request():
            return view(*args, **kwargs)
        key = f"{_request_generation()}:{get_locale()}:{request.full_path}"
        cache = _cache()
        try:
            hit = cache.get(key)
        except Exception:
            hit = None
        if hit is not None:
            status, headers, body = hit
            return current_app.response_class(body, status=status, headers=headers)
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and "Set-Cookie" not in response.headers:
            headers = [(k, v) for k, v in response.headers.items() if k != "Content-Length"]
            try:
                cache.set(key, (response.status_code, headers, response.get_data()))
            except Exception:
                log.warning("page cache unavailable", exc_info=True)
        return response

    return wrapper  # type: ignore[return-value]
