"""Keeping the index in step with the catalog, and answering searches.

Every transaction that changes what a listing shows enqueues a ``search`` message per
listing in the outbox before it commits (``_listings_to_reindex``). After the commit, the
process tries the index lock without waiting: whoever gets it applies every waiting
message, and anyone else simply leaves theirs for the lock holder, who checks once more
after its commit. So a busy index never fails a request, and an update is lost only if
nobody ever writes again, which ``flask outbox run`` (or the next edit) covers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.catalog import queries as catalog_queries
from marketplace.catalog import stock
from marketplace.catalog.models import Category, Product, ProductImage
from marketplace.core import outbox
from marketplace.core.health import register_health_check
from marketplace.core.pagination import Page
from marketplace.extensions import db
from marketplace.search.backend import (
    SearchBackend,
    SearchDocument,
    SearchFilters,
    Sort,
    create_backend,
)
from marketplace.search.whoosh_backend import LockError
from marketplace.shops import places
from marketplace.shops.models import Shop

log = logging.getLogger(__name__)
_EXTENSION_KEY = "marketplace.search"
BATCH = 500
MAX_ROUNDS = 20


def init_search(app: Flask) -> None:
    backend = create_backend(app)
    app.extensions[_EXTENSION_KEY] = backend
    register_health_check(app, "search", backend.check)
    checked = {"done": False}

    @app.before_request
    def ensure_index_once() -> None:
        # At a process's first request, not at import: `flask db upgrade` builds the app
        # before the tables exist.
        if not checked["done"]:
            checked["done"] = True
            try:
                ensure_index()
            except Exception:  # e.g. the database is down: /healthz will say so
                db.session.rollback()
                log.exception("could not check or rebuild the search index")


def ensure_index() -> bool:
    """Rebuild the index if it is missing or cannot be opened; return True if it was."""
    try:
        backend().check()
    except Exception as error:  # missing, half-written or unreadable: "build it again"
        # A new instance has no index yet: worth a line, not a traceback.
        log.warning("search index missing or unreadable (%s); rebuilding it", error)
        log.debug("why the search index could not be opened", exc_info=True)
        rebuild_index()
        return True
    return False


def backend() -> SearchBackend:
    return current_app.extensions[_EXTENSION_KEY]


# -- documents ---------------------------------------------------------------------------


def _document(product: Product) -> SearchDocument:
    category = product.category
    names = [category.name_vi]
    if category.parent is not None:
        names.insert(0, category.parent.name_vi)
    published = product.published_at or product.created_at
    return SearchDocument(
        id=product.id,
        name=product.name,
        description=product.description_md,
        shop_name=product.shop.name,
        category_names=" ".join(names),
        origin=product.origin,
        shop_id=product.shop_id,
        category_id=product.category_id,
        root_category_id=product.root_category_id,
        province_code=product.shop.province_code,
        ocop_stars=product.ocop_stars or 0,
        price_vnd=product.price_vnd,
        in_stock=product.stock > 0,
        published_at=int(published.timestamp()),
    )


def public_documents(session: Session, ids: list[int] | None = None) -> list[SearchDocument]:
    """Index documents for the public listings among ``ids`` (all public ones if None)."""
    query = catalog_queries.public_products().options(
        selectinload(Product.category).selectinload(Category.parent)
    )
    if ids is not None:
        query = query.where(Product.id.in_(ids))
    return [_document(product) for product in session.scalars(query).unique()]


# -- the outbox topic ----------------------------------------------------------------------

TOPIC = "search"


def _listings_to_reindex(session: Session, changed: set[object]) -> None:
    """Enqueue a re-index of every listing whose page the transaction's changes touch."""
    products, shops, categories = set(), set(), set()
    sales = stock.stock_changes(session)
    for obj in changed:
        if isinstance(obj, Product):
            if _in_stock_unchanged(session, obj, sales):
                continue  # a sale that left some: the document (in stock or not) is the same
            products.add(obj.id)
        elif isinstance(obj, ProductImage):
            products.add(obj.product_id)
        elif isinstance(obj, Shop):
            shops.add(obj.id)
        elif isinstance(obj, Category):
            categories.add(obj.id)
    products.discard(None)
    if shops := shops - {None}:
        products |= set(session.scalars(select(Product.id).where(Product.shop_id.in_(shops))))
    if categories := categories - {None}:
        products |= set(
            session.scalars(
                select(Product.id).where(
                    Product.category_id.in_(categories) | Product.root_category_id.in_(categories)
                )
            )
        )
    outbox.enqueue_many(TOPIC, [(str(i), {}) for i in sorted(products)], session=session)


def _in_stock_unchanged(
    session: Session, product: Product, sales: dict[int, tuple[int, int]]
) -> bool:
    """Whether the transaction changed only ``product``'s stock, and not across zero.

    Every checkout takes stock; re-indexing each listing it touched made the request
    wait for an index commit (about 40 % of a checkout's time, bench/checkout.py).
    """
    change = sales.get(product.id)
    if change is None or not outbox.only_noted(session, product):
        return False
    before, after = change
    return (before > 0) == (after > 0)


outbox.collect_before_commit(_listings_to_reindex)


@dataclass
class ApplyReport:
    applied: int = 0
    removed: int = 0
    busy: bool = False
    errors: list[str] = field(default_factory=list)


def apply_pending(*, wait: float = 0.0) -> ApplyReport:
    """Apply waiting re-index messages under the index lock; if it is busy, leave them.

    The lock is taken before any message is claimed, so a process that cannot get it
    leaves every message to the holder, who looks once more after its own commit.
    """
    report = ApplyReport()
    for _round in range(MAX_ROUNDS):
        try:
            writer = backend().writer(timeout=wait)
        except LockError:
            report.busy = True
            return report
        claimed: list[outbox.Message] = []
        try:
            while batch := outbox.claim(TOPIC, limit=BATCH):
                claimed += batch
                ids = sorted({int(message.key) for message in batch})
                # A transaction begun after the claim: it sees every change whose message
                # was claimed (an older snapshot would index a listing's previous state).
                with Session(db.engine) as session:
                    documents = public_documents(session, ids)
                public_ids = {document.id for document in documents}
                removals = [product_id for product_id in ids if product_id not in public_ids]
                backend().apply(writer, documents, removals)
                report.applied += len(documents)
                report.removed += len(removals)
            writer.commit()
        except Exception as error:
            writer.cancel()
            for message in claimed:
                outbox.retry(message, error=str(error), delay=timedelta(seconds=5))
            raise
        outbox.complete(claimed)
        if not claimed or outbox.depth(TOPIC).waiting == 0:
            return report
    return report


def _apply_now() -> int:
    return apply_pending().applied


outbox.register(TOPIC, _apply_now, after_commit=_apply_now)


# -- answering ---------------------------------------------------------------------------

MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class FacetValue:
    value: int | str  # what the matching filter takes: a category's slug, a province code…
    label: str
    count: int


@dataclass(frozen=True)
class SearchPage(Page[Product]):
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    suggestion: str | None = None


def search_products(
    text: str, filters: SearchFilters, sort: Sort, *, page: int, per_page: int, locale: str
) -> SearchPage:
    """Search public listings; what the index returns is checked again against the database,
    so a listing hidden a moment ago never shows even if its index entry is late."""
    text = (text or "")[:MAX_QUERY_LENGTH]
    hits = backend().query(text, filters, sort, page, per_page)
    visible = {
        product.id: product
        for product in db.session.scalars(
            catalog_queries.with_cards(catalog_queries.public_products()).where(
                Product.id.in_(hits.ids)
            )
        ).unique()
    }
    items = [visible[product_id] for product_id in hits.ids if product_id in visible]
    return SearchPage(
        items=items,
        total=hits.total,
        page=page,
        per_page=per_page,
        facets=_label_facets(hits.facets, locale),
        suggestion=hits.suggestion,
    )


def _label_facets(facets: dict[str, dict[int, int]], locale: str) -> dict[str, list[FacetValue]]:
    categories = {
        category.id: category
        for category in db.session.scalars(
            select(Category).where(Category.id.in_(facets.get("root_category_id", {})))
        )
    }
    labelled: dict[str, list[FacetValue]] = {}
    for value, count in facets.get("root_category_id", {}).items():
        if (category := categories.get(value)) is not None:
            labelled.setdefault("category", []).append(
                FacetValue(category.slug, category.name(locale), count)
            )
    for value, count in facets.get("province_code", {}).items():
        province = places.province(value)
        if province is not None:
            labelled.setdefault("province", []).append(
                FacetValue(value, province.short_name, count)
            )
    for value, count in facets.get("ocop_stars", {}).items():
        if value:
            labelled.setdefault("ocop_stars", []).append(FacetValue(value, f"{value}★", count))
    for values in labelled.values():
        values.sort(key=lambda facet: (-facet.count, facet.label))
    return labelled


def suggestions(prefix: str, limit: int = 8) -> list[Product]:
    """Listings for search-as-you-type, best first (only public ones)."""
    # Several shops sell listings of the same name: ask for more, show each name once.
    ids = backend().suggest((prefix or "")[:MAX_QUERY_LENGTH], limit * 4)
    products = {
        product.id: product
        for product in db.session.scalars(
            catalog_queries.public_products().where(Product.id.in_(ids))
        ).unique()
    }
    distinct: dict[str, Product] = {}
    for product_id in ids:
        product = products.get(product_id)
        if product is not None and product.name not in distinct:
            distinct[product.name] = product
    return list(distinct.values())[:limit]


# -- maintenance ---------------------------------------------------------------------------


def rebuild_index() -> int:
    """Build a fresh index from the database beside the live one, swap it in, and apply
    what changed meanwhile; searches keep being answered throughout."""
    engine = backend()
    # Holding the live index's writer keeps appliers away: their rows wait in the table
    # and are applied to the new index below, so nothing changed during the build is lost.
    live_writer = engine.writer(timeout=60.0)
    try:
        with Session(db.engine) as session:
            documents = public_documents(session)
        engine.rebuild(documents)
    finally:
        live_writer.cancel()
    engine.prune()
    apply_pending(wait=10.0)
    return len(documents)


@dataclass(frozen=True)
class IndexCheck:
    missing: set[int]  # public in the database, absent from the index
    extra: set[int]  # in the index, not public in the database
    pending: int

    @property
    def ok(self) -> bool:
        return not self.missing and not self.extra


def check_index() -> IndexCheck:
    with Session(db.engine) as session:
        public_ids = set(session.scalars(select(catalog_queries.public_products().subquery().c.id)))
    pending = outbox.depth(TOPIC).waiting
    indexed = backend().document_ids()
    return IndexCheck(missing=public_ids - indexed, extra=indexed - public_ids, pending=pending)
