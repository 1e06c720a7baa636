from collections import Counter

from sqlalchemy import func, select

from marketplace.accounts import services
from marketplace.accounts.models import Role, User
from marketplace.catalog import queries
from marketplace.catalog.models import Product, ProductStatus
from marketplace.demo import seed
from marketplace.extensions import db
from marketplace.moderation.models import Report
from marketplace.shops.models import Shop, ShopStatus


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _snapshot() -> list[tuple]:
    accounts = db.session.execute(
        select(User.email, User.full_name, User.phone, User.role).order_by(User.id)
    )
    shops = db.session.execute(
        select(Shop.slug, Shop.status, Shop.trusted, Shop.commune_code).order_by(Shop.id)
    )
    products = db.session.execute(
        select(Product.name, Product.price_vnd, Product.status, Product.published_at).order_by(
            Product.id
        )
    )
    return [tuple(row) for rows in (accounts, shops, products) for row in rows]


def test_seed_demo_creates_the_provinces_figures(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert count(User) >= 460
    assert count(Shop) >= 202
    assert count(Product) >= 542
    admins = db.session.scalars(select(User).where(User.role == Role.ADMIN)).all()
    assert [admin.email for admin in admins] == [seed.ADMIN_EMAIL]
    assert services.authenticate(seed.ADMIN_EMAIL, seed.DEMO_PASSWORD).is_admin
    shop_states = Counter(db.session.scalars(select(Shop.status)))
    assert shop_states[ShopStatus.APPROVED] > 0.8 * count(Shop)
    assert shop_states[ShopStatus.PENDING] > 0 and shop_states[ShopStatus.REJECTED] > 0
    public = db.session.scalar(
        select(func.count()).select_from(queries.public_products().subquery())
    )
    assert public > 450
    assert all(product.images for product in db.session.scalars(select(Product)))
    assert (
        db.session.scalar(
            select(func.count()).select_from(Product).where(Product.ocop_stars.is_not(None))
        )
        > 20
    )
    assert all(shop.owner.role == Role.SELLER for shop in db.session.scalars(select(Shop)))
    # The back office has something to show: OCOP claims on the list and off it, reports.
    verified = Counter(
        db.session.scalars(select(Product.ocop_verified).where(Product.ocop_stars.is_not(None)))
    )
    assert verified[True] > 3 * verified[False] > 0
    assert count(Report) >= 4


def test_demo_accounts_have_vietnamese_names_and_valid_phones(app):
    seed.seed_demo(shops=5, products=8)
    db.session.commit()

    users = db.session.scalars(select(User)).all()
    assert len({user.email for user in users}) == len(users)
    assert all(services.normalise_phone(user.phone) == user.phone for user in users)
    assert sum(user.full_name.startswith("Nguyễn ") for user in users) > 50
    assert any("ư" in user.full_name or "ơ" in user.full_name for user in users)


def test_seed_demo_is_deterministic(app):
    seed.seed_demo(shops=12, products=30)
    db.session.commit()
    first = _snapshot()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()

    seed.seed_demo(shops=12, products=30)
    db.session.commit()

    assert _snapshot() == first
    assert any(row[2] == ProductStatus.PUBLISHED for row in first if len(row) == 4)


def test_seed_demo_leaves_a_database_with_data_alone(app):
    seed.seed_demo(shops=2, products=2)
    db.session.commit()
    before = count(User)

    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert "already has data" in result.output
    assert count(User) == before
