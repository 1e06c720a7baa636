"""Read-side queries shared by pages, the API, search and sync.

``public_products()`` is the one definition of what shoppers may see. The public pages'
queries also tell the page cache what each page shows (``pagecache.depends_on``, before
reading it): lists read the ids of their listings first, then those listings' card tags,
then the cards.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sqlalchemy import Select, select, union_all
from sqlalchemy.orm import joinedload, selectinload

from marketplace.accounts.models import User
from marketplace.catalog.models import (
    HOME_TAG,
    Category,
    Product,
    ProductImage,
    ProductRevision,
    ProductStatus,
    RevisionStatus,
    card_tag,
    category_tag,
    product_tag,
    shop_tag,
)
from marketplace.core import pagecache
from marketplace.core.errors import NotFound
from marketplace.core.pagination import Page, count_rows, paginate
from marketplace.extensions import db
from marketplace.media.models import Image
from marketplace.shops.models import Shop, ShopStatus


class Sort(enum.StrEnum):
    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"


def public_products() -> Select[tuple[Product]]:
    """Published listings of approved shops: everything public starts here."""
    return (
        select(Product)
        .join(Product.shop)
        .where(Product.status == ProductStatus.PUBLISHED, Shop.status == ShopStatus.APPROVED)
    )


def with_cards(query: Select[tuple[Product]]) -> Select[tuple[Product]]:
    """Load what a product card shows (shop, category, cover) without a query per card."""
    return query.options(selectinload(Product.images).joinedload(ProductImage.image))


def sorted_by(query: Select[tuple[Product]], sort: Sort) -> Select[tuple[Product]]:
    if sort == Sort.PRICE_ASC:
        return query.order_by(Product.price_vnd.asc(), Product.id.desc())
    if sort == Sort.PRICE_DESC:
        return query.order_by(Product.price_vnd.desc(), Product.id.desc())
    return query.order_by(Product.published_at.desc(), Product.id.desc())


def parse_sort(value: str | None) -> Sort:
    try:
        return Sort(value or Sort.NEWEST)
    except ValueError:
        return Sort.NEWEST


def public_product(product_id: int) -> Product:
    """Return a listing shoppers may see, or raise ``NotFound``.

    On a page being cached, the page depends on the listing (whose tag its shop's changes
    bump too).
    """
    pagecache.depends_on(product_tag(product_id))
    product = db.session.scalar(with_cards(public_products()).where(Product.id == product_id))
    if product is None:
        raise NotFound(product_id)
    return product


def public_shop(slug: str) -> Shop:
    """Return an approved shop; on a page being cached, the page depends on it."""
    if pagecache.is_recording():
        shop_id = db.session.scalar(select(Shop.id).where(Shop.slug == slug))
        if shop_id is not None:
            pagecache.depends_on(shop_tag(shop_id))
    shop = db.session.scalar(
        select(Shop).where(Shop.slug == slug, Shop.status == ShopStatus.APPROVED)
    )
    if shop is None:
        raise NotFound(slug)
    return shop


def category_by_slug(slug: str) -> Category:
    """The category with its parent and children loaded (its page shows both)."""
    category = db.session.scalar(
        select(Category)
        .where(Category.slug == slug)
        .options(joinedload(Category.parent), selectinload(Category.children))
    )
    if category is None:
        raise NotFound(slug)
    return category


@dataclass(eq=False)
class CategoryNode:
    """A category as the public pages show it, with its parent and children loaded."""

    id: int
    parent_id: int | None
    slug: str
    name_vi: str
    name_en: str
    parent: CategoryNode | None = None
    children: list[CategoryNode] = field(default_factory=list)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_vi


def _category_nodes() -> dict[str, CategoryNode]:
    # The tree changes only with pagecache.CATALOG: read it once per generation rather
    # than with the ORM on every page (the ORM's two queries cost a category page 0.5 ms).
    def load() -> dict[str, CategoryNode]:
        rows = db.session.execute(
            select(
                Category.id, Category.parent_id, Category.slug, Category.name_vi,
                Category.name_en,
            ).order_by(Category.position, Category.id)
        )  # fmt: skip
        nodes = {row.id: CategoryNode(*row) for row in rows}
        for node in nodes.values():
            node.parent = nodes.get(node.parent_id) if node.parent_id is not None else None
            if node.parent is not None:
                node.parent.children.append(node)
        return {node.slug: node for node in nodes.values()}

    return pagecache.remembered("category-tree", load)


def public_category(slug: str) -> CategoryNode:
    """The category of a category page, or raise ``NotFound``."""
    node = _category_nodes().get(slug)
    if node is None:
        raise NotFound(slug)
    return node


def top_categories() -> list[CategoryNode]:
    """The top-level categories in menu order, with their children."""
    return [node for node in _category_nodes().values() if node.parent_id is None]


def category_tree() -> list[Category]:
    """Top-level categories with their children loaded."""
    return list(
        db.session.scalars(
            select(Category)
            .where(Category.parent_id.is_(None))
            .order_by(Category.position)
            .options(selectinload(Category.children))
        )
    )


def descendant_ids(category: Category | CategoryNode) -> list[int]:
    """Return the ids of ``category`` and every category below it."""
    rows = db.session.execute(select(Category.id, Category.parent_id)).all()
    children: dict[int | None, list[int]] = {}
    for category_id, parent_id in rows:
        children.setdefault(parent_id, []).append(category_id)
    found, stack = [], [category.id]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def in_category(
    query: Select[tuple[Product]], category: Category | CategoryNode
) -> Select[tuple[Product]]:
    """Restrict ``query`` to ``category`` and the categories below it."""
    if category.parent_id is None:
        return query.where(Product.root_category_id == category.id)
    if not category.children:
        return query.where(Product.category_id == category.id)
    ids = descendant_ids(category)
    if len(ids) == 1:
        return query.where(Product.category_id == category.id)
    return query.where(Product.category_id.in_(ids))


@dataclass(frozen=True)
class CardShop:
    name: str


@dataclass(frozen=True)
class CardCover:
    sha256: str  # what media.image_url needs


@dataclass(frozen=True)
class Card:
    """What a product card shows (templates/catalog/_product_card.html), read as plain
    rows: building two dozen ORM listings with their shops and pictures cost more than
    the rest of a category page."""

    id: int
    name: str
    slug: str
    price_vnd: int
    compare_at_price_vnd: int | None
    stock: int
    ocop_stars: int | None
    ocop_verified: bool
    shop: CardShop
    cover: CardCover | None

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


def cards(query: Select[tuple[Product]], *, limit: int, offset: int = 0) -> list[Card]:
    """The cards of one page of ``query`` (public listings, ordered).

    The ids come first, then the page cache reads their card tags, then the cards: a card
    changed in between is then newer than its tag, never older.
    """
    ids = list(db.session.scalars(query.with_only_columns(Product.id).limit(limit).offset(offset)))
    return _cards_of(ids)


_COVER = (
    select(Image.sha256)
    .join(ProductImage, ProductImage.image_id == Image.id)
    .where(ProductImage.product_id == Product.id)
    .order_by(ProductImage.position, ProductImage.id)
    .limit(1)
    .correlate(Product)
    .scalar_subquery()
)
_CARDS = select(
    Product.id, Product.name, Product.slug, Product.price_vnd, Product.compare_at_price_vnd,
    Product.stock, Product.ocop_stars, Product.ocop_verified, Shop.name, _COVER,
    Product.status, Shop.status,
).join(Shop, Shop.id == Product.shop_id)  # fmt: skip


def _cards_of(ids: list[int]) -> list[Card]:
    if not ids:
        return []
    pagecache.depends_on(*(card_tag(product_id) for product_id in ids))
    # By primary key only: with the public filter in SQL too, SQLite (no statistics)
    # walks the status index instead. Checked here, as public_products() does.
    found = {}
    for row in db.session.execute(_CARDS.where(Product.id.in_(ids))):
        (product_id, name, slug, price, compare_at, stock, stars, verified, shop_name, cover,
         status, shop_status) = row  # fmt: skip
        if status == ProductStatus.PUBLISHED and shop_status == ShopStatus.APPROVED:
            found[product_id] = Card(
                id=product_id, name=name, slug=slug, price_vnd=price,
                compare_at_price_vnd=compare_at, stock=stock, ocop_stars=stars,
                ocop_verified=verified, shop=CardShop(shop_name),
                cover=CardCover(cover) if cover else None,
            )  # fmt: skip
    return [found[product_id] for product_id in ids if product_id in found]


def _page_of_cards(
    query: Select[tuple[Product]], *, tag: str, key: str, sort: Sort, page: int, per_page: int
) -> Page[Card]:
    pagecache.depends_on(tag)
    # Counting a big category reads its whole index range; the number only changes with
    # the list's tag, so it is kept until then (and shared by all its pages and sorts).
    total = pagecache.remembered(key, lambda: count_rows(query), tags=[tag])
    items = cards(sorted_by(query, sort), limit=per_page, offset=(page - 1) * per_page)
    return Page(items=items, page=page, per_page=per_page, total=total)


def products_in_category(category: Category, *, sort: Sort, page: int, per_page: int) -> Page[Card]:
    return _page_of_cards(
        in_category(public_products(), category),
        tag=category_tag(category.id),
        key=f"category-count:{category.id}",
        sort=sort,
        page=page,
        per_page=per_page,
    )


def products_of_shop(shop: Shop, *, sort: Sort, page: int, per_page: int) -> Page[Card]:
    return _page_of_cards(
        public_products().where(Product.shop_id == shop.id),
        tag=shop_tag(shop.id),
        key=f"shop-count:{shop.id}",
        sort=sort,
        page=page,
        per_page=per_page,
    )


def newest_products(limit: int) -> list[Card]:
    """The ``limit`` newest public listings.

    No index orders every listing by date, but one per top-level category does: the
    newest of each top-level category, merged (a sort of all listings took 0.2–1 s at
    100 000).
    """
    pagecache.depends_on(HOME_TAG)
    roots = [node.id for node in top_categories()]
    if not roots:
        return []
    newest = [
        sorted_by(public_products().where(Product.root_category_id == root), Sort.NEWEST)
        .with_only_columns(Product.id, Product.published_at)
        .limit(limit)
        .subquery()
        for root in roots
    ]
    merged = union_all(*(select(part.c.id, part.c.published_at) for part in newest)).subquery()
    ids = list(
        db.session.scalars(
            select(merged.c.id)
            .order_by(merged.c.published_at.desc(), merged.c.id.desc())
            .limit(limit)
        )
    )
    return _cards_of(ids)


def ocop_products(limit: int) -> list[Card]:
    pagecache.depends_on(HOME_TAG)
    query = public_products().where(Product.ocop_stars.is_not(None))
    return cards(sorted_by(query, Sort.NEWEST), limit=limit)


def seller_products(shop: Shop, *, page: int, per_page: int) -> Page[Product]:
    """One page of ``shop``'s listings but deleted ones, last changed first (the dashboard)."""
    query = with_cards(
        select(Product)
        .where(Product.shop_id == shop.id, Product.status != ProductStatus.DELETED)
        .order_by(Product.updated_at.desc(), Product.id.desc())
    )
    return paginate(query, page=page, per_page=per_page)


def owned_product(product_id: int, owner: User) -> Product:
    """Return a listing of ``owner``'s shop, or raise ``NotFound`` (never say it exists)."""
    product = db.session.scalar(
        select(Product)
        .join(Product.shop)
        .where(
            Product.id == product_id,
            Shop.owner_id == owner.id,
            Product.status != ProductStatus.DELETED,
        )
    )
    if product is None:
        raise NotFound(product_id)
    return product


def revisions_by_product(products: list[Product]) -> dict[int, ProductRevision]:
    """The pending (else last rejected) staged edit of each listing, for the dashboard."""
    ids = [product.id for product in products]
    if not ids:
        return {}
    rows = db.session.scalars(
        select(ProductRevision)
        .where(
            ProductRevision.product_id.in_(ids),
            ProductRevision.status.in_([RevisionStatus.PENDING, RevisionStatus.REJECTED]),
        )
        .order_by(ProductRevision.id)
    )
    latest: dict[int, ProductRevision] = {}
    for revision in rows:
        current = latest.get(revision.product_id)
        if current is None or current.status != RevisionStatus.PENDING:
            latest[revision.product_id] = revision
    return latest
